/**
 * Data: seeded synthetic sets, datasets, batching, the IDX format, CSV tables and character
 * sequences (the public `data` namespace). Loaders that read files live in engine/node.
 */

export {
  spiral,
  moons,
  circles,
  xor,
  gaussians,
  sine,
  type ClassificationSet,
  type RegressionSet,
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
export {
  CsvError,
  CsvRecordParser,
  parseCsvRecords,
  type CsvErrorKind,
  type CsvSite,
  type CsvRecord,
  type CsvParseOptions,
} from './csv.js';
export {
  CsvTableBuilder,
  parseCsv,
  parseNumber,
  splitTable,
  tableRows,
  normalizationStats,
  type ColumnType,
  type CsvTask,
  type CsvColumn,
  type CsvTable,
  type CsvTableOptions,
  type Normalization,
  type NormalizationStats,
  type TableSplit,
  type TableSplitOptions,
  type TableSplits,
} from './csv-table.js';
export { CharVocab, charSequences, type CharSequences, type SequenceOptions } from './text.js';
