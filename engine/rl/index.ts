/**
 * Reinforcement learning (the public `rl` namespace): environments with a small reset/step
 * interface, CartPole and a grid world, and REINFORCE with a learned baseline.
 */

export { checkAction, requireRunning, type Environment, type StepResult } from './environment.js';
export {
  CartPole,
  CARTPOLE_ANGLE_LIMIT,
  CARTPOLE_POSITION_LIMIT,
  type CartPoleOptions,
} from './cartpole.js';
export { GridWorld, DEFAULT_GRID, type GridWorldOptions } from './gridworld.js';
export {
  reinforce,
  runEpisodes,
  evaluatePolicy,
  discountedReturns,
  type ReinforceOptions,
  type ReinforceResult,
  type BatchStats,
  type SolveCriterion,
  type EvaluateOptions,
  type Episode,
} from './reinforce.js';
