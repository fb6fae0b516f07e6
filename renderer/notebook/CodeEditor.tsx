/**
 * A code (or markdown source) editor for one cell: Monaco, loaded on first use. While it loads
 * the source shows as plain text; if it cannot load, a plain text area takes its place so the
 * notebook stays usable. The editor grows with its content.
 */

import { useEffect, useRef, useState } from 'react';
import { type CodeEditorHandle, loadCodeEditor } from './monaco-loader.js';

export interface CodeEditorProps {
  readonly cellId: string;
  readonly source: string;
  readonly language: 'typescript' | 'markdown';
  readonly onChange: (source: string) => void;
  readonly onRun: () => void;
  /** Ctrl/⌘+Enter: run without moving on. */
  readonly onRunInPlace?: () => void;
  readonly onFocus?: () => void;
  readonly onEscape?: () => void;
  /** An error from the last run, shown at its line. */
  readonly runError?: { readonly line: number | null; readonly message: string } | null;
  readonly autoFocus?: boolean;
  /** Focuses the editor whenever this changes (to a non-zero value). */
  readonly focusToken?: number;
}

export function CodeEditor(props: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const handle = useRef<CodeEditorHandle | null>(null);
  const latest = useRef(props);
  latest.current = props;
  const [failure, setFailure] = useState<string | null>(null);
  const [ready, setReady] = useState(false);
  const [markers, setMarkers] = useState<{ count: number; first: string | null }>({
    count: 0,
    first: null,
  });

  useEffect(() => {
    let disposed = false;
    loadCodeEditor().then(
      (module) => {
        if (disposed || !host.current) return;
        handle.current = module.createCodeEditor(host.current, {
          value: latest.current.source,
          language: latest.current.language,
          name: latest.current.cellId,
          onChange: (value) => latest.current.onChange(value),
          onRun: () => latest.current.onRun(),
          onRunInPlace: () => latest.current.onRunInPlace?.(),
          onFocus: () => latest.current.onFocus?.(),
          onEscape: () => latest.current.onEscape?.(),
          onMarkers: (count, first) => setMarkers({ count, first }),
        });
        setReady(true);
        if (latest.current.autoFocus) handle.current.focus();
      },
      (error: unknown) => {
        if (!disposed) setFailure(error instanceof Error ? error.message : String(error));
      },
    );
    return () => {
      disposed = true;
      handle.current?.dispose();
      handle.current = null;
    };
  }, []);

  useEffect(() => {
    handle.current?.setValue(props.source);
  }, [props.source, ready]);

  useEffect(() => {
    handle.current?.setRunError(props.runError?.line ?? null, props.runError?.message);
  }, [props.runError?.line, props.runError?.message, ready]);

  useEffect(() => {
    if (props.focusToken) handle.current?.focus();
  }, [props.focusToken, ready]);

  if (failure)
    return (
      <div className="wg-code wg-code--fallback">
        <textarea
          className="wg-code__textarea"
          value={props.source}
          spellCheck={false}
          rows={Math.max(2, props.source.split('\n').length)}
          onChange={(e) => props.onChange(e.target.value)}
          onFocus={props.onFocus}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && e.shiftKey) {
              e.preventDefault();
              props.onRun();
            } else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              props.onRunInPlace?.();
            }
          }}
        />
        <div className="wg-code__note">Plain text editing: {failure}</div>
      </div>
    );
  return (
    <div
      className="wg-code"
      data-testid="cell-editor"
      data-ready={ready ? 'true' : 'false'}
      data-type-errors={markers.count}
      title={markers.first ?? undefined}
    >
      <div ref={host} className="wg-code__host" />
      {!ready && <pre className="wg-code__loading">{props.source || ' '}</pre>}
    </div>
  );
}
