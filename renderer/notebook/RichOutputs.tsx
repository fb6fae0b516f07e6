/**
 * A code cell's rich values: a traced graph (drawn as the graph cell draws the model, with
 * "Open as graph", which adds it, laid out, as a new graph cell below the selected cell and puts
 * it on the canvas; the model that was there stays in its own cell), a line
 * chart (SVG, axes with round ticks, a legend when there are several lines), an image
 * (a canvas, small images scaled up with sharp pixels) and a progress bar (done of total, time
 * elapsed and left, metrics).
 */

import { memo, useEffect, useMemo, useRef } from 'react';
import type { CellValue } from '../../engine/protocol/messages.js';
import { useCatalog, useEditor } from '../app/context.js';
import { layeredLayout } from '../state/auto-layout.js';
import { type EditorDocument, documentFromFile, documentToFile } from '../state/document.js';
import { buildView } from '../state/view.js';
import { chartExtent, linePath, niceTicks, pointsPath, tickLabel } from './chart-geometry.js';
import { useOptionalNotebook } from './context.js';
import { GraphDrawing } from './GraphPreview.js';
import {
  type ProgressValue,
  formatDuration,
  formatMetric,
  progressPercent,
} from './progress-format.js';

type GraphValue = Extract<CellValue, { kind: 'graph' }>;
type ChartValue = Extract<CellValue, { kind: 'chart' }>;
type ImageValue = Extract<CellValue, { kind: 'image' }>;

/** The document a graph value opens as, or the reason it cannot be read. */
function graphDocument(value: GraphValue): { doc: EditorDocument } | { error: string } {
  try {
    const doc = documentFromFile(value.graph);
    // A traced graph has no name of its own; the canvas and the file need one.
    const name = doc.graph.name ?? 'Traced graph';
    return { doc: { ...doc, graph: { ...doc.graph, name } } };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

export const GraphOutput = memo(function GraphOutput({ value }: { value: GraphValue }) {
  const editor = useEditor();
  const notebook = useOptionalNotebook();
  const ops = useCatalog((s) => s.byName);
  const read = useMemo(() => graphDocument(value), [value]);
  // Laid out as the canvas lays out a file without positions, so the preview matches it.
  const doc = useMemo(() => {
    if (!('doc' in read)) return null;
    const view = buildView(read.doc, ops);
    return { ...read.doc, layout: { ...layeredLayout(view), ...read.doc.layout } };
  }, [read, ops]);
  if (!doc)
    return (
      <div className="wg-output__text">
        A graph that cannot be shown: {'error' in read ? read.error : ''}
      </div>
    );
  const open = () => {
    if (notebook) {
      // The button's cell was selected by the click that reached it: the new cell goes below.
      notebook.addGraph(notebook.state.getState().selected, documentToFile(doc), true);
      return;
    }
    editor.load(doc, `Open graph ${doc.graph.name ?? 'from a cell'}`);
    editor.notify(
      'The cell’s graph is now the model; Undo on the canvas brings back the last one.',
    );
  };
  return (
    <GraphDrawing
      doc={doc}
      onOpen={open}
      testId="graph-output"
      empty="The graph has no nodes."
      action={
        <button
          type="button"
          className="wg-button"
          data-testid="open-as-graph"
          title={
            notebook
              ? 'Add this graph as a new graph cell and edit it on the canvas'
              : 'Make this graph the model on the canvas (undoable)'
          }
          onClick={open}
        >
          <span className="wg-button__icon" aria-hidden="true">
            ↗
          </span>
          <span>Open as graph</span>
        </button>
      }
    />
  );
});

const CHART_W = 560;
const CHART_H = 260;
const BOX = { left: 56, top: 14, width: CHART_W - 56 - 16, height: CHART_H - 14 - 44 };

export const ChartView = memo(function ChartView({ value }: { value: ChartValue }) {
  const extent = chartExtent(value.series);
  const points = value.series.reduce((n, s) => n + s.x.length, 0);
  return (
    <figure
      className="wg-chart"
      data-testid="chart-output"
      data-series={value.series.length}
      data-points={points}
    >
      {value.title && <figcaption className="wg-chart__title">{value.title}</figcaption>}
      {!extent ? (
        <div className="wg-chart__empty">No finite points to draw.</div>
      ) : (
        <ChartSvg value={value} extent={extent} />
      )}
      {value.series.length > 1 && (
        <div className="wg-chart__legend">
          {value.series.map((s, i) => (
            <span key={i} className="wg-chart__key">
              <span className={`wg-chart__swatch is-${i % 6}`} aria-hidden="true" />
              {s.name}
            </span>
          ))}
        </div>
      )}
    </figure>
  );
});

function ChartSvg({
  value,
  extent,
}: {
  value: ChartValue;
  extent: NonNullable<ReturnType<typeof chartExtent>>;
}) {
  const wholeX = value.series.every((s) => s.x.every((x) => Number.isInteger(x)));
  const xs = niceTicks(extent.x, 6, wholeX);
  const ys = niceTicks(extent.y, 5);
  const sx = (v: number) =>
    BOX.left + ((v - xs.range.min) / (xs.range.max - xs.range.min)) * BOX.width;
  const sy = (v: number) =>
    BOX.top + BOX.height - ((v - ys.range.min) / (ys.range.max - ys.range.min)) * BOX.height;
  return (
    <svg
      className="wg-chart__svg"
      viewBox={`0 0 ${CHART_W} ${CHART_H}`}
      width={CHART_W}
      height={CHART_H}
      role="img"
      aria-label={value.title ?? `Chart of ${value.series.map((s) => s.name).join(', ')}`}
    >
      {ys.ticks.map((t) => (
        <g key={`y${t}`}>
          <line
            className="wg-chart__grid"
            x1={BOX.left}
            x2={BOX.left + BOX.width}
            y1={sy(t)}
            y2={sy(t)}
          />
          <text className="wg-chart__tick" x={BOX.left - 6} y={sy(t) + 4} textAnchor="end">
            {tickLabel(t)}
          </text>
        </g>
      ))}
      {xs.ticks.map((t) => (
        <text
          key={`x${t}`}
          className="wg-chart__tick"
          x={sx(t)}
          y={BOX.top + BOX.height + 16}
          textAnchor="middle"
        >
          {tickLabel(t)}
        </text>
      ))}
      <rect
        className="wg-chart__frame"
        x={BOX.left}
        y={BOX.top}
        width={BOX.width}
        height={BOX.height}
      />
      {value.series.map((s, i) => (
        <path
          key={i}
          className={`wg-chart__line is-${i % 6}${s.scatter ? ' is-points' : ''}`}
          d={(s.scatter ? pointsPath : linePath)(s, xs.range, ys.range, BOX)}
          data-testid="chart-line"
        />
      ))}
      {value.xLabel && (
        <text
          className="wg-chart__axis"
          x={BOX.left + BOX.width / 2}
          y={CHART_H - 6}
          textAnchor="middle"
        >
          {value.xLabel}
        </text>
      )}
      {value.yLabel && (
        <text
          className="wg-chart__axis"
          transform={`translate(12 ${BOX.top + BOX.height / 2}) rotate(-90)`}
          textAnchor="middle"
        >
          {value.yLabel}
        </text>
      )}
    </svg>
  );
}

/** Small images are scaled up by a whole factor (sharp pixels) to at least about 112 px. */
function displayScale(width: number, height: number): number {
  return Math.max(1, Math.min(32, Math.floor(112 / Math.max(width, height))));
}

export const ImageView = memo(function ImageView({ value }: { value: ImageValue }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const context = canvas.current?.getContext('2d');
    if (!context) return;
    const data = context.createImageData(value.width, value.height);
    const n = value.width * value.height;
    for (let i = 0; i < n; i++) {
      const r = value.pixels[i * value.channels] ?? 0;
      const g = value.channels === 3 ? (value.pixels[i * 3 + 1] ?? 0) : r;
      const b = value.channels === 3 ? (value.pixels[i * 3 + 2] ?? 0) : r;
      data.data.set([r, g, b, 255], i * 4);
    }
    context.putImageData(data, 0, 0);
  }, [value]);
  const scale = displayScale(value.width, value.height);
  return (
    <figure
      className="wg-image"
      data-testid="image-output"
      data-width={value.width}
      data-height={value.height}
    >
      <canvas
        ref={canvas}
        className="wg-image__canvas"
        width={value.width}
        height={value.height}
        style={{ width: value.width * scale, height: value.height * scale }}
      />
      <figcaption className="wg-image__caption">
        {value.title ? `${value.title} · ` : ''}
        {value.width}×{value.height} {value.channels === 3 ? 'RGB' : 'grey'}
      </figcaption>
    </figure>
  );
});

