/**
 * One colour per class for the views of what a model learned (decision boundary regions and
 * points, probability bars), distinct on the app's dark background. Classes past the tenth
 * reuse the list.
 */

export const CLASS_COLOURS: readonly string[] = [
  '#ff7b5c',
  '#5b8cff',
  '#4fc98b',
  '#e8b548',
  '#b483ff',
  '#3dc6e3',
  '#ff6fae',
  '#a3d65c',
  '#d3a36e',
  '#93a0b8',
];

export function classColour(c: number): string {
  return CLASS_COLOURS[((c % CLASS_COLOURS.length) + CLASS_COLOURS.length) % CLASS_COLOURS.length]!;
}

/** A `#rrggbb` colour as [r, g, b] in 0..255. */
export function rgbOf(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
