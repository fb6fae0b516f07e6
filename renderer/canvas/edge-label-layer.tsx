/**
 * Where edge labels are drawn: React Flow's edge-label layer, looked up once per canvas and
 * handed to every edge through context. React Flow's own `EdgeLabelRenderer` finds the layer
 * with a store selector that runs `querySelector` in every edge on every store change, which
 * with a thousand edges made each frame of a pan cost hundreds of milliseconds.
 */

import { useStore } from '@xyflow/react';
import { type ReactNode, createContext, useContext, useEffect, useState } from 'react';
import { createPortal } from 'react-dom';

const LabelLayer = createContext<HTMLElement | null>(null);

/** Finds the label layer of the React Flow instance around it; wrap the canvas in it. */
export function EdgeLabelLayerProvider({ children }: { children: ReactNode }) {
  const domNode = useStore((s) => s.domNode);
  const [layer, setLayer] = useState<HTMLElement | null>(null);
  useEffect(() => {
    setLayer(domNode?.querySelector<HTMLElement>('.react-flow__edgelabel-renderer') ?? null);
  }, [domNode]);
  return <LabelLayer.Provider value={layer}>{children}</LabelLayer.Provider>;
}

/** Renders its children into the edge-label layer (as `EdgeLabelRenderer` does). */
export function EdgeLabelPortal({ children }: { children: ReactNode }) {
  const layer = useContext(LabelLayer);
  return layer ? createPortal(children, layer) : null;
}
