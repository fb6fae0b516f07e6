/**
 * React access to one editor: `EditorProvider` puts an `Editor` (state/editor.ts) in context,
 * and components read its stores through the small hooks below with narrow selectors, so a
 * component re-renders only when what it shows changes (React Flow's and zustand's pattern:
 * one store per editor, made by a factory, never a module singleton).
 */

import { type ReactNode, createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type {
  AnalysisState,
  CatalogState,
  DocumentState,
  Editor,
  SelectionState,
} from '../state/editor.js';

const EditorContext = createContext<Editor | null>(null);

export function EditorProvider({ editor, children }: { editor: Editor; children: ReactNode }) {
  return <EditorContext.Provider value={editor}>{children}</EditorContext.Provider>;
}

export function useEditor(): Editor {
  const editor = useContext(EditorContext);
  if (!editor) throw new Error('useEditor needs an <EditorProvider> above it');
  return editor;
}

export function useDocumentState<T>(selector: (state: DocumentState) => T): T {
  return useStore(useEditor().document, selector);
}

export function useSelection<T>(selector: (state: SelectionState) => T): T {
  return useStore(useEditor().selection, selector);
}

export function useAnalysis<T>(selector: (state: AnalysisState) => T): T {
  return useStore(useEditor().analysis, selector);
}

export function useCatalog<T>(selector: (state: CatalogState) => T): T {
  return useStore(useEditor().catalog, selector);
}
