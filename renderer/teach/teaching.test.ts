import { afterEach, describe, expect, it } from 'vitest';
import * as wg from '../../engine/index.js';
import { checkDraftGraph } from '../../engine/worker/check-graph.js';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import type { Editor } from '../state/editor.js';
import { createEditor } from '../state/editor.js';
import { LESSONS, lessonMeta } from '../state/lessons.js';
import { TemplateBuilder } from '../state/templates.js';
import { formatNumber, formatValue } from './format.js';
import { gradientRule, substitution } from './rules.js';
import { MAX_VALUE_SIZE, TEACH_BATCH, planTeaching } from './setup.js';
import { Teaching } from './teaching.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function harness(): Promise<{ editor: Editor; teaching: Teaching }> {
  const client = createInProcessEngineClient();
  const editor = createEditor({ client });
  await editor.whenReady();
  const teaching = new Teaching({ client, editor, playIntervalMs: 5 });
  cleanups.push(() => {
    teaching.dispose();
    editor.dispose();
    client.close();
  });
  return { editor, teaching };
}

const lesson = (name: string) => LESSONS.find((l) => l.name === name)!;
const values = (t: wg.Tensor): number[] => Array.from(t.dataSync());

describe('the Learn tab’s teacher', () => {
  it('steps through tanh(a·b + c) with exactly the numbers backward() gives', async () => {
    const { editor, teaching } = await harness();
    editor.load(lesson('neuron').build(), 'Open lesson');
    await teaching.start();
    const s0 = teaching.store.getState();
    expect(s0.problem).toBeNull();
    expect(s0.status).toBe('teaching');
    expect(s0.state!.phase).toBe('start');

    // The same expression, same inputs (f32, as the lesson declares), through autodiff.
    const inputs = lessonMeta(editor.doc)!.inputs;
    const [a, b, c] = ['a', 'b', 'c'].map((k) =>
      wg.tensor(inputs[k]!.values[0]!, { requiresGrad: true }),
    ) as [wg.Tensor, wg.Tensor, wg.Tensor];
    const ab = a.mul(b);
    const n = ab.add(c);
    const o = n.tanh();
    const [dn] = wg.gradients(o, [n]);
    const [dab] = wg.gradients(o, [ab]);
    o.backward();

    // Forward: one node at a time; the canvas marks follow.
    const seen: string[] = [];
    while (
      teaching.store.getState().state!.cursor < teaching.store.getState().state!.forwardSteps
    ) {
      await teaching.forward();
      const st = teaching.store.getState();
      seen.push(st.state!.current!.id);
      expect(st.marks.get(st.state!.current!.id)?.status).toBe('current');
    }
    expect(seen).toEqual(['a', 'b', 'c', 'ab', 'n', 'o']);
    const fwd = teaching.store.getState();
    expect(fwd.state!.current!.output.values).toEqual(values(o));
    expect(fwd.marks.get('ab')).toEqual({
      status: 'evaluated',
      value: formatNumber(values(ab)[0]!),
      grad: null,
    });

    // Backward: o, n, then ab, the leaves … each with backward()'s numbers.
    const grads: Record<string, number[]> = {
      o: [1],
      n: values(dn!),
      ab: values(dab!),
      a: values(a.grad!),
      b: values(b.grad!),
      c: values(c.grad!),
    };
    const walked: string[] = [];
    for (;;) {
      await teaching.backward();
      const st = teaching.store.getState().state!;
      const cur = st.current!;
      walked.push(cur.id);
      expect(cur.gradient!.upstream.values, cur.id).toEqual(grads[cur.id]);
      if (cur.id === 'ab') {
        expect(cur.gradient!.inputGradients.map((g) => g.value!.values)).toEqual([
          values(a.grad!),
          values(b.grad!),
        ]);
        expect(gradientRule(cur.op).maths).toEqual(['∂L/∂a = ∂L/∂y · b', '∂L/∂b = ∂L/∂y · a']);
        // The rule with the numbers put in ends in the gradient backward() gave.
        const ins = cur.inputs.map((i) => i.value.values[0]!);
        const up = cur.gradient!.upstream.values[0]!;
        const [ga, gb] = cur.gradient!.inputGradients.map((g) => g.value!.values[0]!);
        expect(substitution('mul', 0, ins, cur.output.values[0]!, up, ga!)).toBe(
          `${formatNumber(up)} · (−3) = ${formatNumber(values(a.grad!)[0]!).replace('-', '−')}`,
        );
        expect(substitution('mul', 1, ins, cur.output.values[0]!, up, gb!)).toBe(
          `${formatNumber(up)} · 2 = ${formatNumber(values(b.grad!)[0]!)}`,
        );
      }
      if (cur.id === 'o')
        expect(cur.gradient!.inputGradients[0]!.value!.values).toEqual(values(dn!));
      if (st.phase === 'done') break;
    }
    expect(walked[0]).toBe('o');
    expect(new Set(walked)).toEqual(new Set(Object.keys(grads)));
    // The canvas shows each node's gradient once it is complete.
    expect(teaching.store.getState().marks.get('a')!.grad).toBe(
      formatValue(teaching.store.getState().lesson!.backward.find((s) => s.id === 'a')!.upstream),
    );
    expect(teaching.store.getState().marks.get('a')!.grad).toBe(formatNumber(values(a.grad!)[0]!));
    // The edges are coloured by the completed gradients' norms.
    expect(teaching.store.getState().gradNorms.get('a')).toBe(Math.abs(values(a.grad!)[0]!));

    // Step back undoes one step; a canvas click (selection) jumps to a node.
    await teaching.back();
    expect(teaching.store.getState().state!.phase).toBe('backward');
    editor.select(['ab']);
    await teaching.jump('ab'); // waits for the queued jump the selection started
    expect(teaching.store.getState().state!.current!.id).toBe('ab');
  });

  it('clears the canvas marks once the graph changes, and says so', async () => {
    const { editor, teaching } = await harness();
    editor.load(lesson('neuron').build(), 'Open lesson');
    await teaching.start();
    await teaching.forward();
    expect(teaching.store.getState().marks.size).toBe(1);
    editor.load(lesson('conv').build(), 'Open lesson');
    expect(teaching.store.getState().marks.size).toBe(0);
    await teaching.forward();
    expect(teaching.store.getState().marks.size).toBe(0);
    await teaching.restart();
    expect(teaching.store.getState().lesson!.forward.some((s) => s.op === 'conv2d')).toBe(true);
  });

  it('plays to the end on its timer and pauses there', async () => {
    const { editor, teaching } = await harness();
    editor.load(lesson('neuron').build(), 'Open lesson');
    await teaching.start();
    teaching.play();
    expect(teaching.store.getState().playing).toBe(true);
    await new Promise<void>((resolve) => {
      const off = teaching.store.subscribe((s) => {
        if (s.state?.phase === 'done') {
          off();
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(teaching.store.getState().playing).toBe(false);
  });

  it('refuses a graph too large to show, naming the node, and an empty canvas', async () => {
    const { editor, teaching } = await harness();
    editor.loadTemplate('mlp');
    await teaching.start();
    const { problem, status } = teaching.store.getState();
    expect(status).toBe('idle');
    expect(problem).toMatch(/too large for the teacher: 'fc1\.weight' holds 128 numbers|too large/);
    expect(problem).toContain(`at most ${MAX_VALUE_SIZE}`);
    editor.newDocument();
    await teaching.start();
    expect(teaching.store.getState().problem).toMatch(/canvas is empty/);
  });

  it.each(LESSONS.map((l) => l.name))(
    'lesson %s checks clean, fits the teacher and records forward and backward',
    async (name) => {
      const doc = lesson(name).build();
      const check = checkDraftGraph(doc.graph);
      expect(check.diagnostics).toEqual([]);
      const plan = planTeaching(doc, check);
      if ('problem' in plan) throw new Error(plan.problem);
      const client = createInProcessEngineClient();
      cleanups.push(() => client.close());
      const { lesson: recorded } = await client.startTeaching(
        doc.graph,
        plan.setup.inputs,
        plan.setup.root,
      );
      expect(recorded.forward.length).toBeGreaterThan(3);
      expect(recorded.backward.length).toBeGreaterThan(3);
      // Every input is given by the lesson, so the numbers are the same on every run.
      for (const node of doc.graph.nodes.filter((n) => n.op === 'input'))
        expect(lessonMeta(doc)!.inputs[node.id], node.id).toBeDefined();
    },
  );

  it('the vanishing lesson’s gradient shrinks layer by layer', async () => {
    const doc = lesson('vanishing').build();
    const plan = planTeaching(doc, checkDraftGraph(doc.graph));
    if ('problem' in plan) throw new Error(plan.problem);
    const client = createInProcessEngineClient();
    cleanups.push(() => client.close());
    const { lesson: rec } = await client.startTeaching(doc.graph, plan.setup.inputs, 'loss');
    const norm = (id: string) => {
      const v = rec.backward.find((s) => s.id === rec.nodes[id])!.upstream.values;
      return Math.hypot(...v);
    };
    for (let i = 6; i > 1; i--)
      expect(norm(`sigmoid${i - 1}`), `sigmoid${i - 1}`).toBeLessThan(norm(`sigmoid${i}`));
    expect(norm('sigmoid1')).toBeLessThan(norm('sigmoid6') / 50);
  });

  it('seeds the inputs of a graph without lesson values, the same every time', () => {
    const b = new TemplateBuilder('small');
    const x = b.input('x', [-1, 3], 'f32', 'data');
    const y = b.input('y', [-1], 'i32', 'label');
    const logits = b.linear(x, 3, 2, 'fc');
    b.output('loss', b.op('crossEntropy', [logits, y], {}, 'loss'));
    const doc = b.toDocument({});
    const check = checkDraftGraph(doc.graph);
    const plan = planTeaching(doc, check);
    if ('problem' in plan) throw new Error(plan.problem);
    expect(plan.setup.root).toBe('loss');
    const xs = plan.setup.inputs['x']!;
    expect(xs.shape).toEqual([TEACH_BATCH, 3]);
    for (const v of xs.values) {
      expect(Math.abs(v)).toBeLessThanOrEqual(1);
      expect(Math.round(v * 100) / 100).toBe(v);
    }
    expect(new Set(xs.values).size).toBeGreaterThan(1);
    // Labels are classes of the loss's logits (2 here).
    expect(plan.setup.inputs['y']).toEqual({ shape: [TEACH_BATCH], dtype: 'i32', values: [0, 1] });
    expect(planTeaching(doc, check)).toEqual(plan);
  });
});
