/**
 * The Data tab: a look at the data before training. For the data set chosen in the Train form
 * (the two stay in step), or for a CSV file the user uploads, the engine worker answers a
 * preview (engine/data/preview.ts): the first rows as a table with column names, or the first
 * images as a grid with their labels; class counts as a bar chart; one example's shape and
 * dtype. A CSV is parsed in the worker by the same loader the CLI uses, so a malformed file
 * shows that loader's message (file, line, column, reason). Only the newest request's answer
 * is shown.
 */

import { useCallback, useEffect, useRef, useState } from 'react';
import { useStore } from 'zustand';
import type { EngineClient } from '../../engine/protocol/client.js';
import type { CsvUpload, DataPreview, DatasetName } from '../../engine/protocol/messages.js';
import { DATASET_NAMES, type Training, datasetLabel } from '../state/training.js';
import { ClassCounts } from './ClassCounts.js';
import { ImageGrid } from './ImageGrid.js';

type PreviewState =
  | { readonly phase: 'loading' }
  | { readonly phase: 'ready'; readonly preview: DataPreview }
  | { readonly phase: 'failed'; readonly message: string };

/** Files above this size are refused in the page (the CLI streams large files). */
const MAX_CSV_BYTES = 50 * 1024 * 1024;

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/^engine: /, '');
}

const shapeText = (shape: readonly number[]): string => `[N${shape.map((d) => `, ${d}`).join('')}]`;

