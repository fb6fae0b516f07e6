import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  APP_ORIGIN,
  APP_PAGE_URL,
  APP_SCHEME,
  APP_SCHEME_REGISTRATION,
  type AppFileReader,
  type AppRequestTarget,
  DEFAULT_CONTENT_TYPE,
  contentTypeFor,
  fileHeaders,
  resolveAppRequest,
  serveAppRequest,
} from './app-protocol.js';
import { CONTENT_SECURITY_POLICY } from './window-options.js';

const ROOT = resolve('/opt/Wiregrad/resources/app/out/app/renderer');
const url = (path: string): string => `${APP_ORIGIN}${path}`;
const get = (path: string): AppRequestTarget => resolveAppRequest(url(path), 'GET', ROOT);

/** The status of an error target (fails the test on a file target). */
function statusOf(target: AppRequestTarget): number {
  if (target.kind !== 'error') throw new Error(`expected an error, got the file ${target.path}`);
  return target.status;
}

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

describe('the app scheme', () => {
  it('is a standard, secure scheme with fetch, streams and code cache, and no CORS or CSP bypass', () => {
    expect(APP_SCHEME).toBe('wiregrad');
    expect(APP_PAGE_URL).toBe('wiregrad://app/index.html');
    expect(APP_SCHEME_REGISTRATION).toEqual({
      scheme: 'wiregrad',
      privileges: {
        standard: true,
        secure: true,
        supportFetchAPI: true,
        stream: true,
        codeCache: true,
      },
    });
  });
});

describe('resolving a request', () => {
  it('maps paths to files under the renderer folder', () => {
    expect(get('/index.html')).toEqual({
      kind: 'file',
      path: join(ROOT, 'index.html'),
      head: false,
    });
    expect(get('/engine-worker.js')).toEqual({
      kind: 'file',
      path: join(ROOT, 'engine-worker.js'),
      head: false,
    });
    expect(get('/fonts/codicon.ttf')).toEqual({
      kind: 'file',
      path: join(ROOT, 'fonts', 'codicon.ttf'),
      head: false,
    });
  });

  it('serves index.html for the root only', () => {
    expect(get('/')).toEqual({ kind: 'file', path: join(ROOT, 'index.html'), head: false });
    expect(resolveAppRequest(APP_ORIGIN, 'GET', ROOT)).toEqual({
      kind: 'file',
      path: join(ROOT, 'index.html'),
      head: false,
    });
    expect(statusOf(get('/fonts/'))).toBe(404);
  });

  it('ignores the query and the fragment, and decodes the path', () => {
    expect(get('/main.js?v=3#top')).toEqual({
      kind: 'file',
      path: join(ROOT, 'main.js'),
      head: false,
    });
    expect(get('/my%20notes.txt')).toEqual({
      kind: 'file',
      path: join(ROOT, 'my notes.txt'),
      head: false,
    });
  });

  it('answers GET and HEAD (in any case) and refuses other methods with 405', () => {
    expect(resolveAppRequest(url('/main.js'), 'HEAD', ROOT)).toEqual({
      kind: 'file',
      path: join(ROOT, 'main.js'),
      head: true,
    });
    expect(resolveAppRequest(url('/main.js'), 'get', ROOT).kind).toBe('file');
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE'])
      expect(statusOf(resolveAppRequest(url('/main.js'), method, ROOT)), method).toBe(405);
  });

  it('refuses other hosts, user info and ports with 403', () => {
    for (const other of [
      'wiregrad://evil/index.html',
      'wiregrad://app.evil/index.html',
      'wiregrad://user@app/index.html',
      'wiregrad://user:pw@app/index.html',
      'wiregrad://app:8080/index.html',
      'wiregrad:app/index.html',
    ])
      expect(statusOf(resolveAppRequest(other, 'GET', ROOT)), other).toBe(403);
  });

  it('refuses other schemes and what is not a URL with 400', () => {
    for (const other of ['file:///etc/passwd', 'https://app/index.html', 'not a url', ''])
      expect(statusOf(resolveAppRequest(other, 'GET', ROOT)), other).toBe(400);
  });

  it('refuses encoded traversal with 403', () => {
    for (const path of [
      '/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/%2E%2E%2Fsecret.txt',
      '/..%2f..%2fetc%2fpasswd',
      '/assets/%2e%2e%2f%2e%2e%2fsecret',
      '/a/%2e%2e%2f%2e%2e%2f%2e%2e%2froot',
      '/%2e%2f.bashrc',
    ])
      expect(statusOf(get(path)), path).toBe(403);
  });

  it('refuses backslashes, NUL, absolute paths, drive letters and bad encoding with 400', () => {
    for (const path of [
      '/..\\..\\secret.txt',
      '/%5c..%5c..%5csecret.txt',
      '/..%5Csecret.txt',
      '/main.js%00.png',
      '/%00',
      '/%2fetc%2fpasswd',
      '//etc/passwd',
      '/a//b.js',
      '/C:/Windows/win.ini',
      '/C%3a%5cWindows%5cwin.ini',
      '/%E0%A4%A',
      '/%',
    ])
      expect(statusOf(get(path)), path).toBe(400);
  });

  it('never leads outside the root, whatever the URL', () => {
    const pieces = ['..', '%2e%2e', '%2E.', '.%2e', '%2f', '%5c', '\\', '/', 'a', '%00', 'x.js'];
    let files = 0;
    for (const a of pieces)
      for (const b of pieces)
        for (const c of pieces) {
          const target = get(`/${a}${b}${c}`);
          if (target.kind === 'error') continue;
          files++;
          expect(target.path.startsWith(ROOT + sep), target.path).toBe(true);
          expect(relative(ROOT, target.path).split(sep)).not.toContain('..');
        }
    // Many of the combinations are plain file names, so the check above did run.
    expect(files).toBeGreaterThan(10);
  });
});

