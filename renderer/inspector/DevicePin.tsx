/**
 * The inspector's "Run on" choice: pins the selected canvas node (a whole layer: its ops and
 * parameters) to the CPU or WebGPU, or leaves it to the Train panel's device policy ('auto').
 * The pin is stored in the document's nodes (`device`) as one undoable `setDevice` command, and
 * a training run places the graph with it: under another policy, the node's edges to its
 * neighbours become transfers, which the canvas draws dashed with the bytes they move.
 */

import { useDocumentState, useEditor } from '../app/context.js';
import { DEVICE_CHOICES, type DeviceChoice, devicePinOf } from '../state/device-pins.js';
import type { ViewNode } from '../state/view.js';

const LABELS: Readonly<Record<DeviceChoice, string>> = {
  auto: 'auto (policy)',
  cpu: 'cpu',
  webgpu: 'webgpu',
};

export function DevicePin({ view }: { view: ViewNode }) {
  const editor = useEditor();
  const pin = useDocumentState((s) => devicePinOf(s.doc, view.members));
  return (
    <section className="wg-inspector__section">
      <h3>Device</h3>
      <label className="wg-field">
        <span
          className="wg-field__label"
          title="Where this node runs when the model trains; auto follows the Train panel's policy"
        >
          Run on
        </span>
        <select
          className="wg-field__input"
          data-testid="inspector-device"
          value={pin ?? ''}
          onChange={(e) =>
            editor.run('setDevice', {
              nodes: view.members,
              device: e.target.value as DeviceChoice,
              label: view.id,
            })
          }
        >
          {pin === null && (
            <option value="" disabled>
              mixed
            </option>
          )}
          {DEVICE_CHOICES.map((d) => (
            <option key={d} value={d}>
              {LABELS[d]}
            </option>
          ))}
        </select>
      </label>
    </section>
  );
}
