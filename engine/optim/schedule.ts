/**
 * Learning-rate schedules, after torch.optim.lr_scheduler, in closed form: the rate at epoch e
 * is a pure function of e and the optimizer's initial rate, so a schedule can be restarted from
 * a saved epoch and plotted ahead of time (`lrAt`). Creating a schedule sets the rate for epoch
 * 0; each `step()` advances one epoch (or one iteration, if called per batch) and sets the
 * optimizer's `lr`.
 */

import { WiregradError } from '../core/errors.js';
import type { BaseOptions, Optimizer } from './optimizer.js';

export abstract class LRScheduler {
  readonly optimizer: Optimizer<BaseOptions>;
  /** The optimizer's learning rate when the schedule was created. */
  readonly baseLr: number;
  /** Epochs stepped so far. */
  lastEpoch = 0;

  constructor(optimizer: Optimizer<BaseOptions>) {
    this.optimizer = optimizer;
    this.baseLr = optimizer.lr;
  }

  /** The learning rate at `epoch`. */
  abstract lrAt(epoch: number): number;

  /** Sets the rate of the current epoch; subclasses call it at the end of their constructor. */
  protected start(): void {
    this.optimizer.lr = this.lrAt(this.lastEpoch);
  }

  /** Advances one epoch and returns the new learning rate. */
  step(): number {
    this.lastEpoch++;
    this.optimizer.lr = this.lrAt(this.lastEpoch);
    return this.optimizer.lr;
  }

  /** The rate the last `step()` (or the constructor) set. */
  get lastLr(): number {
    return this.lrAt(this.lastEpoch);
  }

  stateDict(): { lastEpoch: number } {
    return { lastEpoch: this.lastEpoch };
  }

  loadStateDict(state: { readonly lastEpoch: number }): void {
    this.lastEpoch = state.lastEpoch;
    this.optimizer.lr = this.lrAt(this.lastEpoch);
  }

  protected requirePositiveInteger(name: string, value: number): void {
    if (!Number.isInteger(value) || value <= 0)
      throw new WiregradError(
        `${this.constructor.name}: ${name} must be a positive integer, got ${value}`,
      );
  }
}

/** lr = baseLr · gamma^⌊epoch / stepSize⌋ (torch StepLR). */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(optimizer: Optimizer<BaseOptions>, options: { stepSize: number; gamma?: number }) {
    super(optimizer);
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
    this.requirePositiveInteger('stepSize', this.stepSize);
    this.start();
  }
  lrAt(epoch: number): number {
    return this.baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/**
 * lr = etaMin + (baseLr − etaMin)·(1 + cos(π·epoch / tMax)) / 2 (torch CosineAnnealingLR's
 * closed form, without restarts: past tMax the cosine continues).
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  constructor(optimizer: Optimizer<BaseOptions>, options: { tMax: number; etaMin?: number }) {
    super(optimizer);
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
    this.requirePositiveInteger('tMax', this.tMax);
    this.start();
  }
  lrAt(epoch: number): number {
    return (
      this.etaMin +
      ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2
    );
  }
}

/**
 * Linear warm-up: lr = baseLr · (startFactor + (1 − startFactor)·min(epoch, steps) / steps),
 * rising from baseLr·startFactor to baseLr over `steps` epochs, then constant (torch LinearLR
 * with end_factor 1).
 */
export class LinearWarmup extends LRScheduler {
  readonly steps: number;
  readonly startFactor: number;
  constructor(optimizer: Optimizer<BaseOptions>, options: { steps: number; startFactor?: number }) {
    super(optimizer);
    this.steps = options.steps;
    this.startFactor = options.startFactor ?? 1 / 3;
    this.requirePositiveInteger('steps', this.steps);
    if (!(this.startFactor > 0 && this.startFactor <= 1))
      throw new WiregradError(
        `LinearWarmup: startFactor must be in (0, 1], got ${this.startFactor}`,
      );
    this.start();
  }
  lrAt(epoch: number): number {
    const done = Math.min(epoch, this.steps) / this.steps;
    return this.baseLr * (this.startFactor + (1 - this.startFactor) * done);
  }
}
