/**
 * Builds what `npm start` runs, with esbuild: the renderer as a browser bundle (for web mode and
 * for Electron), and Electron's main process (ESM) and preload (CommonJS, because sandboxed
 * preloads cannot be ES modules). Output goes to out/, which git ignores.
 */

import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDigitsAsset } from './build-digits.mjs';
import { writeNotebookAssets } from './notebook-assets.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Chromium in the Electron we ship, and browsers of the last two years. */
const BROWSER_TARGET = ['chrome120', 'firefox121', 'safari17'];

/**
 * Bundles renderer/ into outdir (index.html, main.js, main.css and source maps) with the
 * engine's worker next to it (engine-worker.js), which the renderer starts, and the MNIST
 * digits subset it trains on (mnist-digits.bin).
 * @param {string} outdir
 */
export async function buildRenderer(outdir) {
  await mkdir(outdir, { recursive: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: [
      { in: 'renderer/main.ts', out: 'main' },
      { in: 'engine/worker/main.ts', out: 'engine-worker' },
      // Worker lanes of the parallel executor (engine/worker/lanes.ts loads it by this name).
      { in: 'engine/worker/lane-worker.ts', out: 'lane-worker' },
      // The notebook's code editor (Monaco), loaded when the Notebook view first shows a code
      // cell, and its two workers (renderer/notebook/monaco-entry.ts starts them by these names).
      { in: 'renderer/notebook/monaco-entry.ts', out: 'notebook-editor' },
      { in: 'monaco-editor/editor/editor.worker.js', out: 'editor.worker' },
      { in: 'monaco-editor/language/typescript/ts.worker.js', out: 'ts.worker' },
    ],
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: BROWSER_TARGET,
    sourcemap: true,
    // React's production build: its development checks cost tens of ms per update.
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
    // Monaco's icon font, referenced from its CSS.
    loader: { '.ttf': 'file' },
  });
  await copyFile(join(ROOT, 'renderer', 'index.html'), join(outdir, 'index.html'));
  // The engine's API declarations for the notebook's code editor (wiregrad-api.js).
  await writeNotebookAssets(ROOT, outdir);
  // The MNIST digits subset the worker fetches for the `mnist` data set.
  await writeDigitsAsset(outdir);
}

/**
 * Builds the desktop app into outdir: main.mjs, preload.cjs and renderer/.
 * @param {string} outdir
 */
export async function buildElectron(outdir) {
  /** @type {import('esbuild').BuildOptions} */
  const common = {
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    target: 'node22',
    external: ['electron'],
    sourcemap: true,
    logLevel: 'warning',
  };
  await Promise.all([
    build({
      ...common,
      entryPoints: ['electron/main.ts'],
      outfile: join(outdir, 'main.mjs'),
      format: 'esm',
    }),
    build({
      ...common,
      entryPoints: ['electron/preload.ts'],
      outfile: join(outdir, 'preload.cjs'),
      format: 'cjs',
    }),
    buildRenderer(join(outdir, 'renderer')),
  ]);
}
