import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLayers, findImports } from './check-layers.mjs';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'check-layers.mjs');

const roots: string[] = [];

/** Writes a fixture tree ({ 'engine/core/a.ts': source, ... }) and returns its root. */
function fixture(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'wiregrad-layers-'));
  roots.push(root);
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), source);
  }
  return root;
}

function runChecker(root: string) {
  const result = spawnSync(process.execPath, [SCRIPT, root], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function rulesBroken(files: Record<string, string>): string[] {
  return checkLayers(fixture(files)).violations.map((violation) => violation.rule);
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

const CLEAN_TREE = {
  'engine/core/shape.ts': "import { ShapeError } from './errors.js';\nexport const x = 1;\n",
  'engine/core/errors.ts': 'export class ShapeError extends Error {}\n',
  'engine/node/cli.ts': "import { readFileSync } from 'node:fs';\nimport '../core/shape.js';\n",
  'engine/core/shape.test.ts': "import { readFileSync } from 'node:fs';\nimport 'vitest';\n",
  'engine/protocol/messages.ts':
    "import type { DType } from '../core/dtype.js';\nimport { KIND } from './kinds.js';\n",
  'renderer/main.ts':
    "import type { Shape } from '../engine/core/shape.js';\nimport { KIND } from '../engine/protocol/kinds.js';\n",
  'electron/main.ts':
    "import { app } from 'electron';\nimport { join } from 'node:path';\nimport './window-options.js';\n",
};

describe('check-layers CLI', () => {
  it('passes a tree that follows the layer table', () => {
    const { status, stdout } = runChecker(fixture(CLEAN_TREE));
    expect(status).toBe(0);
    expect(stdout).toContain('files checked');
  });

  it('fails on a violation, naming the file, line, import and rule', () => {
    const root = fixture({
      ...CLEAN_TREE,
      'engine/core/tensor.ts': "// a comment\nimport { readFileSync } from 'node:fs';\n",
    });
    const { status, stderr } = runChecker(root);
    expect(status).toBe(1);
    expect(stderr).toContain(
      "engine/core/tensor.ts:2: import 'node:fs' breaks rule engine-core-no-node",
    );
  });
});

describe('layer rules', () => {
  it('keeps engine/ self-contained and free of UI packages', () => {
    expect(rulesBroken({ 'engine/ops/add.ts': "import '../../renderer/store.js';" })).toEqual([
      'engine-self-contained',
    ]);
    expect(rulesBroken({ 'engine/ops/add.ts': "import React from 'react';" })).toEqual([
      'engine-no-ui',
    ]);
    expect(rulesBroken({ 'engine/ops/add.ts': "export * from '@xyflow/react';" })).toEqual([
      'engine-no-ui',
    ]);
    expect(rulesBroken({ 'engine/node/cli.ts': "import 'electron';" })).toEqual(['engine-no-ui']);
  });

  it('keeps Node builtins out of engine core, bare names and node: alike', () => {
    expect(rulesBroken({ 'engine/core/a.ts': "const fs = await import('fs/promises');" })).toEqual([
      'engine-core-no-node',
    ]);
    expect(rulesBroken({ 'engine/core/a.ts': "const w = require('worker_threads');" })).toEqual([
      'engine-core-no-node',
    ]);
    expect(
      rulesBroken({ 'engine/node/a.ts': "import { readFile } from 'node:fs/promises';" }),
    ).toEqual([]);
  });

  it('lets engine/protocol import only itself, and types from the engine', () => {
    expect(
      rulesBroken({ 'engine/protocol/m.ts': "import { Tensor } from '../tensor.js';" }),
    ).toEqual(['protocol-plain-data']);
    expect(
      rulesBroken({ 'engine/protocol/m.ts': "import type { Tensor } from '../tensor.js';" }),
    ).toEqual([]);
  });

  it('lets the renderer reach the engine only through protocol and type imports', () => {
    expect(rulesBroken({ 'renderer/a.ts': "import { add } from '../engine/ops/add.js';" })).toEqual(
      ['renderer-engine-via-protocol'],
    );
    expect(
      rulesBroken({ 'renderer/a.ts': "export type { Shape } from '../engine/core/shape.js';" }),
    ).toEqual([]);
    expect(rulesBroken({ 'renderer/a.ts': "import { ipc } from '../electron/ipc.js';" })).toEqual([
      'renderer-no-electron',
    ]);
  });

  it('keeps electron/ away from renderer/ and engine internals', () => {
    expect(rulesBroken({ 'electron/main.ts': "import '../renderer/main.js';" })).toEqual([
      'electron-no-renderer',
    ]);
    expect(
      rulesBroken({ 'electron/main.ts': "import { Heap } from '../engine/backend/heap.js';" }),
    ).toEqual(['electron-no-engine']);
  });
});

describe('findImports', () => {
  it('finds every import form with its line and whether it is type-only', () => {
    const source = [
      "import a from 'a';",
      "import type { B } from 'b';",
      "import 'c';",
      "export * from 'd';",
      "export type { E } from 'e';",
      "const f = await import('f');",
      "type G = typeof import('g');",
      "const h = require('h');",
      'import {',
      '  i,',
      "} from 'i';",
    ].join('\n');
    expect(findImports(source)).toEqual([
      { specifier: 'a', line: 1, typeOnly: false },
      { specifier: 'b', line: 2, typeOnly: true },
      { specifier: 'c', line: 3, typeOnly: false },
      { specifier: 'd', line: 4, typeOnly: false },
      { specifier: 'e', line: 5, typeOnly: true },
      { specifier: 'f', line: 6, typeOnly: false },
      { specifier: 'g', line: 7, typeOnly: true },
      { specifier: 'h', line: 8, typeOnly: false },
      { specifier: 'i', line: 11, typeOnly: false },
    ]);
  });

  it('ignores imports inside comments, strings, templates and regular expressions', () => {
    const source = [
      "// import fs from 'fs';",
      "/* import 'path'; */",
      'const message = "import x from \'os\'";',
      "const template = `import 'url' ${value} require('child_process')`;",
      "const pattern = /import 'net'/;",
      'import.meta.url;',
      'export { local };',
      "import { real } from './real.js';",
    ].join('\n');
    expect(findImports(source)).toEqual([{ specifier: './real.js', line: 8, typeOnly: false }]);
  });

  it('finds calls inside template expressions', () => {
    expect(findImports("const t = `${await import('x')}`;")).toEqual([
      { specifier: 'x', line: 1, typeOnly: false },
    ]);
  });
});
