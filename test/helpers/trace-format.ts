/**
 * A validator for Chrome trace-event JSON (the "Trace Event Format" document that
 * chrome://tracing and Perfetto implement), for the phases Wiregrad writes: the JSON object
 * form `{ traceEvents, displayTimeUnit }`, 'X' complete events (name, ph, ts and dur in
 * microseconds, dur >= 0, pid, tid, optional cat and args object) and 'M' metadata events
 * (process_name, thread_name with args.name; process_sort_index, thread_sort_index with
 * args.sort_index). Every thread an 'X' event uses must be named by thread_name metadata.
 * Returns a list of problems, empty when the trace is valid; it starts from the JSON text, so
 * it also proves the trace is loadable JSON.
 */

const METADATA_NAMES = new Set([
  'process_name',
  'process_labels',
  'process_sort_index',
  'thread_name',
  'thread_sort_index',
]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isId(v: unknown): boolean {
  return (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'string';
}

export function validateTraceJSON(text: string): string[] {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    return [`not JSON: ${(e as Error).message}`];
  }
  const problems: string[] = [];
  if (!isObject(root)) return ['the trace is not a JSON object'];
  if (!Array.isArray(root['traceEvents'])) return ['traceEvents is not an array'];
  const unit = root['displayTimeUnit'];
  if (unit !== undefined && unit !== 'ms' && unit !== 'ns')
    problems.push(`displayTimeUnit must be 'ms' or 'ns', got ${JSON.stringify(unit)}`);

  const namedThreads = new Set<string>();
  const usedThreads = new Set<string>();
  root['traceEvents'].forEach((e: unknown, i: number) => {
    const at = `traceEvents[${i}]`;
    if (!isObject(e)) {
      problems.push(`${at} is not an object`);
      return;
    }
    if (typeof e['name'] !== 'string') problems.push(`${at}.name is not a string`);
    if (!isId(e['pid'])) problems.push(`${at}.pid is not an integer or string`);
    if (!isId(e['tid'])) problems.push(`${at}.tid is not an integer or string`);
    if (e['cat'] !== undefined && typeof e['cat'] !== 'string')
      problems.push(`${at}.cat is not a string`);
    if (e['args'] !== undefined && !isObject(e['args']))
      problems.push(`${at}.args is not an object`);
    const thread = `${String(e['pid'])}/${String(e['tid'])}`;
    switch (e['ph']) {
      case 'X': {
        const ts = e['ts'];
        const dur = e['dur'];
        if (typeof ts !== 'number' || !Number.isFinite(ts))
          problems.push(`${at}.ts is not a finite number`);
        if (typeof dur !== 'number' || !Number.isFinite(dur) || dur < 0)
          problems.push(`${at}.dur is not a finite number >= 0`);
        usedThreads.add(thread);
        break;
      }
      case 'M': {
        const name = e['name'];
        const args = e['args'];
        if (typeof name !== 'string' || !METADATA_NAMES.has(name)) {
          problems.push(`${at} is metadata with an unknown name ${JSON.stringify(name)}`);
          break;
        }
        if (!isObject(args)) {
          problems.push(`${at} (${name}) has no args`);
          break;
        }
        if (name.endsWith('_name') && typeof args['name'] !== 'string')
          problems.push(`${at} (${name}) needs args.name, a string`);
        if (name.endsWith('_sort_index') && !Number.isInteger(args['sort_index']))
          problems.push(`${at} (${name}) needs args.sort_index, an integer`);
        if (name === 'thread_name' && typeof args['name'] === 'string') namedThreads.add(thread);
        break;
      }
      default:
        problems.push(`${at}.ph is ${JSON.stringify(e['ph'])}, not a phase this trace writes`);
    }
  });
  for (const t of usedThreads)
    if (!namedThreads.has(t)) problems.push(`thread ${t} has events but no thread_name metadata`);
  return problems;
}
