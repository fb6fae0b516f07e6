/**
 * The editor's short messages (a paste that could not be read, a command not available yet)
 * as a toast at the bottom of the canvas, gone after a few seconds or on a click.
 */

import { useEffect, useState } from 'react';
import { useStore } from 'zustand';
import { useEditor } from '../app/context.js';

const SHOW_MS = 5000;

export function Toast() {
  const editor = useEditor();
  const notice = useStore(editor.ui, (s) => s.notice);
  const [hidden, setHidden] = useState<number | null>(null);
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => setHidden(notice.id), SHOW_MS);
    return () => clearTimeout(timer);
  }, [notice]);
  if (!notice || hidden === notice.id) return null;
  return (
    <div
      className="wg-toast"
      role="status"
      aria-live="polite"
      data-testid="toast"
      onClick={() => setHidden(notice.id)}
    >
      {notice.text}
    </div>
  );
}
