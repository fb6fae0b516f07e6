/**
 * The example graphs in examples/ as documents, for tests that train or export them (read
 * afresh on each call, so a test may change its copy).
 */

import { readFileSync } from 'node:fs';
import type { GraphJSON } from '../../engine/graph/ir.js';

/** examples/<name>.json as a graph document. */
export function exampleGraphJSON(name: string): GraphJSON {
  return JSON.parse(
    readFileSync(new URL(`../../examples/${name}.json`, import.meta.url), 'utf8'),
  ) as GraphJSON;
}

/** The two-hidden-layer MLP for 2-D points (examples/mlp-spiral.json). */
export const spiralJSON = (): GraphJSON => exampleGraphJSON('mlp-spiral');
