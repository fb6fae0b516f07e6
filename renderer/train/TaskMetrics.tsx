/**
 * The Train panel's pieces that depend on what the model learns (its task): a classifier shows
 * accuracy and its class views; a regression (numbers to predict, from a CSV) shows RMSE in
 * the target's units and R² on the validation rows; a model that learns without labels (an
 * autoencoder) shows its loss and validation loss alone. Accuracy is never shown for a task
 * that has none. The task is the session's once one runs, before that the document's.
 */

import type { TrainProgress, TrainTask } from '../../engine/protocol/messages.js';
import { useDocumentState } from '../app/context.js';
import { trainingTask } from '../state/training.js';
import { useTraining } from './context.js';

/** What the current session (or, before one, the current document) learns. */
export function useTrainTask(): TrainTask {
  const fromSession = useTraining((s) =>
    s.progress === null ? null : (s.progress.task ?? 'classification'),
  );
  const fromDocument = useDocumentState((s) => trainingTask(s.doc));
  return fromSession ?? fromDocument;
}

/**
 * A metric as a plain number (what the `metric-*` hooks read), short enough for its box: five
 * significant digits, three in exponent form below 0.01 (a small loss reads 7.61e-4, not
 * 0.00076123); a dash before there is one.
 */
export function plain(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (value !== 0 && Math.abs(value) < 0.01) return value.toExponential(2);
  return String(Number(value.toPrecision(5)));
}

function Metric({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="wg-metric">
      <span className="wg-metric__label">{label}</span>
      <span className="wg-metric__value" data-testid={testId}>
        {value}
      </span>
    </div>
  );
}

/** The metrics beside the loss for a regression or a reconstruction (not a classifier). */
export function TaskMetrics({
  task,
  validation,
}: {
  task: Exclude<TrainTask, 'classification'>;
  validation: TrainProgress['validation'] | undefined;
}) {
  if (task === 'regression')
    return (
      <>
        <Metric label="val RMSE" value={plain(validation?.rmse)} testId="metric-val-rmse" />
        <Metric label="val R²" value={plain(validation?.r2)} testId="metric-val-r2" />
      </>
    );
  return <Metric label="val loss" value={plain(validation?.loss)} testId="metric-val-loss" />;
}

/** What stands in for the class views (decision boundary, confusion matrix) of other tasks. */
export function TaskViewsNote({ task }: { task: Exclude<TrainTask, 'classification'> }) {
  return (
    <p className="wg-views__empty" data-testid="task-views-note">
      {task === 'regression'
        ? 'This model predicts a number (regression), so it has no classes: no decision ' +
          'boundary, confusion matrix or accuracy. The loss is on the standardised target ' +
          "(mean 0, deviation 1); val RMSE is the typical error in the target's own units; " +
          'val R² is 1 for a perfect fit and 0 for always predicting the mean.'
        : 'This model learns without labels: its loss compares its output with its own input, ' +
          'so it has no classes, accuracy or confusion matrix. The loss chart shows how well it ' +
          'reconstructs the training batches and the held-out validation examples.'}
    </p>
  );
}
