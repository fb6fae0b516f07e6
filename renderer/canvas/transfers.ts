/**
 * Transfer edges on the canvas: after a training step on a mixed placement, the engine reports
 * every forward edge whose ends ran on different devices, with the bytes it moves each step.
 * `useTransfer` finds the one a canvas edge draws (a layer's port is an input of one of its
 * ops), so the edge can be drawn dashed and labelled with the bytes.
 */

import type { TransferEdge } from '../../engine/protocol/messages.js';
import { useDocumentState } from '../app/context.js';
import { useTraining } from '../train/context.js';

/** The transfer along the canvas edge into port `port` of view node `target`, if any. */
export function useTransfer(target: string, port: number, sourceNode: string): TransferEdge | null {
  const input = useDocumentState((s) => {
    const p = s.view.byId.get(target)?.ports[port];
    return p ? `${p.node}\u0000${p.index}` : null;
  });
  return useTraining((t) => {
    if (input === null) return null;
    const [node, index] = input.split('\u0000');
    return (
      t.progress?.transfers?.find(
        (e) => e.from === sourceNode && e.to === node && e.port === Number(index),
      ) ?? null
    );
  });
}

/** Bytes for a label: `512 B`, `8.0 KB`, `1.2 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
