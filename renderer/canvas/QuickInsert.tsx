/**
 * The quick-insert box that a double-click on the canvas background opens at the cursor: type
 * to fuzzy-search the palette, arrows to choose, Enter to insert there, Escape to close.
 */

import { useEffect, useMemo, useRef, useState } from 'react';
import { useCatalog } from '../app/context.js';
import { fuzzyFilter } from '../palette/fuzzy.js';
import type { Point } from '../state/document.js';
import { paletteItems } from '../state/palette-items.js';
import { TONE_GLYPHS } from './tones.js';

const MAX_RESULTS = 8;

export function QuickInsert({
  at,
  onPick,
  onClose,
}: {
  at: Point;
  onPick: (item: string) => void;
  onClose: () => void;
}) {
  const ops = useCatalog((c) => c.list);
  const items = useMemo(() => paletteItems(ops), [ops]);
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const results = useMemo(() => fuzzyFilter(items, query).slice(0, MAX_RESULTS), [items, query]);

  useEffect(() => input.current?.focus(), []);

  return (
    <div
      className="wg-quick"
      data-testid="quick-insert"
      style={{ left: at.x, top: at.y }}
      onDoubleClick={(e) => e.stopPropagation()}
    >
      <input
        ref={input}
        className="wg-quick__input"
        data-testid="quick-insert-input"
        placeholder="Insert…"
        value={query}
        spellCheck={false}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onBlur={onClose}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onClose();
          else if (e.key === 'ArrowDown') setActive((a) => Math.min(a + 1, results.length - 1));
          else if (e.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
          else if (e.key === 'Enter' && results[active]) onPick(results[active].key);
          else return;
          e.preventDefault();
        }}
      />
      <ul className="wg-quick__list" role="listbox">
        {results.map((item, i) => (
          <li
            key={item.key}
            role="option"
            aria-selected={i === active}
            className={`wg-quick__item tone-${item.tone}${i === active ? ' is-active' : ''}`}
            // mousedown, not click: the input's blur would close the box first.
            onMouseDown={(e) => {
              e.preventDefault();
              onPick(item.key);
            }}
            onMouseEnter={() => setActive(i)}
          >
            <span className="wg-glyph">{TONE_GLYPHS[item.tone]}</span>
            <span className="wg-quick__label">{item.label}</span>
            <span className="wg-quick__section">{item.section}</span>
          </li>
        ))}
        {results.length === 0 && <li className="wg-quick__none">No match</li>}
      </ul>
    </div>
  );
}
