/**
 * Checks the import directions of DESIGN.md's layer table and fails with one line per broken
 * import: file, line, specifier and the rule it breaks. Run as `node scripts/check-layers.mjs
 * [rootDir]` (the repository root by default); `checkLayers(rootDir)` returns the violations.
 *
 * It reads import/export-from declarations, `import()` and `require()` calls from a small
 * tokenizer that skips comments, strings and template text, so an import written in a comment
 * or a message does not count. Unit tests (`*.test.*`) are exempt: the layers constrain shipped
 * code, and DESIGN.md lets tests import anything.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Folders whose files are checked, relative to the root. */
const CHECKED_FOLDERS = ['engine', 'renderer', 'electron'];
const SOURCE_FILE = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;
const TEST_FILE = /\.test\.[cm]?[jt]sx?$/;
const SKIPPED_FOLDERS = new Set(['node_modules', 'out', 'dist', 'coverage']);

/** UI and desktop packages the engine must not depend on (a prefix match covers subpaths). */
const UI_PACKAGES = ['react', 'react-dom', 'electron', '@xyflow', 'zustand', 'monaco-editor'];

/**
 * @typedef {object} ImportRecord
 * @property {string} specifier  The module specifier as written.
 * @property {number} line  1-based line of the specifier.
 * @property {boolean} typeOnly  `import type` / `export type` / `typeof import()`: erased at build.
 */

/**
 * @typedef {object} Violation
 * @property {string} file  Path relative to the root, with forward slashes.
 * @property {number} line
 * @property {string} specifier
 * @property {string} rule  The rule's id, e.g. `engine-core-no-node`.
 * @property {string} message  What the rule says and what to do instead.
 */

/**
 * @typedef {object} ImportContext
 * @property {string} file  Importing file, relative to the root, forward slashes.
 * @property {string} specifier
 * @property {boolean} typeOnly
 * @property {string | null} target  For a relative specifier, the root-relative path it points
 *   to (forward slashes; `../x` when it leaves the root); null for a package or builtin.
 */

/**
 * @typedef {object} Rule
 * @property {string} id
 * @property {string} message
 * @property {(file: string) => boolean} appliesTo  Root-relative path of a non-test file.
 * @property {(context: ImportContext) => boolean} forbids
 */

/** @param {string} specifier */
function isNodeBuiltin(specifier) {
  return specifier.startsWith('node:') || builtinModules.includes(specifier);
}

/** @param {string} specifier */
function isUiPackage(specifier) {
  return UI_PACKAGES.some((name) => specifier === name || specifier.startsWith(`${name}/`));
}

/**
 * @param {string | null} target
 * @param {string} folder  e.g. `engine/protocol`
 */
function isInside(target, folder) {
  return target !== null && (target === folder || target.startsWith(`${folder}/`));
}

/** @param {string} file */
const inEngine = (file) => file.startsWith('engine/');
/** @param {string} file */
const inEngineCore = (file) => inEngine(file) && !file.startsWith('engine/node/');

/** @type {Rule[]} */
export const RULES = [
  {
    id: 'engine-self-contained',
    message: 'engine/ imports nothing outside engine/',
    appliesTo: inEngine,
    forbids: ({ target }) => target !== null && !isInside(target, 'engine'),
  },
  {
    id: 'engine-no-ui',
    message: 'engine/ must not import React, Electron, React Flow, zustand or Monaco',
    appliesTo: inEngine,
    forbids: ({ specifier }) => isUiPackage(specifier),
  },
  {
    id: 'engine-core-no-node',
    message:
      'engine core must not import Node builtins; Node-only code lives in engine/node/, or the host passes it in',
    appliesTo: inEngineCore,
    forbids: ({ specifier }) => isNodeBuiltin(specifier),
  },
  {
    id: 'protocol-plain-data',
    message:
      'engine/protocol/ imports only engine/protocol/ files; use `import type` for other engine types',
    appliesTo: (file) => file.startsWith('engine/protocol/'),
    forbids: ({ target, typeOnly }) => !typeOnly && !isInside(target, 'engine/protocol'),
  },
  {
    id: 'renderer-engine-via-protocol',
    message:
      'renderer/ reaches the engine only through engine/protocol/ and `import type`; talk to the engine through the worker client',
    appliesTo: (file) => file.startsWith('renderer/'),
    forbids: ({ target, typeOnly }) =>
      !typeOnly && isInside(target, 'engine') && !isInside(target, 'engine/protocol'),
  },
  {
    id: 'renderer-no-electron',
    message:
      'renderer/ never imports electron/ or the electron package; use what the preload exposes through the host adapter',
    appliesTo: (file) => file.startsWith('renderer/'),
    forbids: ({ target, specifier }) =>
      isInside(target, 'electron') || specifier === 'electron' || specifier.startsWith('electron/'),
  },
  {
    id: 'renderer-no-node',
    message: 'renderer/ runs in a sandboxed page: no Node builtins',
    appliesTo: (file) => file.startsWith('renderer/'),
    forbids: ({ specifier }) => isNodeBuiltin(specifier),
  },
  {
    id: 'electron-no-renderer',
    message: 'electron/ never imports renderer/; share IPC types through electron/ itself',
    appliesTo: (file) => file.startsWith('electron/'),
    forbids: ({ target }) => isInside(target, 'renderer'),
  },
  {
    id: 'electron-no-engine',
    message: 'electron/ never imports engine internals (engine/protocol/ only)',
    appliesTo: (file) => file.startsWith('electron/'),
    forbids: ({ target }) => isInside(target, 'engine') && !isInside(target, 'engine/protocol'),
  },
];

