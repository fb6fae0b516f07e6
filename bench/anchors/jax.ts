/**
 * jax-js anchor (Wasm device, jitted), in this process. jax-js arrays are consumed by each
 * call (move semantics): `.ref` keeps an array alive for another use.
 */

import { timeIt } from '../harness.js';

type Jax = typeof import('@jax-js/jax');
let jaxModule: Jax | null = null;

async function jax(): Promise<Jax> {
  if (jaxModule) return jaxModule;
  const g = globalThis as { navigator?: object };
  g.navigator ??= {};
  const mod = await import('@jax-js/jax');
  await mod.init('wasm');
  mod.defaultDevice('wasm');
  jaxModule = mod;
  return mod;
}

export async function jaxMatmulMs(n: number): Promise<number> {
  const { numpy: np, random, jit } = await jax();
  const key = random.key(0);
  const [k1, k2] = random.split(key, 2) as unknown as [never, never];
  const a = random.uniform(k1, [n, n]);
  const b = random.uniform(k2, [n, n]);
  const mm = jit((x: InstanceType<Jax['Array']>, y: InstanceType<Jax['Array']>) => np.matmul(x, y));
  const t = await timeIt(async () => {
    const c = mm(a.ref, b.ref);
    await c.data();
  });
  a.dispose();
  b.dispose();
  return t.medianMs;
}

export async function jaxMlpStepMs(sizes: readonly number[], batch: number): Promise<number> {
  const { numpy: np, random, jit, valueAndGrad, nn, tree } = await jax();
  type Arr = InstanceType<Jax['Array']>;
  let key = random.key(1);
  const next = (): never => {
    const [a, b] = random.split(key, 2) as unknown as [never, never];
    key = a;
    return b;
  };
  let params: Arr[] = [];
  for (let i = 0; i < sizes.length - 1; i++) {
    const bound = 1 / Math.sqrt(sizes[i]!);
    params.push(
      random.uniform(next(), [sizes[i]!, sizes[i + 1]!], { minval: -bound, maxval: bound }),
    );
    params.push(random.uniform(next(), [sizes[i + 1]!], { minval: -bound, maxval: bound }));
  }
  const x = random.uniform(next(), [batch, sizes[0]!]);
  const labels = nn.oneHot(
    np.array(
      Int32Array.from({ length: batch }, (_, i) => (i * 7) % sizes[sizes.length - 1]!),
      {
        dtype: np.int32,
      },
    ),
    sizes[sizes.length - 1]!,
  );
  const loss = (p: Arr[], xb: Arr, yb: Arr): Arr => {
    let h = xb;
    for (let i = 0; i < p.length; i += 2) {
      h = np.matmul(h, p[i]!).add(p[i + 1]!);
      if (i + 2 < p.length) h = nn.relu(h);
    }
    return nn
      .logSoftmax(h)
      .mul(yb)
      .sum()
      .mul(-1 / batch);
  };
  const step = jit((p: Arr[], xb: Arr, yb: Arr) => {
    const [l, g] = valueAndGrad(loss)(tree.ref(p), xb, yb) as unknown as [Arr, Arr[]];
    const updated = p.map((w, i) => w.sub(g[i]!.mul(0.01)));
    return [l, updated] as const;
  });
  const t = await timeIt(async () => {
    const [l, updated] = step(params, x.ref, labels.ref) as unknown as [Arr, Arr[]];
    params = updated;
    await l.data();
  });
  tree.dispose(params);
  x.dispose();
  labels.dispose();
  return t.medianMs;
}
