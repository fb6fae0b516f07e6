/**
 * The card of a collapsed group: its name, how many nodes it folds and their parameter count,
 * one input handle per port fed from outside, and one line per port in and value out with the
 * shape there, all as the engine inferred them on the flat graph. The card is kept about as
 * short as an op card, so it does not cover the node below the members it replaces. A
 * double-click or the Open button shows the members again. Memoised, reading the analysis
 * through narrow selectors like OpNode.
 */

import { type Node, type NodeProps, Handle, Position } from '@xyflow/react';
import { memo, useMemo } from 'react';
import { useAnalysis, useEditor } from '../app/context.js';
import type { ViewNode } from '../state/view.js';
import { formatShape, groupFacts } from './format.js';
import { useProblems } from './OpNode.js';

export type CanvasGroupNode = Node<{ readonly view: ViewNode }, 'group-card'>;

/** Shape text of graph node `id` (null until the engine has answered). */
function useShape(id: string): string | null {
  return useAnalysis((a) => {
    const meta = a.check?.shapes[id];
    return meta ? formatShape(meta.shape) : null;
  });
}

function PortShape({ name, source }: { name: string; source: string }) {
  const shape = useShape(source);
  return (
    <div className="wg-group__row">
      <span className="wg-group__tag">in</span>
      <span className="wg-group__port">{name}</span>
      <span className="wg-group__shape">{source === '' ? 'not connected' : (shape ?? '?')}</span>
    </div>
  );
}

function OutputShape({ id }: { id: string }) {
  const shape = useShape(id);
  return (
    <div className="wg-group__row">
      <span className="wg-group__tag">out</span>
      <span className="wg-group__port">{id}</span>
      <span className="wg-group__shape" data-testid={`group-output-${id}`}>
        {shape ?? '?'}
      </span>
    </div>
  );
}

function GroupCard({ data, selected }: NodeProps<CanvasGroupNode>) {
  const { view } = data;
  const editor = useEditor();
  const all = useProblems(view.id);
  const problems = useMemo(() => all.filter((p) => p.severity === 'error'), [all]);
  const summary = view.group;
  const at = (i: number): string => `${((i + 1) / (view.ports.length + 1)) * 100}%`;
  const classes = ['wg-node', 'wg-group', 'tone-layer'];
  if (selected) classes.push('is-selected');
  if (problems.length > 0) classes.push('has-error');
  return (
    <div
      className={classes.join(' ')}
      data-testid={`node-${view.id}`}
      data-op="group"
      data-error={problems.length > 0 ? problems.map((p) => p.message).join('\n') : undefined}
    >
      {view.ports.map((port, i) => (
        <Handle
          key={`${port.node}:${port.index}`}
          type="target"
          position={Position.Top}
          id={`in-${i}`}
          style={{ left: at(i) }}
          className={`wg-handle ${port.source === '' ? 'is-open' : 'is-connected'}`}
        />
      ))}
      <div className="wg-node__header">
        <span className="wg-node__glyph" aria-hidden="true">
          ▣
        </span>
        <span className="wg-node__title">{view.title}</span>
        <button
          type="button"
          className="wg-group__open nodrag"
          data-testid={`group-open-${view.id}`}
          title="Show the nodes in this group (double-click)"
          onClick={(event) => {
            event.stopPropagation();
            editor.setGroupOpen(view.id, true);
          }}
        >
          Open
        </button>
      </div>
      <div className="wg-node__body">
        <div className="wg-group__facts" data-testid={`group-facts-${view.id}`}>
          {groupFacts(summary?.memberCount ?? 0, summary?.paramCount ?? 0)}
        </div>
        {view.ports.map((port) => (
          <PortShape key={`${port.node}:${port.index}`} name={port.name} source={port.source} />
        ))}
        {(summary?.outputs ?? [view.output]).map((id) => (
          <OutputShape key={id} id={id} />
        ))}
      </div>
      {problems.length > 0 && (
        <div className="wg-node__problem" title={problems.map((p) => p.message).join('\n')}>
          <div className="wg-node__problem-text">{problems.map((p) => p.message).join('\n')}</div>
        </div>
      )}
      <Handle
        type="source"
        position={Position.Bottom}
        id="out"
        className="wg-handle wg-handle--out"
      />
    </div>
  );
}

export const GroupNode = memo(GroupCard);
