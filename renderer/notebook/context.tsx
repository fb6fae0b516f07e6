/**
 * React access to the notebook: `NotebookProvider` puts a `Notebook` in context and
 * `useNotebookState` reads its store with a narrow selector.
 */

import { type ReactNode, createContext, useContext } from 'react';
import { useStore } from 'zustand';
import { createStore } from 'zustand/vanilla';
import type { Notebook, NotebookState, ViewMode } from './notebook.js';

const NotebookContext = createContext<Notebook | null>(null);

export function NotebookProvider({
  notebook,
  children,
}: {
  notebook: Notebook;
  children: ReactNode;
}) {
  return <NotebookContext.Provider value={notebook}>{children}</NotebookContext.Provider>;
}

export function useNotebook(): Notebook {
  const notebook = useContext(NotebookContext);
  if (!notebook) throw new Error('useNotebook needs a <NotebookProvider> above it');
  return notebook;
}

export function useNotebookState<T>(selector: (state: NotebookState) => T): T {
  return useStore(useNotebook().state, selector);
}

/** Read when no notebook is provided: the canvas is all there is. */
const NO_NOTEBOOK = createStore<{ mode: ViewMode }>(() => ({ mode: 'canvas' }));

/** Which view shows: 'canvas' too when the app has no notebook. */
export function useViewMode(): ViewMode {
  const notebook = useContext(NotebookContext);
  return useStore(notebook?.state ?? NO_NOTEBOOK, (s) => s.mode);
}

/** The notebook, or null when the app has none (tests that mount the canvas alone). */
export function useOptionalNotebook(): Notebook | null {
  return useContext(NotebookContext);
}
