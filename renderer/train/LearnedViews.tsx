/**
 * The Train panel's views of what the model learned: the decision boundary with "try the
 * model" for 2-D data sets, the digit pad for MNIST, and the confusion matrix on the
 * validation split for every classifier. Refresh asks the worker for both views now (they
 * otherwise follow training a few times a second and after validations).
 */

import type { Training } from '../state/training.js';
import { ConfusionMatrix } from './ConfusionMatrix.js';
import { useTraining } from './context.js';
import { DecisionBoundary } from './DecisionBoundary.js';
import { DIGITS, DigitPad } from './DigitPad.js';

export function LearnedViews({ training }: { training: Training }) {
  const dataset = useTraining((s) => s.form.dataset);
  const started = useTraining((s) => s.progress !== null);
  const digits = dataset === 'mnist';
  return (
    <section className="wg-views" data-testid="learned-views">
      <div className="wg-panel-title wg-views__title">
        <span>{digits ? 'Try the model' : 'Decision boundary'}</span>
        <button
          type="button"
          className="wg-button wg-views__refresh"
          data-testid="views-refresh"
          disabled={!started}
          title="Evaluate the decision boundary and confusion matrix with the current weights now"
          onClick={() => void training.refreshViews()}
        >
          Refresh
        </button>
      </div>
      {digits ? <DigitPad training={training} /> : <DecisionBoundary training={training} />}
      <div className="wg-panel-title">Confusion matrix (validation)</div>
      <ConfusionMatrix {...(digits ? { labels: DIGITS } : {})} />
    </section>
  );
}