describe('response headers', () => {
  it('give each file type its content type', () => {
    const expected: Record<string, string> = {
      'index.html': 'text/html; charset=utf-8',
      'main.js': 'text/javascript; charset=utf-8',
      'module.mjs': 'text/javascript; charset=utf-8',
      'main.css': 'text/css; charset=utf-8',
      'kernels.wasm': 'application/wasm',
      'data.json': 'application/json; charset=utf-8',
      'main.js.map': 'application/json; charset=utf-8',
      'LICENSE.txt': 'text/plain; charset=utf-8',
      'icon.svg': 'image/svg+xml',
      'icon.png': 'image/png',
      'codicon-LTRFOK3N.ttf': 'font/ttf',
      'font.woff': 'font/woff',
      'font.woff2': 'font/woff2',
      'INDEX.HTML': 'text/html; charset=utf-8',
      'mnist-digits.bin': DEFAULT_CONTENT_TYPE,
      'notes.ipynb': DEFAULT_CONTENT_TYPE,
      LICENSE: DEFAULT_CONTENT_TYPE,
    };
    for (const [name, type] of Object.entries(expected))
      expect(contentTypeFor(join(ROOT, name)), name).toBe(type);
    expect(DEFAULT_CONTENT_TYPE).toBe('application/octet-stream');
  });

  it('isolate the page on every file, and give its size', () => {
    for (const name of ['index.html', 'main.js', 'lane-worker.js', 'kernels.wasm', 'x.bin'])
      expect(fileHeaders(join(ROOT, name)), name).toMatchObject(ISOLATION);
    expect(fileHeaders(join(ROOT, 'main.js'), 1234)).toEqual({
      ...ISOLATION,
      'Content-Type': 'text/javascript; charset=utf-8',
      'Content-Length': '1234',
    });
  });
});

