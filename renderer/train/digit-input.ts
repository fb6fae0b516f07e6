/**
 * Turns a drawing on the digit pad into what an MNIST model expects, the way MNIST itself was
 * made (LeCun et al.): the ink's bounding box is scaled, keeping its aspect ratio, to fit a
 * 20×20 box (area averaging, so thin strokes keep their weight), then placed in a 28×28 image
 * so that its centre of mass sits at the centre. Ink is white on black, values 0..1. Pure.
 */

export const DIGIT_SIDE = 28;
const BOX = 20;
/** Pixels fainter than this are not ink when finding the bounding box. */
const INK = 0.05;

/**
 * Resamples `n` source cells onto `m` target cells by area: weights[t] lists (source, overlap)
 * pairs whose overlaps sum to 1 (an average), for source span [from, from + length).
 */
function areaWeights(from: number, length: number, m: number): [number, number][][] {
  const scale = length / m;
  const weights: [number, number][][] = [];
  for (let t = 0; t < m; t++) {
    const lo = from + t * scale;
    const hi = lo + scale;
    const row: [number, number][] = [];
    // Rounding can push `hi` a hair past the span's end: never read a cell outside it.
    const end = Math.min(Math.ceil(hi), from + length);
    for (let s = Math.max(Math.floor(lo), from); s < end; s++) {
      const overlap = Math.min(hi, s + 1) - Math.max(lo, s);
      if (overlap > 0) row.push([s, overlap / scale]);
    }
    weights.push(row);
  }
  return weights;
}

/**
 * The 28×28 model input (row-major, 0..1) for a width×height drawing whose intensities (0..1,
 * ink bright) are row-major in `pixels`, or null when nothing is drawn.
 */
export function digitInput(
  pixels: ArrayLike<number>,
  width: number,
  height: number,
): Float32Array | null {
  let x0 = width;
  let x1 = -1;
  let y0 = height;
  let y1 = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (pixels[y * width + x]! > INK) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  // The larger side becomes 20 pixels; the other keeps the aspect ratio (at least 1 pixel).
  const scale = BOX / Math.max(w, h);
  const tw = Math.max(1, Math.round(w * scale));
  const th = Math.max(1, Math.round(h * scale));
  const wx = areaWeights(x0, w, tw);
  const wy = areaWeights(y0, h, th);
  // Rows first, then columns (area averaging is separable).
  const rows = new Float32Array(h * tw);
  for (let y = 0; y < h; y++)
    for (let t = 0; t < tw; t++) {
      let v = 0;
      for (const [s, k] of wx[t]!) v += pixels[(y0 + y) * width + s]! * k;
      rows[y * tw + t] = v;
    }
  const box = new Float32Array(th * tw);
  for (let t = 0; t < th; t++)
    for (let x = 0; x < tw; x++) {
      let v = 0;
      for (const [s, k] of wy[t]!) v += rows[(s - y0) * tw + x]! * k;
      box[t * tw + x] = Math.min(1, Math.max(0, v));
    }
  // Centre of mass of the scaled ink, then the offset that puts it at (14, 14).
  let mass = 0;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < th; y++)
    for (let x = 0; x < tw; x++) {
      const v = box[y * tw + x]!;
      mass += v;
      cx += v * (x + 0.5);
      cy += v * (y + 0.5);
    }
  const ox = Math.round(DIGIT_SIDE / 2 - (mass > 0 ? cx / mass : tw / 2));
  const oy = Math.round(DIGIT_SIDE / 2 - (mass > 0 ? cy / mass : th / 2));
  const out = new Float32Array(DIGIT_SIDE * DIGIT_SIDE);
  for (let y = 0; y < th; y++)
    for (let x = 0; x < tw; x++) {
      const X = x + ox;
      const Y = y + oy;
      if (X >= 0 && X < DIGIT_SIDE && Y >= 0 && Y < DIGIT_SIDE)
        out[Y * DIGIT_SIDE + X] = box[y * tw + x]!;
    }
  return out;
}

/** The red channel of RGBA pixels (the pad draws white on black), as 0..1. */
export function intensities(rgba: ArrayLike<number>): Float32Array {
  const out = new Float32Array(Math.floor(rgba.length / 4));
  for (let i = 0; i < out.length; i++) out[i] = rgba[i * 4]! / 255;
  return out;
}
