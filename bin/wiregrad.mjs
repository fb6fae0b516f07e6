#!/usr/bin/env node
// The wiregrad command line: runs the TypeScript CLI through tsx's loader.
import { setFlagsFromString } from 'node:v8';
import { register } from 'tsx/esm/api';

// Relaxed SIMD (fused multiply-add in the matmul kernels) ships in current Chromium and
// Electron but sits behind a flag in Node 20; the engine feature-detects it.
setFlagsFromString('--experimental-wasm-relaxed-simd');

register();
const { main } = await import('../engine/node/cli.ts');
process.exitCode = await main(process.argv.slice(2));
