/**
 * Entry of the module worker that engine-worker.test.ts bundles with esbuild and starts in
 * headless Chromium: it runs the shared engine workload (engine-checks.ts) and posts back one
 * `EngineWorkerMessage`, the result or the error with its stack. The workload is imported
 * dynamically inside the `try` (esbuild inlines it into the one bundle) so that an engine that
 * throws while loading, e.g. on a Node-only API, is reported with its stack too, instead of as
 * a bare `error` event on the Worker.
 */

import type { EngineCheckResult } from './engine-checks.js';

export type EngineWorkerMessage =
  | { readonly ok: true; readonly result: EngineCheckResult }
  | { readonly ok: false; readonly error: string };

// This file is type-checked with the tests' Node types, which lack the worker's global scope.
const workerScope = globalThis as unknown as { postMessage(message: EngineWorkerMessage): void };

try {
  const { runEngineChecks } = await import('./engine-checks.js');
  workerScope.postMessage({ ok: true, result: runEngineChecks() });
} catch (error) {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  workerScope.postMessage({ ok: false, error: text });
}