describe('serving requests from a folder', () => {
  let base = '';
  let root = '';
  const disk: AppFileReader = {
    isFile: (path) =>
      stat(path).then(
        (info) => info.isFile(),
        () => false,
      ),
    readFile: (path) => readFile(path),
  };

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'wg-app-protocol-'));
    root = join(base, 'renderer');
    await mkdir(join(root, 'fonts'), { recursive: true });
    await writeFile(join(root, 'index.html'), '<!doctype html><title>Wiregrad</title>');
    await writeFile(join(root, 'main.js'), 'export const x = 1;\n');
    await writeFile(join(root, 'fonts', 'a.ttf'), new Uint8Array([0, 1, 0, 0]));
    // A file beside the served folder, which no request may read.
    await writeFile(join(base, 'secret.txt'), 'secret');
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  it('answers GET with the bytes and headers of the file', async () => {
    const response = await serveAppRequest({ url: url('/main.js'), method: 'GET' }, root, disk);
    expect(response.status).toBe(200);
    expect(new TextDecoder().decode(response.body!)).toBe('export const x = 1;\n');
    expect(response.headers).toMatchObject({
      ...ISOLATION,
      'Content-Type': 'text/javascript; charset=utf-8',
      'Content-Length': '20',
    });
    const page = await serveAppRequest({ url: url('/'), method: 'GET' }, root, disk);
    expect(page.status).toBe(200);
    expect(new TextDecoder().decode(page.body!)).toContain('<title>Wiregrad</title>');
    expect(page.headers).toMatchObject({
      ...ISOLATION,
      'Content-Type': 'text/html; charset=utf-8',
    });
  });

  it('answers HEAD with the headers and no body', async () => {
    const response = await serveAppRequest(
      { url: url('/fonts/a.ttf'), method: 'HEAD' },
      root,
      disk,
    );
    expect(response.status).toBe(200);
    expect(response.body).toBeNull();
    expect(response.headers).toMatchObject({ 'Content-Type': 'font/ttf', 'Content-Length': '4' });
  });

  it('answers 404 for a missing file or a folder, with the isolation headers', async () => {
    for (const path of ['/missing.js', '/fonts', '/fonts/'])
      for (const method of ['GET', 'HEAD']) {
        const response = await serveAppRequest({ url: url(path), method }, root, disk);
        expect(response.status, `${method} ${path}`).toBe(404);
        expect(response.headers).toMatchObject({
          ...ISOLATION,
          'Content-Type': 'text/plain; charset=utf-8',
        });
        if (method === 'HEAD') expect(response.body).toBeNull();
        else expect(new TextDecoder().decode(response.body!)).toMatch(/^(Not found|Only)/);
      }
  });

  it('never reads a file outside the folder', async () => {
    const reader: AppFileReader = { isFile: vi.fn(disk.isFile), readFile: vi.fn(disk.readFile) };
    const attacks = [
      '/%2e%2e%2fsecret.txt',
      '/..%2fsecret.txt',
      '/..%5csecret.txt',
      '/fonts/%2e%2e%2f%2e%2e%2fsecret.txt',
      `/${encodeURIComponent(join(base, 'secret.txt'))}`,
      '/../secret.txt',
      '/secret.txt%00.js',
    ];
    for (const path of attacks) {
      const response = await serveAppRequest({ url: url(path), method: 'GET' }, root, reader);
      expect([400, 403, 404], path).toContain(response.status);
      expect(new TextDecoder().decode(response.body!), path).not.toContain('secret\n');
    }
    for (const call of vi.mocked(reader.readFile).mock.calls)
      expect(call[0].startsWith(root + sep), call[0]).toBe(true);
    for (const call of vi.mocked(reader.isFile).mock.calls)
      expect(call[0].startsWith(root + sep), call[0]).toBe(true);
  });

  it('answers other hosts and methods with their error status, not a throw', async () => {
    const other = await serveAppRequest(
      { url: 'wiregrad://evil/index.html', method: 'GET' },
      root,
      disk,
    );
    expect(other.status).toBe(403);
    const post = await serveAppRequest({ url: url('/index.html'), method: 'POST' }, root, disk);
    expect(post.status).toBe(405);
    expect(new TextDecoder().decode(post.body!)).toMatch(/GET and HEAD only, not POST/);
    const bad = await serveAppRequest({ url: url('/%E0%A4%A'), method: 'GET' }, root, disk);
    expect(bad.status).toBe(400);
  });

  it('answers 500 when reading fails, and 404 when the file vanished meanwhile', async () => {
    const failing = (error: Error): AppFileReader => ({
      isFile: () => Promise.resolve(true),
      readFile: () => Promise.reject(error),
    });
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    const response = await serveAppRequest(
      { url: url('/main.js'), method: 'GET' },
      root,
      failing(denied),
    );
    expect(response.status).toBe(500);
    expect(new TextDecoder().decode(response.body!)).toMatch(
      /Could not read \/main\.js: EACCES: permission denied/,
    );
    const gone = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    const vanished = await serveAppRequest(
      { url: url('/main.js'), method: 'GET' },
      root,
      failing(gone),
    );
    expect(vanished.status).toBe(404);
  });
});

