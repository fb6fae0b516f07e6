/**
 * The gradient rules the teacher explains, one entry per op, grouped in families (elementwise
 * arithmetic, elementwise maths, activations, matmul, reductions, movement, convolution and
 * pooling, losses, sources). Each rule says in words what the op's slope is and why, and in
 * maths how the upstream gradient ∂L/∂y becomes each input's gradient. The maths is plain text
 * (Unicode), drawn in a serif italic face by the panel; no typesetting library is needed.
 */

import { formatNumber } from './format.js';

export type RuleFamily =
  | 'elementwise'
  | 'maths'
  | 'activation'
  | 'matmul'
  | 'reduction'
  | 'movement'
  | 'convolution'
  | 'loss'
  | 'source';

export interface GradientRule {
  readonly family: RuleFamily;
  /** The op's forward definition, e.g. `y = a · b`. */
  readonly forward: string;
  /** The rule in words. */
  readonly words: string;
  /** The rule in maths, one line per input (∂L/∂y is the upstream gradient). */
  readonly maths: readonly string[];
}

export const FAMILY_LABELS: Readonly<Record<RuleFamily, string>> = {
  elementwise: 'Elementwise arithmetic',
  maths: 'Elementwise function',
  activation: 'Activation',
  matmul: 'Matrix product',
  reduction: 'Reduction',
  movement: 'Shape and movement',
  convolution: 'Convolution and pooling',
  loss: 'Loss',
  source: 'Leaf value',
};

const BROADCAST =
  ' Where an input was broadcast, its gradient is summed over the broadcast axes, so it has the input’s shape.';

const rule = (
  family: RuleFamily,
  forward: string,
  words: string,
  ...maths: string[]
): GradientRule => ({ family, forward, words, maths });

