import { afterEach, describe, expect, it } from 'vitest';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { documentFromFile, documentToFile, emptyDocument } from './document.js';
import { type Editor, createEditor } from './editor.js';
import { groupsOf } from './groups.js';
import { TEMPLATES } from './templates.js';

const editors: Editor[] = [];

async function mlpEditor(): Promise<Editor> {
  const editor = createEditor({ client: createInProcessEngineClient() });
  editors.push(editor);
  await editor.whenReady();
  expect(editor.loadTemplate('mlp')).toBe(true);
  return editor;
}

afterEach(() => {
  for (const editor of editors.splice(0)) editor.dispose();
});

describe('groups', () => {
  it('fold the selected nodes into one card with the outside ports, outputs and parameters', async () => {
    const editor = await mlpEditor();
    editor.select(['fc2', 'relu2']);
    expect(editor.group()).toBe(true);
    const view = editor.view;
    const group = view.byId.get('group_1')!;
    expect(editor.selection.getState().nodes).toEqual(['group_1']);
    expect(group.kind).toBe('group');
    expect(group.title).toBe('Group 1');
    expect(view.byId.has('fc2')).toBe(false);
    expect(view.byId.has('relu2')).toBe(false);
    // One way in (fc2's x, fed by relu1) and one value out (relu2, read by fc3).
    expect(group.ports.map((p) => [p.name, p.node, p.source])).toEqual([['fc2', 'fc2', 'relu1']]);
    expect(group.group).toEqual({
      name: 'Group 1',
      memberCount: 2,
      paramCount: 64 * 64 + 64,
      outputs: ['relu2'],
    });
    expect(group.output).toBe('relu2');
    expect(view.edges.map((e) => e.id)).toContain('relu1->group_1:0');
    expect(view.edges.map((e) => e.id)).toContain('group_1->fc3:0');
    expect(view.owner.get('fc2.weight')).toBe('group_1');
    // The card takes the members' top-left corner.
    const { fc2, relu2 } = editor.doc.layout;
    expect(editor.doc.layout.group_1).toEqual({
      x: Math.min(fc2!.x, relu2!.x),
      y: Math.min(fc2!.y, relu2!.y),
    });
  });

  it('leave the engine graph flat: shapes are inferred through a group', async () => {
    const editor = await mlpEditor();
    const before = await editor.whenAnalysed();
    const nodesBefore = editor.doc.graph.nodes;
    editor.select(['fc1', 'relu1', 'fc2']);
    editor.group();
    expect(editor.doc.graph.nodes).toBe(nodesBefore);
    const check = await editor.whenAnalysed();
    expect(check.diagnostics).toEqual(before.diagnostics);
    expect(check.shapes.fc2?.shape).toEqual(['N', 64]);
    expect(check.shapes.fc3?.shape).toEqual(['N', 3]);
    // The edge out of the group carries fc2's value, so its label is fc2's shape.
    const out = editor.view.edges.find((e) => e.source === 'group_1')!;
    expect(out.sourceNode).toBe('fc2');
  });

  it('show errors inside a group on the group, at the port they concern', async () => {
    const editor = await mlpEditor();
    editor.select(['fc1', 'relu1']);
    editor.group();
    editor.run('setAttr', { node: 'x', name: 'shape', value: [-1, 1, 28, 28] });
    await editor.whenAnalysed();
    const problems = editor.analysis.getState().problems.get('group_1') ?? [];
    expect(problems.some((p) => p.severity === 'error')).toBe(true);
  });

  it('open again, collapse, ungroup, and undo each step exactly', async () => {
    const editor = await mlpEditor();
    const start = editor.doc;
    editor.select(['fc2', 'relu2']);
    editor.group();
    const grouped = editor.doc;
    // Move the card; opening it moves the members along.
    const fc2Before = start.layout.fc2!;
    editor.moveNodes({ group_1: { x: grouped.layout.group_1!.x + 100, y: 500 } });
    const moved = editor.doc;
    const dy = 500 - grouped.layout.group_1!.y;
    expect(editor.setGroupOpen('group_1', true)).toBe(true);
    expect(editor.view.byId.has('fc2')).toBe(true);
    expect(editor.view.byId.has('group_1')).toBe(false);
    expect(editor.doc.layout.fc2).toEqual({ x: fc2Before.x + 100, y: fc2Before.y + dy });
    expect(groupsOf(editor.doc).group_1).toMatchObject({ collapsed: false });
    expect(editor.selection.getState().nodes).toEqual(['fc2', 'relu2']);
    const opened = editor.doc;
    // Ungrouping an open group from one of its members.
    editor.select(['relu2']);
    expect(editor.ungroupSelection()).toBe(true);
    expect(groupsOf(editor.doc)).toEqual({});
    expect(editor.doc.graph.meta?.groups).toBeUndefined();
    expect(editor.doc.layout.fc2).toEqual(opened.layout.fc2);

    for (const expected of [opened, moved, grouped, start]) {
      expect(editor.undo()).toBe(true);
      expect(editor.doc).toBe(expected);
    }
    expect(editor.view.byId.has('group_1')).toBe(false);
    for (const expected of [grouped, moved, opened]) {
      expect(editor.redo()).toBe(true);
      expect(editor.doc).toEqual(expected);
    }
  });

  it('ungroup a collapsed group where its card is, and delete with all members', async () => {
    const editor = await mlpEditor();
    editor.select(['fc2', 'relu2']);
    editor.group();
    editor.select(['group_1']);
    expect(editor.ungroupSelection()).toBe(true);
    expect(editor.selection.getState().nodes).toEqual(['fc2', 'relu2']);
    editor.undo();
    editor.select(['group_1']);
    expect(editor.deleteSelection()).toBe(true);
    const ids = editor.doc.graph.nodes.map((n) => n.id);
    expect(ids).not.toContain('fc2');
    expect(ids).not.toContain('relu2');
    expect(ids).not.toContain('fc2.weight');
    expect(groupsOf(editor.doc)).toEqual({});
    expect(editor.doc.layout.group_1).toBeUndefined();
  });

  it('merge a selected group into a new one and take members out of open groups', async () => {
    const editor = await mlpEditor();
    editor.select(['fc1', 'relu1']);
    editor.group();
    editor.select(['group_1', 'fc2']);
    editor.group();
    expect(Object.keys(groupsOf(editor.doc))).toEqual(['group_2']);
    expect(groupsOf(editor.doc).group_2!.members).toEqual(['fc1', 'relu1', 'fc2']);
    expect(editor.doc.layout.group_1).toBeUndefined();
  });

  it('travel in the file and old files without groups still open', async () => {
    const editor = await mlpEditor();
    editor.select(['fc2', 'relu2']);
    editor.group();
    const file = JSON.parse(JSON.stringify(documentToFile(editor.doc))) as Record<string, unknown>;
    const reopened = documentFromFile(file);
    expect(reopened).toEqual(editor.doc);
    expect(groupsOf(documentFromFile(documentToFile(emptyDocument())))).toEqual({});
    const template = TEMPLATES[0]!.build();
    expect(groupsOf(template)).toEqual({});
  });

  it('skip malformed group entries in a hand-edited file', () => {
    const doc = emptyDocument();
    const bad = {
      ...doc,
      graph: {
        ...doc.graph,
        meta: { groups: { a: 5, b: { members: 'x' }, c: { members: [1, 'n'] } } },
      },
    };
    expect(groupsOf(bad)).toEqual({ c: { name: 'c', members: ['n'], collapsed: true } });
  });

  it('keep the same card object across edits elsewhere (memoised cards skip re-rendering)', async () => {
    const editor = await mlpEditor();
    editor.select(['fc2', 'relu2']);
    editor.group();
    const card = editor.view.byId.get('group_1');
    editor.moveNodes({ loss: { x: 5, y: 5 } });
    expect(editor.view.byId.get('group_1')).toBe(card);
    editor.run('setLayerConfig', {
      group: 'fc2',
      config: { kind: 'linear', inFeatures: 64, outFeatures: 32 },
    });
    const changed = editor.view.byId.get('group_1')!;
    expect(changed).not.toBe(card);
    expect(changed.group?.paramCount).toBe(64 * 32 + 32);
  });

  it('rename, trimming the name and refusing an empty one', async () => {
    const editor = await mlpEditor();
    editor.select(['fc2', 'relu2']);
    editor.group();
    expect(editor.run('renameGroup', { id: 'group_1', name: '  Hidden  ' })).not.toBeNull();
    expect(editor.view.byId.get('group_1')!.title).toBe('Hidden');
    expect(editor.run('renameGroup', { id: 'group_1', name: '  ' })).toBeNull();
    expect(editor.run('renameGroup', { id: 'nope', name: 'x' })).toBeNull();
    editor.undo();
    expect(editor.view.byId.get('group_1')!.title).toBe('Group 1');
  });

  it('refuse an empty selection', async () => {
    const editor = await mlpEditor();
    editor.select([]);
    expect(editor.group()).toBe(false);
    expect(editor.ungroupSelection()).toBe(false);
  });
});
