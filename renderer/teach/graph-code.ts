/**
 * Graph ⇄ code for the app: `exportCode` asks the engine worker for the TypeScript that rebuilds
 * the current document with GraphBuilder (engine/export/typescript.ts), and `openCode` asks it to
 * read such code back (engine/export/typescript-import.ts, which reads without running anything,
 * as the page's security policy requires) and opens the graph on the canvas as one undoable
 * edit, laid out. Errors come back as words for the dialog, naming the line where there is one.
 */

import type { EngineClient } from '../../engine/protocol/client.js';
import type { EditorDocument } from '../state/document.js';
import type { Editor } from '../state/editor.js';

export type CodeResult =
  { readonly ok: true; readonly code: string } | { readonly ok: false; readonly error: string };

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n')[0] ?? text).replace(/^engine: /, '').replace(/^\w*Error: /, '');
}

/** A file name for the exported module, from the model's name. */
export function moduleName(doc: EditorDocument): string {
  const stem = (doc.graph.name ?? 'model')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `${stem || 'model'}.ts`;
}

export class GraphCode {
  constructor(
    private readonly client: EngineClient,
    private readonly editor: Editor,
  ) {}

  /** The TypeScript that rebuilds the current document. */
  async exportCode(): Promise<CodeResult> {
    const doc = this.editor.doc;
    if (doc.graph.nodes.length === 0)
      return { ok: false, error: 'The canvas is empty: there is no graph to export yet.' };
    try {
      const { files } = await this.client.exportGraph(doc.graph, 'typescript');
      const file = files.find((f) => f.name.endsWith('.ts')) ?? files[0];
      if (!file || typeof file.contents !== 'string')
        return { ok: false, error: 'The TypeScript export produced no file.' };
      return { ok: true, code: file.contents };
    } catch (error) {
      return { ok: false, error: messageOf(error) };
    }
  }

  /** Reads GraphBuilder code and opens its graph on the canvas; null on success, else why not. */
  async openCode(code: string): Promise<string | null> {
    if (code.trim() === '') return 'Paste TypeScript that builds a graph with GraphBuilder first.';
    try {
      const graph = await this.client.graphFromCode(code);
      this.editor.load({ graph, layout: {} }, 'Open code as graph');
      return null;
    } catch (error) {
      return messageOf(error);
    }
  }
}