const RULES: Readonly<Record<string, GradientRule>> = {
  // ---- elementwise arithmetic ----
  add: rule(
    'elementwise',
    'y = a + b',
    'A sum passes the gradient through unchanged to both inputs: nudging either input by ε nudges y by ε.' +
      BROADCAST,
    '∂L/∂a = ∂L/∂y',
    '∂L/∂b = ∂L/∂y',
  ),
  sub: rule(
    'elementwise',
    'y = a − b',
    'A difference passes the gradient to a unchanged and to b with its sign flipped.' + BROADCAST,
    '∂L/∂a = ∂L/∂y',
    '∂L/∂b = −∂L/∂y',
  ),
  mul: rule(
    'elementwise',
    'y = a · b',
    'A product sends each input the upstream gradient scaled by the other input: the larger b, the more y moves when a moves.' +
      BROADCAST,
    '∂L/∂a = ∂L/∂y · b',
    '∂L/∂b = ∂L/∂y · a',
  ),
  div: rule(
    'elementwise',
    'y = a / b',
    'A quotient sends a the gradient divided by b, and b the gradient times −a/b².' + BROADCAST,
    '∂L/∂a = ∂L/∂y / b',
    '∂L/∂b = −∂L/∂y · a / b²',
  ),
  pow: rule(
    'elementwise',
    'y = aᵇ',
    'A power sends the base b·aᵇ⁻¹ times the gradient, and the exponent ln(a)·aᵇ times it.',
    '∂L/∂a = ∂L/∂y · b · aᵇ⁻¹',
    '∂L/∂b = ∂L/∂y · ln(a) · aᵇ',
  ),
  maximum: rule(
    'elementwise',
    'y = max(a, b)',
    'Only the larger input affected y, so it alone receives the gradient.',
    '∂L/∂a = ∂L/∂y where a ≥ b, else 0',
    '∂L/∂b = ∂L/∂y where b > a, else 0',
  ),
  minimum: rule(
    'elementwise',
    'y = min(a, b)',
    'Only the smaller input affected y, so it alone receives the gradient.',
    '∂L/∂a = ∂L/∂y where a ≤ b, else 0',
    '∂L/∂b = ∂L/∂y where b < a, else 0',
  ),
  neg: rule('elementwise', 'y = −x', 'Negation flips the gradient’s sign.', '∂L/∂x = −∂L/∂y'),
  // ---- elementwise functions ----
  exp: rule(
    'maths',
    'y = eˣ',
    'The exponential is its own slope, so the gradient is scaled by the output itself.',
    '∂L/∂x = ∂L/∂y · eˣ = ∂L/∂y · y',
  ),
  log: rule(
    'maths',
    'y = ln x',
    'The logarithm’s slope is 1/x: small inputs get large gradients.',
    '∂L/∂x = ∂L/∂y / x',
  ),
  sqrt: rule('maths', 'y = √x', 'The square root’s slope is 1/(2√x).', '∂L/∂x = ∂L/∂y / (2y)'),
  abs: rule(
    'maths',
    'y = |x|',
    'The absolute value has slope +1 for positive inputs and −1 for negative ones.',
    '∂L/∂x = ∂L/∂y · sign(x)',
  ),
  // ---- activations ----
  tanh: rule(
    'activation',
    'y = tanh(x)',
    'tanh squashes its input into (−1, 1); its slope is 1 − y², which is 1 at x = 0 and close to 0 where tanh saturates.',
    '∂L/∂x = ∂L/∂y · (1 − y²)',
  ),
  sigmoid: rule(
    'activation',
    'y = σ(x) = 1 / (1 + e⁻ˣ)',
    'The sigmoid’s slope is y·(1 − y), at most 1/4 (at x = 0): every sigmoid a gradient passes through shrinks it at least fourfold, which is why deep sigmoid stacks learn slowly.',
    '∂L/∂x = ∂L/∂y · y · (1 − y)',
  ),
  relu: rule(
    'activation',
    'y = max(x, 0)',
    'ReLU passes the gradient where the input was positive and blocks it where it was not.',
    '∂L/∂x = ∂L/∂y · [x > 0]',
  ),
  leakyRelu: rule(
    'activation',
    'y = x if x > 0, else α·x',
    'Leaky ReLU passes the gradient where the input was positive and α times it elsewhere.',
    '∂L/∂x = ∂L/∂y · (x > 0 ? 1 : α)',
  ),
  gelu: rule(
    'activation',
    'y = x · Φ(x)',
    'GELU weighs its input by the normal distribution’s CDF; its slope is Φ(x) + x·φ(x).',
    '∂L/∂x = ∂L/∂y · (Φ(x) + x · φ(x))',
  ),
  softmax: rule(
    'activation',
    'yᵢ = eˣⁱ / Σⱼ eˣʲ',
    'Each output depends on every input along the axis. The Jacobian is diag(y) − y·yᵀ: the gradient is y times how far each upstream entry is from their y-weighted mean.',
    '∂L/∂xᵢ = yᵢ · (∂L/∂yᵢ − Σⱼ ∂L/∂yⱼ · yⱼ)',
  ),
  logSoftmax: rule(
    'activation',
    'yᵢ = xᵢ − ln Σⱼ eˣʲ',
    'Log-softmax subtracts the log of the normaliser; its gradient removes softmax-weighted total of the upstream gradient.',
    '∂L/∂xᵢ = ∂L/∂yᵢ − softmax(x)ᵢ · Σⱼ ∂L/∂yⱼ',
  ),
  // ---- matmul ----
  matmul: rule(
    'matmul',
    'Y = A · B',
    'Each entry of Y is a dot product of a row of A and a column of B, so A’s gradient is the upstream gradient times Bᵀ and B’s is Aᵀ times the upstream gradient (transposed operands transpose these).',
    '∂L/∂A = ∂L/∂Y · Bᵀ',
    '∂L/∂B = Aᵀ · ∂L/∂Y',
  ),
  // ---- reductions ----
  sum: rule(
    'reduction',
    'y = Σ x over the axes',
    'Every summed element moved y one for one, so each receives the upstream gradient, copied back over the reduced axes.',
    '∂L/∂xᵢ = ∂L/∂y (broadcast back to x’s shape)',
  ),
  max: rule(
    'reduction',
    'y = max x over the axes',
    'Only the largest element set y, so it alone receives the gradient (ties share it).',
    '∂L/∂xᵢ = ∂L/∂y where xᵢ = y, else 0',
  ),
  min: rule(
    'reduction',
    'y = min x over the axes',
    'Only the smallest element set y, so it alone receives the gradient (ties share it).',
    '∂L/∂xᵢ = ∂L/∂y where xᵢ = y, else 0',
  ),
  // ---- movement ----
  reshape: rule(
    'movement',
    'y = x viewed in another shape',
    'Reshaping moves no numbers, so the gradient is reshaped back.',
    '∂L/∂x = reshape(∂L/∂y, shape of x)',
  ),
  transpose: rule(
    'movement',
    'y = x with its axes permuted',
    'Each element just moved, so the gradient moves back with the inverse permutation.',
    '∂L/∂x = transpose(∂L/∂y, inverse permutation)',
  ),
  expand: rule(
    'movement',
    'y = x broadcast to a larger shape',
    'A broadcast value is used many times, so its gradient is the sum of all its copies’ gradients.',
    '∂L/∂x = Σ ∂L/∂y over the broadcast axes',
  ),
  slice: rule(
    'movement',
    'y = a window of x',
    'Elements inside the window get the gradient; elements outside did not affect y and get 0.',
    '∂L/∂x = ∂L/∂y in the window, 0 elsewhere',
  ),
  pad: rule(
    'movement',
    'y = x padded',
    'The padding is constant, so only the original elements receive gradient.',
    '∂L/∂x = ∂L/∂y without the padding',
  ),
  concat: rule(
    'movement',
    'y = [x₁, x₂, …] along an axis',
    'Each input gets its own stretch of the upstream gradient.',
    '∂L/∂xₖ = the slice of ∂L/∂y where xₖ sits',
  ),
  gather: rule(
    'movement',
    'y = x[indices]',
    'Gathered elements receive the gradient; an element gathered twice receives both (scatter-add).',
    '∂L/∂x = scatterAdd(0, indices, ∂L/∂y)',
  ),
  identity: rule('movement', 'y = x', 'The identity passes the gradient through.', '∂L/∂x = ∂L/∂y'),
  cast: rule(
    'movement',
    'y = x in another dtype',
    'A cast passes the gradient through, converted back to the input’s dtype.',
    '∂L/∂x = ∂L/∂y',
  ),
  where: rule(
    'elementwise',
    'y = cond ? a : b',
    'Each output element came from a or from b; that one receives its gradient.',
    '∂L/∂a = ∂L/∂y where cond, else 0',
    '∂L/∂b = ∂L/∂y where not cond, else 0',
  ),
  // ---- convolution and pooling ----
  conv2d: rule(
    'convolution',
    'y = x ⋆ w (cross-correlation)',
    'Each output sums a filter-sized window of x times w. So the input’s gradient is the upstream gradient convolved with the flipped filter (a “full” convolution), and the filter’s gradient is the correlation of the input with the upstream gradient.',
    '∂L/∂x = ∂L/∂y ∗ flip(w)   (full convolution)',
    '∂L/∂w = x ⋆ ∂L/∂y   (correlation over the batch)',
  ),
  maxPool2d: rule(
    'convolution',
    'y = max over each window',
    'Only the largest element of each window set its output, so it alone receives that output’s gradient.',
    '∂L/∂x = ∂L/∂y routed to each window’s arg-max',
  ),
  avgPool2d: rule(
    'convolution',
    'y = mean over each window',
    'Every element of a window counts equally, so each gets the window’s gradient divided by its size.',
    '∂L/∂x = ∂L/∂y / (window size), spread over the window',
  ),
  // ---- losses (composites: the teacher shows their primitive steps) ----
  crossEntropy: rule(
    'loss',
    'L = −(1/N) Σₙ log softmax(zₙ)[yₙ]',
    'Cross-entropy of softmax: the gradient at the logits is the predicted probabilities minus the one-hot target, divided by the batch size.',
    '∂L/∂z = (softmax(z) − onehot(y)) / N',
  ),
  mseLoss: rule(
    'loss',
    'L = (1/n) Σ (x − t)²',
    'Squared error grows with the distance to the target, so its gradient is twice the difference, averaged.',
    '∂L/∂x = 2 (x − t) / n',
  ),
  linear: rule(
    'matmul',
    'y = x · Wᵀ + b',
    'A linear layer is a matrix product plus a bias: the bias gets the upstream gradient summed over the batch.',
    '∂L/∂x = ∂L/∂y · W',
    '∂L/∂W = (∂L/∂y)ᵀ · x',
    '∂L/∂b = Σₙ ∂L/∂y',
  ),
  // ---- sources ----
  input: rule(
    'source',
    'x, an input',
    'A leaf: its gradient is complete once every consumer has sent its contribution, and it is their sum.',
    '∂L/∂x = Σ over consumers c of ∂L/∂x through c',
  ),
  parameter: rule(
    'source',
    'w, a trainable parameter',
    'A leaf: its gradient (the sum of its consumers’ contributions) is what an optimiser uses to update it.',
    '∂L/∂w = Σ over consumers c of ∂L/∂w through c',
  ),
  constant: rule(
    'source',
    'c, a constant',
    'A constant is not trained, so no gradient is kept for it.',
    '—',
  ),
};

