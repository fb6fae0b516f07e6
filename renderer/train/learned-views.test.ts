import { describe, expect, it } from 'vitest';
import type { ConfusionMatrix, DecisionBoundary } from '../../engine/protocol/messages.js';
import { boundaryPixels, canvasToData, dataToCanvas } from './boundary-image.js';
import { classColour, rgbOf } from './class-colours.js';
import { confusionAccuracy, confusionCells } from './confusion-cells.js';

function boundary(predicted: number[], confidence: number[], classes = 2): DecisionBoundary {
  const size = Math.sqrt(predicted.length);
  return {
    step: 0,
    version: 1,
    bounds: { xMin: -2, xMax: 2, yMin: -1, yMax: 3 },
    size,
    classes,
    predicted: Uint8Array.from(predicted),
    confidence: Uint8Array.from(confidence),
    points: new Float32Array(0),
    labels: new Uint8Array(0),
  };
}

describe('decision boundary pixels', () => {
  it('paints each cell in its class colour, stronger where the model is sure', () => {
    const px = boundaryPixels(boundary([0, 1, 1, 0], [255, 255, 128, 140]));
    const [r0, g0, b0] = rgbOf(classColour(0));
    const [, , b1] = rgbOf(classColour(1));
    // Certain cells lean towards their class colour; the channel order follows the colour.
    expect(px[0]! > px[2]!).toBe(r0 > b0);
    expect(px[1]! > px[2]!).toBe(g0 > b0);
    // A certain cell goes well over a third of the way from the background to its colour.
    expect(px[4 * 1 + 2]! - 20).toBeGreaterThan(0.4 * (b1 - 20));
    // An unsure cell (p = 0.5 of 2 classes) is closer to the background than a sure one.
    const dist = (i: number): number => Math.abs(px[4 * i]! - 13) + Math.abs(px[4 * i + 2]! - 20);
    expect(dist(2)).toBeLessThan(dist(1) / 2);
    expect(px[3]).toBe(255);
  });

  it('maps canvas pixels to the data plane and back', () => {
    const b = boundary([0], [0]).bounds;
    expect(canvasToData(0, 0, 200, 200, b)).toEqual({ x: -2, y: 3 });
    expect(canvasToData(100, 200, 200, 200, b)).toEqual({ x: 0, y: -1 });
    const p = dataToCanvas(1, 0, 200, 200, b);
    expect(p.px).toBeCloseTo(150, 9);
    expect(p.py).toBeCloseTo(150, 9);
  });
});

describe('confusion cells', () => {
  const m: ConfusionMatrix = {
    step: 3,
    version: 3,
    classes: 3,
    counts: [8, 2, 0, 0, 0, 0, 1, 1, 2],
    total: 14,
  };

  it('gives each count its share of the true class, and 0 for an empty row', () => {
    const cells = confusionCells(m);
    expect(cells).toHaveLength(9);
    expect(cells[1]).toEqual({ row: 0, col: 1, count: 2, share: 0.2 });
    expect(cells[4]!.share).toBe(0);
    expect(cells[8]).toEqual({ row: 2, col: 2, count: 2, share: 0.5 });
    expect(cells.reduce((a, c) => a + c.count, 0)).toBe(m.total);
  });

  it('reads the accuracy off the diagonal', () => {
    expect(confusionAccuracy(m)).toBeCloseTo(10 / 14, 12);
  });
});
