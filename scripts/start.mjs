/**
 * `npm start`: runs the desktop app where the Electron binary is installed; otherwise (or with
 * `--web`) builds the same renderer for web mode into out/web/ and serves it on localhost
 * (port 5173, or PORT; a free port if that one is busy).
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT, buildElectron, buildRenderer } from './build.mjs';
import { serveStatic } from './serve.mjs';

/**
 * The Electron binary's path, or null when the optional `electron` package or its binary
 * (downloaded by its install script) is missing.
 * @returns {string | null}
 */
function findElectronBinary() {
  try {
    const binary = createRequire(import.meta.url)('electron');
    return typeof binary === 'string' && existsSync(binary) ? binary : null;
  } catch {
    return null; // not installed, or installed without its binary (its index.js then throws)
  }
}

async function startDesktop(/** @type {string} */ binary) {
  const outdir = join(ROOT, 'out', 'app');
  await buildElectron(outdir);
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE; // set by some tools; it would make Electron act as plain Node
  const child = spawn(binary, [join(outdir, 'main.mjs')], { stdio: 'inherit', env });
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
}

async function startWeb() {
  const outdir = join(ROOT, 'out', 'web');
  await buildRenderer(outdir);
  const port = process.env.PORT ? Number(process.env.PORT) : 5173;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a port number (0-65535), got '${process.env.PORT}'`);
  }
  const { url } = await serveStatic({ root: outdir, port });
  console.log(`Wiregrad (web mode) at ${url}  (Ctrl+C to stop)`);
}

const binary = process.argv.includes('--web') ? null : findElectronBinary();
if (binary) {
  await startDesktop(binary);
} else {
  if (!process.argv.includes('--web')) {
    console.log('Electron binary not installed: starting web mode.');
  }
  await startWeb();
}
