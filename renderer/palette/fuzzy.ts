/**
 * Fuzzy matching for the palette and the quick-insert box: the query's characters must appear
 * in the name in order (case-insensitive); consecutive runs and matches at word starts score
 * higher, as in editors' command palettes, so "lin" finds Linear first and "mp" MaxPool2d.
 * Keywords (synonyms such as "dense" for Linear) match only as word prefixes: matched loosely,
 * every long keyword would match almost any query.
 */

/** Score of `query` against `text`; higher is better, null when it does not match. */
export function fuzzyScore(query: string, text: string): number | null {
  const q = query.toLowerCase().replace(/\s+/g, '');
  if (q === '') return 0;
  const t = text.toLowerCase();
  let score = 0;
  let ti = 0;
  let previous = -2;
  for (const ch of q) {
    const found = t.indexOf(ch, ti);
    if (found === -1) return null;
    const atWordStart =
      found === 0 ||
      /[^a-z0-9]/.test(t[found - 1]!) ||
      (text[found] !== undefined && text[found] !== t[found] && text[found - 1] === t[found - 1]);
    score += 1;
    if (found === previous + 1) score += 3;
    if (atWordStart) score += 4;
    if (found === 0) score += 2;
    previous = found;
    ti = found + 1;
  }
  // Prefer shorter texts among equal matches (the query covers more of them).
  return score - t.length * 0.01;
}

export interface Searchable {
  readonly label: string;
  readonly key: string;
  readonly keywords: readonly string[];
}

/** Whether `keyword`, or one of its words, starts with `query` ("fully c", "conn"). */
function keywordMatches(query: string, keyword: string): boolean {
  const q = query.toLowerCase().trim();
  const k = keyword.toLowerCase();
  return k.startsWith(q) || k.split(/[^a-z0-9]+/).some((word) => word.startsWith(q));
}

/** Items matching `query`, best first; all of them, in order, for an empty query. */
export function fuzzyFilter<T extends Searchable>(items: readonly T[], query: string): T[] {
  if (query.trim() === '') return [...items];
  const scored: { item: T; score: number; index: number }[] = [];
  items.forEach((item, index) => {
    const names = [item.label, item.key]
      .map((text) => fuzzyScore(query, text))
      .filter((s): s is number => s !== null);
    // A keyword counts as a match at a word start of a short name.
    const keyword = item.keywords.some((k) => keywordMatches(query, k)) ? query.length * 4 : null;
    const scores = keyword === null ? names : [...names, keyword];
    if (scores.length > 0) scored.push({ item, score: Math.max(...scores), index });
  });
  return scored.sort((a, b) => b.score - a.score || a.index - b.index).map(({ item }) => item);
}
