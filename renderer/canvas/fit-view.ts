/**
 * Where the canvas looks after a load, the fit button or Tidy up. A model that fits the view at
 * a readable zoom is shown whole and centred. A taller (or wider) one is shown at the smallest
 * readable zoom from its top (or left) edge instead of shrunk until its text is a few pixels
 * high: the user scrolls on through it and the minimap shows the rest. An empty model is shown
 * at zoom 1 from the origin, so a node dropped on it lands where it is dropped.
 */

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Viewport {
  readonly x: number;
  readonly y: number;
  readonly zoom: number;
}

export interface FitOptions {
  /** Screen pixels kept free around the model. */
  readonly margin: number;
  /** Below this zoom the cards' text is too small to read: the view scrolls instead. */
  readonly minZoom: number;
  /** A small model is not blown up past this. */
  readonly maxZoom: number;
}

export const FIT_OPTIONS: FitOptions = { margin: 40, minZoom: 0.6, maxZoom: 1.1 };

/** The viewport of an empty canvas. */
export const HOME_VIEWPORT: Viewport = { x: 0, y: 0, zoom: 1 };

/** The smallest rectangle around `rects` (null for none). */
export function boundsOf(rects: readonly Rect[]): Rect | null {
  if (rects.length === 0) return null;
  let left = Infinity;
  let top = Infinity;
  let right = -Infinity;
  let bottom = -Infinity;
  for (const r of rects) {
    left = Math.min(left, r.x);
    top = Math.min(top, r.y);
    right = Math.max(right, r.x + r.width);
    bottom = Math.max(bottom, r.y + r.height);
  }
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/**
 * The viewport that shows `bounds` (flow coordinates) in a view of `size` screen pixels: fitted
 * and centred when that zoom is readable, else at `minZoom`, each axis centred where the model
 * fits across it and anchored at its start (top, left) where it does not.
 */
export function readableFit(
  bounds: Rect | null,
  size: { readonly width: number; readonly height: number },
  options: FitOptions = FIT_OPTIONS,
): Viewport {
  if (!bounds || size.width <= 0 || size.height <= 0) return HOME_VIEWPORT;
  const room = {
    width: Math.max(1, size.width - 2 * options.margin),
    height: Math.max(1, size.height - 2 * options.margin),
  };
  const fit = Math.min(
    room.width / Math.max(1, bounds.width),
    room.height / Math.max(1, bounds.height),
  );
  const zoom = Math.max(options.minZoom, Math.min(options.maxZoom, fit));
  const place = (start: number, extent: number, view: number): number =>
    extent * zoom <= view - 2 * options.margin
      ? view / 2 - (start + extent / 2) * zoom
      : options.margin - start * zoom;
  return {
    x: place(bounds.x, bounds.width, size.width),
    y: place(bounds.y, bounds.height, size.height),
    zoom,
  };
}