function PreviewTable({ preview }: { preview: DataPreview }) {
  return (
    <div className="wg-data__table-wrap">
      <table className="wg-data__table">
        <thead>
          <tr>
            <th className="wg-data__rownum">#</th>
            {preview.columns.map((c, i) => (
              <th key={i} className={i === preview.columns.length - 1 ? 'is-target' : undefined}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {preview.rows.map((row, r) => (
            <tr key={r}>
              <td className="wg-data__rownum">{r + 1}</td>
              {row.map((v, i) => (
                <td
                  key={i}
                  className={[
                    typeof v === 'number' ? 'is-number' : '',
                    i === row.length - 1 ? 'is-target' : '',
                  ].join(' ')}
                >
                  {v}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DataPanel({ client, training }: { client: EngineClient; training: Training }) {
  const dataset = useStore(training.store, (s) => s.form.dataset);
  // The uploaded CSV lives in the Train form, so Train trains on what this tab shows.
  const uploaded = useStore(training.store, (s) => s.form.csv ?? null);
  const usingCsv = useStore(training.store, (s) => s.form.source === 'csv');
  const csv = usingCsv ? uploaded : null;
  const setCsv = (next: CsvUpload): void => training.setForm({ csv: next, source: 'csv' });
  const [state, setState] = useState<PreviewState>({ phase: 'loading' });
  const latest = useRef(0);
  const fileInput = useRef<HTMLInputElement>(null);

  const load = useCallback((request: () => Promise<DataPreview>) => {
    const id = ++latest.current;
    setState({ phase: 'loading' });
    request().then(
      (preview) => {
        if (id === latest.current) setState({ phase: 'ready', preview });
      },
      (error: unknown) => {
        if (id === latest.current) setState({ phase: 'failed', message: messageOf(error) });
      },
    );
  }, []);

  const csvName = csv?.name;
  const csvText = csv?.text;
  const csvTarget = csv?.target;
  useEffect(() => {
    if (csvName !== undefined && csvText !== undefined)
      load(() => client.previewCsv(csvName, csvText, csvTarget));
    else load(() => client.previewDataset(dataset));
  }, [client, load, dataset, csvName, csvText, csvTarget]);

  const onFile = (file: File | undefined) => {
    if (!file) return;
    if (file.size > MAX_CSV_BYTES) {
      latest.current++;
      setState({
        phase: 'failed',
        message:
          `${file.name}: ${(file.size / 1024 / 1024).toFixed(0)} MB is more than the app ` +
          `previews (${MAX_CSV_BYTES / 1024 / 1024} MB); use the CLI, which streams large files`,
      });
      return;
    }
    file.text().then(
      (text) => setCsv({ name: file.name, text }),
      (error: unknown) =>
        setState({ phase: 'failed', message: `${file.name}: ${messageOf(error)}` }),
    );
  };

  const preview = state.phase === 'ready' ? state.preview : null;
  return (
    <div className="wg-inspector__content wg-data" data-testid="data-panel">
      <div className="wg-inspector__section">
        <h3>Data set</h3>
        <div className="wg-data__source">
          <select
            className="wg-field__input"
            data-testid="data-dataset"
            aria-label="Data set"
            value={csv ? 'csv' : dataset}
            onChange={(e) =>
              training.setForm(
                e.target.value === 'csv'
                  ? { source: 'csv' }
                  : { dataset: e.target.value as DatasetName, source: 'builtin' },
              )
            }
          >
            {DATASET_NAMES.map((d) => (
              <option key={d} value={d}>
                {datasetLabel(d)}
              </option>
            ))}
            {uploaded && <option value="csv">{uploaded.name}</option>}
          </select>
          <button
            type="button"
            className="wg-button wg-data__upload"
            data-testid="csv-upload-button"
            onClick={() => fileInput.current?.click()}
          >
            Upload CSV…
          </button>
          <input
            ref={fileInput}
            type="file"
            accept=".csv,.tsv,.txt,text/csv"
            hidden
            data-testid="csv-upload"
            onChange={(e) => {
              onFile(e.target.files?.[0]);
              e.target.value = '';
            }}
          />
        </div>
        {csv && preview && preview.columns.length > 1 && (
          <label className="wg-data__target">
            <span>Target column</span>
            <select
              className="wg-field__input"
              data-testid="csv-target"
              value={csv.target ?? preview.columns[preview.columns.length - 1]}
              onChange={(e) => setCsv({ ...csv, target: e.target.value })}
            >
              {csvColumns(csv, preview).map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
        )}
        {csv && (
          <p className="wg-inspector__tip" data-testid="csv-training-tip">
            Train trains on this file: 80% of its rows, the other 20% validate (numeric features
            standardised). The model&apos;s input takes one row&apos;s features
            {preview ? ` ([N, ${preview.features.shape.join(', ')}])` : ''}
            {preview?.task === 'regression'
              ? ' and its last layer one output: the target holds numbers, so the model needs an ' +
                'f32 label input [N, 1] and an MSE loss (the target is standardised too).'
              : ' and its last layer one output per class.'}{' '}
            Large files train faster from the command line (
            <code>npx wiregrad train … csv:{csv.name}</code>).
          </p>
        )}
      </div>

      {state.phase === 'loading' && (
        <p className="wg-inspector__tip" data-testid="data-loading">
          Loading…
        </p>
      )}
      {state.phase === 'failed' && (
        <p className="wg-data__error" role="alert" data-testid="data-error">
          {state.message}
        </p>
      )}
      {preview && (
        <>
          <div className="wg-inspector__section">
            <h3>Shapes</h3>
            <dl className="wg-data__facts" data-testid="data-shapes">
              <dt>Examples</dt>
              <dd>{preview.examples.toLocaleString('en-US')}</dd>
              <dt>Features</dt>
              <dd>
                {shapeText(preview.features.shape)} · {preview.features.dtype}
              </dd>
              <dt>Labels</dt>
              <dd>
                {shapeText(preview.labels.shape)} · {preview.labels.dtype}
              </dd>
              <dt>Task</dt>
              <dd>
                {preview.task}
                {preview.classes.length > 0 ? `, ${preview.classes.length} classes` : ''}
              </dd>
            </dl>
          </div>
          {preview.classCounts.length > 0 && (
            <div className="wg-inspector__section">
              <h3>Class counts</h3>
              <ClassCounts names={preview.classes} counts={preview.classCounts} />
            </div>
          )}
          <div className="wg-inspector__section">
            <h3>{preview.kind === 'images' ? 'First images' : 'First rows'}</h3>
            <div data-testid="data-preview" data-kind={preview.kind}>
              {preview.images ? (
                <ImageGrid images={preview.images} classes={preview.classes} />
              ) : (
                <PreviewTable preview={preview} />
              )}
            </div>
            {preview.notes.length > 0 && (
              <ul className="wg-data__notes">
                {preview.notes.map((n) => (
                  <li key={n}>{n}</li>
                ))}
              </ul>
            )}
          </div>
        </>
      )}
    </div>
  );
}

/**
 * The CSV's own column names for the target choice: the preview's feature names are one-hot
 * expanded (`colour=red`), so categorical columns are folded back to their name.
 */
function csvColumns(csv: CsvUpload, preview: DataPreview): string[] {
  const names = new Set<string>();
  for (const c of preview.columns) names.add(c.includes('=') ? c.slice(0, c.indexOf('=')) : c);
  if (csv.target) names.add(csv.target);
  return [...names];
}
