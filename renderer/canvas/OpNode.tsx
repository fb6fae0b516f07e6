/**
 * The card that draws one canvas node: an op, or a collapsed layer with its parameters. It shows
 * the title, the id, a typed input handle per port (named as the op's arguments), the output
 * shape the engine inferred (with N for the batch) on the output handle, and, when the engine
 * reported a problem, the message and any suggested fix. Once training has run it carries the
 * device its output was computed on (`data-device`), and it lights up while its ops are hovered
 * in the lanes timeline. Memoised; it reads the analysis
 * through narrow selectors, so an edit elsewhere does not re-render it.
 */

import { type Node, type NodeProps, Handle, Position } from '@xyflow/react';
import { memo, useMemo } from 'react';
import { useAnalysis, useDocumentState, useEditor } from '../app/context.js';
import { type NodeProblem, fixesFor } from '../state/diagnostics.js';
import { nodeById } from '../state/document.js';
import { useTraining } from '../train/context.js';
import { useTeachMark } from '../teach/context.js';
import type { ViewNode } from '../state/view.js';
import { attrSummary, formatShape } from './format.js';
import { TONE_GLYPHS } from './tones.js';

export type CanvasNodeData = { readonly view: ViewNode };
export type CanvasNode = Node<CanvasNodeData, 'op'>;

const NO_PROBLEMS: readonly NodeProblem[] = [];

/** The inferred output shape of graph node `id` as text, or null when it has none (yet). */
export function useShapeText(id: string): string | null {
  return useAnalysis((a) => {
    const meta = a.check?.shapes[id];
    return meta ? formatShape(meta.shape) : null;
  });
}

export function useProblems(viewId: string): readonly NodeProblem[] {
  return useAnalysis((a) => a.problems.get(viewId) ?? NO_PROBLEMS);
}

