/**
 * The app shell: toolbar, palette, canvas, inspector (or the Train panel, in a tab beside it) and
 * status bar around one editor and its training session, and the
 * keyboard shortcuts (actions.ts). React Flow's provider wraps everything so the palette and
 * the toolbar can use the canvas's viewport (drop positions, fit view).
 */

import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { useEffect, useMemo, useState } from 'react';
import { Canvas } from '../canvas/Canvas.js';
import { Inspector } from '../inspector/Inspector.js';
import { Palette } from '../palette/Palette.js';
import type { Editor } from '../state/editor.js';
import type { Training } from '../state/training.js';
import { TrainingProvider } from '../train/context.js';
import { TrainPanel } from '../train/TrainPanel.js';
import { type ActionContext, handleShortcut } from './actions.js';
import { EditorProvider } from './context.js';
import type { Files } from './files.js';
import { StatusBar } from './StatusBar.js';
import { Toolbar } from './Toolbar.js';

const IS_MAC = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

type SideTab = 'inspector' | 'train';

/** The right-hand column: the inspector, or the Train panel, behind two tabs. */
function SidePanel({ training }: { training: Training }) {
  const [tab, setTab] = useState<SideTab>('inspector');
  return (
    <div className="wg-side">
      <div className="wg-side__tabs" role="tablist">
        {(['inspector', 'train'] as const).map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={tab === t}
            className={`wg-side__tab${tab === t ? ' is-active' : ''}`}
            data-testid={`tab-${t}`}
            onClick={() => setTab(t)}
          >
            {t === 'inspector' ? 'Inspector' : 'Train'}
          </button>
        ))}
      </div>
      {tab === 'inspector' ? (
        <Inspector />
      ) : (
        <aside className="wg-inspector" aria-label="Train">
          <TrainPanel training={training} />
        </aside>
      )}
    </div>
  );
}

function Shell({ editor, files, training }: { editor: Editor; files: Files; training: Training }) {
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
        <SidePanel training={training} />
      </div>
      <StatusBar files={files} />
    </div>
  );
}

export function App({
  editor,
  files,
  training,
}: {
  editor: Editor;
  files: Files;
  training: Training;
}) {
  return (
    <ReactFlowProvider>
      <EditorProvider editor={editor}>
        <TrainingProvider training={training}>
          <Shell editor={editor} files={files} training={training} />
        </TrainingProvider>
      </EditorProvider>
    </ReactFlowProvider>
  );
}
