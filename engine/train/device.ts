/**
 * Training on a device other than the CPU. Moving a tensor in general is asynchronous (`to()`),
 * because reading GPU memory is; but training data and fresh parameters start on the CPU, whose
 * memory can be read at once, and writing to a GPU is a queued host write. `uploadSync` does
 * that move without waiting, so a training step can queue all of its GPU work in one go and
 * read only its results back, asynchronously (see `Trainer.stepQueued`).
 */

import { type DeviceName, getBackend } from '../backend/backend.js';
import { WiregradError } from '../core/errors.js';
import { Tensor } from '../tensor.js';

/**
 * A copy of `t` on `device` (`t` itself when already there), made without waiting. `t` must be
 * readable synchronously (CPU memory); the copy is a new leaf that requires gradients when `t`
 * does, as with `to()`.
 */
export function uploadSync(t: Tensor, device: DeviceName): Tensor {
  t.assertAlive('uploadSync');
  if (t.device === device) return t;
  const s = t.storage;
  const data = s ? s.backend.readSync(s, t.dtype, t.size) : null;
  if (data === null)
    throw new WiregradError(
      `uploadSync: a tensor on '${t.device}' cannot be read without waiting; use await to(t, ` +
        `'${device}')`,
    );
  const moved = new Tensor(t.shape, t.dtype, getBackend(device).upload(data), device);
  if (t.requiresGrad) moved.requiresGrad = true;
  if (t.name !== undefined) moved.name = t.name;
  return moved;
}
