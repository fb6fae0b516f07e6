/**
 * Build-time assets of the notebook's code editor: the engine's public API as TypeScript
 * declarations (`wiregrad-api.js`, whose default export is { files: { path: text } }), which the editor adds as extra
 * libraries so `wg.` completes and type errors show in code cells. The declarations come from
 * the TypeScript compiler's declaration emit for engine/index.ts; that takes seconds, so the
 * result is cached under out/cache/, keyed by the size and modification time of every engine
 * source file, and rebuilt only when one changes.
 */

import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import ts from 'typescript';

/** The engine's sources that can reach the public API (tests and Node/worker code excluded). */
async function engineSources(/** @type {string} */ root) {
  /** @type {string[]} */
  const files = [];
  /** @param {string} dir */
  const walk = async (dir) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!['node', 'worker'].includes(entry.name) || dir !== root) await walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(path);
    }
  };
  await walk(root);
  return files.sort();
}

/**
 * Emits declarations for engine/index.ts.
 * @param {string} engineDir
 * @returns {Record<string, string>} path under the API root ('index.d.ts' …) to text
 */
function emitDeclarations(engineDir) {
  /** @type {Record<string, string>} */
  const files = {};
  const outDir = '/wiregrad-api';
  const program = ts.createProgram([join(engineDir, 'index.ts')], {
    declaration: true,
    emitDeclarationOnly: true,
    stripInternal: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    skipLibCheck: true,
    lib: ['lib.es2023.d.ts'],
    types: ['@webgpu/types'],
    rootDir: engineDir,
    outDir,
  });
  program.emit(undefined, (name, text) => {
    if (name.endsWith('.d.ts')) files[relative(outDir, name).split('\\').join('/')] = text;
  });
  return files;
}

/**
 * Writes wiregrad-api.js into outdir, from the cache when the engine has not changed.
 * @param {string} root  The repository root.
 * @param {string} outdir
 */
export async function writeNotebookAssets(root, outdir) {
  const engineDir = join(root, 'engine');
  const hash = createHash('sha256');
  for (const file of await engineSources(engineDir)) {
    const info = await stat(file);
    hash.update(`${relative(root, file)}:${info.size}:${info.mtimeMs}\n`);
  }
  const key = hash.digest('hex').slice(0, 16);
  const cacheDir = join(root, 'out', 'cache');
  const cacheFile = join(cacheDir, `wiregrad-api-${key}.json`);
  let text = await readFile(cacheFile, 'utf8').catch(() => null);
  if (text === null) {
    text = JSON.stringify({ files: emitDeclarations(engineDir) });
    await mkdir(cacheDir, { recursive: true });
    await writeFile(cacheFile, text);
  }
  // A module rather than JSON: the desktop app loads from file: URLs, where fetch() is not
  // available but module imports are.
  await writeFile(join(outdir, 'wiregrad-api.js'), `export default ${text};\n`);
}
