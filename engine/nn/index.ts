/**
 * Neural-network layers, parameter initialisation and the safetensors weight format (the
 * public `nn` namespace).
 */

export { Module, type LoadStateDictOptions, type LoadStateDictResult } from './module.js';
export { Linear, Embedding, type LinearOptions, type EmbeddingOptions } from './linear.js';
export {
  Conv2d,
  MaxPool2d,
  AvgPool2d,
  type Conv2dLayerOptions,
  type Pool2dLayerOptions,
} from './conv.js';
export {
  BatchNorm1d,
  BatchNorm2d,
  LayerNorm,
  type BatchNormLayerOptions,
  type LayerNormLayerOptions,
} from './normalization.js';
export { Dropout } from './dropout.js';
export {
  ReLU,
  LeakyReLU,
  Tanh,
  Sigmoid,
  GELU,
  Softmax,
  LogSoftmax,
  Flatten,
} from './activation.js';
export { Sequential } from './sequential.js';
export * as init from './init.js';
export {
  saveSafetensors,
  saveSafetensorsAsync,
  loadSafetensors,
  readSafetensorsHeader,
  safetensorsMetadata,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from './safetensors.js';
