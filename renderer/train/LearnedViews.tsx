/**
 * The Train panel's views of what the model learned: the decision boundary with "try the
 * model" for 2-D data sets, the digit pad for MNIST, and the confusion matrix on the
 * validation split for every classifier. Refresh asks the worker for both views now (they
 * otherwise follow training a few times a second and after validations). A regression or a
 * model that learns without labels has no classes: a short note stands in for these views,
 * and an autoencoder of digits gets the digit pad with its reconstruction.
 */

import { type Training, formCsv } from '../state/training.js';
import { ConfusionMatrix } from './ConfusionMatrix.js';
import { useTraining } from './context.js';
import { DecisionBoundary } from './DecisionBoundary.js';
import { DIGITS, DigitPad } from './DigitPad.js';
import { TaskViewsNote, useTrainTask } from './TaskMetrics.js';

export function LearnedViews({ training }: { training: Training }) {
  const dataset = useTraining((s) => s.form.dataset);
  const csv = useTraining((s) => formCsv(s.form) !== null);
  const started = useTraining((s) => s.progress !== null);
  const task = useTrainTask();
  const digits = dataset === 'mnist';
  // An autoencoder of the digits is tried on a drawn digit; other tasks have a note alone.
  const pad = task === 'reconstruction' && digits && !csv;
  if (task !== 'classification')
    return (
      <section className="wg-views" data-testid="learned-views" data-task={task}>
        <div className="wg-panel-title wg-views__title">
          <span>{pad ? 'Try the model' : 'What it learned'}</span>
        </div>
        {pad && <DigitPad training={training} reconstruct />}
        <TaskViewsNote task={task} />
      </section>
    );
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
