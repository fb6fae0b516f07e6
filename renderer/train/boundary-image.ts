/**
 * The decision boundary as pixels: each grid cell of the worker's `DecisionBoundary` painted
 * in its predicted class's colour over the background, stronger where the model is sure
 * (probability near 1) and fading to the background where it hesitates (near 1 / classes), so
 * the boundary shows as a dark seam. Also the mapping between the canvas and the data plane
 * the grid covers. Pure functions, no DOM.
 */

import type { DecisionBoundary } from '../../engine/protocol/messages.js';
import { classColour, rgbOf } from './class-colours.js';

/** The canvas background (styles.css's --bg-0). */
const BACKGROUND: readonly [number, number, number] = [13, 16, 20];
/** How much of the class colour shows where the model is unsure and where it is certain. */
const UNSURE = 0.12;
const SURE = 0.5;

/** RGBA pixels of the grid (size×size, row-major from the top left). */
export function boundaryPixels(boundary: DecisionBoundary): Uint8ClampedArray<ArrayBuffer> {
  const { size, classes, predicted, confidence } = boundary;
  const out = new Uint8ClampedArray(size * size * 4);
  const palette = Array.from({ length: Math.max(1, classes) }, (_, c) => rgbOf(classColour(c)));
  const chance = 1 / Math.max(1, classes);
  for (let i = 0; i < size * size; i++) {
    const colour = palette[predicted[i]!] ?? palette[0]!;
    const p = confidence[i]! / 255;
    const sure = chance < 1 ? Math.min(1, Math.max(0, (p - chance) / (1 - chance))) : 1;
    const a = UNSURE + (SURE - UNSURE) * sure;
    for (let k = 0; k < 3; k++) out[i * 4 + k] = BACKGROUND[k]! + (colour[k]! - BACKGROUND[k]!) * a;
    out[i * 4 + 3] = 255;
  }
  return out;
}

type Bounds = DecisionBoundary['bounds'];

/** The data-plane point under canvas pixel (px, py) of a width×height canvas. */
export function canvasToData(
  px: number,
  py: number,
  width: number,
  height: number,
  b: Bounds,
): { x: number; y: number } {
  return {
    x: b.xMin + (px / width) * (b.xMax - b.xMin),
    y: b.yMax - (py / height) * (b.yMax - b.yMin),
  };
}

/** Where data point (x, y) falls on a width×height canvas. */
export function dataToCanvas(
  x: number,
  y: number,
  width: number,
  height: number,
  b: Bounds,
): { px: number; py: number } {
  return {
    px: ((x - b.xMin) / (b.xMax - b.xMin)) * width,
    py: ((b.yMax - y) / (b.yMax - b.yMin)) * height,
  };
}
