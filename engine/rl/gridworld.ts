/**
 * GridWorld: an agent walks a grid drawn as text, one row per string: 'S' the start, 'G' the
 * goal (reward +1, episode done), 'X' a pit (reward −1, done), '#' a wall, '.' a free cell.
 * Actions: 0 up, 1 right, 2 down, 3 left; a move into a wall or off the grid stays put. Each
 * other step costs `stepReward` (default −0.01), so shorter paths earn more. With `slip` > 0
 * the move goes in a random other direction with that probability (seeded). The observation
 * is a one-hot vector of the agent's cell (row-major), so a linear policy can learn a table.
 */

import { WiregradError } from '../core/errors.js';
import { HostRandom } from '../data/host-random.js';
import { checkAction, requireRunning, type Environment, type StepResult } from './environment.js';

export interface GridWorldOptions {
  /** Rows of the map (default: a 4×4 grid with a wall and a pit). */
  readonly map?: readonly string[];
  readonly stepReward?: number;
  /** Steps before an episode is truncated (default 100). */
  readonly maxSteps?: number;
  /** Probability that a move goes in a random other direction (default 0). */
  readonly slip?: number;
  readonly seed?: number;
}

export const DEFAULT_GRID = ['S...', '.#.X', '....', 'X..G'] as const;

const MOVES: readonly (readonly [number, number])[] = [
  [-1, 0],
  [0, 1],
  [1, 0],
  [0, -1],
];

export class GridWorld implements Environment {
  readonly rows: number;
  readonly cols: number;
  readonly observationSize: number;
  readonly actionCount = 4;
  readonly maxSteps: number;
  readonly map: readonly string[];
  /** The agent's cell. */
  row = 0;
  col = 0;
  steps = 0;
  private readonly start: readonly [number, number];
  private readonly stepReward: number;
  private readonly slip: number;
  private random: HostRandom;
  private running = false;

  constructor(options: GridWorldOptions = {}) {
    const map = options.map ?? DEFAULT_GRID;
    this.rows = map.length;
    this.cols = map[0]?.length ?? 0;
    if (this.rows === 0 || this.cols === 0 || map.some((r) => r.length !== this.cols))
      throw new WiregradError('GridWorld: the map must be non-empty rows of equal length');
    const bad = map.join('').match(/[^SGX#.]/);
    if (bad)
      throw new WiregradError(
        `GridWorld: unknown cell '${bad[0]}' in the map; use S, G, X, # and .`,
      );
    const starts = map.flatMap((r, i) =>
      [...r].flatMap((c, j) => (c === 'S' ? [[i, j] as const] : [])),
    );
    if (starts.length !== 1 || !map.some((r) => r.includes('G')))
      throw new WiregradError('GridWorld: the map needs exactly one S and at least one G');
    this.map = [...map];
    this.start = starts[0]!;
    this.observationSize = this.rows * this.cols;
    this.stepReward = options.stepReward ?? -0.01;
    this.maxSteps = options.maxSteps ?? 100;
    this.slip = options.slip ?? 0;
    this.random = new HostRandom(options.seed ?? 0);
  }

  private observe(): number[] {
    const o = new Array<number>(this.observationSize).fill(0);
    o[this.row * this.cols + this.col] = 1;
    return o;
  }

  reset(seed?: number): readonly number[] {
    if (seed !== undefined) this.random = new HostRandom(seed);
    [this.row, this.col] = this.start;
    this.steps = 0;
    this.running = true;
    return this.observe();
  }

  step(action: number): StepResult {
    checkAction('GridWorld', action, 4);
    requireRunning('GridWorld', this.running);
    let move = action;
    if (this.slip > 0 && this.random.uniform() < this.slip)
      move = (action + 1 + this.random.int(3)) % 4;
    const [dr, dc] = MOVES[move]!;
    const r = this.row + dr;
    const c = this.col + dc;
    if (r >= 0 && r < this.rows && c >= 0 && c < this.cols && this.map[r]![c] !== '#') {
      this.row = r;
      this.col = c;
    }
    this.steps++;
    const cell = this.map[this.row]![this.col]!;
    const done = cell === 'G' || cell === 'X';
    const reward = cell === 'G' ? 1 : cell === 'X' ? -1 : this.stepReward;
    const truncated = !done && this.steps >= this.maxSteps;
    this.running = !done && !truncated;
    return { observation: this.observe(), reward, done, truncated };
  }

  /** The map with the agent drawn as 'A'. */
  render(): string {
    return this.map
      .map((r, i) => (i === this.row ? r.slice(0, this.col) + 'A' + r.slice(this.col + 1) : r))
      .join('\n');
  }
}
