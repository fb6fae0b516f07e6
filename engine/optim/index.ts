/**
 * Optimizers and learning-rate schedules (the public `optim` namespace).
 */

export {
  Optimizer,
  type BaseOptions,
  type HyperValue,
  type OptimizerStateDict,
  type ParamState,
} from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { LRScheduler, StepLR, CosineAnnealingLR, LinearWarmup } from './schedule.js';
