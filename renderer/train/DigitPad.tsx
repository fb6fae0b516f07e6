/**
 * A pad to draw a digit on (mouse, pen or touch, through pointer events) for an MNIST model:
 * white strokes on black like MNIST's images. As you draw (a few times a second) and when a
 * stroke ends, the drawing is turned into the model's 28×28 input (digit-input.ts: scaled into
 * a 20-pixel box and centred by mass, values 0..1), shown small beside the pad as the model
 * sees it, and the worker's prediction with its ten probabilities appears below; it is asked
 * again as training changes the weights (at most twice a second while it runs). Clear (or
 * Escape / Delete on the pad) starts again. For a model that learns without labels (an
 * autoencoder, `reconstruct`), the answer is the image the model makes of the drawing, shown
 * beside the input it saw, instead of class probabilities.
 */

import {
  type PointerEvent as ReactPointerEvent,
  type KeyboardEvent as ReactKeyboardEvent,
  memo,
  useCallback,
  useEffect,
  useRef,
  useState,
} from 'react';
import type { Training } from '../state/training.js';
import { useTraining } from './context.js';
import { DIGIT_SIDE, digitInput, intensities } from './digit-input.js';
import { type PredictionView, ProbabilityBars } from './TryModel.js';

/** The pad's drawing resolution (8 pixels per MNIST pixel) and its size on screen. */
const PAD = 224;
const SHOWN = 168;
const STROKE = 18;
const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
/** Least time between two predictions while drawing (ms). */
const LIVE_MS = 150;
/** Least time between two predictions that follow training while it runs (ms). */
const FOLLOW_MS = 500;

function clearPad(canvas: HTMLCanvasElement): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, PAD, PAD);
}

/** Paints 28×28 values in 0..1 (or black, for null) as grey levels on `canvas`. */
function paintDigit(canvas: HTMLCanvasElement | null, values: Float32Array | null): void {
  const ctx = canvas?.getContext('2d');
  if (!ctx) return;
  const img = new ImageData(DIGIT_SIDE, DIGIT_SIDE);
  for (let i = 0; i < DIGIT_SIDE * DIGIT_SIDE; i++) {
    const v = Math.round(Math.min(1, Math.max(0, values?.[i] ?? 0)) * 255);
    img.data[i * 4] = v;
    img.data[i * 4 + 1] = v;
    img.data[i * 4 + 2] = v;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function DigitPadView({ training, reconstruct }: { training: Training; reconstruct?: boolean }) {
  const padRef = useRef<HTMLCanvasElement>(null);
  const previewRef = useRef<HTMLCanvasElement>(null);
  const reconstructionRef = useRef<HTMLCanvasElement>(null);
  const [reconstruction, setReconstruction] = useState<Float32Array | null>(null);
  const last = useRef<{ x: number; y: number } | null>(null);
  const lastAsked = useRef(-Infinity);
  const ticket = useRef(0);
  const [answer, setAnswer] = useState<PredictionView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [drawn, setDrawn] = useState(false);

  useEffect(() => {
    if (padRef.current) clearPad(padRef.current);
  }, []);

  const showPreview = (input: Float32Array | null): void => paintDigit(previewRef.current, input);
  useEffect(() => paintDigit(reconstructionRef.current, reconstruction), [reconstruction]);

  const predict = useCallback(() => {
    const canvas = padRef.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    lastAsked.current = performance.now();
    const input = digitInput(intensities(ctx.getImageData(0, 0, PAD, PAD).data), PAD, PAD);
    showPreview(input);
    if (!input) return;
    const mine = ++ticket.current;
    training.predict(input, 1).then(
      ({ probabilities, reconstruction }) => {
        if (mine !== ticket.current) return;
        setError(null);
        if (reconstruction) setReconstruction(reconstruction);
        else setAnswer({ subject: 'your drawing', probabilities: Array.from(probabilities) });
      },
      (e: unknown) => {
        if (mine !== ticket.current) return;
        setError(e instanceof Error ? e.message : String(e));
      },
    );
  }, [training]);

  // The weights changed: ask again about the drawing, so the answer follows training.
  const step = useTraining((s) => s.progress?.step);
  const running = useTraining((s) => s.progress?.status === 'running');
  useEffect(() => {
    if (!drawn || step === undefined) return;
    if (!running || performance.now() - lastAsked.current >= FOLLOW_MS) predict();
  }, [step, running, drawn, predict]);

  const clear = (): void => {
    if (padRef.current) clearPad(padRef.current);
    ticket.current++;
    showPreview(null);
    setAnswer(null);
    setReconstruction(null);
    setError(null);
    setDrawn(false);
  };

  const at = (e: ReactPointerEvent<HTMLCanvasElement>): { x: number; y: number } => {
    const r = e.currentTarget.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * PAD, y: ((e.clientY - r.top) / r.height) * PAD };
  };

  const line = (from: { x: number; y: number }, to: { x: number; y: number }): void => {
    const ctx = padRef.current?.getContext('2d');
    if (!ctx) return;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = STROKE;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
  };

  const onPointerDown = (e: ReactPointerEvent<HTMLCanvasElement>): void => {
    e.preventDefault();
    e.currentTarget.setPointerCapture?.(e.pointerId);
    const p = at(e);
    last.current = p;
    line(p, p);
    setDrawn(true);
  };
  const onPointerMove = (e: ReactPointerEvent<HTMLCanvasElement>): void => {
    if (!last.current) return;
    const p = at(e);
    line(last.current, p);
    last.current = p;
    if (performance.now() - lastAsked.current >= LIVE_MS) predict();
  };
  const onPointerUp = (): void => {
    if (!last.current) return;
    last.current = null;
    predict();
  };
  const onKeyDown = (e: ReactKeyboardEvent<HTMLCanvasElement>): void => {
    if (e.key === 'Escape' || e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      clear();
    }
  };

  return (
    <div className="wg-digit">
      <div className="wg-digit__row">
        <canvas
          ref={padRef}
          className="wg-digit__pad"
          data-testid="digit-pad"
          width={PAD}
          height={PAD}
          style={{ width: SHOWN, height: SHOWN }}
          tabIndex={0}
          role="img"
          aria-label="Draw a digit here; Escape clears"
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={onPointerUp}
          onKeyDown={onKeyDown}
        />
        <div className="wg-digit__side">
          <span className="wg-digit__note">model input</span>
          <canvas
            ref={previewRef}
            className="wg-digit__preview"
            data-testid="digit-preview"
            width={DIGIT_SIDE}
            height={DIGIT_SIDE}
          />
          {reconstruct && (
            <>
              <span className="wg-digit__note">reconstruction</span>
              <canvas
                ref={reconstructionRef}
                className="wg-digit__preview"
                data-testid="digit-reconstruction"
                data-ready={reconstruction !== null}
                width={DIGIT_SIDE}
                height={DIGIT_SIDE}
              />
            </>
          )}
          <button
            type="button"
            className="wg-button"
            data-testid="digit-pad-clear"
            disabled={!drawn}
            onClick={clear}
          >
            Clear
          </button>
        </div>
      </div>
      {!drawn && <p className="wg-views__empty">Draw a digit on the black square.</p>}
      {error !== null && (
        <p className="wg-train__problem" data-testid="try-error">
          {error}
        </p>
      )}
      {answer && <ProbabilityBars prediction={answer} labels={DIGITS} />}
    </div>
  );
}

export const DigitPad = memo(DigitPadView);

export { DIGITS };
