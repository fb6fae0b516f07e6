/**
 * The header: brand and model name, File (New, Open, Save), Undo/Redo with what they would
 * undo, the templates menu, and layout commands. Buttons run registered actions (actions.ts).
 */

import { useCallback, useRef, useState } from 'react';
import { useStore } from 'zustand';
import { ViewSwitch } from '../notebook/NotebookView.js';
import { TEMPLATES } from '../state/templates.js';
import { CodeButtons } from '../teach/CodeDialog.js';
import { LessonMenuItems } from '../teach/LessonMenuItems.js';
import { type ActionContext, getAction } from './actions.js';
import { useDocumentState, useEditor } from './context.js';
import { useMenuDismiss } from './use-menu-dismiss.js';

function ActionButton({
  name,
  ctx,
  testId,
  icon,
  title,
  enabled = true,
}: {
  name: string;
  ctx: ActionContext;
  testId?: string;
  icon?: string;
  title?: string;
  enabled?: boolean;
}) {
  const action = getAction(name);
  const tip = title ?? action.label;
  return (
    <button
      type="button"
      className="wg-button"
      data-testid={testId}
      disabled={!enabled}
      title={action.shortcut ? `${tip} (${action.shortcut})` : tip}
      aria-label={tip}
      onClick={() => action.perform(ctx)}
    >
      {icon && (
        <span className="wg-button__icon" aria-hidden="true">
          {icon}
        </span>
      )}
      {/* Narrow windows show the icon alone (styles.css); the title and label still name it. */}
      <span className={icon ? 'wg-button__label' : undefined}>{action.label}</span>
    </button>
  );
}

function TemplatesMenu() {
  const editor = useEditor();
  const [open, setOpen] = useState(false);
  const menu = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const close = useCallback(() => setOpen(false), []);
  useMenuDismiss(open, close, menu, button);
  return (
    <div className="wg-menu" ref={menu}>
      <button
        ref={button}
        type="button"
        className={`wg-button${open ? ' is-active' : ''}`}
        data-testid="templates-menu"
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        <span className="wg-button__icon" aria-hidden="true">
          ▦
        </span>
        <span>Templates</span>
        <span className="wg-caret" aria-hidden="true">
          ▾
        </span>
      </button>
      {open && (
        <div className="wg-menu__popup" role="menu">
          {TEMPLATES.map((t) => (
            <button
              key={t.name}
              type="button"
              role="menuitem"
              className="wg-menu__item"
              data-testid={`template-${t.name}`}
              onClick={() => {
                editor.loadTemplate(t.name);
                setOpen(false);
              }}
            >
              <span className="wg-menu__label">{t.label}</span>
              <span className="wg-menu__hint">{t.description}</span>
            </button>
          ))}
          <LessonMenuItems onPick={() => setOpen(false)} />
        </div>
      )}
    </div>
  );
}

export function Toolbar({ ctx }: { ctx: ActionContext }) {
  const name = useDocumentState((s) => s.doc.graph.name ?? 'Untitled model');
  const undoLabel = useDocumentState((s) => s.past[s.past.length - 1]?.label ?? null);
  const redoLabel = useDocumentState((s) => s.future[0]?.label ?? null);
  const revision = useDocumentState((s) => s.revision);
  const file = useStore(ctx.files.state);
  const dirty = revision !== file.savedRevision;
  return (
    <header className="wg-toolbar">
      <div className="wg-brand">
        <svg className="wg-brand__mark" viewBox="0 0 24 24" aria-hidden="true">
          <circle cx="5" cy="6" r="2.6" />
          <circle cx="5" cy="18" r="2.6" />
          <circle cx="19" cy="12" r="2.6" />
          <path d="M7.4 6.8 C12 8, 13 11, 16.6 11.6 M7.4 17.2 C12 16, 13 13, 16.6 12.4" />
        </svg>
        <span className="wg-brand__name">Wiregrad</span>
      </div>
      <div
        className="wg-docname"
        data-testid="doc-name"
        title={`${name} · ${file.file?.name ?? 'not saved yet'}`}
      >
        <span className="wg-docname__text">{name}</span>
        {dirty && (
          <span className="wg-dirty" title="Unsaved changes">
            ●
          </span>
        )}
      </div>
      <ViewSwitch />
      <div className="wg-toolbar__group">
        <ActionButton name="new" ctx={ctx} testId="file-new" icon="+" />
        <ActionButton name="open" ctx={ctx} testId="file-open" icon="⤒" />
        <ActionButton name="save" ctx={ctx} testId="file-save" icon="⤓" />
        <ActionButton name="export" ctx={ctx} testId="file-export" icon="⇪" />
        <ActionButton name="importOnnx" ctx={ctx} testId="file-import-onnx" icon="⇩" />
      </div>
      <div className="wg-toolbar__group">
        <ActionButton
          name="undo"
          ctx={ctx}
          testId="undo"
          icon="↶"
          enabled={undoLabel !== null}
          title={undoLabel ? `Undo ${undoLabel}` : 'Nothing to undo'}
        />
        <ActionButton
          name="redo"
          ctx={ctx}
          testId="redo"
          icon="↷"
          enabled={redoLabel !== null}
          title={redoLabel ? `Redo ${redoLabel}` : 'Nothing to redo'}
        />
      </div>
      <div className="wg-toolbar__group">
        <TemplatesMenu />
        <CodeButtons />
        <ActionButton name="tidy" ctx={ctx} testId="layout-tidy" icon="⇶" />
        <ActionButton name="fit" ctx={ctx} testId="view-fit" icon="⤢" />
      </div>
    </header>
  );
}
