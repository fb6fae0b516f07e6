import { describe, expect, it } from 'vitest';
import { ClipboardError, FRAGMENT_FORMAT, parseFragment, serializeFragment } from './clipboard.js';
import { copyFragment, paste } from './commands.js';
import { TEMPLATES } from './templates.js';

const mlp = TEMPLATES.find((t) => t.name === 'mlp')!.build();

describe('clipboard fragments', () => {
  it('round-trip copied nodes with their positions behind a recognisable header', () => {
    const fragment = copyFragment(mlp, ['fc1', 'relu1']);
    const text = serializeFragment(fragment);
    expect(JSON.parse(text)).toMatchObject({ format: FRAGMENT_FORMAT, version: 1 });
    expect(parseFragment(text)).toEqual(fragment);
    expect(fragment.nodes.map((n) => n.id)).toEqual(['fc1.weight', 'fc1.bias', 'fc1', 'relu1']);
  });

  it('paste with fresh ids, the edges inside kept, offset, and selected', () => {
    const fragment = parseFragment(serializeFragment(copyFragment(mlp, ['fc1', 'relu1'])));
    const result = paste(mlp, { fragment, offset: { x: 40, y: 40 } })!;
    const byId = new Map(result.doc.graph.nodes.map((n) => [n.id, n]));
    expect(result.select).toEqual(['fc1_1', 'relu1_1']);
    expect(byId.get('relu1_1')!.inputs).toEqual(['fc1_1']);
    // fc1's input came from outside the fragment: left unconnected.
    expect(byId.get('fc1_1')!.inputs).toEqual(['', 'fc1_1.weight', 'fc1_1.bias']);
    expect(result.doc.layout.fc1_1).toEqual({
      x: mlp.layout.fc1!.x + 40,
      y: mlp.layout.fc1!.y + 40,
    });
  });

  it('refuse text that is not a fragment, saying why, and never throw anything else', () => {
    const cases: [string, RegExp][] = [
      ['', /not JSON/],
      ['hello world', /not JSON/],
      ['{"format":"wiregrad.graph","nodes":[]}', /does not hold Wiregrad nodes/],
      ['[1,2]', /does not hold Wiregrad nodes/],
      ['null', /does not hold Wiregrad nodes/],
      [`{"format":"${FRAGMENT_FORMAT}","version":7,"nodes":[]}`, /newer Wiregrad/],
      [`{"format":"${FRAGMENT_FORMAT}","version":1,"nodes":[]}`, /no nodes/],
      [`{"format":"${FRAGMENT_FORMAT}","version":1,"nodes":[{"id":"a"}]}`, /damaged: node 1/],
      [
        `{"format":"${FRAGMENT_FORMAT}","version":1,"nodes":[` +
          `{"id":"a","op":"relu","inputs":[],"attrs":{}},{"id":"a","op":"relu","inputs":[],"attrs":{}}]}`,
        /repeats the node id 'a'/,
      ],
      [
        `{"format":"${FRAGMENT_FORMAT}","version":1,"nodes":[{"id":"a","op":"relu","inputs":[3],"attrs":{}}]}`,
        /damaged/,
      ],
    ];
    for (const [text, message] of cases) {
      let error: unknown;
      try {
        parseFragment(text);
      } catch (e) {
        error = e;
      }
      expect(error, text).toBeInstanceOf(ClipboardError);
      expect((error as Error).message, text).toMatch(message);
    }
  });

  it('carry collapsed groups, dropping malformed ones', () => {
    const fragment = {
      ...copyFragment(mlp, ['fc1', 'relu1']),
      groups: [{ name: 'Block', members: ['fc1', 'relu1'], position: { x: 3, y: 4 } }],
    };
    expect(parseFragment(serializeFragment(fragment))).toEqual(fragment);
    const json = JSON.parse(serializeFragment(fragment)) as Record<string, unknown>;
    json.groups = [
      { name: 'Block', members: ['relu1', 'missing', 7] },
      { name: 5, members: ['fc1'] },
      { name: 'Empty', members: ['missing'] },
      'nonsense',
    ];
    expect(parseFragment(JSON.stringify(json)).groups).toEqual([
      { name: 'Block', members: ['relu1'] },
    ]);
  });

  it('drop malformed positions but keep the nodes', () => {
    const text = JSON.stringify({
      format: FRAGMENT_FORMAT,
      version: 1,
      nodes: [{ id: 'r', op: 'relu', inputs: [''], attrs: {} }],
      layout: { r: { x: 'a', y: 1 }, q: { x: 1, y: 2 } },
    });
    expect(parseFragment(text)).toEqual({
      nodes: [{ id: 'r', op: 'relu', inputs: [''], attrs: {} }],
      layout: { q: { x: 1, y: 2 } },
    });
  });
});
