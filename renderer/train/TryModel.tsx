/**
 * "Try the model": the answer to one prediction as a list of bars, one per class, longest for
 * the most probable, with the predicted class named above. The decision boundary (a clicked
 * point) and the digit pad (a drawing) both show their answers with it. Rows carry
 * `data-class` and `data-probability` (the full number) for tests and tools.
 */

import { memo } from 'react';
import { classColour } from './class-colours.js';

export interface PredictionView {
  /** What was asked, in words ("point (0.52, −1.3)", "your drawing"). */
  readonly subject: string;
  readonly probabilities: readonly number[];
}

/** The index of the largest probability. */
export function predictedClass(probabilities: readonly number[]): number {
  let best = 0;
  for (let c = 1; c < probabilities.length; c++)
    if (probabilities[c]! > probabilities[best]!) best = c;
  return best;
}

function ProbabilityBarsView({
  prediction,
  labels,
}: {
  prediction: PredictionView;
  labels?: readonly string[];
}) {
  const { probabilities } = prediction;
  const best = predictedClass(probabilities);
  const name = (c: number): string => labels?.[c] ?? `class ${c}`;
  return (
    <div className="wg-try" data-testid="try-result" data-predicted={best}>
      <div className="wg-try__head">
        <span className="wg-try__subject">{prediction.subject}</span>
        <span className="wg-try__answer" data-testid="try-predicted">
          <i style={{ background: classColour(best) }} />
          {name(best)}
        </span>
      </div>
      <ol className="wg-try__bars">
        {probabilities.map((p, c) => (
          <li
            key={c}
            className={`wg-try__row${c === best ? ' is-best' : ''}`}
            data-testid={`try-prob-${c}`}
            data-class={c}
            data-probability={p}
          >
            <span className="wg-try__label">{name(c)}</span>
            <span className="wg-try__track">
              <span
                className="wg-try__fill"
                style={{
                  width: `${(Math.min(1, Math.max(0, p)) * 100).toFixed(1)}%`,
                  background: classColour(c),
                }}
              />
            </span>
            <span className="wg-try__value wg-mono">{(p * 100).toFixed(1)}%</span>
          </li>
        ))}
      </ol>
    </div>
  );
}

export const ProbabilityBars = memo(ProbabilityBarsView);
