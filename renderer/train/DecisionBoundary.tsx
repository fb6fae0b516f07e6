/**
 * The decision boundary of a 2-D classifier: the worker's grid of predicted classes drawn on a
 * canvas as class-coloured regions (faint where the model hesitates), the training points on
 * top in their true class's colour. It redraws whenever a newer boundary arrives (a few times a
 * second while training runs). Clicking the plot asks the model about that point, with the
 * current weights, and shows its class probabilities; the question is asked again as the
 * weights change, so the answer follows training. Arrow keys move the probe, Escape clears it.
 */

import {
  type KeyboardEvent as ReactKeyboardEvent,
  type MouseEvent as ReactMouseEvent,
  memo,
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
} from 'react';
import type { DecisionBoundary as Boundary } from '../../engine/protocol/messages.js';
import type { Training } from '../state/training.js';
import { boundaryPixels, canvasToData, dataToCanvas } from './boundary-image.js';
import { classColour } from './class-colours.js';
import { useTraining } from './context.js';
import { type PredictionView, ProbabilityBars } from './TryModel.js';

const SIZE = 272;

function draw(
  canvas: HTMLCanvasElement,
  boundary: Boundary,
  probe: { x: number; y: number } | null,
): void {
  const ratio = window.devicePixelRatio || 1;
  const side = Math.round(SIZE * ratio);
  if (canvas.width !== side) {
    canvas.width = side;
    canvas.height = side;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const grid = document.createElement('canvas');
  grid.width = boundary.size;
  grid.height = boundary.size;
  const gctx = grid.getContext('2d');
  if (!gctx) return;
  gctx.putImageData(new ImageData(boundaryPixels(boundary), boundary.size, boundary.size), 0, 0);
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(grid, 0, 0, side, side);
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const { points, labels, bounds } = boundary;
  ctx.lineWidth = 1;
  ctx.strokeStyle = 'rgba(13, 16, 20, 0.9)';
  for (let i = 0; i < labels.length; i++) {
    const { px, py } = dataToCanvas(points[2 * i]!, points[2 * i + 1]!, SIZE, SIZE, bounds);
    ctx.beginPath();
    ctx.arc(px, py, 2.6, 0, 2 * Math.PI);
    ctx.fillStyle = classColour(labels[i]!);
    ctx.fill();
    ctx.stroke();
  }
  if (probe) {
    const { px, py } = dataToCanvas(probe.x, probe.y, SIZE, SIZE, bounds);
    ctx.strokeStyle = '#eef2f8';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.arc(px, py, 6, 0, 2 * Math.PI);
    ctx.moveTo(px - 10, py);
    ctx.lineTo(px - 3, py);
    ctx.moveTo(px + 3, py);
    ctx.lineTo(px + 10, py);
    ctx.moveTo(px, py - 10);
    ctx.lineTo(px, py - 3);
    ctx.moveTo(px, py + 3);
    ctx.lineTo(px, py + 10);
    ctx.stroke();
  }
}

const format = (v: number): string => (Math.abs(v) < 1e-9 ? '0' : v.toPrecision(3));

function DecisionBoundaryView({ training }: { training: Training }) {
  const boundary = useTraining((s) => s.boundary);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [probe, setProbe] = useState<{ x: number; y: number } | null>(null);
  const [answer, setAnswer] = useState<PredictionView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const asked = useRef(0);

  useLayoutEffect(() => {
    if (canvasRef.current && boundary) draw(canvasRef.current, boundary, probe);
  }, [boundary, probe]);

  const ask = useCallback(
    (point: { x: number; y: number }) => {
      const ticket = ++asked.current;
      training.predict(Float32Array.from([point.x, point.y]), 1).then(
        ({ probabilities }) => {
          if (ticket !== asked.current) return;
          setError(null);
          setAnswer({
            subject: `point (${format(point.x)}, ${format(point.y)})`,
            probabilities: Array.from(probabilities),
          });
        },
        (e: unknown) => {
          if (ticket !== asked.current) return;
          setError(e instanceof Error ? e.message : String(e));
        },
      );
    },
    [training],
  );

  // The weights changed: ask about the probe again so the answer follows training.
  const version = boundary?.version;
  useEffect(() => {
    if (probe && version !== undefined) ask(probe);
  }, [version, probe, ask]);

  if (!boundary)
    return (
      <p className="wg-views__empty" data-testid="decision-boundary-empty">
        Start or step training to see where the model puts each class.
      </p>
    );

  const onClick = (e: ReactMouseEvent<HTMLCanvasElement>): void => {
    const r = e.currentTarget.getBoundingClientRect();
    setProbe(
      canvasToData(e.clientX - r.left, e.clientY - r.top, r.width, r.height, boundary.bounds),
    );
  };
  const onKeyDown = (e: ReactKeyboardEvent<HTMLCanvasElement>): void => {
    const b = boundary.bounds;
    const stepX = (b.xMax - b.xMin) / 40;
    const stepY = (b.yMax - b.yMin) / 40;
    const at = probe ?? { x: (b.xMin + b.xMax) / 2, y: (b.yMin + b.yMax) / 2 };
    const moves: Record<string, [number, number]> = {
      ArrowLeft: [-stepX, 0],
      ArrowRight: [stepX, 0],
      ArrowUp: [0, stepY],
      ArrowDown: [0, -stepY],
    };
    const move = moves[e.key];
    if (move) {
      e.preventDefault();
      setProbe({
        x: Math.min(b.xMax, Math.max(b.xMin, at.x + move[0])),
        y: Math.min(b.yMax, Math.max(b.yMin, at.y + move[1])),
      });
    } else if (e.key === 'Enter' && !probe) setProbe(at);
    else if (e.key === 'Escape') {
      asked.current++;
      setProbe(null);
      setAnswer(null);
    }
  };

  return (
    <div className="wg-boundary">
      <canvas
        ref={canvasRef}
        className="wg-boundary__canvas"
        data-testid="decision-boundary"
        data-version={boundary.version}
        data-step={boundary.step}
        data-classes={boundary.classes}
        style={{ width: SIZE, height: SIZE }}
        tabIndex={0}
        role="img"
        aria-label={`Decision boundary after step ${boundary.step}; click a point to try the model`}
        onClick={onClick}
        onKeyDown={onKeyDown}
      />
      <div className="wg-boundary__caption">
        <span>step {boundary.step}</span>
        <span>click a point to try the model</span>
      </div>
      {error !== null && (
        <p className="wg-train__problem" data-testid="try-error">
          {error}
        </p>
      )}
      {answer && <ProbabilityBars prediction={answer} />}
    </div>
  );
}

export const DecisionBoundary = memo(DecisionBoundaryView);
