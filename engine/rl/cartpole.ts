/**
 * CartPole: balance a pole hinged on a cart by pushing the cart left or right. The dynamics are
 * the classic ones of Barto, Sutton and Anderson, "Neuronlike adaptive elements that can solve
 * difficult learning control problems" (IEEE SMC 1983), with the constants, explicit Euler step
 * and limits of Gymnasium's CartPole-v1: gravity 9.8, cart 1.0 kg, pole 0.1 kg with half-length
 * 0.5 m, force ±10 N, dt 0.02 s; the episode ends when the pole leans past ±12° or the cart
 * leaves ±2.4 m, and is truncated after 500 steps. Reward 1 per step, the last one included.
 * Observation: [x, ẋ, θ, θ̇]; the start state is uniform in ±0.05 on each.
 */

import { HostRandom } from '../data/host-random.js';
import { checkAction, requireRunning, type Environment, type StepResult } from './environment.js';

export interface CartPoleOptions {
  /** Steps before an episode is truncated (default 500, as CartPole-v1). */
  readonly maxSteps?: number;
  /** Seed of the start states when reset() gets none (default 0). */
  readonly seed?: number;
}

const GRAVITY = 9.8;
const MASS_CART = 1.0;
const MASS_POLE = 0.1;
const TOTAL_MASS = MASS_CART + MASS_POLE;
/** Half the pole's length. */
const LENGTH = 0.5;
const POLE_MASS_LENGTH = MASS_POLE * LENGTH;
const FORCE = 10.0;
const TAU = 0.02;
export const CARTPOLE_ANGLE_LIMIT = (12 * 2 * Math.PI) / 360;
export const CARTPOLE_POSITION_LIMIT = 2.4;

export class CartPole implements Environment {
  readonly observationSize = 4;
  readonly actionCount = 2;
  readonly maxSteps: number;
  /** [x, ẋ, θ, θ̇] */
  state: [number, number, number, number] = [0, 0, 0, 0];
  /** Steps taken in this episode. */
  steps = 0;
  private random: HostRandom;
  private running = false;

  constructor(options: CartPoleOptions = {}) {
    this.maxSteps = options.maxSteps ?? 500;
    this.random = new HostRandom(options.seed ?? 0);
  }

  reset(seed?: number): readonly number[] {
    if (seed !== undefined) this.random = new HostRandom(seed);
    const r = this.random;
    this.state = [
      r.range(-0.05, 0.05),
      r.range(-0.05, 0.05),
      r.range(-0.05, 0.05),
      r.range(-0.05, 0.05),
    ];
    this.steps = 0;
    this.running = true;
    return [...this.state];
  }

  /** Action 1 pushes the cart right, 0 pushes it left. */
  step(action: number): StepResult {
    checkAction('CartPole', action, 2);
    requireRunning('CartPole', this.running);
    const [x, xDot, theta, thetaDot] = this.state;
    const force = action === 1 ? FORCE : -FORCE;
    const cos = Math.cos(theta);
    const sin = Math.sin(theta);
    const temp = (force + POLE_MASS_LENGTH * thetaDot * thetaDot * sin) / TOTAL_MASS;
    const thetaAcc =
      (GRAVITY * sin - cos * temp) / (LENGTH * (4 / 3 - (MASS_POLE * cos * cos) / TOTAL_MASS));
    const xAcc = temp - (POLE_MASS_LENGTH * thetaAcc * cos) / TOTAL_MASS;
    // Explicit Euler, positions from the old velocities (Gymnasium's default integrator).
    this.state = [
      x + TAU * xDot,
      xDot + TAU * xAcc,
      theta + TAU * thetaDot,
      thetaDot + TAU * thetaAcc,
    ];
    this.steps++;
    const [nx, , nTheta] = this.state;
    const done = Math.abs(nx) > CARTPOLE_POSITION_LIMIT || Math.abs(nTheta) > CARTPOLE_ANGLE_LIMIT;
    const truncated = !done && this.steps >= this.maxSteps;
    this.running = !done && !truncated;
    return { observation: [...this.state], reward: 1, done, truncated };
  }
}