/** The rule for `op`, or a generic one naming the op. */
export function gradientRule(op: string): GradientRule {
  return (
    RULES[op] ??
    rule(
      'elementwise',
      `y = ${op}(…)`,
      `The chain rule: each input’s gradient is the upstream gradient times the local derivative of ${op}.`,
      '∂L/∂x = ∂L/∂y · ∂y/∂x',
    )
  );
}

/** Every op with a written rule (for tests and the docs). */
export const RULE_OPS: readonly string[] = Object.keys(RULES);

/** A number inside a formula: negatives in parentheses, so `2 · (−3)` reads right. */
function term(v: number): string {
  const text = formatNumber(v);
  return v < 0 ? `(${text.replace('-', '−')})` : text;
}

/**
 * The rule for input `index` with the step's numbers put in, for scalar steps of the common
 * ops: `∂L/∂y · b = 0.5 · (−3) = −1.5`. The last number is the gradient backward() produced
 * (passed in as `result`), so the line can never disagree with the panel. Null where the op
 * has no such line or a value is not a scalar.
 */
export function substitution(
  op: string,
  index: number,
  inputs: readonly number[] | null,
  output: number | null,
  upstream: number | null,
  result: number | null,
): string | null {
  if (inputs === null || output === null || upstream === null || result === null) return null;
  const u = term(upstream);
  const [a, b] = inputs;
  const y = term(output);
  let middle: string | null = null;
  switch (op) {
    case 'add':
    case 'identity':
      middle = u;
      break;
    case 'sub':
      middle = index === 0 ? u : `−${u}`;
      break;
    case 'neg':
      middle = `−${u}`;
      break;
    case 'mul':
      if (a !== undefined && b !== undefined) middle = `${u} · ${term(index === 0 ? b : a)}`;
      break;
    case 'div':
      if (a !== undefined && b !== undefined)
        middle = index === 0 ? `${u} / ${term(b)}` : `−${u} · ${term(a)} / ${term(b)}²`;
      break;
    case 'tanh':
      middle = `${u} · (1 − ${y}²)`;
      break;
    case 'sigmoid':
      middle = `${u} · ${y} · (1 − ${y})`;
      break;
    case 'relu':
      if (a !== undefined) middle = `${u} · [${term(a)} > 0]`;
      break;
    case 'exp':
      middle = `${u} · ${y}`;
      break;
    case 'log':
      if (a !== undefined) middle = `${u} / ${term(a)}`;
      break;
    default:
      return null;
  }
  if (middle === null) return null;
  return `${middle} = ${formatNumber(result).replace('-', '−')}`;
}
