/**
 * Monaco's environment, set before any Monaco module loads (monaco-entry.ts imports this
 * first): where its workers are (built next to notebook-editor.js as editor.worker.js and
 * ts.worker.js) and the Trusted Types hook that keeps its styles working under the app's
 * Content Security Policy (monaco-csp.ts).
 */

import { createTrustedTypesPolicy, installMonacoStyleBridge } from './monaco-csp.js';

installMonacoStyleBridge();

self.MonacoEnvironment = {
  createTrustedTypesPolicy,
  getWorker(_moduleId: string, label: string): Worker {
    const name = label === 'typescript' || label === 'javascript' ? 'ts.worker' : 'editor.worker';
    return new Worker(new URL(`./${name}.js`, import.meta.url), { type: 'module', name: label });
  },
};
