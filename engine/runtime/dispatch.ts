/**
 * The one path every op takes: look up its definition, check and infer the output's shape and
 * dtype (before touching data, so errors name the op and the shapes), then either record it
 * into the graph being traced or run the device's kernel; finally, put it on the tape when an
 * input requires gradients. Eager execution, tracing and autodiff all go through here.
 */

import { getBackend, type DeviceName } from '../backend/backend.js';
// The CPU device always exists: whatever creates or runs a tensor comes through here.
import '../backend/cpu/index.js';
import { bytesPerElement } from '../core/dtype.js';
import { WiregradError } from '../core/errors.js';
import { getOp, type TensorMeta } from '../ops/registry.js';
import { sizeOf } from '../core/shape.js';
import { Tensor } from '../tensor.js';
import { gradEnabled, state } from './state.js';

/** Runs `name` on `inputs` with `attrs` and returns its output. */
export function runOp(name: string, inputs: readonly Tensor[], rawAttrs: object = {}): Tensor {
  const def = getOp(name);
  if (typeof def.arity === 'number' && inputs.length !== def.arity)
    throw new WiregradError(`expects ${def.arity} inputs, got ${inputs.length}`, { op: name });
  for (const t of inputs) {
    t.assertAlive(name);
    if (t.isSymbolic && !state.tracer)
      throw new WiregradError(
        'a symbolic tensor (a value of a traced graph) was used outside its trace; run the ' +
          'graph with graph.run(...) to get real tensors',
        { op: name },
      );
  }
  const attrs = def.normalizeAttrs ? def.normalizeAttrs(inputs, rawAttrs) : rawAttrs;
  const meta: TensorMeta = def.inferShape(inputs, attrs);
  // A composite op runs as its decomposition, except while tracing without gradients, when it
  // is recorded as one node so graph files stay readable (Linear, not matmul + add).
  if (def.decompose && !(state.tracer && !(gradEnabled() && inputs.some((t) => t.requiresGrad))))
    return def.decompose(inputs, attrs);

  // The clock is read only while someone observes (execution events), so it is free when off.
  const start = state.observers.length > 0 ? performance.now() : 0;
  let out: Tensor;
  const tracer = state.tracer;
  if (tracer) {
    out = tracer.record(def, inputs, attrs, meta);
  } else {
    const device = commonDevice(name, inputs, attrs);
    const backend = getBackend(device);
    if (def.view) {
      const storage = inputs[0]!.storage!;
      storage.refs++;
      out = new Tensor(meta.shape, meta.dtype, storage, device);
    } else {
      const size = sizeOf(meta.shape);
      const storage = backend.allocate(
        backend.bytesFor?.(meta.dtype, size) ?? size * bytesPerElement(meta.dtype),
      );
      out = new Tensor(meta.shape, meta.dtype, storage, device);
      try {
        backend.run(name, inputs as Tensor[] as never, out as never, attrs);
      } catch (e) {
        out.dispose(); // a kernel that rejects its data (e.g. an index out of range) leaks nothing
        throw e;
      }
    }
  }

  if (def.gradient && gradEnabled() && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.producer = { def, inputs, attrs };
  }
  for (const o of state.observers) o.onOp(def, inputs, out, attrs, start);
  return out;
}

function commonDevice(op: string, inputs: readonly Tensor[], attrs: object): DeviceName {
  if (inputs.length === 0) return (attrs as { device?: DeviceName }).device ?? state.defaultDevice;
  const device = inputs[0]!.device;
  for (const t of inputs)
    if (t.device !== device)
      throw new WiregradError(
        `inputs live on different devices (${inputs.map((i) => i.device).join(', ')}); ` +
          `move them with t.to('${device}') first`,
        { op },
      );
  return device;
}
