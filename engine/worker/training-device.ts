/**
 * The devices a training session in the worker may use. WebGPU is initialised in the worker
 * itself (`navigator.gpu` of a dedicated worker) the first time a session asks for it, within a
 * time limit, and kept; a lost device is initialised again on the next ask. When WebGPU cannot
 * be had, the session trains on the CPU and `note` says why in words for the Train panel. The
 * 'auto' policy also needs the measured cost model, measured once.
 */

import type { DeviceName } from '../backend/backend.js';
import { type WebGPUBackend, initWebGPU } from '../backend/webgpu/index.js';
import { type CostModel, measureCostModel } from '../placement/cost-model.js';
import type { PlacementPolicy } from '../placement/place.js';

/** What a session is placed with. */
export interface TrainingDevices {
  /** The policy the session applies (the CPU when WebGPU was asked for but is missing). */
  readonly policy: PlacementPolicy;
  /** Whether nodes pinned to WebGPU may stay there. */
  readonly webgpu: boolean;
  readonly costModel?: CostModel;
  /** Why the session does not run where it was asked to, or null. */
  readonly note: string | null;
}

const ADAPTER_TIMEOUT_MS = 5000;
const HINT =
  'Chromium needs WebGPU enabled (a GPU driver, or --enable-unsafe-webgpu for its software ' +
  'renderer)';

let gpu: Promise<WebGPUBackend> | null = null;

/** The worker's WebGPU backend, initialised once (again after a lost device). */
async function webgpuBackend(): Promise<WebGPUBackend> {
  const current = gpu;
  if (current) {
    const backend = await current.catch(() => null);
    if (backend && backend.lostReason === null) return backend;
    if (gpu === current) gpu = null;
  }
  const starting = (gpu ??= initWebGPU(undefined, { timeoutMs: ADAPTER_TIMEOUT_MS, hint: HINT }));
  // A failure is not kept: the next session asks again.
  starting.catch(() => {
    if (gpu === starting) gpu = null;
  });
  return starting;
}

/** Whether a session under `policy`, with these pins, wants WebGPU. */
export function wantsWebGPU(
  policy: PlacementPolicy,
  pins: Readonly<Record<string, DeviceName>>,
): boolean {
  return policy !== 'cpu' || Object.values(pins).includes('webgpu');
}

/** Nodes pinned to WebGPU in a graph document (plain data, unchecked). */
export function webgpuPins(graphJSON: unknown): Record<string, DeviceName> {
  const nodes = (graphJSON as { nodes?: unknown } | null)?.nodes;
  const pins: Record<string, DeviceName> = {};
  if (Array.isArray(nodes))
    for (const n of nodes as { id?: unknown; device?: unknown }[])
      if (typeof n?.id === 'string' && n.device === 'webgpu') pins[n.id] = 'webgpu';
  return pins;
}

/** The last preparation's answer for each policy. */
const prepared = new Map<PlacementPolicy, TrainingDevices>();

/**
 * Initialises what `policy` and `pins` need; never throws for a missing GPU (see `note`). The
 * answer is also kept for `preparedTrainingDevices`.
 */
export async function prepareTrainingDevices(
  policy: PlacementPolicy,
  pins: Readonly<Record<string, DeviceName>>,
): Promise<TrainingDevices> {
  let answer: TrainingDevices;
  if (!wantsWebGPU(policy, pins)) answer = { policy, webgpu: false, note: null };
  else {
    try {
      await webgpuBackend();
      answer =
        policy === 'auto'
          ? { policy, webgpu: true, costModel: await measureCostModel(), note: null }
          : { policy, webgpu: true, note: null };
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      answer = {
        policy: 'cpu',
        webgpu: false,
        note:
          'WebGPU is not available, so training runs on the CPU. ' +
          `${reason.charAt(0).toUpperCase()}${reason.slice(1)}`,
      };
    }
  }
  prepared.set(policy, answer);
  return answer;
}

/**
 * What the last `prepareTrainingDevices(policy, …)` found, or, before any, `policy` as asked
 * (its devices must then be initialised by the caller).
 */
export function preparedTrainingDevices(policy: PlacementPolicy): TrainingDevices {
  return prepared.get(policy) ?? { policy, webgpu: true, note: null };
}
