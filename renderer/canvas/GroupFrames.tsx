/**
 * A frame around the members of each open group, drawn in flow coordinates behind the cards,
 * with the group's name and buttons to collapse it again or dissolve it. The frame follows
 * the cards as React Flow has them (including a drag in progress and measured sizes).
 */

import { ViewportPortal, useNodes } from '@xyflow/react';
import { useMemo, useState } from 'react';
import { useDocumentState, useEditor } from '../app/context.js';
import { groupsOf } from '../state/groups.js';

/** Space between the cards and the frame; the header sits above the top one. */
const PAD = 18;
const HEADER = 30;

interface Frame {
  readonly id: string;
  readonly name: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The group's name; a click edits it (Enter or leaving the field renames, Escape cancels). */
function GroupName({ id, name }: { id: string; name: string }) {
  const editor = useEditor();
  const [editing, setEditing] = useState(false);
  if (!editing)
    return (
      <button
        type="button"
        className="wg-group-frame__name"
        data-testid={`group-name-${id}`}
        title="Rename the group"
        onClick={() => setEditing(true)}
      >
        {name}
      </button>
    );
  const commit = (value: string): void => {
    editor.run('renameGroup', { id, name: value });
    setEditing(false);
  };
  return (
    <input
      className="wg-group-frame__input"
      data-testid={`group-name-input-${id}`}
      aria-label="Group name"
      defaultValue={name}
      autoFocus
      onBlur={(event) => commit(event.currentTarget.value)}
      onKeyDown={(event) => {
        if (event.key === 'Enter') commit(event.currentTarget.value);
        else if (event.key === 'Escape') setEditing(false);
      }}
    />
  );
}

export function GroupFrames() {
  const editor = useEditor();
  const graphMeta = useDocumentState((s) => s.doc.graph.meta);
  const open = useMemo(
    () =>
      Object.entries(groupsOf({ graph: { ...editor.doc.graph, meta: graphMeta }, layout: {} }))
        .filter(([, g]) => !g.collapsed)
        .map(([id, g]) => ({ id, name: g.name, members: new Set(g.members) })),
    [editor, graphMeta],
  );
  const nodes = useNodes();
  const frames = useMemo<Frame[]>(() => {
    if (open.length === 0) return [];
    return open.flatMap((g) => {
      const cards = nodes.filter((n) => g.members.has(n.id));
      if (cards.length === 0) return [];
      const left = Math.min(...cards.map((n) => n.position.x));
      const top = Math.min(...cards.map((n) => n.position.y));
      const right = Math.max(...cards.map((n) => n.position.x + (n.measured?.width ?? 196)));
      const bottom = Math.max(...cards.map((n) => n.position.y + (n.measured?.height ?? 120)));
      return [
        {
          id: g.id,
          name: g.name,
          x: left - PAD,
          y: top - PAD - HEADER,
          width: right - left + 2 * PAD,
          height: bottom - top + 2 * PAD + HEADER,
        },
      ];
    });
  }, [open, nodes]);
  if (frames.length === 0) return null;
  return (
    <ViewportPortal>
      {frames.map((f) => (
        <div
          key={f.id}
          className="wg-group-frame"
          data-testid={`group-frame-${f.id}`}
          style={{ transform: `translate(${f.x}px, ${f.y}px)`, width: f.width, height: f.height }}
        >
          <div className="wg-group-frame__header">
            <GroupName id={f.id} name={f.name} />
            <button
              type="button"
              className="wg-group-frame__button"
              data-testid={`group-collapse-${f.id}`}
              onClick={() => editor.setGroupOpen(f.id, false)}
            >
              Collapse
            </button>
            <button
              type="button"
              className="wg-group-frame__button"
              data-testid={`group-ungroup-${f.id}`}
              onClick={() => editor.run('ungroup', { ids: [f.id] })}
            >
              Ungroup
            </button>
          </div>
        </div>
      ))}
    </ViewportPortal>
  );
}
