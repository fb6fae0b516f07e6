/**
 * Class counts as a horizontal bar chart: one row per class with its name, a bar scaled to the
 * largest class, and the count with its share of the whole. Plain elements (no canvas), so
 * tests and screen readers read the numbers.
 */

const COLOURS = ['#5b8cff', '#ff7b5c', '#4fc98b', '#e8b548', '#b483ff', '#3dc6e3', '#e356d8'];

export function ClassCounts({
  names,
  counts,
}: {
  names: readonly string[];
  counts: readonly number[];
}) {
  const total = counts.reduce((a, b) => a + b, 0);
  const most = Math.max(1, ...counts);
  return (
    <ul className="wg-data__counts" data-testid="class-counts" aria-label="Class counts">
      {counts.map((count, c) => (
        <li key={c} className="wg-data__count" data-class={names[c] ?? c} data-count={count}>
          <span className="wg-data__count-name" title={names[c]}>
            {names[c] ?? c}
          </span>
          <span className="wg-data__count-track">
            <span
              className="wg-data__count-bar"
              style={{
                width: `${(count / most) * 100}%`,
                background: COLOURS[c % COLOURS.length],
              }}
            />
          </span>
          <span className="wg-data__count-value">
            {count.toLocaleString('en-US')}
            <span className="wg-data__count-share">
              {total > 0 ? ` ${((count / total) * 100).toFixed(0)}%` : ''}
            </span>
          </span>
        </li>
      ))}
    </ul>
  );
}