/** Every file under `folder`, as paths relative to it with '/' separators. */
async function filesUnder(folder: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const name = prefix + entry.name;
    if (entry.isDirectory()) out.push(...(await filesUnder(join(folder, entry.name), `${name}/`)));
    else if (entry.isFile()) out.push(name);
  }
  return out;
}

describe('serving the renderer folder', () => {
  const built = join(dirname(fileURLToPath(import.meta.url)), '..', 'out', 'app', 'renderer');
  let root = '';
  let temporary: string | null = null;

  beforeAll(async () => {
    if (existsSync(join(built, 'index.html'))) {
      root = built;
      return;
    }
    // No build here: a folder laid out as scripts/build.mjs lays out the renderer.
    temporary = await mkdtemp(join(tmpdir(), 'wg-renderer-'));
    root = temporary;
    await writeFile(
      join(root, 'index.html'),
      `<!doctype html><meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}" /><script type="module" src="./main.js"></script>`,
    );
    for (const name of ['main.js', 'engine-worker.js', 'lane-worker.js', 'editor.worker.js'])
      await writeFile(join(root, name), `// ${name}\n`);
    await writeFile(join(root, 'main.js.map'), '{"version":3}');
    await writeFile(join(root, 'main.css'), 'body { margin: 0 }');
    await writeFile(join(root, 'codicon.ttf'), new Uint8Array([0, 1, 0, 0]));
    await writeFile(join(root, 'mnist-digits.bin'), new Uint8Array([1, 2, 3]));
  });
  afterAll(async () => {
    if (temporary) await rm(temporary, { recursive: true, force: true });
  });

  const disk: AppFileReader = {
    isFile: (path) =>
      stat(path).then(
        (info) => info.isFile(),
        () => false,
      ),
    readFile: (path) => readFile(path),
  };

  it('serves every file byte for byte, isolated, with a type the page can use', async () => {
    const names = await filesUnder(root);
    for (const required of ['index.html', 'main.js', 'engine-worker.js', 'lane-worker.js'])
      expect(names).toContain(required);
    for (const name of names) {
      const path = `/${name.split('/').map(encodeURIComponent).join('/')}`;
      const response = await serveAppRequest({ url: url(path), method: 'GET' }, root, disk);
      expect(response.status, name).toBe(200);
      expect(Buffer.from(response.body!).equals(await readFile(join(root, name))), name).toBe(true);
      expect(response.headers, name).toMatchObject(ISOLATION);
      // With nosniff, scripts and styles load only with their own types.
      if (/\.m?js$/.test(name))
        expect(response.headers['Content-Type'], name).toBe('text/javascript; charset=utf-8');
      if (name.endsWith('.css'))
        expect(response.headers['Content-Type'], name).toBe('text/css; charset=utf-8');
      if (name.endsWith('.wasm'))
        expect(response.headers['Content-Type'], name).toBe('application/wasm');
    }
  });

  it("serves the page at the app's URL with the policy its meta tag states", async () => {
    const response = await serveAppRequest({ url: APP_PAGE_URL, method: 'GET' }, root, disk);
    expect(response.status).toBe(200);
    const html = new TextDecoder().decode(response.body!);
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(html);
    expect(meta?.[1]).toBe(CONTENT_SECURITY_POLICY);
    // Served from the scheme's origin, 'self' is what lets the page load its scripts, workers
    // and data; 'wasm-unsafe-eval' lets the engine compile its kernels.
    const directives = new Map(
      CONTENT_SECURITY_POLICY.split(';').map((d) => {
        const [name = '', ...sources] = d.trim().split(/\s+/);
        return [name, sources] as const;
      }),
    );
    expect(directives.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(directives.get('worker-src')).toContain("'self'");
    expect(directives.get('connect-src')).toContain("'self'");
    expect(response.headers).toMatchObject(ISOLATION);
    expect(response.headers['Content-Type']).toBe('text/html; charset=utf-8');
  });
});
