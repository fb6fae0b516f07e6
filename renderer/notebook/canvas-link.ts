/**
 * The notebook's way to the canvas (`CanvasLink`): the canvas's document read as a graph file,
 * and another graph cell's graph put on the canvas. Showing a graph is a fresh start for the
 * canvas: its undo history is cleared, because an undo there would otherwise bring back the
 * graph of another cell into this one. Unknown ops open as placeholders, as when a file opens.
 */

import { replaceUnknownOps } from '../../engine/protocol/notebook.js';
import { documentFromFile, documentToFile } from '../state/document.js';
import type { Editor } from '../state/editor.js';
import type { CanvasLink } from './notebook.js';

export function canvasLink(editor: Editor): CanvasLink {
  return {
    current: () => documentToFile(editor.doc),
    show(graph, label) {
      const catalog = editor.catalog.getState();
      const read =
        catalog.loaded && catalog.error === null
          ? replaceUnknownOps(graph, (op) => catalog.byName.has(op)).graph
          : graph;
      editor.load(documentFromFile(read), label);
      editor.document.setState({ past: [], future: [] });
    },
    notify: (text) => editor.notify(text),
  };
}
