/**
 * Devices as the user sees them: which ones initialised (`devices()`), which one new tensors
 * go to (`defaultDevice()`), and moving a tensor between them (`to()`, also `t.to(device)`).
 *
 * Moving is asynchronous because reading GPU memory is (WebGPU maps buffers asynchronously),
 * and the copy goes through host memory. The moved tensor is a new leaf: gradients do not flow
 * back across the move (backward is synchronous, so it could not read them back from the GPU);
 * it requires gradients when the source does, so a parameter moved to a device is a parameter
 * there. Ops on tensors of different devices are an error in the dispatcher.
 */

import { type DeviceName, availableBackends, getBackend } from '../backend/backend.js';
import { WiregradError } from '../core/errors.js';
import { Tensor } from '../tensor.js';
import { state } from './state.js';

export interface DeviceInfo {
  readonly name: DeviceName;
  /** What initialised: the CPU kernels in use, or the WebGPU adapter. */
  readonly description: string;
}

/** The devices that initialised, with what each one is. */
export function devices(): DeviceInfo[] {
  return availableBackends().map((b) => ({ name: b.device, description: b.description }));
}

/**
 * The device that tensor creation and creation ops use when none is given; with an argument,
 * sets it first (the device must be initialised: `await initWebGPU()` before 'webgpu').
 */
export function defaultDevice(device?: DeviceName): DeviceName {
  if (device !== undefined) {
    getBackend(device); // throws, naming what to do, when the device is not initialised
    state.defaultDevice = device;
  }
  return state.defaultDevice;
}

/** A copy of `t` on `device` (`t` itself when it is already there). */
export async function to(t: Tensor, device: DeviceName): Promise<Tensor> {
  t.assertAlive('to');
  if (t.isSymbolic)
    throw new WiregradError(
      'cannot move a symbolic tensor while tracing; pin the node to a device instead',
      { op: 'to' },
    );
  if (t.device === device) return t;
  const target = getBackend(device);
  const data = await t.data();
  const moved = new Tensor(t.shape, t.dtype, target.upload(data), device);
  if (t.requiresGrad) moved.requiresGrad = true;
  return moved;
}
