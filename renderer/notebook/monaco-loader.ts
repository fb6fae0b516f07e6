/**
 * Loads the notebook's code editor bundle (notebook-editor.js and .css, built next to main.js
 * from monaco-entry.ts) the first time it is needed, so the canvas never pays for Monaco.
 */

import type * as EditorModule from './monaco-entry.js';

export type { CodeEditorHandle, CodeEditorOptions } from './monaco-entry.js';

let loading: Promise<typeof EditorModule> | null = null;

function addStylesheet(href: string): Promise<void> {
  return new Promise((resolve) => {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = href;
    link.addEventListener('load', () => resolve());
    // Without its CSS the editor still works (unstyled); the import below says if it fails.
    link.addEventListener('error', () => resolve());
    document.head.append(link);
  });
}

/** The editor module; rejects with a readable error when the bundle cannot be loaded. */
export function loadCodeEditor(): Promise<typeof EditorModule> {
  loading ??= (async () => {
    const base = new URL('./notebook-editor.js', import.meta.url);
    await addStylesheet(new URL('./notebook-editor.css', import.meta.url).href);
    try {
      return (await import(/* @vite-ignore */ base.href)) as typeof EditorModule;
    } catch (error) {
      loading = null;
      throw new Error(
        `the code editor could not be loaded (${error instanceof Error ? error.message : String(error)})`,
      );
    }
  })();
  return loading;
}