// ---------------------------------------------------------------------------------------------
// Tokenizer: just enough JavaScript/TypeScript lexing to find module specifiers reliably.

/**
 * @typedef {object} Token
 * @property {'word' | 'string' | 'punct' | 'template'} kind
 * @property {string} value  For strings, the unquoted text (escapes left as written); for
 *   template pieces, '${' where an expression starts and '`' where the template ends.
 * @property {number} line
 */

const KEYWORDS_BEFORE_REGEX = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

/**
 * Splits source into tokens, dropping comments, whitespace and the text of template literals
 * (their `${}` expressions are tokenized). Strings end at an unescaped newline, so stray quotes
 * in JSX text cost at most one line.
 * @param {string} source
 * @returns {Token[]}
 */
export function tokenize(source) {
  /** @type {Token[]} */
  const tokens = [];
  /** Brace depth at which each open template's `${` expression started. */
  /** @type {number[]} */
  const templateDepths = [];
  let braceDepth = 0;
  let line = 1;
  let i = 0;
  const n = source.length;

  const regexAllowed = () => {
    const last = tokens[tokens.length - 1];
    if (!last) return true;
    if (last.kind === 'word') return KEYWORDS_BEFORE_REGEX.has(last.value);
    if (last.kind === 'punct') return ![')', ']'].includes(last.value);
    // After a template's `${` an expression starts; after its closing backtick a value ended.
    if (last.kind === 'template') return last.value === '${';
    return false;
  };

  /** Scans template text from i (just after ` or }) to the closing ` or the next `${`. */
  const scanTemplateText = () => {
    while (i < n) {
      const c = source[i];
      if (c === '\\') {
        if (source[i + 1] === '\n') line++;
        i += 2;
      } else if (c === '`') {
        i++;
        tokens.push({ kind: 'template', value: '`', line });
        return;
      } else if (c === '$' && source[i + 1] === '{') {
        i += 2;
        tokens.push({ kind: 'template', value: '${', line });
        templateDepths.push(braceDepth);
        braceDepth++;
        return;
      } else {
        if (c === '\n') line++;
        i++;
      }
    }
  };

  while (i < n) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
    } else if (c === '/' && next === '/') {
      while (i < n && source[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      for (let j = i; j < stop; j++) if (source[j] === '\n') line++;
      i = stop;
    } else if (c === "'" || c === '"') {
      const startLine = line;
      let value = '';
      i++;
      while (i < n && source[i] !== c && source[i] !== '\n') {
        if (source[i] === '\\' && i + 1 < n) {
          if (source[i + 1] === '\n') line++;
          value += source.slice(i, i + 2);
          i += 2;
        } else {
          value += source[i];
          i++;
        }
      }
      if (source[i] === c) i++;
      tokens.push({ kind: 'string', value, line: startLine });
    } else if (c === '`') {
      i++;
      scanTemplateText();
    } else if (c === '/' && regexAllowed()) {
      // Regular expression literal: skip to the closing slash outside a character class.
      let inClass = false;
      i++;
      while (i < n && source[i] !== '\n') {
        const r = source[i];
        if (r === '\\') i++;
        else if (r === '[') inClass = true;
        else if (r === ']') inClass = false;
        else if (r === '/' && !inClass) break;
        i++;
      }
      i++;
      while (i < n && /[a-z]/i.test(source[i] ?? '')) i++;
      tokens.push({ kind: 'punct', value: '/regex/', line });
    } else if (/[A-Za-z_$\u0080-\uffff]/.test(c ?? '')) {
      let j = i + 1;
      while (j < n && /[\w$\u0080-\uffff]/.test(source[j] ?? '')) j++;
      tokens.push({ kind: 'word', value: source.slice(i, j), line });
      i = j;
    } else if (/[0-9]/.test(c ?? '')) {
      let j = i + 1;
      while (j < n && /[\w.]/.test(source[j] ?? '')) j++;
      tokens.push({ kind: 'word', value: source.slice(i, j), line });
      i = j;
    } else {
      if (c === '{') braceDepth++;
      if (c === '}') {
        braceDepth--;
        if (templateDepths.length > 0 && templateDepths[templateDepths.length - 1] === braceDepth) {
          templateDepths.pop();
          i++;
          scanTemplateText();
          continue;
        }
      }
      tokens.push({ kind: 'punct', value: c ?? '', line });
      i++;
    }
  }
  return tokens;
}

