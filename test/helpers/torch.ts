/**
 * Runs a Python script with PyTorch (Debian's /usr/bin/python3 and python3-torch) as an
 * independent reference: the input goes as JSON on stdin, the script prints JSON on stdout.
 * `hasTorch` lets suites skip where PyTorch is not installed.
 */

import { spawnSync } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

/** Whether PyTorch is importable (found without importing it, which takes seconds). */
export const hasTorch: boolean =
  spawnSync(
    PYTHON,
    ['-c', "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('torch') else 1)"],
    { encoding: 'utf8', timeout: 60_000 },
  ).status === 0;

/** Runs `script` with `input` as JSON on stdin and returns its stdout parsed as JSON. */
export function runTorch(script: string, input: unknown = null): unknown {
  const r = spawnSync(PYTHON, ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0)
    throw new Error(`python3 failed (status ${r.status}):\n${r.stderr}\n${r.error?.message ?? ''}`);
  return JSON.parse(r.stdout) as unknown;
}
