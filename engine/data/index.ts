/**
 * Data: seeded synthetic sets, datasets, batching and the IDX format (the public `data`
 * namespace). Loaders that read files live in engine/node.
 */

export {
  spiral,
  moons,
  circles,
  xor,
  gaussians,
  type ClassificationSet,
  type SyntheticOptions,
} from './synthetic.js';
export {
  TensorDataset,
  Subset,
  trainTestSplit,
  type Batch,
  type Dataset,
  type SplitOptions,
} from './dataset.js';
export { DataLoader, type DataLoaderOptions } from './loader.js';
export { HostRandom } from './host-random.js';
export {
  parseIdx,
  idxImagesToTensor,
  idxLabelsToTensor,
  type IdxArray,
  type IdxType,
} from './idx.js';
