/**
 * The Train panel: the form (data set, device, optimizer, learning rate, batch size, epochs),
 * the session controls (start, pause/resume, one step, stop, reset), progress with the time
 * left, the current loss and accuracy (or the task's own metrics, TaskMetrics.tsx), the loss
 * chart, the gradient legend and the last step's lanes timeline. It trains the current
 * document; when that is not a training graph it says what is missing instead of offering to
 * start.
 */

import { type ReactNode, useEffect, useMemo, useState } from 'react';
import type { TrainProgress } from '../../engine/protocol/messages.js';
import { useAnalysis, useDocumentState } from '../app/context.js';
import {
  DATASET_NAMES,
  datasetLabel,
  type DevicePolicy,
  OPTIMIZERS,
  type TrainForm,
  type Training,
  dataInputShape,
  formCsv,
  trainingProblem,
} from '../state/training.js';
import { FLAG_COLOURS, GRAD_STOPS } from './grad-scale.js';
import { DeviceNote, DevicePolicySelect, useWebGPUAvailability } from './DevicePolicy.js';
import { LanesTimeline } from './LanesTimeline.js';
import { EdgeLegend, EdgeViewToggle } from './EdgeViewToggle.js';
import { Histograms } from './Histograms.js';
import { Scrubber } from './Scrubber.js';
import { scrubbedMetrics } from './views-state.js';
import { LearnedViews } from './LearnedViews.js';
import { ChartKey, LossChart } from './LossChart.js';
import { useTraining } from './context.js';
import { WeightsRow } from './WeightsRow.js';
import { TaskMetrics, plain, useTrainTask } from './TaskMetrics.js';
import type { Host } from '../host/host.js';

/** The "CPU lanes" choices: auto, then one lane up to the core count (at least 2). */
const LANE_CHOICES: readonly (number | 'auto')[] = [
  'auto',
  ...Array.from(
    { length: Math.max(2, Math.min(16, globalThis.navigator?.hardwareConcurrency ?? 2)) },
    (_, i) => i + 1,
  ),
];

