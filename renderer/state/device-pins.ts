/**
 * Pinning nodes to a device from the canvas: `setDevice` writes a graph node's `device` field
 * (the document's pin, which placement honours over the Train panel's policy), or removes it
 * for 'auto'. A collapsed layer is pinned as a whole: its parameters and ops together, so its
 * weights live where it runs. Documents without pins are unchanged, so older files load as
 * before.
 */

import type { CommandResult } from './commands.js';
import type { EditorDocument, NodeJSON } from './document.js';
import { mapNodes } from './graph-edit.js';

/** What the "Run on" choice offers: 'auto' leaves the node to the policy. */
export type DeviceChoice = 'auto' | 'cpu' | 'webgpu';

export const DEVICE_CHOICES: readonly DeviceChoice[] = ['auto', 'cpu', 'webgpu'];

/** The pin shared by `ids` (their devices, 'auto' where unpinned), or null when they differ. */
export function devicePinOf(doc: EditorDocument, ids: readonly string[]): DeviceChoice | null {
  const wanted = new Set(ids);
  const choices = new Set<DeviceChoice>(
    doc.graph.nodes.filter((n) => wanted.has(n.id)).map((n) => n.device ?? 'auto'),
  );
  return choices.size === 1 ? [...choices][0]! : null;
}

/** Pins graph nodes `nodes` to `device`, or unpins them ('auto'). */
export function setDevice(
  doc: EditorDocument,
  args: {
    readonly nodes: readonly string[];
    readonly device: DeviceChoice;
    readonly label: string;
  },
): CommandResult | null {
  const wanted = new Set(args.nodes);
  const next = mapNodes(doc, (n): NodeJSON => {
    if (!wanted.has(n.id) || (n.device ?? 'auto') === args.device) return n;
    if (args.device !== 'auto') return { ...n, device: args.device };
    const { device: _old, ...rest } = n;
    return rest;
  });
  if (next === doc) return null;
  return {
    doc: next,
    label: args.device === 'auto' ? `Unpin ${args.label}` : `Run ${args.label} on ${args.device}`,
  };
}
