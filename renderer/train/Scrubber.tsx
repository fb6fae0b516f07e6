/**
 * The step scrubber: a range input over the recorded steps (`step-scrubber`). Moving it shows
 * the edge colours, the metrics and the histograms as they were at that step; "Live"
 * (`scrub-live`, or Escape on the slider) returns to the latest step, and so does dragging to
 * the right end. While scrubbed, training goes on and the histories keep growing.
 */

import { memo } from 'react';
import { useTraining, useTrainingController } from './context.js';
import { scrubPosition, scrubStepAt } from './view-history.js';

function ScrubberView() {
  const training = useTrainingController();
  const records = useTraining((s) => s.views.records);
  const scrub = useTraining((s) => s.views.scrub);
  const position = scrubPosition(records, scrub);
  const disabled = records.length < 2 || training === null;
  return (
    <div className="wg-scrubber">
      <input
        type="range"
        className="wg-scrubber__range"
        data-testid="step-scrubber"
        aria-label="Recorded step to show"
        min={0}
        max={position.max}
        step={1}
        value={position.value}
        disabled={disabled}
        data-step={position.step ?? undefined}
        data-live={position.live ? 'true' : 'false'}
        onChange={(e) => training?.scrubTo(scrubStepAt(records, Number(e.target.value)))}
        onKeyDown={(e) => {
          if (e.key === 'Escape') training?.scrubTo(null);
        }}
      />
      <span className="wg-scrubber__label wg-mono" data-testid="scrub-step">
        {position.step === null ? '—' : `step ${position.step}`}
      </span>
      <button
        type="button"
        className={`wg-button wg-scrubber__live${position.live ? ' is-active' : ''}`}
        data-testid="scrub-live"
        disabled={position.live}
        title="Back to the latest step (Esc on the slider)"
        onClick={() => training?.scrubTo(null)}
      >
        Live
      </button>
    </div>
  );
}

export const Scrubber = memo(ScrubberView);
