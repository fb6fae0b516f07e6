/**
 * The palette: layers, inputs, activations, merges and losses first, then every primitive op of
 * the engine's registry, with a fuzzy search box. Entries are dragged onto the canvas, or
 * clicked (or Enter) to insert at the middle of the view.
 */

import { useReactFlow } from '@xyflow/react';
import { useMemo, useState } from 'react';
import { useCatalog, useEditor } from '../app/context.js';
import { PALETTE_DRAG_TYPE } from '../canvas/Canvas.js';
import { TONE_GLYPHS } from '../canvas/tones.js';
import { freeSpot } from '../state/auto-layout.js';
import { type PaletteItem, PALETTE_SECTIONS, paletteItems } from '../state/palette-items.js';
import { fuzzyFilter } from './fuzzy.js';

function PaletteEntry({ item, onInsert }: { item: PaletteItem; onInsert: (key: string) => void }) {
  return (
    <div
      role="button"
      tabIndex={0}
      draggable
      className={`wg-palette-item tone-${item.tone}`}
      data-testid={`palette-item-${item.key}`}
      title={item.description}
      onDragStart={(e) => {
        e.dataTransfer.setData(PALETTE_DRAG_TYPE, item.key);
        e.dataTransfer.effectAllowed = 'copy';
      }}
      onClick={() => onInsert(item.key)}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          onInsert(item.key);
        }
      }}
    >
      <span className="wg-glyph">{TONE_GLYPHS[item.tone]}</span>
      <span className="wg-palette-item__label">{item.label}</span>
    </div>
  );
}

export function Palette() {
  const editor = useEditor();
  const flow = useReactFlow();
  const ops = useCatalog((c) => c.list);
  const [query, setQuery] = useState('');
  const [opsOpen, setOpsOpen] = useState(false);
  const items = useMemo(() => paletteItems(ops), [ops]);
  const results = useMemo(() => fuzzyFilter(items, query), [items, query]);
  const searching = query.trim() !== '';

  const insertAtCentre = (key: string): void => {
    const canvas = document.querySelector('.wg-canvas')?.getBoundingClientRect();
    const centre = canvas
      ? flow.screenToFlowPosition({
          x: canvas.left + canvas.width / 2,
          y: canvas.top + canvas.height / 2,
        })
      : { x: 0, y: 0 };
    const desired = { x: Math.round(centre.x - 98), y: Math.round(centre.y - 160) };
    editor.addItem(key, freeSpot(editor.doc.layout, desired));
  };

  return (
    <aside className="wg-palette" aria-label="Palette">
      <div className="wg-panel-title">Palette</div>
      <div className="wg-search">
        <input
          className="wg-search__input"
          data-testid="palette-search"
          type="search"
          placeholder="Search layers and ops…"
          value={query}
          spellCheck={false}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && results[0]) insertAtCentre(results[0].key);
            if (e.key === 'Escape') setQuery('');
          }}
        />
      </div>
      <div className="wg-palette__list">
        {searching ? (
          results.length > 0 ? (
            <div className="wg-palette__section">
              {results.map((item) => (
                <PaletteEntry key={item.key} item={item} onInsert={insertAtCentre} />
              ))}
            </div>
          ) : (
            <div className="wg-palette__none">Nothing matches “{query}”.</div>
          )
        ) : (
          PALETTE_SECTIONS.map((section) => {
            const entries = items.filter((i) => i.section === section);
            if (entries.length === 0) return null;
            const collapsible = section === 'Ops';
            const open = !collapsible || opsOpen;
            return (
              <div key={section} className="wg-palette__section">
                {collapsible ? (
                  <button
                    type="button"
                    className="wg-palette__heading is-toggle"
                    aria-expanded={open}
                    onClick={() => setOpsOpen(!opsOpen)}
                  >
                    <span>{open ? '▾' : '▸'} Primitive ops</span>
                    <span className="wg-count">{entries.length}</span>
                  </button>
                ) : (
                  <div className="wg-palette__heading">{section}</div>
                )}
                {open && (
                  <div className={collapsible ? 'wg-palette__grid is-ops' : 'wg-palette__grid'}>
                    {entries.map((item) => (
                      <PaletteEntry key={item.key} item={item} onInsert={insertAtCentre} />
                    ))}
                  </div>
                )}
              </div>
            );
          })
        )}
      </div>
    </aside>
  );
}
