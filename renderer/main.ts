/**
 * Renderer entry: the same page runs in Electron (behind the preload's `window.wiregrad`) and
 * in a plain browser (web mode). It starts the engine worker, restores the autosaved document,
 * creates the editor and mounts the React app. `window.wiregradDebug` gives end-to-end tests a
 * read-only look at the document, so they can compare whole states without scraping the DOM.
 */

import '@xyflow/react/dist/style.css';
import './app/styles.css';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.js';
import { Files } from './app/files.js';
import { trainingDataKeeper, withoutDocumentData } from './files/data-entry.js';
import { startEngineWorker } from './engine/worker-client.js';
import { performHostCommand } from './files/host-commands.js';
import { createBrowserHost } from './host/browser-host.js';
import { createDesktopHost, desktopBridge } from './host/desktop.js';
import { Notebook } from './notebook/notebook.js';
import { type EditorDocument, parseDocument, serializeDocument } from './state/document.js';
import { createEditor } from './state/editor.js';
import { Training } from './state/training.js';

interface DebugView {
  /** The document as it would be saved. */
  documentText(): string;
  /** The document revision and the revision the last engine answer was for. */
  revisions(): { document: number; analysis: number };
}

declare global {
  interface Window {
    wiregradDebug?: DebugView;
  }
}

/** The page's localStorage, or null where it is refused (some privacy modes). */
function localStorageOrNull(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

function restore(text: string | null): EditorDocument | undefined {
  if (text === null) return undefined;
  try {
    // The data autosaved with the document (its meta.data) goes to the Data tab, not the graph.
    return withoutDocumentData(parseDocument(text));
  } catch (error) {
    console.warn('The autosaved document could not be restored:', error);
    return undefined;
  }
}

// In Electron the preload sets `window.wiregrad`; in a plain browser it is absent.
const bridge = desktopBridge();
const host = bridge ? createDesktopHost(bridge) : createBrowserHost();
const client = startEngineWorker();
const autosaved = host.loadAutosave();
const restored = restore(autosaved);
const editor = createEditor({ client, document: restored });
const training = new Training({ client, document: () => editor.doc });
const files = new Files(editor, host);
// The notebook's kernel runs in an engine worker of its own, so interrupting a cell (which
// terminates that worker) leaves the canvas's engine alone.
const notebook = new Notebook({
  startKernel: () => startEngineWorker(),
  storage: localStorageOrNull(),
});
files.attachNotebook(notebook);
files.attachWeights(training);
files.attachData(trainingDataKeeper(training));
// Another model on the canvas: the last one's training session stops, its views clear.
editor.onLoad(() => training.detach());
files.startAutosave();
// The weights autosaved with a restored document come back with it.
if (restored) void editor.whenReady().then(() => files.restoreAutosavedWeights());
if (restored && autosaved !== null) void files.restoreAutosavedData(autosaved);
host.onCommand?.((command) => performHostCommand(command, { editor, files }));
// Documents from main wait for the op catalog, so unknown ops open as placeholders.
host.onOpenFile?.((file) => void editor.whenReady().then(() => files.load(file)));
void editor
  .whenReady()
  .then(() => host.ready?.())
  .then((waiting) => {
    const last = waiting?.at(-1);
    if (last) files.load(last);
  });

window.wiregradDebug = {
  documentText: () => serializeDocument(editor.doc),
  revisions: () => ({
    document: editor.document.getState().revision,
    analysis: editor.analysis.getState().revision,
  }),
};

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  createElement(App, { editor, files, training, services: { client, host, notebook } }),
);
