/**
 * Per-node device placement: the cost model, the placer, the executed plan with its transfer
 * nodes, the async runner and training of a placed graph. See each file's comment.
 */

export {
  CostModel,
  estimateOpCost,
  measureCostModel,
  type CostModelSpec,
  type DeviceCost,
  type LinkCost,
  type LinkName,
} from './cost-model.js';
export {
  applyPlacement,
  placeGraph,
  scheduleEarliestFinish,
  type Placement,
  type PlacementPolicy,
  type PlaceOptions,
  type PlacementSchedule,
} from './place.js';
export {
  planExecution,
  transferId,
  type PlacedOpStep,
  type PlacedPlan,
  type PlacedStep,
  type TransferNode,
} from './plan.js';
export { placeParameters, runPlan } from './run.js';
export { PlacedTrainer, type PlacedTrainingOptions } from './train.js';
