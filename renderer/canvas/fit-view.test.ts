import { describe, expect, it } from 'vitest';
import { FIT_OPTIONS, HOME_VIEWPORT, boundsOf, readableFit } from './fit-view.js';

const VIEW = { width: 1000, height: 800 };

/** Where flow point (x, y) appears on screen under `v`. */
function onScreen(v: { x: number; y: number; zoom: number }, x: number, y: number) {
  return { x: x * v.zoom + v.x, y: y * v.zoom + v.y };
}

describe('readableFit', () => {
  it('shows an empty model at zoom 1 from the origin', () => {
    expect(readableFit(null, VIEW)).toEqual(HOME_VIEWPORT);
    expect(readableFit(boundsOf([]), VIEW)).toEqual(HOME_VIEWPORT);
  });

  it('centres a model that fits, without blowing a small one up past maxZoom', () => {
    const v = readableFit({ x: 100, y: 50, width: 200, height: 100 }, VIEW);
    expect(v.zoom).toBe(FIT_OPTIONS.maxZoom);
    const centre = onScreen(v, 200, 100);
    expect(centre.x).toBeCloseTo(500);
    expect(centre.y).toBeCloseTo(400);
  });

  it('fits a model that is readable when fitted whole, keeping the margin', () => {
    const v = readableFit({ x: 0, y: 0, width: 1000, height: 600 }, VIEW);
    expect(v.zoom).toBeCloseTo(920 / 1000);
    expect(onScreen(v, 0, 0).x).toBeCloseTo(40);
    expect(onScreen(v, 1000, 0).x).toBeCloseTo(960);
    expect(onScreen(v, 0, 300).y).toBeCloseTo(400);
  });

  it('shows a tall model at the smallest readable zoom from its top, centred across', () => {
    const bounds = { x: -50, y: 20, width: 300, height: 3000 };
    const v = readableFit(bounds, VIEW);
    expect(v.zoom).toBe(FIT_OPTIONS.minZoom);
    // Its top edge sits at the margin; its middle column is centred.
    expect(onScreen(v, 0, 20).y).toBeCloseTo(FIT_OPTIONS.margin);
    expect(onScreen(v, 100, 0).x).toBeCloseTo(500);
    // The bottom is below the view: the user scrolls down to it.
    expect(onScreen(v, 0, 3020).y).toBeGreaterThan(VIEW.height);
  });

  it('anchors a wide model at its left edge', () => {
    const v = readableFit({ x: 10, y: 0, width: 4000, height: 200 }, VIEW);
    expect(v.zoom).toBe(FIT_OPTIONS.minZoom);
    expect(onScreen(v, 10, 0).x).toBeCloseTo(FIT_OPTIONS.margin);
    expect(onScreen(v, 0, 100).y).toBeCloseTo(400);
  });
});

describe('boundsOf', () => {
  it('is the smallest rectangle around every card', () => {
    expect(
      boundsOf([
        { x: 0, y: 10, width: 100, height: 50 },
        { x: -20, y: 100, width: 50, height: 80 },
      ]),
    ).toEqual({ x: -20, y: 10, width: 120, height: 170 });
  });
});