export const ProgressView = memo(function ProgressView({ value }: { value: ProgressValue }) {
  const percent = progressPercent(value);
  const finished = value.done >= value.total;
  const metrics = Object.entries(value.metrics);
  const times: string[] = [];
  // A bar just shown has no time to tell yet.
  if (value.elapsedMs !== null && (value.elapsedMs > 0 || finished))
    times.push(`${formatDuration(value.elapsedMs)} elapsed`);
  if (!finished && value.etaMs !== null) times.push(`about ${formatDuration(value.etaMs)} left`);
  return (
    <figure
      className={`wg-progress${finished ? ' is-done' : ''}`}
      data-testid="progress-output"
      data-done={value.done}
      data-total={value.total}
    >
      <div className="wg-progress__head">
        {value.title && <span className="wg-progress__title">{value.title}</span>}
        <span className="wg-progress__count">
          {value.done}/{value.total}
        </span>
        <span className="wg-progress__percent">{percent}%</span>
        {times.length > 0 && <span className="wg-progress__time">{times.join(' · ')}</span>}
      </div>
      <div
        className="wg-progress__bar"
        role="progressbar"
        aria-label={value.title ?? 'Progress'}
        aria-valuemin={0}
        aria-valuemax={value.total}
        aria-valuenow={value.done}
      >
        <div
          className="wg-progress__fill"
          style={{ width: `${(value.done / value.total) * 100}%` }}
        />
      </div>
      {metrics.length > 0 && (
        <div className="wg-progress__metrics">
          {metrics.map(([name, v]) => (
            <span key={name} className="wg-progress__metric" data-metric={name}>
              <span className="wg-progress__name">{name}</span> ={' '}
              <span className="wg-progress__value">{formatMetric(v)}</span>
            </span>
          ))}
        </div>
      )}
    </figure>
  );
});
