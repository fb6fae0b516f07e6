/**
 * REINFORCE with a learned baseline (Williams 1992; the baseline as in Sutton & Barto, "Reinforcement
 * Learning", 2nd ed., §13.4): a policy network maps observations to action logits, a value
 * network estimates the return from each state, and each update raises the log-probability
 * of the actions taken in proportion to their advantage, return minus baseline.
 *
 * Episodes run in batches: `episodesPerBatch` environments step together, so one forward pass
 * of the policy picks the actions of every running episode. Per batch the discounted returns
 * are standardised (mean 0, deviation 1: the batch mean is itself a baseline, and the scale
 * stays steady as episodes lengthen), the value network learns them by squared error, and the
 * loss is −mean(log π(a|s) · (G − V(s))) + ½·mean((V(s) − G)²) − β·entropy. A time-limit
 * truncation is treated as the episode's end (no bootstrapping), which at γ = 0.99 and 500
 * steps barely touches CartPole. Everything is seeded: the same options give the same run.
 */

import { WiregradError } from '../core/errors.js';
import { noGrad } from '../autograd/grad.js';
import { HostRandom } from '../data/host-random.js';
import { Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { Tanh } from '../nn/activation.js';
import { deriveSeed } from '../nn/init.js';
import * as ops from '../ops/index.js';
import { Adam } from '../optim/adam.js';
import { tidy } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';
import type { Environment } from './environment.js';

export interface SolveCriterion {
  /** The average return to reach … */
  readonly averageReturn: number;
  /** … over this many consecutive episodes. */
  readonly window: number;
}

export interface BatchStats {
  /** Episodes finished so far. */
  readonly episodes: number;
  readonly meanReturn: number;
  /** Average return of the last `window` episodes (of all so far when fewer). */
  readonly windowAverage: number;
  readonly loss: number;
}

export interface ReinforceOptions {
  /** Observations [b, obs] → logits [b, actions] (default: an MLP with one tanh layer). */
  readonly policy?: Module;
  /** Observations [b, obs] → values [b, 1] (default: an MLP); null: the batch mean only. */
  readonly value?: Module | null;
  /** Hidden units of the default networks (default 32). */
  readonly hidden?: number;
  /** Episodes per update, run side by side (default 8). */
  readonly episodesPerBatch?: number;
  /** Stop after this many episodes at the latest (default 2000). */
  readonly maxEpisodes?: number;
  /** Discount (default 0.99). */
  readonly gamma?: number;
  /** Adam's learning rate (default 0.01). */
  readonly lr?: number;
  /** Weight of the entropy bonus, which keeps exploring (default 0.01). */
  readonly entropyCoef?: number;
  /** Stop as soon as the criterion is met (default: CartPole's 195 over 100 episodes). */
  readonly solveAt?: SolveCriterion | null;
  readonly seed?: number;
  readonly onBatch?: (stats: BatchStats) => void;
}

export interface ReinforceResult {
  /** The return of every episode, in order. */
  readonly returns: number[];
  /** The number of episodes after which the criterion was first met, or null. */
  readonly solvedAt: number | null;
  readonly policy: Module;
  readonly value: Module | null;
}

/** One episode's steps: observations (flattened, observationSize per step), actions, rewards. */
export interface Episode {
  readonly observations: number[];
  readonly actions: number[];
  readonly rewards: number[];
}

function mlp(inputs: number, hidden: number, outputs: number, seed: number): Sequential {
  return new Sequential(
    new Linear(inputs, hidden, { seed: deriveSeed(seed, 0) }),
    new Tanh(),
    new Linear(hidden, outputs, { seed: deriveSeed(seed, 1) }),
  );
}

/** Index drawn from the probabilities probs[offset … offset + count). */
function sample(probs: ArrayLike<number>, offset: number, count: number, u: number): number {
  let acc = 0;
  for (let a = 0; a < count - 1; a++) {
    acc += probs[offset + a]!;
    if (u < acc) return a;
  }
  return count - 1;
}

function argmaxAt(values: ArrayLike<number>, offset: number, count: number): number {
  let best = 0;
  for (let a = 1; a < count; a++) if (values[offset + a]! > values[offset + best]!) best = a;
  return best;
}

/**
 * Runs one episode in each environment, side by side, choosing actions with `policy` (sampled
 * from its softmax, or its argmax when `greedy`); `seeds[i]` resets environment i.
 */
export function runEpisodes(
  envs: readonly Environment[],
  policy: Module,
  seeds: readonly number[],
  random: HostRandom,
  greedy = false,
): Episode[] {
  const size = envs[0]!.observationSize;
  const actions = envs[0]!.actionCount;
  const current = envs.map((env, i) => env.reset(seeds[i]));
  const episodes: Episode[] = envs.map(() => ({ observations: [], actions: [], rewards: [] }));
  let active = envs.map((_, i) => i);
  while (active.length > 0) {
    const batch = new Float32Array(active.length * size);
    active.forEach((i, k) => batch.set(current[i]!, k * size));
    const probs = noGrad(() =>
      tidy(() => {
        const logits = policy.forward(ops.tensor(batch, { shape: [active.length, size] }));
        return (greedy ? logits : ops.softmax(logits, 1)).dataSync();
      }),
    );
    const still: number[] = [];
    active.forEach((i, k) => {
      const a = greedy
        ? argmaxAt(probs, k * actions, actions)
        : sample(probs, k * actions, actions, random.uniform());
      const step = envs[i]!.step(a);
      const ep = episodes[i]!;
      ep.observations.push(...current[i]!);
      ep.actions.push(a);
      ep.rewards.push(step.reward);
      current[i] = step.observation;
      if (!step.done && !step.truncated) still.push(i);
    });
    active = still;
  }
  return episodes;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** Discounted returns-to-go G_t = r_t + γ·G_{t+1} of each step of each episode, concatenated. */
export function discountedReturns(
  rewards: readonly (readonly number[])[],
  gamma: number,
): Float32Array {
  const out = new Float32Array(sum(rewards.map((r) => r.length)));
  let end = 0;
  for (const r of rewards) {
    end += r.length;
    let g = 0;
    for (let t = r.length - 1; t >= 0; t--) {
      g = r[t]! + gamma * g;
      out[end - r.length + t] = g;
    }
  }
  return out;
}

/** Trains a policy on environments made by `makeEnv(i)` (one per parallel episode). */
export function reinforce(
  makeEnv: (index: number) => Environment,
  options: ReinforceOptions = {},
): ReinforceResult {
  const {
    hidden = 32,
    episodesPerBatch = 8,
    maxEpisodes = 2000,
    gamma = 0.99,
    lr = 0.01,
    entropyCoef = 0.01,
    seed = 0,
  } = options;
  const solveAt =
    options.solveAt === undefined ? { averageReturn: 195, window: 100 } : options.solveAt;
  if (!Number.isInteger(episodesPerBatch) || episodesPerBatch < 1)
    throw new WiregradError(`reinforce: episodesPerBatch must be a positive integer`);
  const envs = Array.from({ length: episodesPerBatch }, (_, i) => makeEnv(i));
  const { observationSize, actionCount } = envs[0]!;
  if (envs.some((e) => e.observationSize !== observationSize || e.actionCount !== actionCount))
    throw new WiregradError('reinforce: every environment must have the same spaces');
  const policy = options.policy ?? mlp(observationSize, hidden, actionCount, deriveSeed(seed, 1));
  const value =
    options.value === undefined
      ? mlp(observationSize, hidden, 1, deriveSeed(seed, 2))
      : options.value;
  const params = [...policy.parameters(), ...(value?.parameters() ?? [])];
  const optimizer = new Adam(params, { lr });
  const random = new HostRandom(deriveSeed(seed, 3));
  const returns: number[] = [];
  let solvedAt: number | null = null;

  // One gradient step on a batch of finished episodes; returns the loss.
  const update = (episodes: Episode[], size: number, count: number): number => {
    const g = discountedReturns(
      episodes.map((e) => e.rewards),
      gamma,
    );
    const n = g.length;
    const mean = g.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(g.reduce((a, b) => a + (b - mean) ** 2, 0) / n) + 1e-8;
    const target = g.map((v) => (v - mean) / std);
    return tidy(() => {
      const obs = ops.tensor(Float32Array.from(episodes.flatMap((e) => e.observations)), {
        shape: [n, size],
      });
      const taken = ops.tensor(Int32Array.from(episodes.flatMap((e) => e.actions)), {
        dtype: 'i32',
      });
      const returnsT = ops.tensor(target, { shape: [n] });
      const logp = ops.logSoftmax(policy.forward(obs), 1);
      const logpTaken = ops.sum(ops.mul(logp, ops.oneHot(taken, count)), 1);
      let advantage: Tensor = returnsT;
      let valueLoss: Tensor | null = null;
      if (value) {
        const v = ops.reshape(value.forward(obs), [n]);
        advantage = ops.sub(returnsT, ops.detach(v));
        const error = ops.sub(v, returnsT);
        valueLoss = ops.mean(ops.mul(error, error));
      }
      const entropy = ops.neg(ops.mean(ops.sum(ops.mul(ops.exp(logp), logp), 1)));
      let loss = ops.sub(
        ops.neg(ops.mean(ops.mul(logpTaken, advantage))),
        ops.mul(entropy, entropyCoef),
      );
      if (valueLoss) loss = ops.add(loss, ops.mul(valueLoss, 0.5));
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      return loss.item();
    });
  };

  while (returns.length < maxEpisodes && solvedAt === null) {
    const seeds = envs.map((_, i) => deriveSeed(seed, 1000 + returns.length + i));
    const episodes = runEpisodes(envs, policy, seeds, random);
    const loss = update(episodes, observationSize, actionCount);
    for (const ep of episodes) {
      returns.push(sum(ep.rewards));
      if (solveAt && solvedAt === null && returns.length >= solveAt.window) {
        const recent = returns.slice(-solveAt.window);
        if (sum(recent) / solveAt.window >= solveAt.averageReturn) solvedAt = returns.length;
      }
    }
    const window = returns.slice(-(solveAt?.window ?? 100));
    options.onBatch?.({
      episodes: returns.length,
      meanReturn: sum(episodes.map((e) => sum(e.rewards))) / episodes.length,
      windowAverage: sum(window) / window.length,
      loss,
    });
  }
  return { returns, solvedAt, policy, value };
}

export interface EvaluateOptions {
  readonly episodes?: number;
  /** Take the most likely action (default true) instead of sampling. */
  readonly greedy?: boolean;
  readonly seed?: number;
}

/** The returns of `episodes` episodes (default 100) of `policy`, run side by side. */
export function evaluatePolicy(
  makeEnv: (index: number) => Environment,
  policy: Module,
  options: EvaluateOptions = {},
): number[] {
  const { episodes = 100, greedy = true, seed = 12345 } = options;
  const envs = Array.from({ length: episodes }, (_, i) => makeEnv(i));
  const seeds = envs.map((_, i) => deriveSeed(seed, i));
  return runEpisodes(envs, policy, seeds, new HostRandom(seed), greedy).map((e) => sum(e.rewards));
}
