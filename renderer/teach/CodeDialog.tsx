/**
 * Graph ⇄ code in the toolbar: "Export to TypeScript" shows the code that rebuilds the current
 * graph with GraphBuilder (one line per node, named after the nodes) in a dialog with Copy;
 * "Open as graph" takes such code (pasted, or the export edited) and opens its graph on the
 * canvas. Escape closes the dialog; Ctrl+Enter opens the code.
 */

import { useCallback, useEffect, useRef, useState } from 'react';
import { useLearn } from './context.js';
import { useMenuDismiss } from '../app/use-menu-dismiss.js';
import './teach.css';

type DialogState =
  | { readonly mode: 'closed' }
  | { readonly mode: 'export'; readonly code: string | null; readonly error: string | null }
  | { readonly mode: 'open'; readonly code: string; readonly error: string | null };

const PLACEHOLDER = `const b = new GraphBuilder('neuron');
const a = b.input('a', [], 'f32', 'data');
const w = b.input('w', [], 'f32', 'data');
const y = b.op('tanh', [b.op('mul', [a, w], {}, 'aw')], {}, 'y');
b.output('y', y);`;

async function copyText(text: string, fallback: HTMLTextAreaElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!fallback) return false;
    fallback.select();
    return document.execCommand('copy');
  }
}

function CodeDialog({
  state,
  setState,
}: {
  state: Exclude<DialogState, { mode: 'closed' }>;
  setState: (s: DialogState) => void;
}) {
  const learn = useLearn();
  const area = useRef<HTMLTextAreaElement>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const close = () => setState({ mode: 'closed' });

  useEffect(() => {
    area.current?.focus();
  }, [state.mode]);

  const open = async () => {
    if (state.mode !== 'open' || !learn) return;
    setBusy(true);
    const error = await learn.code.openCode(state.code);
    setBusy(false);
    if (error === null) close();
    else setState({ ...state, error });
  };

  const onKey = (event: React.KeyboardEvent) => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      close();
    } else if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && state.mode === 'open') {
      event.preventDefault();
      void open();
    }
    // Typing in the dialog is not a canvas shortcut.
    event.stopPropagation();
  };

  const title = state.mode === 'export' ? 'TypeScript for this graph' : 'Open code as graph';
  return (
    <div
      className="wg-dialog-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) close();
      }}
    >
      <div
        className="wg-dialog"
        role="dialog"
        aria-modal="true"
        aria-label={title}
        data-testid="code-dialog"
        onKeyDown={onKey}
      >
        <div className="wg-dialog__head">
          <h2 className="wg-dialog__title">{title}</h2>
        </div>
        <p className="wg-dialog__hint">
          {state.mode === 'export'
            ? 'One line per node, named after the node. Run it with Wiregrad’s engine to rebuild ' +
              'the same graph, or edit it and open it as a graph.'
            : 'Paste TypeScript that builds a graph with GraphBuilder (the form Export to ' +
              'TypeScript writes). It is read, not run: calls of the builder, constants and ' +
              'literals.'}
        </p>
        {state.mode === 'export' && state.error && (
          <p className="wg-train__problem" role="alert" data-testid="code-error">
            {state.error}
          </p>
        )}
        {state.mode === 'open' && state.error && (
          <p className="wg-train__problem" role="alert" data-testid="code-error">
            {state.error}
          </p>
        )}
        {(state.mode === 'open' || state.code !== null) && (
          <textarea
            ref={area}
            className="wg-dialog__code"
            data-testid="code-text"
            spellCheck={false}
            readOnly={state.mode === 'export'}
            value={state.code ?? ''}
            placeholder={state.mode === 'open' ? PLACEHOLDER : ''}
            onChange={(e) => {
              if (state.mode === 'open') setState({ ...state, code: e.target.value, error: null });
            }}
          />
        )}
        {state.mode === 'export' && state.code === null && !state.error && (
          <p className="wg-dialog__hint">Writing the code…</p>
        )}
        <div className="wg-dialog__buttons">
          {note && <span className="wg-dialog__status">{note}</span>}
          {state.mode === 'export' && state.code !== null && (
            <>
              <button
                type="button"
                className="wg-button"
                data-testid="code-edit"
                onClick={() => setState({ mode: 'open', code: state.code ?? '', error: null })}
              >
                Edit as code…
              </button>
              <button
                type="button"
                className="wg-button is-primary"
                data-testid="code-copy"
                onClick={() =>
                  void copyText(state.code ?? '', area.current).then((ok) =>
                    setNote(ok ? 'Copied to the clipboard' : 'Select the code and copy it'),
                  )
                }
              >
                Copy
              </button>
            </>
          )}
          {state.mode === 'open' && (
            <button
              type="button"
              className="wg-button is-primary"
              data-testid="code-open"
              title="Open as graph (Ctrl+Enter)"
              disabled={busy}
              onClick={() => void open()}
            >
              Open as graph
            </button>
          )}
          <button type="button" className="wg-button" data-testid="code-close" onClick={close}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}

/** The toolbar's Code menu (Export to TypeScript, Open as graph) and its dialog. */
export function CodeButtons() {
  const learn = useLearn();
  const [state, setState] = useState<DialogState>({ mode: 'closed' });
  const [menuOpen, setMenuOpen] = useState(false);
  // Where the popup goes: fixed under the button, so a toolbar that scrolls cannot clip it.
  const [anchor, setAnchor] = useState<{ top: number; right: number } | null>(null);
  const menu = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const closeMenu = useCallback(() => setMenuOpen(false), []);
  useMenuDismiss(menuOpen, closeMenu, menu, button);
  if (!learn) return null;
  const exportCode = async () => {
    setMenuOpen(false);
    setState({ mode: 'export', code: null, error: null });
    const result = await learn.code.exportCode();
    setState(
      result.ok
        ? { mode: 'export', code: result.code, error: null }
        : { mode: 'export', code: null, error: result.error },
    );
  };
  return (
    <div className="wg-menu" ref={menu}>
      <button
        ref={button}
        type="button"
        className={`wg-button${menuOpen ? ' is-active' : ''}`}
        data-testid="code-menu"
        aria-haspopup="menu"
        aria-expanded={menuOpen}
        title="Graph ⇄ TypeScript"
        onClick={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          setAnchor({ top: r.bottom + 8, right: Math.max(8, window.innerWidth - r.right) });
          setMenuOpen(!menuOpen);
        }}
      >
        <span className="wg-button__icon" aria-hidden="true">
          {'{}'}
        </span>
        <span>Code</span>
        <span className="wg-caret" aria-hidden="true">
          ▾
        </span>
      </button>
      {menuOpen && (
        <div
          className="wg-menu__popup"
          role="menu"
          style={anchor ? { position: 'fixed', top: anchor.top, right: anchor.right } : undefined}
        >
          <button
            type="button"
            role="menuitem"
            className="wg-menu__item"
            data-testid="export-to-code"
            onClick={() => void exportCode()}
          >
            <span className="wg-menu__label">Export to TypeScript</span>
            <span className="wg-menu__hint">The code that rebuilds this graph, to copy</span>
          </button>
          <button
            type="button"
            role="menuitem"
            className="wg-menu__item"
            data-testid="open-as-graph"
            onClick={() => {
              setMenuOpen(false);
              setState({ mode: 'open', code: '', error: null });
            }}
          >
            <span className="wg-menu__label">Open as graph</span>
            <span className="wg-menu__hint">GraphBuilder code onto the canvas</span>
          </button>
        </div>
      )}
      {state.mode !== 'closed' && <CodeDialog state={state} setState={setState} />}
    </div>
  );
}
