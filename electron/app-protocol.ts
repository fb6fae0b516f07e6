/**
 * The desktop app's page is served from a privileged custom scheme, `wiregrad://app/…`, instead
 * of `file://`, so that every response can carry the headers that make the page cross-origin
 * isolated (COOP same-origin + COEP require-corp). Only an isolated page gets SharedArrayBuffer
 * and shared WebAssembly memory, which the engine's CPU lanes need (docs/lanes.md). The scheme
 * serves one folder, the built renderer, to one host, for GET and HEAD only; no request can
 * reach a file outside that folder, and every bad request gets an error status, never a throw.
 * This module is plain functions of URLs, paths and an injected file reader, so unit tests
 * check each rule without Electron; main.ts registers the scheme and hands requests here.
 */

import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** The scheme's name (`wiregrad:` URLs). */
export const APP_SCHEME = 'wiregrad';
/** The one host the scheme answers for. */
export const APP_HOST = 'app';
/** The page's origin, which CSP's 'self' and the IPC sender check match. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** The app's page: the URL the window loads and the only frame trusted with IPC. */
export const APP_PAGE_URL = `${APP_ORIGIN}/index.html`;

/** Electron's `CustomScheme`, as the subset this app sets. */
export interface AppSchemeRegistration {
  readonly scheme: string;
  readonly privileges: {
    /** Generic URI syntax: relative URLs resolve, and the page has a real origin. */
    readonly standard: boolean;
    /** Treated like https: a secure context, which cross-origin isolation requires. */
    readonly secure: boolean;
    /** fetch() works on it (the engine worker fetches the digits data set). */
    readonly supportFetchAPI: boolean;
    /** Responses may be streamed. */
    readonly stream: boolean;
    /** V8 caches compiled scripts from it, so later starts parse the bundles faster. */
    readonly codeCache: boolean;
  };
}

/**
 * What main.ts passes to `protocol.registerSchemesAsPrivileged` before the app is ready.
 * `corsEnabled` stays off: the page, its workers and its modules are all same-origin, and
 * without it no other origin can read the app's files. `bypassCSP` stays off too: the page's
 * Content-Security-Policy applies to the scheme as to any other.
 */
export const APP_SCHEME_REGISTRATION: AppSchemeRegistration = {
  scheme: APP_SCHEME,
  privileges: {
    standard: true,
    secure: true,
    supportFetchAPI: true,
    stream: true,
    codeCache: true,
  },
};

/** Content types by file extension (lower case, with its dot). */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  // WebAssembly.instantiateStreaming and compileStreaming accept only this type.
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

/** For any other file: bytes, which `nosniff` keeps from running as a script or a style. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** The content type of the file at `path`, by its extension. */
export function contentTypeFor(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? DEFAULT_CONTENT_TYPE;
}

/**
 * Sent with every response, errors included: the page is cross-origin isolated (COOP + COEP),
 * its files load only into pages of its own origin (CORP), and nothing is content-sniffed.
 */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

/** The headers of a served file: its content type and the isolation headers. */
export function fileHeaders(path: string, bytes?: number): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': contentTypeFor(path),
    ...ISOLATION_HEADERS,
  };
  if (bytes !== undefined) headers['Content-Length'] = String(bytes);
  return headers;
}

/** Error statuses the scheme answers with. */
export type AppErrorStatus = 400 | 403 | 404 | 405 | 500;

/** Where a request leads: a file under the root, or an error with a message for people. */
export type AppRequestTarget =
  | { readonly kind: 'file'; readonly path: string; readonly head: boolean }
  | { readonly kind: 'error'; readonly status: AppErrorStatus; readonly message: string };

function refuse(status: AppErrorStatus, message: string): AppRequestTarget {
  return { kind: 'error', status, message };
}

/**
 * Maps a request to a file under the folder `root`, or to an error:
 * 400 for a URL that is not the scheme's or whose path cannot be read (bad percent-encoding,
 * a backslash, a NUL, an empty or absolute segment), 403 for another host or a path that would
 * leave the root (`..` in any encoding), 404 for a folder other than the root (only `/` means
 * index.html), 405 for any method but GET and HEAD. Query and fragment are ignored.
 */
