import { describe, expect, it } from 'vitest';
import { parseInline, parseMarkdown, safeHref } from './markdown-parse.js';

describe('the notebook markdown reader', () => {
  it('reads headings, paragraphs, fenced code, lists, quotes and rules', () => {
    const blocks = parseMarkdown(
      [
        '# Title',
        'A paragraph',
        'over two lines.',
        '',
        '```ts',
        'const x = 1 < 2;',
        '```',
        '- one',
        '- two',
        '  - nested',
        '3. three',
        '> quoted',
        '---',
      ].join('\n'),
    );
    expect(blocks.map((b) => b.type)).toEqual([
      'heading',
      'paragraph',
      'code',
      'list',
      'list',
      'quote',
      'rule',
    ]);
    expect(blocks[1]).toEqual({
      type: 'paragraph',
      children: [{ type: 'text', text: 'A paragraph over two lines.' }],
    });
    expect(blocks[2]).toEqual({ type: 'code', language: 'ts', text: 'const x = 1 < 2;' });
    const list = blocks[3] as Extract<(typeof blocks)[number], { type: 'list' }>;
    expect(list.items).toHaveLength(2);
    expect(list.items[1]!.map((b) => b.type)).toEqual(['paragraph', 'list']);
    expect(blocks[4]).toMatchObject({ type: 'list', ordered: true, start: 3 });
  });

  it('reads emphasis, strong, code and links, keeping markup in code as text', () => {
    expect(parseInline('a *b* __c__ `<i>d</i>` [e](https://x.org)')).toEqual([
      { type: 'text', text: 'a ' },
      { type: 'em', children: [{ type: 'text', text: 'b' }] },
      { type: 'text', text: ' ' },
      { type: 'strong', children: [{ type: 'text', text: 'c' }] },
      { type: 'text', text: ' ' },
      { type: 'code', text: '<i>d</i>' },
      { type: 'text', text: ' ' },
      { type: 'link', href: 'https://x.org', children: [{ type: 'text', text: 'e' }] },
    ]);
    expect(parseInline('snake_case_name')).toEqual([{ type: 'text', text: 'snake_case_name' }]);
  });

  it('drops link targets that are not http(s) or mailto and never produces HTML', () => {
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('data:text/html,hi')).toBeNull();
    expect(parseInline('[click](javascript:alert(1))')).not.toContainEqual(
      expect.objectContaining({ type: 'link' }),
    );
    expect(parseInline('<script>x</script>')).toEqual([
      { type: 'text', text: '<script>x</script>' },
    ]);
  });
});
