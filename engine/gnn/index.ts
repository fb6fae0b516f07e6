/**
 * Graph neural networks (the public `gnn` namespace): graph data as node features plus an edge
 * list, sparse message passing built on gather/scatterAdd, the GCN, GraphSAGE (mean) and GAT
 * layers, semi-supervised node classification, and Zachary's karate club.
 */

export {
  GraphData,
  edgeIndexFrom,
  checkEdgeIndex,
  type GraphDataInit,
  type EdgeIndexOptions,
} from './graph-data.js';
export {
  edgeEnds,
  scatterSum,
  scatterMean,
  degree,
  propagate,
  segmentSoftmax,
  addSelfLoops,
  gcnNorm,
  type PropagateOptions,
  type GcnNormOptions,
} from './message-passing.js';
export {
  GCNConv,
  SAGEConv,
  GATConv,
  type GCNConvOptions,
  type SAGEConvOptions,
  type GATConvOptions,
  type GATOutput,
} from './layers.js';
export {
  trainNodeClassifier,
  nodeAccuracy,
  TwoLayerGCN,
  type GraphModel,
  type NodeTrainingOptions,
  type TwoLayerGCNOptions,
} from './node-classification.js';
export { karateClub, KARATE_EDGES, KARATE_FACTIONS, KARATE_FACTION_NAMES } from './karate.js';
