import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic } from './serve.mjs';

describe('static server for web mode', () => {
  let root = '';
  let base = '';
  let close: () => Promise<void> = async () => {};

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'wiregrad-serve-'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>Wiregrad</title>');
    writeFileSync(join(root, 'main.js'), 'console.log(1);');
    mkdirSync(join(root, 'kernels'));
    writeFileSync(join(root, 'kernels', 'matmul.wasm'), new Uint8Array([0, 97, 115, 109]));
    const server = await serveStatic({ root, port: 0 });
    base = `http://127.0.0.1:${server.port}`;
    close = server.close;
    expect(server.url).toBe(`http://localhost:${server.port}/`);
  });

  afterAll(async () => {
    await close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves index.html at / with cross-origin isolation headers', async () => {
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(response.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await response.text()).toContain('<title>Wiregrad</title>');
  });

  it('sends the MIME types that module scripts and streaming Wasm compilation need', async () => {
    const script = await fetch(`${base}/main.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    await script.body?.cancel();
    const wasm = await fetch(`${base}/kernels/matmul.wasm`);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(new Uint8Array(await wasm.arrayBuffer())).toEqual(new Uint8Array([0, 97, 115, 109]));
  });

  it('answers 404 for missing files and for paths that leave the root', async () => {
    const missing = await fetch(`${base}/nope.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    await missing.body?.cancel();
    const escape = await fetch(`${base}/%2e%2e/%2e%2e/etc/passwd`);
    expect(escape.status).toBe(404);
    await escape.body?.cancel();
  });

  it('falls back to a free port when the requested one is busy', async () => {
    const busyPort = Number(new URL(base).port);
    const second = await serveStatic({ root, port: busyPort });
    try {
      expect(second.port).not.toBe(busyPort);
      expect((await fetch(`http://127.0.0.1:${second.port}/`)).status).toBe(200);
    } finally {
      await second.close();
    }
  });
});
