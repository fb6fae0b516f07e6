/**
 * `npm run bench -- canvas`: how smooth the graph canvas stays with 1,000 nodes. Builds the
 * web-mode app (as `npm start` does), serves it, and opens it in Debian's headless Chromium
 * with a generated model of 1,000 canvas nodes (chains of activations, joined by adds, with a
 * Linear layer every few rows) restored from the autosave slot. It then pans, zooms with the
 * wheel and drags a node for a few seconds each while the page records the time between
 * animation frames; the frame-rate limit is off, so a frame's time is what it costs rather
 * than the display's refresh interval. Each case is reported as median frame time (ms) against
 * the 60 fps budget (16.7 ms), with the 95th percentile and the frame count in the note.
 *
 * `--nodes N` changes the size; `--keep-limit` keeps Chromium's frame-rate limit (then the
 * median sits at the refresh interval and the p95 shows the dropped frames).
 */

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Page, chromium } from 'playwright-core';
import { buildRenderer } from '../scripts/build.mjs';
import { serveStatic } from '../scripts/serve.mjs';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/helpers/chromium.js';
import { type Row, report, row } from './harness.js';

const AUTOSAVE_KEY = 'wiregrad.autosave.v1';
const BUDGET_MS = 1000 / 60;
const GESTURE_MS = 3000;

interface GraphNode {
  id: string;
  op: string;
  inputs: string[];
  attrs: Record<string, unknown>;
  group?: string;
}

/**
 * A model of `count` canvas nodes: `columns` chains from one input, an add joining each
 * column with its neighbour every tenth row, and a Linear layer (three graph nodes, one card)
 * every seventh row. Laid out on a grid, as a large model opens.
 */
export function thousandNodeGraph(count = 1000, columns = 20): string {
  const nodes: GraphNode[] = [
    { id: 'x', op: 'input', inputs: [], attrs: { shape: [-1, 16], dtype: 'f32', role: 'data' } },
  ];
  const layout: Record<string, { x: number; y: number }> = { x: { x: (columns * 240) / 2, y: 0 } };
  const last: string[] = Array.from({ length: columns }, () => 'x');
  const activations = ['relu', 'tanh', 'sigmoid', 'gelu'];
  let cards = 1;
  let seed = 1;
  for (let row = 1; cards < count; row++)
    for (let c = 0; c < columns && cards < count; c++) {
      const id = `n${row}_${c}`;
      const position = { x: c * 240, y: row * 150 };
      if (row % 10 === 0 && c > 0) {
        nodes.push({ id, op: 'add', inputs: [last[c]!, last[c - 1]!], attrs: {} });
      } else if (row % 7 === 0) {
        nodes.push(
          {
            id: `${id}.weight`,
            op: 'parameter',
            inputs: [],
            attrs: { shape: [16, 16], init: 'kaiming', seed: seed++ },
            group: id,
          },
          {
            id: `${id}.bias`,
            op: 'parameter',
            inputs: [],
            attrs: { shape: [16], init: 'zeros', seed: seed++ },
            group: id,
          },
          {
            id,
            op: 'linear',
            inputs: [last[c]!, `${id}.weight`, `${id}.bias`],
            attrs: {},
            group: id,
          },
        );
      } else {
        nodes.push({
          id,
          op: activations[(row + c) % activations.length]!,
          inputs: [last[c]!],
          attrs: {},
        });
      }
      layout[id] = position;
      last[c] = id;
      cards++;
    }
  return JSON.stringify({
    format: 'wiregrad.graph',
    version: 1,
    name: `${count} nodes`,
    nodes,
    outputs: [{ name: 'out', node: last[columns - 1]! }],
    meta: { layout },
  });
}

interface FrameStats {
  readonly median: number;
  readonly p95: number;
  readonly frames: number;
}

interface BenchGlobals {
  __frames?: number[];
  __recording?: boolean;
}

/**
 * Records the time between animation frames. Passed as source text: the TypeScript loader that
 * runs the benchmarks names inner functions with a helper the page does not have.
 */
const RECORD_FRAMES = `(() => {
  const g = globalThis;
  g.__frames = [];
  g.__recording = true;
  let previous = -1;
  const tick = (t) => {
    if (!g.__recording) return;
    if (previous >= 0) g.__frames.push(t - previous);
    previous = t;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})()`;

async function startRecording(page: Page): Promise<void> {
  await page.evaluate(RECORD_FRAMES);
}

