/**
 * React access to the app's `Training` (state/training.ts): `TrainingProvider` puts it in
 * context and `useTraining` reads its store through a narrow selector. Without a provider (a
 * canvas rendered on its own) the hooks read an idle store, so the canvas never needs one.
 */

import { type ReactNode, createContext, useContext } from 'react';
import { useStore } from 'zustand';
import { type StoreApi, createStore } from 'zustand/vanilla';
import { type Training, type TrainingState, initialTrainingState } from '../state/training.js';

const TrainingContext = createContext<Training | null>(null);

const IDLE: StoreApi<TrainingState> = createStore<TrainingState>(initialTrainingState);

export function TrainingProvider({
  training,
  children,
}: {
  training: Training;
  children: ReactNode;
}) {
  return <TrainingContext.Provider value={training}>{children}</TrainingContext.Provider>;
}

export function useTrainingController(): Training | null {
  return useContext(TrainingContext);
}

export function useTraining<T>(selector: (state: TrainingState) => T): T {
  const training = useContext(TrainingContext);
  return useStore(training?.store ?? IDLE, selector);
}