function duration(ms: number | null): string {
  if (ms === null) return '';
  if (ms < 1000) return `${Math.round(ms)} ms left`;
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s left` : `${Math.round(s / 60)} min left`;
}

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <label className="wg-train__field">
      <span>{label}</span>
      {children}
    </label>
  );
}

/** What a Train field accepts: a number > 0, or a whole number ≥ 1. */
function fieldProblem(label: string, text: string, integer: boolean): string | null {
  const n = Number(text);
  const ok = text.trim() !== '' && Number.isFinite(n) && n > 0 && (!integer || Number.isInteger(n));
  if (ok) return null;
  const want = integer ? 'a whole number ≥ 1' : 'a number > 0';
  return `${label} must be ${want} (it is ${text.trim() === '' ? 'empty' : `"${text}"`})`;
}

/**
 * A number field that commits on blur or Enter. Bad text stays visible, marked, and is
 * reported through `onProblem` (the panel says what is wrong and holds Start) until fixed.
 */
function NumberField({
  testId,
  label,
  value,
  integer = false,
  onCommit,
  onProblem,
}: {
  testId: string;
  label: string;
  value: number;
  integer?: boolean;
  onCommit: (value: number) => void;
  onProblem: (problem: string | null) => void;
}) {
  const [text, setText] = useState<string | null>(null);
  const problem = text === null ? null : fieldProblem(label, text, integer);
  useEffect(() => onProblem(problem), [problem, onProblem]);
  const commit = (): void => {
    if (text === null || problem !== null) return;
    onCommit(Number(text));
    setText(null);
  };
  return (
    <input
      className={`wg-train__input wg-mono${problem ? ' has-error' : ''}`}
      data-testid={testId}
      inputMode="decimal"
      aria-invalid={problem !== null}
      title={problem ?? undefined}
      value={text ?? String(value)}
      onChange={(e) => setText(e.target.value)}
      onBlur={commit}
      onKeyDown={(e) => {
        if (e.key === 'Enter') commit();
        if (e.key === 'Escape') setText(null);
      }}
    />
  );
}

function statusText(p: TrainProgress | null): string {
  if (!p) return 'Not started';
  const head =
    p.status === 'running'
      ? 'Training'
      : p.status === 'paused'
        ? // Paused before any step: weights were loaded (opened, imported) and wait for Train.
          p.step === 0
          ? 'Ready'
          : 'Paused'
        : p.status === 'done'
          ? 'Done'
          : p.status === 'stopped'
            ? 'Stopped'
            : 'Failed';
  return `${head} · epoch ${Math.min(p.epoch + 1, p.epochs)}/${p.epochs}`;
}

/** How long "Restart?" waits for its second click. */
const CONFIRM_MS = 4000;

function Controls({
  training,
  disabled,
  why,
}: {
  training: Training;
  disabled: boolean;
  /** Why Start is held (a model or field problem), for its tooltip. */
  why: string | null;
}) {
  const status = useTraining((s) => s.progress?.status ?? null);
  const step = useTraining((s) => s.progress?.step ?? 0);
  const live = status === 'running' || status === 'paused';
  // Restarting a live run throws its steps away: the first click asks, the second restarts.
  const [confirming, setConfirming] = useState(false);
  useEffect(() => {
    if (!confirming) return;
    const timer = setTimeout(() => setConfirming(false), CONFIRM_MS);
    return () => clearTimeout(timer);
  }, [confirming]);
  useEffect(() => setConfirming(false), [status]);
  const start = (): void => {
    if (live && step > 0 && !confirming) {
      setConfirming(true);
      return;
    }
    setConfirming(false);
    void training.start();
  };
  // The button for what one most likely does next is the highlighted one.
  const primary = (yes: boolean): string => `wg-button${yes ? ' is-primary' : ''}`;
  return (
    <div className="wg-train__buttons">
      <button
        type="button"
        className={`${primary(!live || confirming)}${confirming ? ' is-danger' : ''}`}
        data-testid="train-start"
        disabled={disabled}
        title={
          why ??
          (confirming
            ? `Click again to discard the ${step} steps trained so far and start over (save the weights first to keep them)`
            : live
              ? 'Start over from freshly drawn parameters (asks first)'
              : undefined)
        }
        onClick={start}
      >
        {status === null ? 'Start' : confirming ? 'Restart?' : 'Restart'}
      </button>
      <button
        type="button"
        className={primary(live && !confirming)}
        data-testid="train-pause"
        disabled={!live}
        onClick={() => void (status === 'running' ? training.pause() : training.resume())}
      >
        {status === 'paused' ? (step === 0 ? 'Train' : 'Resume') : 'Pause'}
      </button>
      <button
        type="button"
        className="wg-button"
        data-testid="train-step"
        disabled={disabled || status === 'done'}
        title="Pause and take exactly one optimisation step"
        onClick={() => void training.step()}
      >
        Step
      </button>
      <button
        type="button"
        className="wg-button"
        data-testid="train-stop"
        disabled={!live}
        onClick={() => void training.stop()}
      >
        Stop
      </button>
      <button
        type="button"
        className="wg-button"
        data-testid="train-reset"
        disabled={!live && status !== 'done'}
        title="Back to step 0 with freshly drawn parameters"
        onClick={() => void training.reset()}
      >
        Reset
      </button>
    </div>
  );
}

function Progress() {
  const live = useTraining((s) => s.progress);
  // Scrubbed: the metrics of the shown step.
  const past = useTraining((s) => scrubbedMetrics(s.views, s.train));
  const p = live && past ? { ...live, loss: past.loss, accuracy: past.accuracy } : live;
  const fraction = p && p.totalSteps > 0 ? p.step / p.totalSteps : 0;
  const task = useTrainTask();
  return (
    <div className="wg-train__progress">
      <div className="wg-train__status">
        <span data-testid="train-status">{statusText(p)}</span>
        <span className="wg-train__left" data-testid="train-remaining">
          {p?.status === 'running' ? duration(p.remainingMs) : ''}
        </span>
      </div>
      <div className="wg-train__bar">
        <div className="wg-train__bar-fill" style={{ width: `${(fraction * 100).toFixed(1)}%` }} />
      </div>
      <div className="wg-train__steps">
        step <span data-testid="train-step-count">{p?.step ?? 0}</span> / {p?.totalSteps ?? 0}
        {p?.stepMs != null && ` · ${p.stepMs.toFixed(1)} ms/step`}
      </div>
      <div className="wg-train__metrics">
        <div className="wg-metric">
          <span className="wg-metric__label">loss</span>
          <span
            className="wg-metric__value is-loss"
            data-testid="metric-loss"
            title={plain(p?.loss)}
          >
            {plain(p?.loss)}
          </span>
        </div>
        {task === 'classification' ? (
          <>
            <div className="wg-metric">
              <span className="wg-metric__label">accuracy</span>
              <span className="wg-metric__value is-acc" data-testid="metric-accuracy">
                {plain(p?.accuracy)}
              </span>
            </div>
            <div className="wg-metric">
              <span className="wg-metric__label">val acc</span>
              <span className="wg-metric__value" data-testid="metric-val-accuracy">
                {plain(p?.validation?.accuracy)}
              </span>
            </div>
          </>
        ) : (
          <TaskMetrics task={task} validation={p?.validation} />
        )}
      </div>
    </div>
  );
}

/** The chart's title: accuracy only where the model classifies. */
function LossTitle() {
  const task = useTrainTask();
  return (
    <div className="wg-panel-title">{task === 'classification' ? 'Loss and accuracy' : 'Loss'}</div>
  );
}

export function GradLegend() {
  return (
    <div className="wg-grad-legend" data-testid="grad-legend">
      <div className="wg-grad-legend__title">Edge gradient ‖g‖ (log scale)</div>
      <div
        className="wg-grad-legend__scale"
        style={{ background: `linear-gradient(to right, ${GRAD_STOPS.join(', ')})` }}
      />
      <div className="wg-grad-legend__ticks">
        <span>1e-7</span>
        <span>1e-2</span>
        <span>1e3</span>
      </div>
      <div className="wg-grad-legend__flags">
        <span>
          <i style={{ background: FLAG_COLOURS.vanishing }} /> vanishing &lt; 1e-7
        </span>
        <span>
          <i style={{ background: FLAG_COLOURS.exploding }} /> exploding &gt; 1e3
        </span>
        <span>
          <i style={{ background: FLAG_COLOURS.nan }} /> NaN
        </span>
      </div>
    </div>
  );
}

export function TrainPanel({ training, host }: { training: Training; host?: Host }) {
  const doc = useDocumentState((s) => s.doc);
  const analysisProblem = useAnalysis((a) => {
    const errors = [...a.problems.entries()].flatMap(([node, list]) =>
      list.filter((p) => p.severity === 'error').map((p) => ({ node, message: p.message })),
    );
    if (errors.length === 0) return null;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    return `Fix the model first: '${errors[0]!.node}': ${errors[0]!.message}${more}`;
  });
  const problem = trainingProblem(doc) ?? analysisProblem;
  const form = useTraining((s) => s.form);
  const gpu = useWebGPUAvailability();
  const error = useTraining((s) => s.error);
  const set = (patch: Partial<TrainForm>): void => training.setForm(patch);
  // Fields whose text is not a valid value: said below the form, and Start waits for them.
  const [fieldProblems, setFieldProblems] = useState<Record<string, string>>({});
  const reportField = useMemo(() => {
    const report =
      (field: string) =>
      (problem: string | null): void =>
        setFieldProblems((all) => {
          if ((all[field] ?? null) === problem) return all;
          const next = { ...all };
          if (problem === null) delete next[field];
          else next[field] = problem;
          return next;
        });
    return { lr: report('lr'), batchSize: report('batchSize'), epochs: report('epochs') };
  }, []);
  const formProblem = Object.values(fieldProblems)[0] ?? null;
  // A model that reads digit images trains on the digits, one that reads 2-D points on a 2-D
  // set: checked when the panel opens and whenever the model's input changes shape.
  const inputShape = String(dataInputShape(doc));
  useEffect(() => training.fitDatasetToModel(), [training, inputShape]);
  return (
    <div className="wg-train" data-testid="train-panel">
      <div className="wg-train__form">
        <Field label="Data set">
          <select
            className="wg-train__input"
            data-testid="dataset-select"
            value={formCsv(form) ? 'csv' : form.dataset}
            onChange={(e) =>
              set(
                e.target.value === 'csv'
                  ? { source: 'csv' }
                  : { dataset: e.target.value as TrainForm['dataset'], source: 'builtin' },
              )
            }
          >
            {DATASET_NAMES.map((d) => (
              <option key={d} value={d}>
                {datasetLabel(d)}
              </option>
            ))}
            {form.csv && (
              <option value="csv" title="Uploaded in the Data tab">
                {form.csv.name}
              </option>
            )}
          </select>
        </Field>
        <Field label="Device">
          <DevicePolicySelect
            value={form.device}
            gpu={gpu}
            onChange={(device: DevicePolicy) => set({ device })}
          />
        </Field>
        <Field label="CPU lanes">
          <select
            className="wg-train__input"
            data-testid="lanes-select"
            value={String(form.lanes ?? 'auto')}
            title="Worker threads the CPU step's forward and backward run on (auto: one per core, where the page shares memory)"
            onChange={(e) =>
              set({ lanes: e.target.value === 'auto' ? 'auto' : Number(e.target.value) })
            }
          >
            {LANE_CHOICES.map((n) => (
              <option key={n} value={String(n)}>
                {n}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Optimizer">
          <select
            className="wg-train__input"
            data-testid="optimizer-select"
            value={form.optimizer}
            onChange={(e) => set({ optimizer: e.target.value as TrainForm['optimizer'] })}
          >
            {OPTIMIZERS.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Learning rate">
          <NumberField
            testId="train-lr"
            label="Learning rate"
            value={form.lr}
            onCommit={(lr) => set({ lr })}
            onProblem={reportField.lr}
          />
        </Field>
        <Field label="Batch size">
          <NumberField
            testId="train-batch-size"
            label="Batch size"
            value={form.batchSize}
            integer
            onCommit={(batchSize) => set({ batchSize })}
            onProblem={reportField.batchSize}
          />
        </Field>
        <Field label="Epochs">
          <NumberField
            testId="train-epochs"
            label="Epochs"
            value={form.epochs}
            integer
            onCommit={(epochs) => set({ epochs })}
            onProblem={reportField.epochs}
          />
        </Field>
      </div>
      {problem !== null && (
        <p className="wg-train__problem" data-testid="train-problem">
          {problem}
        </p>
      )}
      {formProblem !== null && (
        <p className="wg-train__problem" data-testid="train-form-problem" role="alert">
          {formProblem}
        </p>
      )}
      <Controls
        training={training}
        disabled={problem !== null || formProblem !== null}
        why={problem ?? formProblem}
      />
      {host && <WeightsRow training={training} host={host} />}
      {/* Below the buttons: the engine's note on lanes and devices arrives after Start, and
          must not push the buttons down under the pointer. */}
      <DeviceNote policy={form.device} gpu={gpu} />
      {error !== null && (
        <p className="wg-train__problem" data-testid="train-error">
          {error}
        </p>
      )}
      <Progress />
      <LossTitle />
      <LossChart />
      <ChartKey />
      <LearnedViews training={training} />
      <div className="wg-panel-title">Recorded steps</div>
      <Scrubber />
      <div className="wg-panel-title">Edges</div>
      <EdgeViewToggle />
      <EdgeLegend gradients={<GradLegend />} />
      <div className="wg-panel-title">Last step, by lane</div>
      <LanesTimeline />
      <div className="wg-timeline-key">
        <span className="is-forward">forward</span>
        <span className="is-backward">backward</span>
        <span className="is-optimizer">optimizer</span>
      </div>
      <div className="wg-panel-title">Weights and gradients over time</div>
      <Histograms />
    </div>
  );
}
