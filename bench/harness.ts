/**
 * Benchmark plumbing shared by every suite: timing with warm-up and medians, and reporting a
 * case as a human-readable line plus a JSON line
 * `{"bench","case","ours_ms","anchor","anchor_ms","ratio"}` (ratio = ours / anchor: below 1
 * means we are faster). Speed is shown here, side by side with the anchors in one process,
 * never as timed assertions in tests.
 */

export interface Timing {
  readonly medianMs: number;
  readonly samples: number;
}

/** Median wall time of `fn` after `warmup` calls; async functions are awaited. */
export async function timeIt(
  fn: () => unknown,
  { warmup = 3, runs = 15, minMs = 300 }: { warmup?: number; runs?: number; minMs?: number } = {},
): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < runs || (performance.now() - start < minMs && times.length < 200)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)]!, samples: times.length };
}

export interface Row {
  readonly bench: string;
  readonly case: string;
  readonly ours_ms: number;
  readonly anchor: string;
  readonly anchor_ms: number | null;
  readonly ratio: number | null;
  readonly note?: string;
}

export function row(
  bench: string,
  name: string,
  oursMs: number,
  anchor: string,
  anchorMs: number | null,
  note?: string,
): Row {
  const r: Row = {
    bench,
    case: name,
    ours_ms: round(oursMs),
    anchor,
    anchor_ms: anchorMs === null ? null : round(anchorMs),
    ratio: anchorMs === null ? null : round(oursMs / anchorMs),
  };
  return note ? { ...r, note } : r;
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

export function gflops(flops: number, ms: number): number {
  return flops / (ms * 1e6);
}

/** Prints rows as an aligned table to stderr and as JSON lines to stdout. */
export function report(rows: readonly Row[]): void {
  const lines = rows.map((r) => {
    const ratio = r.ratio === null ? 'n/a' : `${r.ratio.toFixed(3)}×`;
    const anchor = r.anchor_ms === null ? 'unavailable' : `${r.anchor_ms.toFixed(3)} ms`;
    return `${r.case.padEnd(34)} ours ${r.ours_ms.toFixed(3).padStart(9)} ms | ${r.anchor.padEnd(
      12,
    )} ${anchor.padStart(12)} | ratio ${ratio}${r.note ? `  (${r.note})` : ''}`;
  });
  process.stderr.write(lines.join('\n') + '\n');
  for (const r of rows) process.stdout.write(JSON.stringify(r) + '\n');
}
