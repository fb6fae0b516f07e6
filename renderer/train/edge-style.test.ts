import { describe, expect, it } from 'vitest';
import {
  ACTIVATION_HI,
  ACTIVATION_LO,
  activationPosition,
  activationStyle,
  rms,
} from './edge-style.js';
import { sparklinePath } from './Sparkline.js';

const stats = (l2: number, count: number, nanCount = 0) => ({
  l2,
  mean: 0,
  min: 0,
  max: 0,
  nanCount,
  infCount: 0,
  count,
});

describe('the activation scale', () => {
  it('is the root mean square of the finite values', () => {
    expect(rms(stats(6, 4))).toBe(3);
    expect(rms(stats(6, 5, 1))).toBe(3);
    expect(rms(stats(0, 2, 2))).toBe(0);
  });

  it('places values on a clamped log scale, thicker as they grow', () => {
    expect(activationPosition(ACTIVATION_LO)).toBe(0);
    expect(activationPosition(ACTIVATION_HI)).toBe(1);
    expect(activationPosition(1)).toBeCloseTo(3 / 5, 12);
    expect(activationPosition(0)).toBe(0);
    expect(activationPosition(1e9)).toBe(1);
    expect(activationStyle(10).width).toBeGreaterThan(activationStyle(0.01).width);
    expect(activationStyle(10).colour).not.toBe(activationStyle(0.01).colour);
    expect(activationStyle(Infinity)).toEqual(activationStyle(ACTIVATION_HI));
  });
});

describe('the sparkline', () => {
  it('spans the width in steps and the height in log value', () => {
    const d = sparklinePath(
      [
        { step: 10, value: 1e-3 },
        { step: 20, value: 1e-1 },
        { step: 30, value: 1e-2 },
      ],
      104,
      24,
    );
    expect(d).toBe('2.0,22.0 52.0,2.0 102.0,12.0');
    expect(sparklinePath([], 104, 24)).toBe('');
  });
});
