/**
 * The status line: whether the engine worker is ready and checking, how many problems the
 * model has, the model's size, and the last file message: one line, cut with an ellipsis (the
 * whole text in its tooltip), never squeezing the items on the left. A file error also shows in
 * full in a notice above the status bar until it is dismissed or replaced.
 */

import { useStore } from 'zustand';
import { formatCount } from '../canvas/format.js';
import { parameterCount } from '../inspector/Inspector.js';
import type { Files } from './files.js';
import { useAnalysis, useCatalog, useDocumentState } from './context.js';

export function StatusBar({ files }: { files: Files }) {
  const catalog = useCatalog((c) =>
    c.error ? `Engine failed: ${c.error}` : c.loaded ? `${c.list.length} ops` : null,
  );
  const engineError = useAnalysis((a) => a.error);
  const checking = useAnalysis((a) => a.revision) !== useDocumentState((s) => s.revision);
  const problemCount = useAnalysis((a) =>
    [...a.problems.values()].reduce(
      (n, list) => n + list.filter((p) => p.severity === 'error').length,
      0,
    ),
  );
  const nodes = useDocumentState((s) => s.view.nodes.length);
  const params = useDocumentState((s) =>
    parameterCount(
      s.doc,
      s.doc.graph.nodes.map((n) => n.id),
    ),
  );
  const message = useStore(files.state, (s) => s.message);
  const isError = useStore(files.state, (s) => s.messageKind === 'error');
  const error = engineError ?? (catalog?.startsWith('Engine failed') ? catalog : null);
  return (
    <footer className="wg-status" data-testid="status">
      <span
        className={`wg-status__engine${error ? ' is-error' : checking ? ' is-busy' : ' is-ready'}`}
        data-testid="engine-status"
      >
        <span className="wg-status__dot" />
        {error ??
          (catalog === null
            ? 'Starting engine…'
            : checking
              ? 'Checking shapes…'
              : `Engine ready · ${catalog}`)}
      </span>
      <span className={problemCount > 0 ? 'wg-status__problems is-error' : 'wg-status__problems'}>
        {problemCount === 0
          ? 'No problems'
          : `${problemCount} problem${problemCount === 1 ? '' : 's'}`}
      </span>
      <span>{nodes} nodes</span>
      <span>{formatCount(params)} parameters</span>
      <span className="wg-status__spacer" />
      {message && (
        <span
          className={`wg-status__message${isError ? ' is-error' : ''}`}
          data-testid="status-message"
          title={message}
        >
          {message}
        </span>
      )}
      {message && isError && <FileNotice text={message} onDismiss={() => files.dismissMessage()} />}
    </footer>
  );
}

/** A file error in full, with a button (or Escape while it has focus) that dismisses it. */
function FileNotice({ text, onDismiss }: { text: string; onDismiss: () => void }) {
  return (
    <div
      className="wg-file-notice"
      role="alert"
      data-testid="file-notice"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onDismiss();
      }}
    >
      <span className="wg-file-notice__text">{text}</span>
      <button
        type="button"
        className="wg-file-notice__close"
        aria-label="Dismiss"
        title="Dismiss"
        data-testid="file-notice-dismiss"
        onClick={onDismiss}
      >
        ×
      </button>
    </div>
  );
}
