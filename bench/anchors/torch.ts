/** Runs the PyTorch anchor script with Debian's python3-torch, one thread. */

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface TorchTimings {
  readonly matmul: Record<string, number>;
  readonly mlp: number | null;
  /** Milliseconds per eager add of two tiny tensors, when the spec asks for it. */
  readonly small_op?: number | null;
  readonly torch: string;
}

export function runTorchAnchor(spec: object): TorchTimings | { error: string } {
  const script = fileURLToPath(new URL('./torch_cpu.py', import.meta.url));
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '1' };
  // These force OpenBLAS onto a slower kernel on this machine; unset them for the anchor only.
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const res = spawnSync('/usr/bin/python3', [script], {
    input: JSON.stringify(spec),
    env,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (res.status !== 0)
    return { error: (res.stderr || res.error?.message || 'python3-torch failed').trim() };
  return JSON.parse(res.stdout) as TorchTimings;
}
