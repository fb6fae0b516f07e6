/**
 * The Train panel's views of what the model learned: the decision boundary with "try the
 * model" for 2-D data sets, the digit pad for MNIST, and the confusion matrix on the
 * validation split for every classifier. Refresh asks the worker for both views now (they
 * otherwise follow training a few times a second and after validations). A regression or a
 * model that learns without labels has no classes: a short note stands in for these views,
 * and an autoencoder of digits gets the digit pad with its reconstruction. A regression of
 * one feature (the `sine` set, a one-column CSV) shows the curve it fits through the data, one
 * of several features its predictions against the validation targets.
 */

import { useDocumentState } from '../app/context.js';
import { type Training, dataInputShape, formCsv } from '../state/training.js';
import { ConfusionMatrix } from './ConfusionMatrix.js';
import { useTraining } from './context.js';
import { DecisionBoundary } from './DecisionBoundary.js';
import { DIGITS, DigitPad } from './DigitPad.js';
import { RegressionCurve } from './RegressionCurve.js';
import { TaskViewsNote, useTrainTask } from './TaskMetrics.js';

/** The views' title with Refresh, which asks the worker for them now (`refresh`: its tooltip). */
function ViewsTitle({
  title,
  refresh,
  training,
  started,
}: {
  title: string;
  refresh: string;
  training: Training;
  started: boolean;
}) {
  return (
    <div className="wg-panel-title wg-views__title">
      <span>{title}</span>
      <button
        type="button"
        className="wg-button wg-views__refresh"
        data-testid="views-refresh"
        disabled={!started}
        title={refresh}
        onClick={() => void training.refreshViews()}
      >
        Refresh
      </button>
    </div>
  );
}

export function LearnedViews({ training }: { training: Training }) {
  const dataset = useTraining((s) => s.form.dataset);
  const csv = useTraining((s) => formCsv(s.form) !== null);
  const started = useTraining((s) => s.progress !== null);
  const task = useTrainTask();
  // One number in (the data input [N, 1]): a regression's fit can be drawn as a curve.
  const oneFeature = useDocumentState((s) => {
    const shape = dataInputShape(s.doc);
    return shape !== null && shape.length === 2 && shape[1] === 1;
  });
  const kind = useTraining((s) => s.curve?.kind ?? null);
  const digits = dataset === 'mnist';
  if (task === 'regression') {
    const curve = kind === null ? oneFeature : kind === 'curve';
    return (
      <section className="wg-views" data-testid="learned-views" data-task={task}>
        <ViewsTitle
          title={curve ? 'Fitted curve' : 'Predicted vs actual'}
          refresh="Evaluate the model with the current weights now"
          training={training}
          started={started}
        />
        <RegressionCurve oneFeature={oneFeature} />
        {curve ? (
          <p className="wg-views__empty" data-testid="curve-note">
            The model predicts a number for each x (a regression). Val R² is 1 for a perfect fit and
            0 for always predicting the mean; val RMSE is the typical error in y&apos;s units.
          </p>
        ) : (
          <TaskViewsNote task={task} />
        )}
      </section>
    );
  }
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
      <ViewsTitle
        title={digits ? 'Try the model' : 'Decision boundary'}
        refresh="Evaluate the decision boundary and confusion matrix with the current weights now"
        training={training}
        started={started}
      />
      {digits ? <DigitPad training={training} /> : <DecisionBoundary training={training} />}
      <div className="wg-panel-title">Confusion matrix (validation)</div>
      <ConfusionMatrix {...(digits ? { labels: DIGITS } : {})} />
    </section>
  );
}
