/**
 * PyTorch parity: every registered op (and every composite such as mean, the losses and the
 * normalisations) is run on seeded inputs by Wiregrad and by PyTorch (Debian's python3-torch,
 * float32), comparing forward values and the gradients of sum(out · w) with respect to every
 * float input. Tolerances: rtol 1e-5 with an absolute floor of 1e-6, looser only where a case
 * in cases.ts says why. The test fails, never skips, when PyTorch is missing: CI installs it.
 * It also fails when a registered op has no parity case and is not in the commented EXCLUDED
 * list, so that no new op slips through untested.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../engine/index.js';
import { expectClose } from '../helpers/numeric.js';
import { EXCLUDED, cases } from './cases.js';
import {
  F32,
  type Materialised,
  type ParityCase,
  type Result,
  type TorchCase,
  materialise,
  runTorch,
  runWiregrad,
} from './harness.js';

type Outcome = { result: Result } | { error: string };

const ours = new Map<string, Outcome>();
let torch = new Map<string, Result | { error: string }>();
/** Why PyTorch gave no results at all (python3-torch missing): every case fails with it. */
let torchFailure: string | null = null;

beforeAll(() => {
  const sent: TorchCase[] = [];
  for (const c of cases) {
    const m: Materialised = materialise(c);
    let weights: number[] | null = null;
    try {
      const run = runWiregrad(c, m);
      ours.set(c.id, { result: run.result });
      weights = run.weights;
    } catch (err) {
      ours.set(c.id, { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    }
    sent.push({ id: c.id, op: c.op, attrs: c.attrs, inputs: m.inputs, grad_weights: weights });
  }
  try {
    torch = runTorch(sent);
  } catch (err) {
    torchFailure = err instanceof Error ? err.message : String(err);
  }
}, 60_000);

const isExact = (dtype: string): boolean => dtype === 'i32' || dtype === 'bool';

function compare(c: ParityCase): void {
  if (torchFailure) expect.fail(torchFailure);
  const mine = ours.get(c.id);
  const ref = torch.get(c.id);
  if (!mine || !ref) throw new Error(`no result for '${c.id}' (did beforeAll run?)`);
  if ('error' in ref) expect.fail(`PyTorch could not run the case: ${ref.error}`);
  if ('error' in mine)
    expect.fail(
      `Wiregrad threw where PyTorch gives ${JSON.stringify(ref.outShape)}: ${mine.error}`,
    );
  const { result } = mine;
  expect(result.outShape, 'output shape').toEqual(ref.outShape);
  expect(result.outDType, 'output dtype').toBe(ref.outDType);
  const tol = c.tol ?? F32;
  if (isExact(ref.outDType)) expect(result.out, 'output').toEqual(ref.out);
  else expectClose(result.out, ref.out, tol, 'output');
  const theirs = ref.grads ?? [];
  const mineGrads = result.grads ?? [];
  expect(mineGrads.length, 'number of gradients').toBe(theirs.length);
  theirs.forEach((g, i) => {
    const ourGrad = mineGrads[i];
    if (g === null || ourGrad === null || ourGrad === undefined) {
      expect(ourGrad ?? null, `gradient of input ${i}`).toBe(g);
      return;
    }
    expectClose(ourGrad, g, tol, `gradient of input ${i}`);
  });
}

describe('PyTorch parity', () => {
  it('covers every registered op (or excludes it with a reason)', () => {
    const covered = new Set(cases.map((c) => c.op));
    const missing = wg
      .listOps()
      .map((d) => d.name)
      .filter((name) => !covered.has(name) && !EXCLUDED.has(name));
    expect(
      missing,
      'registered ops with no parity case: add cases to test/parity/cases.ts',
    ).toEqual([]);
    const stale = [...EXCLUDED.keys()].filter((name) => covered.has(name));
    expect(stale, 'ops both excluded and covered: drop them from EXCLUDED').toEqual([]);
  });

  it('compares gradients for every differentiable registered op', () => {
    // A case list that never asks for gradients would pass vacuously; make sure it asks.
    const withGrads = new Set(
      cases.filter((c) => (ours.get(c.id) as { result?: Result })?.result?.grads).map((c) => c.op),
    );
    const untested = wg
      .listOps()
      .filter((d) => (d.gradient || d.decompose) && !EXCLUDED.has(d.name) && !withGrads.has(d.name))
      .map((d) => d.name);
    expect(untested, 'differentiable ops whose gradients no case compares').toEqual([]);
  });

  describe.each([...new Set(cases.map((c) => c.op))])('%s', (op) => {
    it.each(cases.filter((c) => c.op === op).map((c) => [c.id, c] as const))('%s', (_id, c) =>
      compare(c),
    );
  });
});