export function resolveAppRequest(url: string, method: string, root: string): AppRequestTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse(400, `Not a URL: ${url}`);
  }
  if (parsed.protocol !== `${APP_SCHEME}:`)
    return refuse(400, `Not a ${APP_SCHEME}: URL: ${parsed.protocol}`);
  if (parsed.host !== APP_HOST || parsed.username !== '' || parsed.password !== '')
    return refuse(403, `${APP_SCHEME}: serves only the host '${APP_HOST}'`);
  const verb = method.toUpperCase();
  if (verb !== 'GET' && verb !== 'HEAD')
    return refuse(405, `${APP_SCHEME}: serves files to GET and HEAD only, not ${method}`);

  const rawPath = parsed.pathname;
  // A backslash is a separator on Windows, and Chromium turns one into '/' in standard URLs.
  if (rawPath.includes('\\') || /%5c/i.test(rawPath))
    return refuse(400, 'A backslash in the path is not allowed');
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return refuse(400, 'The path is not valid percent-encoding');
  }
  if (path.includes('\0')) return refuse(400, 'A NUL character in the path is not allowed');
  const base = resolve(root);
  // A standard URL's empty path is '/' (Chromium writes it so; Node's parser leaves it empty).
  if (path === '/' || path === '')
    return { kind: 'file', path: join(base, 'index.html'), head: verb === 'HEAD' };

  if (!path.startsWith('/')) return refuse(400, 'The path must start with /');
  const segments = path.slice(1).split('/');
  for (const [i, segment] of segments.entries()) {
    if (segment === '..' || segment === '.')
      return refuse(403, 'A path with . or .. segments is not allowed');
    if (segment === '') {
      if (i === segments.length - 1) return refuse(404, 'Only the root folder has an index');
      return refuse(400, 'A path with an empty segment is not allowed');
    }
    // A drive letter or stream name (C:, file:stream) would name another place on Windows.
    if (segment.includes(':')) return refuse(400, 'A colon in the path is not allowed');
  }
  // The checks above already keep the path inside; this one holds whatever they missed.
  const file = resolve(base, ...segments);
  const inside = relative(base, file);
  const prefix = base.endsWith(sep) ? base : base + sep;
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside) || !file.startsWith(prefix))
    return refuse(403, 'The path leaves the app folder');
  return { kind: 'file', path: file, head: verb === 'HEAD' };
}

/** A response as plain data; main.ts turns it into a fetch `Response`. */
export interface AppResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** null for HEAD. */
  readonly body: Uint8Array | null;
}

/** The file reads `serveAppRequest` needs (node:fs/promises in the app, fakes in tests). */
export interface AppFileReader {
  /** Whether `path` is a regular file (false when it is missing or a folder). */
  isFile(path: string): Promise<boolean>;
  readFile(path: string): Promise<Uint8Array>;
}

function errorResponse(status: number, message: string, head: boolean): AppResponse {
  const body = new TextEncoder().encode(`${message}\n`);
  return {
    status,
    headers: {
      'Content-Type': 'text/plain; charset=utf-8',
      ...ISOLATION_HEADERS,
      'Content-Length': String(body.byteLength),
    },
    body: head ? null : body,
  };
}

/**
 * Answers one request to the scheme: the file's bytes with `fileHeaders`, or an error response
 * (404 for a missing file, 500 when reading fails); it never rejects.
 */
export async function serveAppRequest(
  request: { readonly url: string; readonly method: string },
  root: string,
  files: AppFileReader,
): Promise<AppResponse> {
  const target = resolveAppRequest(request.url, request.method, root);
  const head = request.method.toUpperCase() === 'HEAD';
  if (target.kind === 'error') return errorResponse(target.status, target.message, head);
  try {
    if (!(await files.isFile(target.path)))
      return errorResponse(404, `Not found: ${new URL(request.url).pathname}`, head);
    const bytes = await files.readFile(target.path);
    return {
      status: 200,
      headers: fileHeaders(target.path, bytes.byteLength),
      body: target.head ? null : bytes,
    };
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT')
      return errorResponse(404, `Not found: ${new URL(request.url).pathname}`, head);
    const reason = error instanceof Error ? error.message : String(error);
    return errorResponse(500, `Could not read ${new URL(request.url).pathname}: ${reason}`, head);
  }
}
