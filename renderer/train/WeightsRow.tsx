/**
 * Where the model's weights come from, and saving or loading them as a file: the seeded initial
 * values, or a weights file (a notebook's `.safetensors`, or one loaded here). Saving the
 * notebook writes the weights beside it; these buttons do it for the weights alone.
 */

import { useState } from 'react';
import { useDocumentState } from '../app/context.js';
import { exportStem, openBytes, saveBytes } from '../files/export-save.js';
import { WEIGHTS_EXTENSION } from '../files/weights-ref.js';
import type { FileKind, Host } from '../host/host.js';
import type { Training } from '../state/training.js';
import { useTraining } from './context.js';

export const WEIGHTS_KIND: FileKind = {
  description: 'Trained weights (safetensors)',
  mime: 'application/octet-stream',
  extensions: [WEIGHTS_EXTENSION],
};

export function WeightsRow({ training, host }: { training: Training; host: Host }) {
  const loaded = useTraining((s) => s.weights);
  const step = useTraining((s) => s.progress?.step ?? 0);
  const name = useDocumentState((s) => s.doc.graph.name);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (task: () => Promise<string | null>): Promise<void> => {
    setBusy(true);
    try {
      setNote(await task());
    } catch (error) {
      setNote(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };

  const save = (): Promise<void> =>
    run(async () => {
      const weights = await training.weightsForSave();
      if (weights === null) return 'Nothing to save yet: train the model (or load weights) first.';
      if ('skipped' in weights) return `Not saved: ${weights.skipped}`;
      const file = `${exportStem(name)}${WEIGHTS_EXTENSION}`;
      const saved = await saveBytes(host, weights.bytes, file, WEIGHTS_KIND);
      return saved ? `Saved ${saved.name} (step ${weights.step.toLocaleString('en-US')}).` : null;
    });

  const load = (): Promise<void> =>
    run(async () => {
      const opened = await openBytes(host, WEIGHTS_KIND);
      if (!opened) return null;
      const problem = await training.loadWeights(opened.bytes, opened.name);
      return problem ?? `Loaded ${opened.name}.`;
    });

  const source = loaded
    ? loaded.step > 0
      ? `${loaded.name} (saved at step ${loaded.step.toLocaleString('en-US')})`
      : loaded.name
    : step > 0
      ? 'trained in this session'
      : 'seeded initial values';
  return (
    <div className="wg-train__weights" data-testid="train-weights">
      <span className="wg-train__weights-source">
        <span className="wg-train__weights-label">Weights:</span>{' '}
        <span data-testid="weights-source">{source}</span>
      </span>
      <span className="wg-train__weights-buttons">
        <button
          type="button"
          className="wg-button"
          data-testid="weights-load"
          disabled={busy}
          title="Start from weights in a .safetensors file (Reset goes back to the seeded values)"
          onClick={() => void load()}
        >
          Load…
        </button>
        <button
          type="button"
          className="wg-button"
          data-testid="weights-save"
          disabled={busy}
          title="Save the current weights as a .safetensors file (Save also writes them beside the notebook)"
          onClick={() => void save()}
        >
          Save…
        </button>
      </span>
      {note !== null && (
        <span className="wg-train__weights-note" data-testid="weights-note">
          {note}
        </span>
      )}
    </div>
  );
}
