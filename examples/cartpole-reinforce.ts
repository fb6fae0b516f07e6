/**
 * REINFORCE with a learned baseline on CartPole: 8 episodes at a time, a 32-unit policy and
 * value network, until the average return of 100 consecutive episodes reaches 195 (the classic
 * "solved" threshold). Prints progress, the episode count it took, and the greedy policy's
 * average return over 100 fresh episodes.
 *
 *   node --import tsx examples/cartpole-reinforce.ts [--seed 0]
 */

import * as wg from '../engine/index.js';

const { rl } = wg;
const i = process.argv.indexOf('--seed');
const seed = i > 0 ? Number(process.argv[i + 1]) : 0;

const t0 = performance.now();
let batches = 0;
const result = rl.reinforce(() => new rl.CartPole(), {
  seed,
  maxEpisodes: 2000,
  onBatch: (s) => {
    if (++batches % 5 === 0)
      console.log(
        `episodes ${String(s.episodes).padStart(4)}  batch mean return ` +
          `${s.meanReturn.toFixed(1).padStart(5)}  last-100 average ${s.windowAverage.toFixed(1)}`,
      );
  },
});
const seconds = (performance.now() - t0) / 1000;
if (result.solvedAt === null)
  console.log(`not solved in ${result.returns.length} episodes (${seconds.toFixed(1)} s)`);
else
  console.log(
    `solved: average return >= 195 over episodes ${result.solvedAt - 99}-${result.solvedAt} ` +
      `(${result.solvedAt} episodes, ${seconds.toFixed(1)} s)`,
  );
const evaluation = rl.evaluatePolicy(() => new rl.CartPole(), result.policy, { episodes: 100 });
const mean = evaluation.reduce((a, b) => a + b, 0) / evaluation.length;
console.log(
  `greedy policy on 100 new episodes: average return ${mean.toFixed(1)} ` +
    `(${evaluation.filter((r) => r === 500).length} reach the 500-step limit)`,
);
