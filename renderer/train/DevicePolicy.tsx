/**
 * The Train panel's device choice and what it says about it. The policy select offers the CPU,
 * WebGPU and auto (each node where a measured cost model says it finishes first); WebGPU and
 * auto are offered once this browser has shown it can give WebGPU an adapter (asked once,
 * within a time limit), and say why not otherwise. The note under it reports what the engine
 * worker did: the reason it fell back to the CPU, or the transfers a mixed placement makes.
 */

import { useEffect, useState } from 'react';
import { formatBytes } from '../canvas/transfers.js';
import type { DevicePolicy } from '../state/training.js';
import { useTraining } from './context.js';

/** Whether this browser gives WebGPU an adapter. */
export type WebGPUAvailability =
  | { readonly state: 'checking' }
  | { readonly state: 'available' }
  | { readonly state: 'unavailable'; readonly reason: string };

const PROBE_TIMEOUT_MS = 5000;

interface GpuLike {
  requestAdapter(): Promise<unknown>;
}

let probe: Promise<WebGPUAvailability> | null = null;

/** Asks for a WebGPU adapter once per page (the worker asks again for its own). */
export function probeWebGPU(): Promise<WebGPUAvailability> {
  probe ??= (async (): Promise<WebGPUAvailability> => {
    const gpu = (globalThis.navigator as unknown as { gpu?: GpuLike } | undefined)?.gpu;
    if (!gpu) return { state: 'unavailable', reason: 'this browser has no WebGPU (navigator.gpu)' };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), PROBE_TIMEOUT_MS);
    });
    try {
      const adapter = await Promise.race([gpu.requestAdapter(), timeout]);
      if (adapter === 'timeout')
        return {
          state: 'unavailable',
          reason: `no WebGPU adapter answered within ${PROBE_TIMEOUT_MS / 1000} s`,
        };
      if (!adapter)
        return {
          state: 'unavailable',
          reason: 'no WebGPU adapter (no GPU driver, or WebGPU is disabled in this browser)',
        };
      return { state: 'available' };
    } catch (e) {
      return { state: 'unavailable', reason: e instanceof Error ? e.message : String(e) };
    } finally {
      clearTimeout(timer);
    }
  })();
  return probe;
}

/** The probe's answer, 'checking' until it comes. */
export function useWebGPUAvailability(): WebGPUAvailability {
  const [availability, setAvailability] = useState<WebGPUAvailability>({ state: 'checking' });
  useEffect(() => {
    let live = true;
    void probeWebGPU().then((a) => {
      if (live) setAvailability(a);
    });
    return () => {
      live = false;
    };
  }, []);
  return availability;
}

const GPU_SUFFIX: Readonly<Record<WebGPUAvailability['state'], string>> = {
  checking: ' (checking…)',
  available: '',
  unavailable: ' (unavailable)',
};

/** The `device-policy` select. */
export function DevicePolicySelect({
  value,
  gpu,
  onChange,
}: {
  value: DevicePolicy;
  gpu: WebGPUAvailability;
  onChange: (policy: DevicePolicy) => void;
}) {
  const off = gpu.state !== 'available';
  return (
    <select
      className="wg-train__input"
      data-testid="device-policy"
      value={value}
      title={gpu.state === 'unavailable' ? `WebGPU: ${gpu.reason}` : undefined}
      onChange={(e) => onChange(e.target.value as DevicePolicy)}
    >
      <option value="cpu">cpu</option>
      <option value="webgpu" disabled={off}>
        webgpu{GPU_SUFFIX[gpu.state]}
      </option>
      <option value="auto" disabled={off}>
        auto{GPU_SUFFIX[gpu.state]}
      </option>
    </select>
  );
}

const POLICY_TEXT: Readonly<Record<DevicePolicy, string>> = {
  cpu: 'Training runs on the CPU in the engine worker.',
  webgpu: 'Training runs on WebGPU in the engine worker; losses are read back asynchronously.',
  auto: 'Each node runs where a measured cost model says it finishes first, CPU or WebGPU.',
};

/** What the device choice means, and what the engine did with it. */
export function DeviceNote({ policy, gpu }: { policy: DevicePolicy; gpu: WebGPUAvailability }) {
  const note = useTraining((s) => s.progress?.deviceNote ?? null);
  const transfers = useTraining((s) => s.progress?.transfers ?? null);
  const bytes = transfers?.reduce((sum, t) => sum + t.bytes, 0) ?? 0;
  return (
    <>
      {note !== null && (
        <p className="wg-train__device-note" data-testid="device-note">
          {note}
        </p>
      )}
      <p className="wg-train__note" data-testid="device-policy-note">
        {POLICY_TEXT[policy]}
        {gpu.state === 'unavailable' &&
          policy === 'cpu' &&
          note === null &&
          ` WebGPU is unavailable: ${gpu.reason}.`}
        {' Pin a node with Run on in the inspector.'}
        {transfers !== null && transfers.length > 0 && (
          <span className="wg-train__transfers" data-testid="device-transfers">
            {' '}
            {transfers.length} transfer edge{transfers.length === 1 ? '' : 's'},{' '}
            {formatBytes(bytes)} per step forward.
          </span>
        )}
      </p>
    </>
  );
}