function ProblemBox({ view, problems }: { view: ViewNode; problems: readonly NodeProblem[] }) {
  const editor = useEditor();
  const doc = useDocumentState((s) => s.doc);
  const check = useAnalysis((a) => a.check);
  const fixes = useMemo(() => fixesFor(view, doc, check), [view, doc, check]);
  const text = problems.map((p) => p.message).join('\n');
  return (
    <div className="wg-node__problem" title={text}>
      <div className="wg-node__problem-text">{text}</div>
      {fixes.length > 0 && (
        <div className="wg-node__fixes">
          {fixes.map((fix) => (
            <button
              key={fix.label}
              type="button"
              className="wg-fix nodrag"
              data-testid={`fix-${view.id}`}
              onClick={(event) => {
                event.stopPropagation();
                editor.applyFix(fix);
              }}
            >
              {fix.label}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

function OpNodeCard({ data, selected }: NodeProps<CanvasNode>) {
  const { view } = data;
  const shape = useShapeText(view.output);
  const all = useProblems(view.id);
  const problems = useMemo(() => all.filter((p) => p.severity === 'error'), [all]);
  const summary = useDocumentState((s) => {
    if (view.kind === 'layer') return '';
    const node = nodeById(s.doc.graph.nodes, view.id);
    return node ? attrSummary(node) : '';
  });
  // Once training has run: the device the node's output was computed on (a layer's output op).
  const device = useTraining((t) => t.progress?.devices[view.output] ?? null);
  // A device the user pinned the node to (inspector → Run on), shown before training too.
  const pin = useDocumentState((s) => nodeById(s.doc.graph.nodes, view.output)?.device ?? null);
  const highlighted = useTraining((t) => t.highlight === view.id);
  // While the autodiff teacher runs: evaluated, differentiated or current, with the numbers.
  const teach = useTeachMark(view.id);
  const error = problems.length > 0;
  const portProblems = new Set(problems.flatMap((p) => (p.port !== undefined ? [p.port] : [])));
  // Inputs not connected yet: unfinished, not wrong, so only their handles say so.
  const missing = new Set(
    all.flatMap((p) => (p.severity === 'incomplete' && p.port !== undefined ? [p.port] : [])),
  );
  const classes = ['wg-node', `tone-${view.tone}`];
  if (selected) classes.push('is-selected');
  if (error) classes.push('has-error');
  if (highlighted) classes.push('is-highlighted');
  if (teach) classes.push(`is-teach-${teach.status}`);
  // Inputs spread along the top edge, the output in the middle of the bottom edge: data flows
  // down the canvas, as in Netron and TensorBoard, which keeps deep models readable.
  const at = (i: number): string => `${((i + 1) / (view.ports.length + 1)) * 100}%`;
  return (
    <div
      className={classes.join(' ')}
      data-testid={`node-${view.id}`}
      data-op={view.kind === 'layer' && view.title === 'Conv2d' ? 'conv2d' : view.op}
      data-error={error ? problems.map((p) => p.message).join('\n') : undefined}
      data-device={device ?? undefined}
    >
      {view.ports.map((port, i) => (
        <Handle
          key={`${port.node}:${port.index}`}
          type="target"
          position={Position.Top}
          id={`in-${i}`}
          style={{ left: at(i) }}
          className={[
            'wg-handle',
            port.source === '' ? 'is-open' : 'is-connected',
            port.optional ? 'is-optional' : '',
            portProblems.has(i) ? 'has-error' : '',
            missing.has(i) ? 'is-missing' : '',
          ].join(' ')}
        />
      ))}
      {/* A lone input called x needs no label; named or several inputs do. */}
      {(view.ports.length > 1 || (view.ports[0] && view.ports[0].name !== 'x')) && (
        <div className="wg-ports">
          {view.ports.map((port, i) => (
            <span
              key={`${port.node}:${port.index}`}
              className={[
                'wg-port',
                port.source === '' ? 'is-open' : '',
                portProblems.has(i) ? 'has-error' : '',
              ].join(' ')}
              style={{ left: at(i) }}
              title={port.optional && port.source === '' ? `${port.name} (optional)` : port.name}
            >
              {port.name}
            </span>
          ))}
        </div>
      )}
      <div className="wg-node__header">
        <span className="wg-node__glyph" aria-hidden="true">
          {TONE_GLYPHS[view.tone]}
        </span>
        <span className="wg-node__title">{view.title}</span>
        <span className="wg-node__id" title={view.id}>
          {view.id}
        </span>
        {(device ?? pin) !== null && (
          <span
            className={`wg-node__device${pin !== null ? ' is-pinned' : ''}`}
            data-testid={`device-${view.id}`}
            title={
              (device !== null ? `Ran on ${device} in the last training step` : '') +
              (pin !== null ? `${device !== null ? '; p' : 'P'}inned to ${pin}` : '')
            }
          >
            {pin !== null && (
              <span className="wg-node__pin" aria-hidden="true">
                ⌖{' '}
              </span>
            )}
            {device ?? pin}
          </span>
        )}
      </div>
      {(view.params.length > 0 || summary) && (
        <div className="wg-node__body">
          {view.params.map((param) => (
            <div key={param.id} className="wg-param">
              <span className="wg-param__name">{param.label}</span>
              <span className="wg-param__shape">{formatShape(param.shape)}</span>
            </div>
          ))}
          {summary && <div className="wg-node__summary">{summary}</div>}
        </div>
      )}
      {error && <ProblemBox view={view} problems={problems} />}
      {teach && (
        <div className="wg-node__teach" data-testid={`teach-mark-${view.id}`}>
          <span className="wg-node__teach-value" title={teach.value ?? ''}>
            = {teach.value}
          </span>
          {teach.grad !== null && (
            <span className="wg-node__teach-grad" title={teach.grad}>
              ∂L = {teach.grad}
            </span>
          )}
        </div>
      )}
      <div className="wg-node__out">
        <span
          className={shape ? 'wg-node__shape' : 'wg-node__shape is-unknown'}
          data-testid={`shape-${view.id}`}
        >
          {shape ?? '?'}
        </span>
      </div>
      <Handle
        type="source"
        position={Position.Bottom}
        id="out"
        className="wg-handle wg-handle--out"
      />
    </div>
  );
}

export const OpNode = memo(OpNodeCard);
