/**
 * The app shell: toolbar, palette, canvas, inspector and status bar around one editor, and the
 * keyboard shortcuts (actions.ts). React Flow's provider wraps everything so the palette and
 * the toolbar can use the canvas's viewport (drop positions, fit view).
 */

import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { useEffect, useMemo } from 'react';
import { Canvas } from '../canvas/Canvas.js';
import { Inspector } from '../inspector/Inspector.js';
import { Palette } from '../palette/Palette.js';
import type { Editor } from '../state/editor.js';
import { type ActionContext, handleShortcut } from './actions.js';
import { EditorProvider } from './context.js';
import type { Files } from './files.js';
import { StatusBar } from './StatusBar.js';
import { Toolbar } from './Toolbar.js';

const IS_MAC = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

function Shell({ editor, files }: { editor: Editor; files: Files }) {
  const flow = useReactFlow();
  const ctx = useMemo<ActionContext>(
    () => ({
      editor,
      files,
      fitView: () => void flow.fitView({ padding: 0.15, maxZoom: 1.1, duration: 200 }),
    }),
    [editor, files, flow],
  );
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => void handleShortcut(event, ctx, IS_MAC);
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [ctx]);
  return (
    <div className="wg-app">
      <Toolbar ctx={ctx} />
      <div className="wg-main">
        <Palette />
        <Canvas />
        <Inspector />
      </div>
      <StatusBar files={files} />
    </div>
  );
}

export function App({ editor, files }: { editor: Editor; files: Files }) {
  return (
    <ReactFlowProvider>
      <EditorProvider editor={editor}>
        <Shell editor={editor} files={files} />
      </EditorProvider>
    </ReactFlowProvider>
  );
}
