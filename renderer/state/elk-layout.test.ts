import { describe, expect, it } from 'vitest';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { createEditor } from './editor.js';
import { elkLayout } from './elk-layout.js';
import { TEMPLATES } from './templates.js';
import { buildView } from './view.js';

const CARD = 196;

function overlaps(a: { x: number; y: number }, b: { x: number; y: number }, h: number): boolean {
  return Math.abs(a.x - b.x) < CARD && Math.abs(a.y - b.y) < h;
}

describe('ELK layout', () => {
  for (const template of TEMPLATES)
    it(`places every node of the ${template.name} template after what feeds it, without overlaps`, async () => {
      const view = buildView(template.build(), new Map());
      const down = await elkLayout(view);
      const right = await elkLayout(view, { direction: 'RIGHT' });
      expect(Object.keys(down).sort()).toEqual(view.nodes.map((n) => n.id).sort());
      for (const e of view.edges) {
        // Left to right along every edge, or top to bottom (the canvas's direction).
        expect(right[e.target]!.x, e.id).toBeGreaterThan(right[e.source]!.x);
        expect(down[e.target]!.y, e.id).toBeGreaterThan(down[e.source]!.y);
      }
      const ids = Object.keys(down);
      for (let i = 0; i < ids.length; i++)
        for (let j = i + 1; j < ids.length; j++)
          expect(overlaps(down[ids[i]!]!, down[ids[j]!]!, 60), `${ids[i]} ${ids[j]}`).toBe(false);
    });

  it('uses measured card sizes where it has them', async () => {
    const view = buildView(TEMPLATES[0]!.build(), new Map());
    const small = await elkLayout(view);
    const sizes = new Map(view.nodes.map((n) => [n.id, { width: 196, height: 400 }]));
    const tall = await elkLayout(view, { sizes });
    expect(tall.loss!.y - tall.x!.y).toBeGreaterThan(small.loss!.y - small.x!.y);
  });

  it('lays out collapsed groups as one node and is one undoable move in the editor', async () => {
    const editor = createEditor({ client: createInProcessEngineClient() });
    await editor.whenReady();
    editor.loadTemplate('mlp');
    editor.select(['fc2', 'relu2']);
    editor.group();
    const before = editor.doc;
    const positions = await elkLayout(editor.view);
    expect(positions.group_1).toBeDefined();
    expect(positions.fc2).toBeUndefined();
    expect(positions.fc3!.y).toBeGreaterThan(positions.group_1!.y);
    expect(positions.group_1!.y).toBeGreaterThan(positions.relu1!.y);
    expect(editor.moveNodes(positions)).toBe(true);
    editor.undo();
    expect(editor.doc).toBe(before);
    editor.dispose();
  });

  it('lays out nothing for an empty model', async () => {
    expect(await elkLayout({ nodes: [], edges: [], byId: new Map(), owner: new Map() })).toEqual(
      {},
    );
  });
});
