/**
 * The curve-fitting model of the app's "Regression: fit a curve" template, built with the
 * engine's GraphBuilder (the same ids, layers and seeds as the template, which
 * renderer/state/regression-template.test.ts checks node for node): x [N, 1] → Linear 1→32 →
 * Tanh → Linear 32→32 → Tanh → Linear 32→1, MSE against an f32 label y [N, 1].
 */

import { GraphBuilder } from '../../engine/graph/builder.js';
import type { GraphJSON } from '../../engine/graph/ir.js';

export function curveFitJSON(): GraphJSON {
  const b = new GraphBuilder('Regression: fit a curve');
  const x = b.input('x', [-1, 1], 'f32', 'data');
  const y = b.input('y', [-1, 1], 'f32', 'label');
  let h = b.op('tanh', [b.linear(x, 1, 32, 'fc1')], {}, 'tanh1');
  h = b.op('tanh', [b.linear(h, 32, 32, 'fc2')], {}, 'tanh2');
  const out = b.linear(h, 32, 1, 'fc3');
  b.output('output', out);
  b.output('loss', b.op('mseLoss', [out, y], {}, 'loss'));
  return b.toJSON();
}
