/**
 * A tiny static file server for web mode and tests. Every response carries the headers that
 * make the page cross-origin isolated (COOP same-origin + COEP require-corp), which browsers
 * require before they give a page SharedArrayBuffer, and so shared WebAssembly memory for the
 * engine's CPU lanes. It serves one folder, never anything outside it, and binds to loopback.
 */

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

/** @type {Record<string, string>} */
export const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.ipynb': 'application/x-ipynb+json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  // application/wasm is required by WebAssembly.instantiateStreaming.
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
};

/** Sent with every response. */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

/**
 * @typedef {object} ServeOptions
 * @property {string} root  Folder to serve.
 * @property {number} [port]  0 picks a free port. Default 5173.
 * @property {string} [host]  Default 127.0.0.1 (loopback only).
 * @property {boolean} [fallbackToFreePort]  If the port is busy, use a free one. Default true.
 */

/**
 * @typedef {object} StaticServer
 * @property {import('node:http').Server} server
 * @property {number} port
 * @property {string} url  e.g. http://localhost:5173/
 * @property {() => Promise<void>} close
 */

/**
 * Maps a request path to a file under root, or null if it would leave root.
 * @param {string} root  Absolute.
 * @param {string} urlPath
 */
function fileFor(root, urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const path = resolve(join(root, decoded));
  return path === root || path.startsWith(root + sep) ? path : null;
}

/**
 * @param {string} root
 * @param {import('node:http').IncomingMessage} request
 * @param {import('node:http').ServerResponse} response
 */
async function handle(root, request, response) {
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) response.setHeader(name, value);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  const { pathname } = new URL(request.url ?? '/', 'http://localhost');
  let path = fileFor(root, pathname);
  let info = path ? await stat(path).catch(() => null) : null;
  if (path && info?.isDirectory()) {
    path = join(path, 'index.html');
    info = await stat(path).catch(() => null);
  }
  if (!path || !info?.isFile()) {
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found\n');
    return;
  }
  response.writeHead(200, {
    'Content-Type': MIME_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': info.size,
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(path)
    .on('error', () => response.destroy())
    .pipe(response);
}

/**
 * @param {import('node:http').Server} server
 * @param {number} port
 * @param {string} host
 * @returns {Promise<void>}
 */
function listen(server, port, host) {
  return new Promise((resolveListen, rejectListen) => {
    /** @param {Error} error */
    const onError = (error) => rejectListen(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolveListen();
    });
  });
}

/**
 * Starts serving `root`; resolves once listening.
 * @param {ServeOptions} options
 * @returns {Promise<StaticServer>}
 */
export async function serveStatic({
  root,
  port = 5173,
  host = '127.0.0.1',
  fallbackToFreePort = true,
}) {
  const rootPath = resolve(root);
  const server = createServer((request, response) => {
    handle(rootPath, request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  try {
    await listen(server, port, host);
  } catch (error) {
    const busy = /** @type {NodeJS.ErrnoException} */ (error).code === 'EADDRINUSE';
    if (!busy || !fallbackToFreePort || port === 0) throw error;
    await listen(server, 0, host);
  }
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const urlHost = host === '127.0.0.1' || host === '::1' ? 'localhost' : host;
  return {
    server,
    port: actualPort,
    url: `http://${urlHost}:${actualPort}/`,
    close: () =>
      new Promise((resolveClose, rejectClose) => {
        server.closeAllConnections();
        server.close((error) => (error ? rejectClose(error) : resolveClose()));
      }),
  };
}
