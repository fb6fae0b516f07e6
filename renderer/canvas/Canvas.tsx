/**
 * The graph canvas (React Flow). React Flow holds the nodes' measured sizes and in-flight drag
 * positions; the document holds everything else. So the node list here is reconciled from the
 * editor's view and layout after every change, keeping what React Flow measured, and user
 * gestures become editor commands: a finished drag is one `moveNodes`, a new connection one
 * `connect` (refused when it would close a cycle), a drop from the palette or a pick in the
 * quick-insert box (double-click on the background) one `addNode`.
 */

import {
  type Connection,
  type EdgeChange,
  type IsValidConnection,
  type NodeChange,
  Background,
  BackgroundVariant,
  ControlButton,
  Controls,
  MiniMap,
  ReactFlow,
  applyNodeChanges,
  useReactFlow,
} from '@xyflow/react';
import {
  type DragEvent,
  type MouseEvent,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/shallow';
import { useDocumentState, useEditor, useSelection } from '../app/context.js';
import type { Point } from '../state/document.js';
import type { DocumentView } from '../state/view.js';
import { GroupFrames } from './GroupFrames.js';
import { type CanvasGroupNode, GroupNode } from './GroupNode.js';
import { EdgeLabelLayerProvider } from './edge-label-layer.js';
import { type CanvasNode as OpCanvasNode, OpNode } from './OpNode.js';
import { QuickInsert } from './QuickInsert.js';
import { type CanvasEdge, ShapeEdge } from './ShapeEdge.js';
import { boundsOf, readableFit } from './fit-view.js';
import { BOX_SELECT_KEY, MULTI_SELECT_KEYS } from './shortcuts.js';
import { ShortcutsHelp } from './ShortcutsHelp.js';
import { Toast } from './Toast.js';

/** A card on the canvas: an op or layer, or a collapsed group. */
type CanvasNode = OpCanvasNode | CanvasGroupNode;

/** Defined once at module scope, as React Flow requires (a new object re-mounts every node). */
const nodeTypes = { op: OpNode, 'group-card': GroupNode };
const edgeTypes = { shape: ShapeEdge };

/** The MIME type palette entries are dragged with. */
export const PALETTE_DRAG_TYPE = 'application/x-wiregrad-item';

/**
 * From this many cards on, only those in view are mounted (React Flow's
 * `onlyRenderVisibleElements`): a large model then pans and zooms at the cost of what is on
 * screen. Small models keep every card mounted, which keeps drags and hooks simplest.
 */
const VISIBLE_ONLY_FROM = 300;

/** Where a dropped node's top-left goes relative to the cursor (about its header's middle). */
const DROP_OFFSET = { x: 98, y: 24 };

/** The size assumed for a card React Flow has not measured (an op card's usual size). */
const CARD_SIZE = { width: 196, height: 90 };

function portOf(handle: string | null | undefined): number {
  const match = /^in-(\d+)$/.exec(handle ?? '');
  return match ? Number(match[1]) : -1;
}

function reconcile(
  previous: readonly CanvasNode[],
  view: DocumentView,
  layout: Readonly<Record<string, Point>>,
  selected: ReadonlySet<string>,
): CanvasNode[] {
  const old = new Map(previous.map((n) => [n.id, n]));
  return view.nodes.map((v, i) => {
    const prev = old.get(v.id);
    const stored = layout[v.id] ?? prev?.position ?? { x: 40 * i, y: 40 * i };
    const position = prev?.dragging ? prev.position : stored;
    const isSelected = selected.has(v.id);
    if (
      prev &&
      prev.data.view === v &&
      prev.selected === isSelected &&
      prev.position.x === position.x &&
      prev.position.y === position.y
    )
      return prev;
    const type = v.kind === 'group' ? ('group-card' as const) : ('op' as const);
    return { ...prev, id: v.id, type, position, data: { view: v }, selected: isSelected };
  });
}

export function Canvas() {
  const editor = useEditor();
  const flow = useReactFlow<CanvasNode, CanvasEdge>();
  const view = useDocumentState((s) => s.view);
  const layout = useDocumentState((s) => s.doc.layout);
  const selection = useSelection(useShallow((s) => ({ nodes: s.nodes, edges: s.edges })));
  const fitRequest = useStore(editor.ui, (s) => s.fitRequest);
  const [nodes, setNodes] = useState<CanvasNode[]>([]);
  const [quickInsert, setQuickInsert] = useState<{ screen: Point; flow: Point } | null>(null);
  const wrapper = useRef<HTMLDivElement>(null);
  // The fit request last done: a restored document is fitted on start (-1 differs from the
  // store's first request); an empty canvas keeps zoom 1, so the first node dropped stays where
  // it was dropped.
  const fitted = useRef(editor.view.nodes.length > 0 ? -1 : 0);

  const selectedNodes = useMemo(() => new Set(selection.nodes), [selection.nodes]);
  const selectedEdges = useMemo(() => new Set(selection.edges), [selection.edges]);

  useEffect(() => {
    setNodes((previous) => reconcile(previous, view, layout, selectedNodes));
  }, [view, layout, selectedNodes]);

  // Bumped when a hidden canvas (the Notebook view) is shown again, so a waiting fit runs.
  const [shownAgain, setShownAgain] = useState(0);

  // Show the model after a load, the fit button or Tidy up, once React Flow has measured the
  // new nodes (fit-view.ts). Not React Flow's own fitView: on an empty model that one waits for
  // the first node and then jumps the view away from where it was dropped. A hidden canvas
  // fits when it is shown.
  useEffect(() => {
    if (fitRequest === fitted.current || !wrapper.current) return;
    if (nodes.length !== view.nodes.length) return;
    const measured = new Map(nodes.map((n) => [n.id, n.measured]));
    const sizes = view.nodes.map((n) => measured.get(n.id));
    // Large models mount only the cards in view, so the others are never measured.
    const waiting = sizes.some((m) => !m?.width || !m.height);
    if (waiting && view.nodes.length < VISIBLE_ONLY_FROM) return;
    const element = wrapper.current;
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) {
      const observer = new ResizeObserver(() => {
        const now = element.getBoundingClientRect();
        if (now.width === 0 || now.height === 0) return;
        observer.disconnect();
        setShownAgain((n) => n + 1);
      });
      observer.observe(element);
      return () => observer.disconnect();
    }
    fitted.current = fitRequest;
    const cards = view.nodes.map((n, i) => ({
      ...(layout[n.id] ?? { x: 0, y: 0 }),
      width: sizes[i]?.width || CARD_SIZE.width,
      height: sizes[i]?.height || CARD_SIZE.height,
    }));
    // Not animated: a canvas hidden mid-move (Edit on canvas, then back to the notebook) would
    // finish the move in a view of no size, which computes NaN.
    void flow.setViewport(readableFit(boundsOf(cards), box));
  }, [fitRequest, nodes, view, layout, flow, shownAgain]);

  const edges = useMemo<CanvasEdge[]>(
    () =>
      view.edges.map((e) => ({
        id: e.id,
        source: e.source,
        target: e.target,
        sourceHandle: 'out',
        targetHandle: `in-${e.port}`,
        type: 'shape',
        data: { sourceNode: e.sourceNode, port: e.port },
        selected: selectedEdges.has(e.id),
      })),
    [view.edges, selectedEdges],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<CanvasNode>[]) => {
      const selects = changes.filter((c) => c.type === 'select');
      if (selects.length > 0) {
        const { nodes: current, edges: currentEdges } = editor.selection.getState();
        const next = new Set(current);
        for (const c of selects) {
          if (c.selected) next.add(c.id);
          else next.delete(c.id);
        }
        editor.select([...next], currentEdges);
      }
      const local = changes.filter((c) => c.type === 'position' || c.type === 'dimensions');
      if (local.length > 0) setNodes((ns) => applyNodeChanges(local, ns));
    },
    [editor],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange<CanvasEdge>[]) => {
      const selects = changes.filter((c) => c.type === 'select');
      if (selects.length === 0) return;
      const { nodes: currentNodes, edges: current } = editor.selection.getState();
      const next = new Set(current);
      for (const c of selects) {
        if (c.selected) next.add(c.id);
        else next.delete(c.id);
      }
      editor.select(currentNodes, [...next]);
    },
    [editor],
  );

  const onNodeDragStop = useCallback(
    (_event: unknown, _node: CanvasNode, dragged: CanvasNode[]) => {
      const positions: Record<string, Point> = {};
      for (const n of dragged)
        positions[n.id] = { x: Math.round(n.position.x), y: Math.round(n.position.y) };
      if (!editor.moveNodes(positions))
        // Nothing moved (a click): drop the transient drag state.
        setNodes((previous) => reconcile(previous, editor.view, editor.doc.layout, selectedNodes));
    },
    [editor, selectedNodes],
  );

  // A double-click on a collapsed group opens it.
  const onNodeDoubleClick = useCallback(
    (event: MouseEvent, node: CanvasNode) => {
      if (node.data.view.kind !== 'group') return;
      // Not also a double-click on the background (which opens the quick-insert box).
      event.stopPropagation();
      editor.setGroupOpen(node.id, true);
    },
    [editor],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      editor.connect(c.source, c.target, portOf(c.targetHandle));
    },
    [editor],
  );

  const isValidConnection = useCallback<IsValidConnection<CanvasEdge>>(
    (c) => editor.canConnect(c.source, c.target, portOf(c.targetHandle)),
    [editor],
  );

  const onDragOver = useCallback((event: DragEvent) => {
    if (!event.dataTransfer.types.includes(PALETTE_DRAG_TYPE)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
  }, []);

  const onDrop = useCallback(
    (event: DragEvent) => {
      const item = event.dataTransfer.getData(PALETTE_DRAG_TYPE);
      if (!item) return;
      event.preventDefault();
      const p = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      editor.addItem(item, {
        x: Math.round(p.x - DROP_OFFSET.x),
        y: Math.round(p.y - DROP_OFFSET.y),
      });
    },
    [editor, flow],
  );

  const onDoubleClick = useCallback(
    (event: MouseEvent) => {
      const target = event.target as HTMLElement;
      if (!target.closest('.react-flow__pane') || !wrapper.current) return;
      const box = wrapper.current.getBoundingClientRect();
      setQuickInsert({
        screen: { x: event.clientX - box.left, y: event.clientY - box.top },
        flow: flow.screenToFlowPosition({ x: event.clientX, y: event.clientY }),
      });
    },
    [flow],
  );

  return (
    <div
      className="wg-canvas"
      data-testid="canvas"
      ref={wrapper}
      onDragOver={onDragOver}
      onDrop={onDrop}
      onDoubleClick={onDoubleClick}
    >
      <EdgeLabelLayerProvider>
        <ReactFlow<CanvasNode, CanvasEdge>
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          edgeTypes={edgeTypes}
          onNodesChange={onNodesChange}
          onEdgesChange={onEdgesChange}
          onNodeDragStop={onNodeDragStop}
          onNodeDoubleClick={onNodeDoubleClick}
          onConnect={onConnect}
          isValidConnection={isValidConnection}
          colorMode="dark"
          onlyRenderVisibleElements={view.nodes.length >= VISIBLE_ONLY_FROM}
          minZoom={0.15}
          maxZoom={2}
          zoomOnDoubleClick={false}
          deleteKeyCode={null}
          selectionKeyCode={BOX_SELECT_KEY}
          multiSelectionKeyCode={[...MULTI_SELECT_KEYS]}
          connectionRadius={28}
          defaultEdgeOptions={{ type: 'shape' }}
        >
          <Background variant={BackgroundVariant.Dots} gap={22} size={1.4} color="#2b323d" />
          <MiniMap
            pannable
            zoomable
            className="wg-minimap"
            nodeBorderRadius={6}
            nodeColor={(n) => `var(--tone-${(n as CanvasNode).data.view.tone})`}
            maskColor="rgba(10, 12, 16, 0.72)"
          />
          <Controls className="wg-controls" showInteractive={false} showFitView={false}>
            <ControlButton
              className="react-flow__controls-fitview"
              data-testid="canvas-fit"
              title="Fit view (Shift+1)"
              aria-label="Fit view"
              onClick={() => editor.requestFit()}
            >
              {/* Four corners, as React Flow's own fit button draws them. */}
              <svg viewBox="0 0 32 32" aria-hidden="true">
                <path d="M2 11V4a2 2 0 0 1 2-2h7v4H6v5zM21 2h7a2 2 0 0 1 2 2v7h-4V6h-5zM30 21v7a2 2 0 0 1-2 2h-7v-4h5v-5zM11 30H4a2 2 0 0 1-2-2v-7h4v5h5z" />
              </svg>
            </ControlButton>
            <ControlButton
              data-testid="shortcuts-help-button"
              title="Keyboard shortcuts (F1)"
              aria-label="Keyboard shortcuts"
              onClick={() => editor.toggleShortcutsHelp()}
            >
              ?
            </ControlButton>
          </Controls>
          <GroupFrames />
        </ReactFlow>
      </EdgeLabelLayerProvider>
      {view.nodes.length === 0 && (
        <div className="wg-canvas__empty">
          <div className="wg-canvas__empty-title">An empty model</div>
          <div>Drag layers from the palette, double-click to search, or start from a template.</div>
        </div>
      )}
      {quickInsert && (
        <QuickInsert
          at={quickInsert.screen}
          onPick={(item) => {
            editor.addItem(item, {
              x: Math.round(quickInsert.flow.x - DROP_OFFSET.x),
              y: Math.round(quickInsert.flow.y - DROP_OFFSET.y),
            });
            setQuickInsert(null);
          }}
          onClose={() => setQuickInsert(null)}
        />
      )}
      <Toast />
      <ShortcutsHelp />
    </div>
  );
}
