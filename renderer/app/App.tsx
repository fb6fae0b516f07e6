/**
 * The app shell: toolbar, palette, canvas, inspector (or the Train panel, in a tab beside it) and
 * status bar around one editor and its training session, and the
 * keyboard shortcuts (actions.ts). React Flow's provider wraps everything so the palette and
 * the toolbar can use the canvas's viewport (drop positions, fit view).
 */

import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { useEffect, useMemo, useState } from 'react';
import type { EngineClient } from '../../engine/protocol/client.js';
import { Canvas } from '../canvas/Canvas.js';
import { listenForMenuCommands } from '../canvas/menu-commands.js';
import { DataPanel } from '../data/DataPanel.js';
import { ExportImport } from '../files/export-dialog.js';
import type { Host } from '../host/host.js';
import { Inspector } from '../inspector/Inspector.js';
import { canvasLink } from '../notebook/canvas-link.js';
import { NotebookProvider, useViewMode } from '../notebook/context.js';
import type { Notebook } from '../notebook/notebook.js';
import { NotebookView } from '../notebook/NotebookView.js';
import { Palette } from '../palette/Palette.js';
import type { Editor } from '../state/editor.js';
import type { Training } from '../state/training.js';
import { TrainingProvider } from '../train/context.js';
import { TrainPanel } from '../train/TrainPanel.js';
import { LearnProvider } from '../teach/context.js';
import { GraphCode } from '../teach/graph-code.js';
import { TeachPanel } from '../teach/TeachPanel.js';
import { Teaching } from '../teach/teaching.js';
import { type ActionContext, handleShortcut } from './actions.js';
import { EditorProvider } from './context.js';
import type { Files } from './files.js';
import { StatusBar } from './StatusBar.js';
import { Toolbar } from './Toolbar.js';

const HIDDEN = { display: 'none' } as const;

const IS_MAC = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

type SideTab = 'inspector' | 'train' | 'data' | 'learn';

const TAB_LABELS: Record<SideTab, string> = {
  inspector: 'Inspector',
  train: 'Train',
  data: 'Data',
  learn: 'Learn',
};

/** The right-hand column: the inspector, or the Train panel, behind two tabs. */
function SidePanel({ training, services }: { training: Training; services?: AppServices }) {
  const [tab, setTab] = useState<SideTab>('inspector');
  return (
    <div className="wg-side">
      <div className="wg-side__tabs" role="tablist">
        {(['inspector', 'train', 'data', 'learn'] as const).map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={tab === t}
            className={`wg-side__tab${tab === t ? ' is-active' : ''}`}
            data-testid={`tab-${t}`}
            onClick={() => setTab(t)}
          >
            {TAB_LABELS[t]}
          </button>
        ))}
      </div>
      {tab === 'inspector' ? (
        <Inspector />
      ) : tab === 'data' && services ? (
        <aside className="wg-inspector" aria-label="Data">
          <DataPanel client={services.client} training={training} />
        </aside>
      ) : tab === 'learn' ? (
        <aside className="wg-inspector" aria-label="Learn">
          <TeachPanel />
        </aside>
      ) : (
        <aside className="wg-inspector" aria-label="Train">
          <TrainPanel training={training} {...(services ? { host: services.host } : {})} />
        </aside>
      )}
    </div>
  );
}

function Shell({
  editor,
  files,
  training,
  services,
}: {
  editor: Editor;
  files: Files;
  training: Training;
  services?: AppServices;
}) {
  const flow = useReactFlow();
  const ctx = useMemo<ActionContext>(
    () => ({
      editor,
      files,
      fitView: () => editor.requestFit(),
      zoom: (direction) => void (direction === 'in' ? flow.zoomIn() : flow.zoomOut()),
      measuredSizes: () =>
        new Map(
          flow
            .getNodes()
            .flatMap((n) =>
              n.measured?.width && n.measured.height
                ? [[n.id, { width: n.measured.width, height: n.measured.height }] as const]
                : [],
            ),
        ),
      training,
    }),
    [editor, files, flow, training],
  );
  // The desktop menu's view, run and edit commands run the same actions as their keys.
  useEffect(() => listenForMenuCommands(ctx), [ctx]);
  const mode = useViewMode();
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => void handleShortcut(event, ctx, IS_MAC);
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [ctx]);
  return (
    <div className="wg-app">
      <Toolbar ctx={ctx} />
      {/* Hidden, not unmounted, while the notebook shows: the canvas keeps its viewport. */}
      <div className="wg-main" style={mode === 'notebook' ? HIDDEN : undefined}>
        <Palette />
        <Canvas />
        <SidePanel training={training} services={services} />
      </div>
      {mode === 'notebook' && <NotebookView />}
      <StatusBar files={files} />
      {services && (
        <ExportImport
          client={services.client}
          host={services.host}
          files={files}
          training={training}
        />
      )}
    </div>
  );
}

/** The engine client and host, for the parts that talk to them directly (export, import). */
export interface AppServices {
  readonly client: EngineClient;
  readonly host: Host;
  /** The notebook (cells, kernel); without it only the canvas shows. */
  readonly notebook?: Notebook;
}

export function App({
  editor,
  files,
  training,
  services,
}: {
  editor: Editor;
  files: Files;
  training: Training;
  services?: AppServices;
}) {
  const client = services?.client;
  // The autodiff teacher and graph ⇄ code need the engine client.
  const learn = useMemo(
    () =>
      client
        ? { teaching: new Teaching({ client, editor }), code: new GraphCode(client, editor) }
        : null,
    [client, editor],
  );
  useEffect(() => () => learn?.teaching.dispose(), [learn]);
  // The notebook's graph cells put their graphs on this canvas and read its document back.
  const notebook = services?.notebook;
  useEffect(() => {
    notebook?.attachCanvas(canvasLink(editor));
  }, [notebook, editor]);
  const canvasShell = (
    <Shell editor={editor} files={files} training={training} services={services} />
  );
  const shell = services?.notebook ? (
    <NotebookProvider notebook={services.notebook}>{canvasShell}</NotebookProvider>
  ) : (
    canvasShell
  );
  return (
    <ReactFlowProvider>
      <EditorProvider editor={editor}>
        <TrainingProvider training={training}>
          {learn ? (
            <LearnProvider teaching={learn.teaching} code={learn.code}>
              {shell}
            </LearnProvider>
          ) : (
            shell
          )}
        </TrainingProvider>
      </EditorProvider>
    </ReactFlowProvider>
  );
}
