/**
 * Reinforcement-learning environments: a small interface after Gymnasium's, with discrete
 * actions. `reset(seed?)` starts an episode and returns the first observation; `step(action)`
 * advances it and reports the reward and whether the episode ended: `done` when the task
 * itself ended it (the pole fell, the goal was reached), `truncated` when a time limit cut it
 * short (so a learner may bootstrap the value of the state it stopped in). Observations are
 * plain number arrays of a fixed length, so environments stay free of tensors.
 */

import { WiregradError } from '../core/errors.js';

export interface StepResult {
  readonly observation: readonly number[];
  readonly reward: number;
  /** The episode ended by the rules of the task (a terminal state). */
  readonly done: boolean;
  /** The episode was cut short by a time limit, in a state that is not terminal. */
  readonly truncated: boolean;
}

export interface Environment {
  /** Length of every observation. */
  readonly observationSize: number;
  /** Actions are 0 … actionCount − 1. */
  readonly actionCount: number;
  /** Starts an episode; with a seed, the episode's randomness restarts from it. */
  reset(seed?: number): readonly number[];
  step(action: number): StepResult;
}

/** Throws unless `action` is one of the environment's actions. */
export function checkAction(env: string, action: number, count: number): void {
  if (!Number.isInteger(action) || action < 0 || action >= count)
    throw new WiregradError(`${env}: action ${action} is not one of 0 … ${count - 1}`);
}

/** Throws when `step` is called outside an episode. */
export function requireRunning(env: string, running: boolean): void {
  if (!running)
    throw new WiregradError(
      `${env}: step() called after the episode ended (or before reset()); call reset() first`,
    );
}
