/**
 * React access to the autodiff teacher and the graph ⇄ code actions: `LearnProvider` puts the
 * app's `Teaching` (teaching.ts) and `GraphCode` (graph-code.ts) in context. `useTeaching`
 * reads the teacher's store through a narrow selector; without a provider (a canvas rendered
 * on its own, a test) it reads an idle store, so canvas nodes never need one.
 */

import { type ReactNode, createContext, useContext } from 'react';
import { useStore } from 'zustand';
import { type StoreApi, createStore } from 'zustand/vanilla';
import type { GraphCode } from './graph-code.js';
import { IDLE_TEACHING, type NodeMark, type Teaching, type TeachingState } from './teaching.js';

interface Learn {
  readonly teaching: Teaching;
  readonly code: GraphCode;
}

const LearnContext = createContext<Learn | null>(null);

const IDLE: StoreApi<TeachingState> = createStore<TeachingState>(() => IDLE_TEACHING);

export function LearnProvider({
  teaching,
  code,
  children,
}: Learn & { readonly children: ReactNode }) {
  return <LearnContext.Provider value={{ teaching, code }}>{children}</LearnContext.Provider>;
}

/** The teacher and the code actions, or null without a provider. */
export function useLearn(): Learn | null {
  return useContext(LearnContext);
}

export function useTeaching<T>(selector: (state: TeachingState) => T): T {
  const learn = useContext(LearnContext);
  return useStore(learn?.teaching.store ?? IDLE, selector);
}

/** How canvas node `viewId` is drawn while teaching (null when it is not marked). */
export function useTeachMark(viewId: string): NodeMark | null {
  return useTeaching((s) => s.marks.get(viewId) ?? null);
}

/** ‖∂L/∂value‖ of graph node `node` once the teacher has completed it, else undefined. */
export function useTeachGradNorm(node: string | null): number | undefined {
  return useTeaching((s) => (node === null ? undefined : s.gradNorms.get(node)));
}
