import { describe, expect, it } from 'vitest';
import { expectClose } from '../../test/helpers/numeric.js';
import {
  CartPole,
  GridWorld,
  discountedReturns,
  evaluatePolicy,
  reinforce,
  type Environment,
} from './index.js';

/** Steps `env` with `choose(observation)` until the episode ends; returns steps and result. */
function play(env: Environment, choose: (o: readonly number[]) => number, seed?: number) {
  let o = env.reset(seed);
  let total = 0;
  for (let t = 1; ; t++) {
    const s = env.step(choose(o));
    total += s.reward;
    o = s.observation;
    if (s.done || s.truncated) return { steps: t, total, done: s.done, truncated: s.truncated };
  }
}

describe('CartPole', () => {
  it('follows the classic equations (one step from rest, worked by hand)', () => {
    const env = new CartPole();
    env.reset();
    env.state = [0, 0, 0, 0];
    // Pushing right: temp = 10/1.1, θ̈ = −temp / (0.5·(4/3 − 0.1/1.1)) = −14.634146,
    // ẍ = temp − 0.05·θ̈/1.1 = 9.756098; Euler with dt = 0.02.
    const s = env.step(1);
    expectClose(s.observation, [0, 0.19512195, 0, -0.29268293], { atol: 1e-7 });
    expect([s.reward, s.done, s.truncated]).toEqual([1, false, false]);
    // Second step: positions move by the previous velocities.
    expect(env.step(1).observation[0]).toBeCloseTo(0.02 * 0.19512195, 9);
  });

  it('starts within ±0.05, reproducibly per seed', () => {
    const a = new CartPole().reset(7);
    expect(a.every((v) => Math.abs(v) <= 0.05)).toBe(true);
    expect(new CartPole().reset(7)).toEqual(a);
    expect(new CartPole().reset(8)).not.toEqual(a);
  });

  it('ends when the pole passes 12° and truncates a balanced run at 500 steps', () => {
    const env = new CartPole();
    const pushRight = play(env, () => 1, 1);
    expect(pushRight.done).toBe(true);
    expect(Math.abs(env.state[2])).toBeGreaterThan((12 * Math.PI) / 180);
    expect(pushRight.steps).toBeLessThan(20);
    // A hand-made controller (push towards where the pole leans) balances it to the limit.
    const balanced = play(env, (o) => (o[2]! + 0.5 * o[3]! > 0 ? 1 : 0), 1);
    expect(balanced).toEqual({ steps: 500, total: 500, done: false, truncated: true });
    expect(() => env.step(0)).toThrow(/CartPole: step\(\) called after the episode ended/);
    env.reset();
    expect(() => env.step(2)).toThrow(/CartPole: action 2 is not one of 0 … 1/);
  });
});

describe('GridWorld', () => {
  it('moves, bumps into walls and edges, and rewards goal and pit', () => {
    const env = new GridWorld({ map: ['S.#', '.XG'], stepReward: -0.1 });
    expect(env.reset()).toEqual([1, 0, 0, 0, 0, 0]);
    expect(env.step(0).observation).toEqual([1, 0, 0, 0, 0, 0]); // off the grid: stays
    const right = env.step(1);
    expect([right.observation[1], right.reward, right.done]).toEqual([1, -0.1, false]);
    expect(env.step(1).observation[1]).toBe(1); // the wall: stays
    expect(env.render()).toBe('SA#\n.XG');
    expect(env.step(2)).toMatchObject({ reward: -1, done: true }); // the pit
    env.reset();
    expect(env.step(2)).toMatchObject({ reward: -0.1, done: false });
    expect(env.step(1)).toMatchObject({ reward: -1, done: true }); // into the pit from below
  });

  it('reaches the goal for +1 and truncates long episodes', () => {
    const env = new GridWorld({ map: ['S.G'], maxSteps: 5 });
    env.reset();
    env.step(1);
    expect(env.step(1)).toMatchObject({ reward: 1, done: true, truncated: false });
    const stuck = play(env, () => 3);
    expect([stuck.steps, stuck.truncated, stuck.done]).toEqual([5, true, false]);
    expect(() => new GridWorld({ map: ['S.?'] })).toThrow(/unknown cell '\?'/);
  });

  it('slips to another direction with the given probability, seeded', () => {
    const moves = (seed: number) => {
      const env = new GridWorld({ map: ['.....', '..S..', '....G'], slip: 0.5, seed });
      env.reset();
      return Array.from({ length: 20 }, () => {
        const s = env.step(0);
        if (s.done) env.reset();
        return `${env.row},${env.col}`;
      });
    };
    expect(moves(3)).toEqual(moves(3));
    expect(new Set(moves(3)).size).toBeGreaterThan(2);
  });
});

describe('REINFORCE with a baseline', () => {
  it('computes discounted returns-to-go per episode', () => {
    expectClose(discountedReturns([[1, 1, 1], [2]], 0.5), [1.75, 1.5, 1, 2]);
  });

  it('learns the shortest safe path of the default grid world', () => {
    const result = reinforce(() => new GridWorld(), {
      seed: 1,
      maxEpisodes: 600,
      solveAt: { averageReturn: 0.9, window: 50 },
      lr: 0.05,
    });
    expect(result.solvedAt).not.toBeNull();
    // S to G in 6 moves around the wall and the pits: 5 steps at −0.01, then +1.
    const returns = evaluatePolicy(() => new GridWorld(), result.policy, { episodes: 5 });
    for (const r of returns) expect(r).toBeCloseTo(0.95, 6);
  }, 60_000);

  it('solves CartPole (average return >= 195 over 100 consecutive episodes) within 1000 episodes', () => {
    const t0 = performance.now();
    const result = reinforce(() => new CartPole(), { seed: 0, maxEpisodes: 1000 });
    // Seed 0 reaches the goal after 322 episodes (seeds 0-9: 236 to 457).
    expect(result.solvedAt).not.toBeNull();
    expect(result.solvedAt!).toBeLessThanOrEqual(1000);
    const window = result.returns.slice(result.solvedAt! - 100, result.solvedAt!);
    expect(window.reduce((a, b) => a + b, 0) / 100).toBeGreaterThanOrEqual(195);
    // The trained policy, acting greedily on 100 new episodes, keeps the average.
    const evaluation = evaluatePolicy(() => new CartPole(), result.policy, { episodes: 100 });
    expect(evaluation.reduce((a, b) => a + b, 0) / 100).toBeGreaterThanOrEqual(195);
    expect(performance.now() - t0).toBeLessThan(60_000);
  }, 120_000);
});
