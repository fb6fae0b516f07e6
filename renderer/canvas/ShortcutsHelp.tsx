/**
 * The keyboard shortcuts panel (F1 or ?): every action with a key, listed from the action table
 * itself (shortcuts.ts), then the mouse gestures that take a key. Escape, the close button or a click outside closes it.
 */

import { useStore } from 'zustand';
import { useEditor } from '../app/context.js';
import { pointerGestureEntries, shortcutEntries } from './shortcuts.js';

const IS_MAC = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

/** One row of the panel: what it does, and its keys. */
function HelpRow({
  testId,
  label,
  keys,
}: {
  testId: string;
  label: string;
  keys: readonly string[];
}) {
  return (
    <div className="wg-help__row" data-testid={testId}>
      <dt>{label}</dt>
      <dd>
        {keys.map((k) => (
          <kbd key={k} className="wg-kbd">
            {k}
          </kbd>
        ))}
      </dd>
    </div>
  );
}

export function ShortcutsHelp() {
  const editor = useEditor();
  const open = useStore(editor.ui, (s) => s.shortcutsHelp);
  if (!open) return null;
  const entries = shortcutEntries(IS_MAC);
  return (
    <div className="wg-help__backdrop" onClick={() => editor.toggleShortcutsHelp(false)}>
      <div
        className="wg-help"
        role="dialog"
        aria-label="Keyboard shortcuts"
        data-testid="shortcuts-help"
        onClick={(event) => event.stopPropagation()}
      >
        <div className="wg-help__head">
          <h2>Keyboard shortcuts</h2>
          <button
            type="button"
            className="wg-button"
            data-testid="shortcuts-help-close"
            onClick={() => editor.toggleShortcutsHelp(false)}
          >
            Close
          </button>
        </div>
        <dl className="wg-help__list">
          {entries.map((entry) => (
            <HelpRow key={entry.name} testId={`shortcut-${entry.name}`} {...entry} />
          ))}
          {pointerGestureEntries(IS_MAC).map((entry) => (
            <HelpRow key={entry.name} testId={`gesture-${entry.name}`} {...entry} />
          ))}
        </dl>
        <p className="wg-help__note">
          Double-click the canvas to search for a node; double-click a group to open it.
        </p>
      </div>
    </div>
  );
}
