import { describe, expect, it } from 'vitest';
import { DIGIT_SIDE, digitInput, intensities } from './digit-input.js';

/** A width×height black image with a white rectangle [x0, x1) × [y0, y1). */
function rect(
  width: number,
  height: number,
  x0: number,
  x1: number,
  y0: number,
  y1: number,
): Float32Array {
  const out = new Float32Array(width * height);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) out[y * width + x] = 1;
  return out;
}

function inkBox(img: Float32Array): { x0: number; x1: number; y0: number; y1: number } {
  let x0 = DIGIT_SIDE;
  let x1 = -1;
  let y0 = DIGIT_SIDE;
  let y1 = -1;
  for (let y = 0; y < DIGIT_SIDE; y++)
    for (let x = 0; x < DIGIT_SIDE; x++)
      if (img[y * DIGIT_SIDE + x]! > 0) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
  return { x0, x1, y0, y1 };
}

function centreOfMass(img: Float32Array): { x: number; y: number } {
  let m = 0;
  let x = 0;
  let y = 0;
  for (let r = 0; r < DIGIT_SIDE; r++)
    for (let c = 0; c < DIGIT_SIDE; c++) {
      const v = img[r * DIGIT_SIDE + c]!;
      m += v;
      x += v * (c + 0.5);
      y += v * (r + 0.5);
    }
  return { x: x / m, y: y / m };
}

describe('digit pad preprocessing', () => {
  it('returns null for an empty pad', () => {
    expect(digitInput(new Float32Array(200 * 200), 200, 200)).toBeNull();
  });

  it('scales a tall stroke to 20 pixels high, keeping its aspect ratio, centred by mass', () => {
    // A 20×160 bar in the top-left corner of a 280×280 pad: scale 1/8 → 3 (2.5) × 20.
    const img = digitInput(rect(280, 280, 10, 30, 5, 165), 280, 280)!;
    expect(img.length).toBe(DIGIT_SIDE * DIGIT_SIDE);
    const box = inkBox(img);
    expect(box.y1 - box.y0 + 1).toBe(20);
    expect(box.x1 - box.x0 + 1).toBeLessThanOrEqual(4);
    const c = centreOfMass(img);
    expect(Math.abs(c.x - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(c.y - 14)).toBeLessThanOrEqual(0.5);
    // Area averaging keeps the ink's total over the cell areas: 20×160 source pixels, cells of
    // (20 / 3) × (160 / 20) source pixels (the 2.5-pixel width rounds to 3), so 60.
    const total = img.reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo((20 * 160) / ((20 / 3) * 8), 3);
    expect(Math.max(...img)).toBeLessThanOrEqual(1);
  });

  it('moves a drawing off to one side back to the centre', () => {
    const left = digitInput(rect(100, 100, 0, 40, 0, 40), 100, 100)!;
    const right = digitInput(rect(100, 100, 60, 100, 60, 100), 100, 100)!;
    expect([...left]).toEqual([...right]);
    const box = inkBox(left);
    expect(box.x1 - box.x0 + 1).toBe(20);
    expect(box.y1 - box.y0 + 1).toBe(20);
    expect(box.x0).toBe(4);
    expect(box.y0).toBe(4);
  });

  it('enlarges a tiny drawing to the 20-pixel box', () => {
    const img = digitInput(rect(50, 50, 20, 25, 20, 30), 50, 50)!;
    const box = inkBox(img);
    expect(box.y1 - box.y0 + 1).toBe(20);
    expect(box.x1 - box.x0 + 1).toBe(10);
    expect(Math.min(...img.filter((v) => v > 0))).toBeCloseTo(1, 5);
  });

  it('gives finite values in 0..1 for boxes of every awkward size', () => {
    for (let w = 1; w <= 60; w += 7)
      for (let h = 1; h <= 200; h += 13) {
        const img = digitInput(rect(224, 224, 3, 3 + w, 5, 5 + h), 224, 224)!;
        expect(img.every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
      }
  });

  it('reads the red channel of RGBA pixels as 0..1', () => {
    const v = intensities([255, 0, 0, 255, 51, 51, 51, 255]);
    expect(v.length).toBe(2);
    expect(v[0]).toBe(1);
    expect(v[1]).toBeCloseTo(0.2, 6);
  });
});
