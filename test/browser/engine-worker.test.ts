/**
 * Proves that the engine runs unchanged in a browser Web Worker: engine-worker.ts (the shared
 * workload of engine-checks.ts) is bundled with esbuild for the browser, served with the
 * project's static server (whose COOP/COEP headers make the page cross-origin isolated, so
 * SharedArrayBuffer and a shared WebAssembly heap exist), and started as a module worker in
 * Debian's headless Chromium through playwright-core. The worker trains a seeded MLP with Adam,
 * round-trips the trained model through a traced graph's JSON, and posts the numbers back;
 * the same workload then runs in Node and must give the same loss.
 *
 * Chromium is a required tool here, not an optional one: without /usr/bin/chromium the test
 * fails and says how to install it (CI installs it).
 */

import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppBrowser, startAppBrowser } from '../helpers/app-browser.js';
import { type EngineCheckResult, TRAINING_STEPS, runEngineChecks } from './engine-checks.js';
import type { EngineWorkerMessage } from './engine-worker.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');

/** Starts the worker and resolves with its one message (or a description of its error event). */
const PAGE = `<!doctype html>
<meta charset="utf-8" />
<title>Wiregrad engine in a worker</title>
<link rel="icon" href="data:," />
<script type="module">
  window.engineResult = new Promise((resolve) => {
    const worker = new Worker('./engine-worker.js', { type: 'module' });
    worker.onmessage = (event) => resolve(event.data);
    worker.onerror = (event) =>
      resolve({ ok: false, error: 'worker error event: ' + (event.message || 'no message') });
  });
</script>
`;

/** |a - b| / |b|. */
const relativeDifference = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The workload in a fresh Node process with relaxed SIMD enabled: Node 20 has it behind a
 * flag, Chromium ships it, and the engine uses its fused multiply-add wherever the host has it.
 */
async function runInNodeWithRelaxedSimd(): Promise<EngineCheckResult> {
  const script =
    "const { runEngineChecks } = await import('./test/browser/engine-checks.ts');" +
    'process.stdout.write(JSON.stringify(runEngineChecks()));';
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--experimental-wasm-relaxed-simd', '--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: repoRoot },
  );
  return JSON.parse(stdout) as EngineCheckResult;
}

describe('the engine in a browser module worker (headless Chromium)', () => {
  let app: AppBrowser | undefined;
  let inBrowser: EngineCheckResult;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    app = await startAppBrowser({
      prefix: 'wiregrad-browser-',
      missing:
        "this test runs the engine in Debian's Chromium. " +
        'Install it with `sudo apt-get install chromium` (CI installs it); ' +
        'never `npx playwright install`.',
      extraArgs: ['--enable-unsafe-webgpu'],
      populate: async (dir) => {
        await build({
          entryPoints: [join(here, 'engine-worker.ts')],
          outfile: join(dir, 'engine-worker.js'),
          bundle: true,
          platform: 'browser',
          format: 'esm',
          target: 'es2022',
          sourcemap: 'inline',
          logLevel: 'silent',
        });
        await writeFile(join(dir, 'index.html'), PAGE);
      },
    });
    const page = await app.browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(`${app.url}index.html`);
    const message = (await withTimeout(
      page.evaluate('window.engineResult'),
      45_000,
      'the engine worker',
    )) as EngineWorkerMessage;
    if (!message.ok)
      throw new Error(`the engine failed in the browser worker:\n${message.error}`, {
        cause: pageErrors,
      });
    inBrowser = message.result;
  }, 60_000);

  afterAll(async () => {
    // Each step runs even when an earlier one (or beforeAll) failed.
    await app?.close();
  });

  it('runs cross-origin isolated with the WebAssembly SIMD kernels on a shared heap', () => {
    expect(pageErrors).toEqual([]);
    expect(inBrowser.crossOriginIsolated).toBe(true);
    expect(inBrowser.description).toMatch(/WebAssembly SIMD/);
    expect(inBrowser.description).toMatch(/; shared WebAssembly heap/);
  });

  it('trains the MLP: the loss falls far below its start, every point is classified', () => {
    expect(inBrowser.steps).toBe(TRAINING_STEPS);
    // Two balanced classes: the untrained loss is about ln 2.
    expect(inBrowser.firstLoss).toBeGreaterThan(0.6);
    expect(inBrowser.finalLoss).toBeLessThan(0.05 * inBrowser.firstLoss);
    expect(inBrowser.accuracy).toBeGreaterThanOrEqual(0.98);
    // A flat live-tensor count: the training loop leaks nothing in the browser either.
    expect(inBrowser.memoryAfterTraining).toEqual(inBrowser.memoryAfterFirstStep);
  });

  it('the traced graph, sent through JSON and reloaded, computes the eager logits exactly', () => {
    expect(inBrowser.graphNodeCount).toBeGreaterThan(5);
    expect(inBrowser.eagerLogits).toHaveLength(16);
    expect(inBrowser.graphLogits).toEqual(inBrowser.eagerLogits);
  });

  it('Node gives the same training run as the browser', async () => {
    const inNode = runEngineChecks();
    expect(inNode.firstLoss).toBe(inBrowser.firstLoss);
    if (inNode.description === inBrowser.description) {
      // The same kernels on both hosts: the run is deterministic, so the numbers agree.
      expect(relativeDifference(inNode.finalLoss, inBrowser.finalLoss)).toBeLessThanOrEqual(1e-6);
      return;
    }
    // Chromium uses relaxed SIMD's fused multiply-add in the matmul, Node 20 (relaxed SIMD
    // behind a flag) a multiply then an add, so products round once instead of twice. Those
    // last-bit differences grow a little over the training run (about 6e-7 relative after 150
    // steps here); 1e-4 bounds that with room, while any real divergence (a wrong kernel, a
    // different seed or step count) shows as a difference of percents.
    expect(relativeDifference(inNode.finalLoss, inBrowser.finalLoss)).toBeLessThanOrEqual(1e-4);
    expect(inBrowser.description).toMatch(/relaxed SIMD \(FMA\)/);
    // With relaxed SIMD enabled, Node runs the same kernels as Chromium and must agree to 1e-6.
    const inNodeWithFma = await runInNodeWithRelaxedSimd();
    expect(inNodeWithFma.description).toBe(inBrowser.description);
    expect(relativeDifference(inNodeWithFma.finalLoss, inBrowser.finalLoss)).toBeLessThanOrEqual(
      1e-6,
    );
    expect(inNodeWithFma.graphLogits).toEqual(inBrowser.graphLogits);
  }, 30_000);
});
