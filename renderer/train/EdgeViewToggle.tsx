/**
 * The canvas's edge view: "Gradients" colours each edge by the norm of the gradient that
 * flowed along it, "Activations" by the norm of the value that flowed forward
 * (`edge-view-toggle`, with `data-mode`). The legend below it follows the choice.
 */

import { type ReactNode, memo } from 'react';
import { useTraining, useTrainingController } from './context.js';
import { ACTIVATION_HI, ACTIVATION_LO } from './edge-style.js';
import { GRAD_STOPS, formatNorm } from './grad-scale.js';
import type { EdgeMode } from './view-history.js';

const MODES: readonly { readonly mode: EdgeMode; readonly label: string }[] = [
  { mode: 'gradients', label: 'Gradients' },
  { mode: 'activations', label: 'Activations' },
];

function EdgeViewToggleView() {
  const training = useTrainingController();
  const mode = useTraining((s) => s.views.mode);
  return (
    <div
      className="wg-segmented"
      role="radiogroup"
      aria-label="Colour edges by"
      data-testid="edge-view-toggle"
      data-mode={mode}
    >
      {MODES.map((m) => (
        <button
          key={m.mode}
          type="button"
          role="radio"
          aria-checked={mode === m.mode}
          className={`wg-segmented__item${mode === m.mode ? ' is-active' : ''}`}
          data-testid={`edge-view-${m.mode}`}
          onClick={() => training?.setEdgeMode(m.mode)}
        >
          {m.label}
        </button>
      ))}
    </div>
  );
}

export const EdgeViewToggle = memo(EdgeViewToggleView);

/**
 * The legend of the edge view in use: the gradient legend (given, `grad-legend`) or the
 * activation scale (`activation-legend`); `edge-legend`'s `data-mode` says which.
 */
function EdgeLegendView({ gradients }: { gradients: ReactNode }) {
  const mode = useTraining((s) => s.views.mode);
  return (
    <div className="wg-edge-legend" data-testid="edge-legend" data-mode={mode}>
      {mode === 'gradients' ? (
        gradients
      ) : (
        <div className="wg-grad-legend" data-testid="activation-legend">
          <div className="wg-grad-legend__title">Edge activation RMS ‖a‖/√n (log scale)</div>
          <div
            className="wg-grad-legend__scale"
            style={{ background: `linear-gradient(to right, ${GRAD_STOPS.join(', ')})` }}
          />
          <div className="wg-grad-legend__ticks">
            <span>{formatNorm(ACTIVATION_LO)}</span>
            <span>1</span>
            <span>{formatNorm(ACTIVATION_HI)}</span>
          </div>
          <div className="wg-grad-legend__flags">
            <span>the value flowing forward along each edge, at the shown step</span>
          </div>
        </div>
      )}
    </div>
  );
}

export const EdgeLegend = memo(EdgeLegendView);