/**
 * Finds every module specifier a file imports or re-exports.
 * @param {string} source
 * @returns {ImportRecord[]}
 */
export function findImports(source) {
  const tokens = tokenize(source);
  /** @type {ImportRecord[]} */
  const imports = [];
  /** @param {number} k */
  const at = (k) => tokens[k];
  /**
   * @param {number} k
   * @param {string} value
   */
  const is = (k, value) => {
    const token = at(k);
    return token !== undefined && token.kind !== 'string' && token.value === value;
  };

  /**
   * From token k, skips a declaration's clause up to `from` (stopping at `;` or a string) and
   * returns the index of the specifier string, or -1.
   * @param {number} k
   */
  const specifierAfterFrom = (k) => {
    for (let j = k; j < tokens.length; j++) {
      const token = at(j);
      if (!token || token.kind === 'string' || token.value === ';') return -1;
      if (token.kind === 'word' && token.value === 'from') {
        return at(j + 1)?.kind === 'string' ? j + 1 : -1;
      }
    }
    return -1;
  };

  /**
   * @param {number} k
   * @param {boolean} typeOnly
   */
  const record = (k, typeOnly) => {
    const token = at(k);
    if (token) imports.push({ specifier: token.value, line: token.line, typeOnly });
  };

  for (let k = 0; k < tokens.length; k++) {
    const token = at(k);
    if (!token || token.kind !== 'word') continue;
    const previous = at(k - 1);
    if (
      previous &&
      previous.kind === 'punct' &&
      (previous.value === '.' || previous.value === '?.')
    )
      continue;

    if (token.value === 'import') {
      if (is(k + 1, '(')) {
        // import('x'): dynamic, or a type query when written `typeof import('x')`.
        if (at(k + 2)?.kind === 'string') record(k + 2, previous?.value === 'typeof');
      } else if (at(k + 1)?.kind === 'string') {
        record(k + 1, false); // import 'x'
      } else if (!is(k + 1, '.') && !is(k + 1, '=')) {
        const typeOnly = is(k + 1, 'type') && !is(k + 2, ',') && !is(k + 2, 'from');
        const s = specifierAfterFrom(k + 1);
        if (s !== -1) record(s, typeOnly);
      }
    } else if (token.value === 'export') {
      const typeOnly = is(k + 1, 'type');
      const start = typeOnly ? k + 2 : k + 1;
      if (is(start, '*') || is(start, '{')) {
        const s = specifierAfterFrom(start);
        if (s !== -1) record(s, typeOnly);
      }
    } else if (token.value === 'require' && is(k + 1, '(') && at(k + 2)?.kind === 'string') {
      record(k + 2, false);
    }
  }
  return imports;
}

// ---------------------------------------------------------------------------------------------

/**
 * @param {string} dir  Absolute folder.
 * @returns {string[]}  Absolute paths of source files under it.
 */
function listSourceFiles(dir) {
  /** @type {string[]} */
  const files = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return files;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.') || SKIPPED_FOLDERS.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listSourceFiles(path));
    else if (entry.isFile() && SOURCE_FILE.test(entry.name)) files.push(path);
  }
  return files;
}

/** @param {string} path */
const toPosix = (path) => path.split(sep).join('/');

/**
 * Checks every source file under the root's checked folders.
 * @param {string} rootDir
 * @returns {{ violations: Violation[], filesChecked: number }}
 */
export function checkLayers(rootDir) {
  const root = resolve(rootDir);
  /** @type {Violation[]} */
  const violations = [];
  let filesChecked = 0;
  for (const folder of CHECKED_FOLDERS) {
    for (const path of listSourceFiles(join(root, folder))) {
      const file = toPosix(relative(root, path));
      if (TEST_FILE.test(file)) continue;
      filesChecked++;
      const rules = RULES.filter((rule) => rule.appliesTo(file));
      if (rules.length === 0) continue;
      for (const { specifier, line, typeOnly } of findImports(readFileSync(path, 'utf8'))) {
        const target =
          specifier.startsWith('./') || specifier.startsWith('../')
            ? posix.normalize(posix.join(posix.dirname(file), specifier))
            : null;
        const context = { file, specifier, typeOnly, target };
        for (const rule of rules) {
          if (rule.forbids(context)) {
            violations.push({ file, line, specifier, rule: rule.id, message: rule.message });
          }
        }
      }
    }
  }
  return { violations, filesChecked };
}

/** @param {Violation} violation */
export function formatViolation({ file, line, specifier, rule, message }) {
  return `${file}:${line}: import '${specifier}' breaks rule ${rule}: ${message}`;
}

function main() {
  const rootDir = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..');
  const { violations, filesChecked } = checkLayers(rootDir);
  if (violations.length > 0) {
    for (const violation of violations) console.error(formatViolation(violation));
    console.error(
      `\nlayers: ${violations.length} import(s) break DESIGN.md's layer table (see "Layers and what each may import").`,
    );
    process.exitCode = 1;
  } else {
    console.log(`layers: ${filesChecked} files checked, imports follow the layer table.`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
