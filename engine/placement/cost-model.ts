/**
 * The placement cost model: how long an op takes on each device and how long a tensor takes to
 * move between two devices. A node's time on a device is a roofline estimate, the launch
 * overhead plus the larger of its FLOPs over the device's FLOP/s and its bytes over the
 * device's bytes/s (the op's `cost()` from the registry, or one FLOP per output element and
 * its operands' bytes when it has none); views cost nothing. A transfer costs the link's
 * latency plus bytes over its bandwidth. Tests build a `CostModel` from fixed numbers;
 * `measureCostModel()` times a few micro-kernels on each initialised device once and caches
 * the result (the TensorFlow whitepaper's placer uses measured costs the same way).
 */

import { type DeviceName, availableBackends } from '../backend/backend.js';
import { bytesPerElement } from '../core/dtype.js';
import { WiregradError } from '../core/errors.js';
import { sizeOf } from '../core/shape.js';
import { full, rand } from '../ops/creation.js';
import { type OpCost, type TensorMeta, getOp } from '../ops/registry.js';
import { to } from '../runtime/devices.js';
import { tidy } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';

/** How fast one device computes. */
export interface DeviceCost {
  /** Floating-point operations per second on large kernels. */
  readonly flopsPerSecond: number;
  /** Memory bytes read and written per second on large elementwise kernels. */
  readonly bytesPerSecond: number;
  /** Fixed time of one op (dispatch, kernel launch), in seconds. */
  readonly launchSeconds: number;
}

/** How fast one direction of a link between two devices moves data. */
export interface LinkCost {
  readonly bytesPerSecond: number;
  /** Fixed time of one transfer (a GPU read is a buffer map round trip), in seconds. */
  readonly latencySeconds: number;
}

/** A link key: `'cpu->webgpu'`. */
export type LinkName = `${DeviceName}->${DeviceName}`;

export interface CostModelSpec {
  readonly devices: Partial<Record<DeviceName, DeviceCost>>;
  /** Links by direction; a missing reverse direction uses the given one. */
  readonly links?: Partial<Record<LinkName, LinkCost>>;
}

export class CostModel {
  private readonly deviceCosts: ReadonlyMap<DeviceName, DeviceCost>;
  private readonly links: Partial<Record<LinkName, LinkCost>>;

  constructor(spec: CostModelSpec) {
    const entries = Object.entries(spec.devices) as [DeviceName, DeviceCost | undefined][];
    const costs = new Map<DeviceName, DeviceCost>();
    for (const [device, cost] of entries) {
      if (!cost) continue;
      for (const key of ['flopsPerSecond', 'bytesPerSecond'] as const)
        if (!(cost[key] > 0))
          throw new WiregradError(
            `CostModel: device '${device}' needs ${key} > 0, got ${cost[key]}`,
          );
      if (!(cost.launchSeconds >= 0))
        throw new WiregradError(
          `CostModel: device '${device}' needs launchSeconds >= 0, got ${cost.launchSeconds}`,
        );
      costs.set(device, cost);
    }
    if (costs.size === 0)
      throw new WiregradError('CostModel: give the costs of at least one device');
    this.deviceCosts = costs;
    this.links = { ...(spec.links ?? {}) };
  }

  /** The devices this model knows, in the order given (CPU first when present). */
  get devices(): DeviceName[] {
    return [...this.deviceCosts.keys()].sort((a, b) => (a === 'cpu' ? -1 : b === 'cpu' ? 1 : 0));
  }

  device(device: DeviceName): DeviceCost {
    const cost = this.deviceCosts.get(device);
    if (!cost)
      throw new WiregradError(
        `CostModel has no costs for device '${device}' (it knows ${this.devices.join(', ')}); ` +
          `measure it after initialising the device, or add it to the model`,
      );
    return cost;
  }

  /** The numbers, as the constructor takes them (to show, or to store and build again). */
  toJSON(): CostModelSpec {
    return { devices: Object.fromEntries(this.deviceCosts), links: { ...this.links } };
  }

  /** Seconds one op of this cost takes on `device` (roofline plus launch overhead). */
  opSeconds(cost: OpCost, device: DeviceName): number {
    const d = this.device(device);
    return d.launchSeconds + Math.max(cost.flops / d.flopsPerSecond, cost.bytes / d.bytesPerSecond);
  }

  /** Seconds to move `bytes` from one device to another (0 on the same device). */
  transferSeconds(bytes: number, from: DeviceName, to: DeviceName): number {
    if (from === to) return 0;
    const link = this.links[`${from}->${to}`] ?? this.links[`${to}->${from}`];
    if (!link)
      throw new WiregradError(
        `CostModel has no link '${from}->${to}'; add it to links to place across these devices`,
      );
    return link.latencySeconds + bytes / link.bytesPerSecond;
  }
}

/**
 * The FLOPs and bytes of one op: its registered `cost()`, or one FLOP per output element and
 * the bytes of its operands and result. Views move no data and cost nothing.
 */
