/**
 * Benchmark entry point: `npm run bench -- <suite>`. Suites print a table to stderr and JSON
 * lines to stdout (`{"bench","case","ours_ms","anchor","anchor_ms","ratio"}`).
 */

import { setFlagsFromString } from 'node:v8';

// Relaxed SIMD (FMA) is on by default in Chromium and Electron, where the app runs; Node 20
// keeps it behind a flag. The engine feature-detects it, so enable it before anything compiles.
setFlagsFromString('--experimental-wasm-relaxed-simd');

const suites: Record<string, () => Promise<{ main(): Promise<void> }>> = {
  cpu: () => import('./cpu.js'),
  events: () => import('./events.js'),
  lanes: () => import('./lanes.js'),
  jit: () => import('./jit.js'),
  gpu: () => import('./gpu.js'),
  'gpu-check': () => import('./gpu-check.js'),
  canvas: () => import('./canvas.js'),
  views: () => import('./views.js'),
};

const name = process.argv[2] ?? 'cpu';
const load = suites[name];
if (!load) {
  process.stderr.write(`unknown suite '${name}'; available: ${Object.keys(suites).join(', ')}\n`);
  process.exit(2);
}
await (await load()).main();
