/**
 * Zachary's karate club: 34 members of a university karate club and the 78 friendships seen
 * outside the club, before it split in two after a dispute between the instructor ("Mr. Hi",
 * member 0) and the administrator ("Officer", member 33). Labels are the faction each member
 * joined. Source: W. W. Zachary, "An Information Flow Model for Conflict and Fission in Small
 * Groups", Journal of Anthropological Research 33(4), 452–473 (1977); members numbered 0–33 and
 * factions as in NetworkX's `karate_club_graph()` (its 'club' attribute) and PyTorch
 * Geometric's KarateClub.
 */

import { tensor } from '../ops/creation.js';
import { GraphData, edgeIndexFrom } from './graph-data.js';

/** The 78 friendships, each once, as (smaller, larger) member numbers. */
export const KARATE_EDGES: readonly (readonly [number, number])[] = [
  [0, 1], [0, 2], [0, 3], [0, 4], [0, 5], [0, 6], [0, 7], [0, 8], [0, 10], [0, 11], [0, 12],
  [0, 13], [0, 17], [0, 19], [0, 21], [0, 31], [1, 2], [1, 3], [1, 7], [1, 13], [1, 17],
  [1, 19], [1, 21], [1, 30], [2, 3], [2, 7], [2, 8], [2, 9], [2, 13], [2, 27], [2, 28],
  [2, 32], [3, 7], [3, 12], [3, 13], [4, 6], [4, 10], [5, 6], [5, 10], [5, 16], [6, 16],
  [8, 30], [8, 32], [8, 33], [9, 33], [13, 33], [14, 32], [14, 33], [15, 32], [15, 33],
  [18, 32], [18, 33], [19, 33], [20, 32], [20, 33], [22, 32], [22, 33], [23, 25], [23, 27],
  [23, 29], [23, 32], [23, 33], [24, 25], [24, 27], [24, 31], [25, 31], [26, 29], [26, 33],
  [27, 33], [28, 31], [28, 33], [29, 32], [29, 33], [30, 32], [30, 33], [31, 32], [31, 33],
  [32, 33],
]; // prettier-ignore

/** The faction of each member: 0 joined Mr. Hi (member 0), 1 the Officer (member 33). */
export const KARATE_FACTIONS: readonly number[] = [
  0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1,
];

export const KARATE_FACTION_NAMES = ['Mr. Hi', 'Officer'] as const;

/**
 * The club as graph data: x the identity [34, 34] (each member's feature is who they are),
 * every friendship as two directed edges (156), y the factions [34] i32.
 */
export function karateClub(): GraphData {
  const n = KARATE_FACTIONS.length;
  const eye = new Float32Array(n * n);
  for (let i = 0; i < n; i++) eye[i * n + i] = 1;
  return new GraphData({
    x: tensor(eye, { shape: [n, n], dtype: 'f32' }),
    edgeIndex: edgeIndexFrom(KARATE_EDGES, { undirected: true }),
    y: tensor(Int32Array.from(KARATE_FACTIONS), { shape: [n], dtype: 'i32' }),
  });
}