async function stopRecording(page: Page): Promise<FrameStats> {
  const frames = await page.evaluate(() => {
    const g = globalThis as unknown as BenchGlobals;
    g.__recording = false;
    return g.__frames ?? [];
  });
  const sorted = [...frames].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { median: at(0.5), p95: at(0.95), frames: frames.length };
}

/** Runs `gesture` (which should last about GESTURE_MS) while recording frames. */
async function measure(page: Page, gesture: () => Promise<void>): Promise<FrameStats> {
  await startRecording(page);
  await gesture();
  return stopRecording(page);
}

/** Mouse moves spread over about `ms` (Playwright sends one event per step). */
async function sweep(
  page: Page,
  from: { x: number; y: number },
  path: (t: number) => { x: number; y: number },
  ms: number,
): Promise<void> {
  const start = Date.now();
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  while (Date.now() - start < ms) {
    const t = (Date.now() - start) / ms;
    const p = path(t);
    await page.mouse.move(p.x, p.y);
  }
  await page.mouse.up();
}

export async function main(): Promise<void> {
  const args = process.argv.slice(3);
  const countArg = args.indexOf('--nodes');
  const count = countArg >= 0 ? Number(args[countArg + 1]) : 1000;
  const keepLimit = args.includes('--keep-limit');
  if (!existsSync(CHROMIUM)) {
    process.stderr.write(`${CHROMIUM} is missing: install Debian's chromium to run this suite\n`);
    process.exitCode = 1;
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'wiregrad-bench-canvas-'));
  await buildRenderer(dir);
  const server = await serveStatic({ root: dir, port: 0 });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      ...CHROMIUM_ARGS,
      ...(keepLimit ? [] : ['--disable-frame-rate-limit', '--disable-gpu-vsync']),
    ],
  });
  const rows: Row[] = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const graph = thousandNodeGraph(count);
    await context.addInitScript(
      ([key, text]) => {
        (
          globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }
        ).localStorage.setItem(key!, text!);
      },
      [AUTOSAVE_KEY, graph],
    );
    const page = await context.newPage();
    const t0 = Date.now();
    await page.goto(server.url);
    await page.getByTestId('engine-status').filter({ hasText: 'Engine ready' }).waitFor();
    await page.locator('.react-flow__node').first().waitFor();
    const cards = await page.locator('.react-flow__node').count();
    const loadMs = Date.now() - t0;
    process.stderr.write(`${count}-node model open in ${loadMs} ms, ${cards} cards in the DOM\n`);
    const box = (await page.getByTestId('canvas').boundingBox())!;
    const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };

    // Zoom in to a working scale first (the model opens fitted, i.e. tiny), on an empty spot.
    await page.mouse.move(centre.x, centre.y);
    for (let i = 0; i < 8; i++) await page.mouse.wheel(0, -200);
    await page.waitForTimeout(300);

    const cases: [string, () => Promise<void>][] = [
      ['idle', () => page.waitForTimeout(1000)],
      [
        'pan (drag the background)',
        () =>
          sweep(
            page,
            { x: box.x + 40, y: box.y + 40 },
            (t) => ({
              x: box.x + 40 + 400 * Math.sin(t * Math.PI * 2),
              y: box.y + 40 + 200 * t,
            }),
            GESTURE_MS,
          ),
      ],
      [
        'zoom (mouse wheel)',
        async () => {
          const start = Date.now();
          let direction = 1;
          while (Date.now() - start < GESTURE_MS) {
            await page.mouse.wheel(0, 60 * direction);
            if ((Date.now() - start) % 1000 < 50) direction = -direction;
          }
        },
      ],
      [
        'drag a node',
        async () => {
          // Large models mount only the cards in view: take one of those.
          const mounted = await page.locator('.react-flow__node').count();
          const node = page.locator('.react-flow__node').nth(Math.floor(mounted / 2));
          const b = (await node.boundingBox())!;
          const from = { x: b.x + b.width / 2, y: b.y + 10 };
          await sweep(
            page,
            from,
            (t) => ({ x: from.x + 300 * Math.sin(t * Math.PI * 2), y: from.y + 120 * t }),
            GESTURE_MS,
          );
        },
      ],
    ];
    for (const [name, gesture] of cases) {
      const stats = await measure(page, gesture);
      rows.push(
        row(
          'canvas',
          `${count} nodes: ${name}`,
          stats.median,
          '60 fps budget',
          BUDGET_MS,
          `median frame; p95 ${stats.p95.toFixed(1)} ms over ${stats.frames} frames`,
        ),
      );
    }
    rows.push(row('canvas', `${count} nodes: open (load to first card)`, loadMs, 'none', null));
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
  report(rows);
}