export function estimateOpCost(
  op: string,
  inputs: readonly TensorMeta[],
  output: TensorMeta,
  attrs: object,
): OpCost {
  const def = getOp(op);
  if (def.view) return { flops: 0, bytes: 0 };
  if (def.cost) return def.cost(inputs, output, attrs);
  const bytes = (m: TensorMeta): number => sizeOf(m.shape) * bytesPerElement(m.dtype);
  return {
    flops: sizeOf(output.shape),
    bytes: inputs.reduce((sum, m) => sum + bytes(m), bytes(output)),
  };
}

// ---- measuring ----------------------------------------------------------------------------

const measured = new Map<string, Promise<CostModel>>();

/** Median wall seconds of `fn` (awaited, so GPU work has finished) over `repeats` runs. */
async function timeIt(fn: () => Promise<void>, repeats: number): Promise<number> {
  await fn(); // warm-up: compiles pipelines, fills buffer pools
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await fn();
    times.push((performance.now() - start) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Runs `make`, reads the result back (waiting for the device) and frees it. */
async function settle(make: () => Tensor): Promise<void> {
  const t = tidy(make);
  await t.data();
  t.dispose();
}

/**
 * The time left to a kernel once a fixed part is taken off. Timings are noisy; the result is
 * never under a tenth of the whole, so a rate stays finite and plausible when the kernel hides
 * in the noise of the fixed part.
 */
const beyond = (total: number, fixed: number): number => Math.max(total - fixed, total / 10);

const CHAIN = 8;

/** A device's costs, and the time of one tiny op with its read back (for the links). */
async function measureDevice(device: DeviceName): Promise<DeviceCost & { readback: number }> {
  const opts = { device, dtype: 'f32' as const };
  const n = 128;
  const a = rand([n, n], { ...opts, seed: 1 });
  const b = rand([n, n], { ...opts, seed: 2 });
  const big = rand([1 << 16], { ...opts, seed: 3 });
  const tiny = full([4], 1, opts);
  const chain = (length: number) => () =>
    settle(() => {
      let t = tiny;
      for (let i = 0; i < length; i++) t = t.add(tiny);
      return t;
    });
  try {
    // Reading a result back (a GPU buffer map) costs far more than launching a kernel, and a
    // plan reads back only at transfers: the launch cost is the slope of a chain of tiny ops.
    const readback = await timeIt(chain(1), 5);
    const launch = Math.max((await timeIt(chain(CHAIN), 5)) - readback, 0) / (CHAIN - 1);
    const matmul = await timeIt(() => settle(() => a.matmul(b)), 3);
    const add = await timeIt(() => settle(() => big.add(big)), 3);
    return {
      readback,
      launchSeconds: launch,
      flopsPerSecond: (2 * n * n * n) / beyond(matmul, readback),
      bytesPerSecond: (3 * big.shape[0]! * 4) / beyond(add, readback),
    };
  } finally {
    for (const t of [a, b, big, tiny]) t.dispose();
  }
}

/** A link's costs; `readback` is the destination's (reading the copy proves it arrived). */
async function measureLink(
  from: DeviceName,
  dest: DeviceName,
  readback: number,
): Promise<LinkCost> {
  const small = full([4], 1, { device: from, dtype: 'f32' });
  const large = rand([1 << 16], { device: from, dtype: 'f32', seed: 4 });
  const move = (t: Tensor) => async () => {
    const moved = await to(t, dest);
    await moved.data();
    moved.dispose();
  };
  try {
    const small4 = await timeIt(move(small), 5);
    const bulk = await timeIt(move(large), 3);
    return {
      latencySeconds: beyond(small4, readback),
      bytesPerSecond: (large.shape[0]! * 4) / beyond(bulk, small4),
    };
  } finally {
    small.dispose();
    large.dispose();
  }
}

/**
 * The cost model of the initialised devices, measured once (well under a second of
 * micro-kernels per device and link, more on SwiftShader) and cached for the same set of devices; `refresh`
 * measures again.
 */
export function measureCostModel(options: { refresh?: boolean } = {}): Promise<CostModel> {
  const names = availableBackends().map((b) => b.device);
  const key = names.join(',');
  let model = measured.get(key);
  if (!model || options.refresh) {
    model = (async () => {
      const devices: Partial<Record<DeviceName, DeviceCost>> = {};
      const readbacks = new Map<DeviceName, number>();
      const links: Partial<Record<LinkName, LinkCost>> = {};
      for (const d of names) {
        const { readback, ...cost } = await measureDevice(d);
        devices[d] = cost;
        readbacks.set(d, readback);
      }
      for (const from of names)
        for (const dest of names)
          if (from !== dest)
            links[`${from}->${dest}`] = await measureLink(from, dest, readbacks.get(dest)!);
      return new CostModel({ devices, links });
    })();
    measured.set(key, model);
    // A failed measurement is not cached, so the next call tries again.
    model.catch(() => measured.delete(key));
  }
  return model;
}
