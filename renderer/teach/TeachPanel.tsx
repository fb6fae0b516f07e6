/**
 * The Learn tab: the autodiff teacher for the graph on the canvas. Step Forward evaluates one
 * node at a time; Step Backward walks the nodes in reverse topological order. For the current
 * step the panel shows the gradient rule in words and maths (rules.ts), the op's inputs and
 * output with their numbers, and, going backward, the upstream gradient, each contribution
 * where a value feeds several consumers with their sum, and the input gradients the rule
 * produces. Play steps on a timer; clicking a canvas node jumps to it. Keys: → step, ← back,
 * Space play or pause. Lessons (state/lessons.ts) open from the list at the bottom.
 */

import { useEffect } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { TeachState, TensorData } from '../../engine/protocol/messages.js';
import { useDocumentState, useEditor } from '../app/context.js';
import { LESSONS } from '../state/lessons.js';
import { useLearn, useTeaching } from './context.js';
import { formatShape, valueRows } from './format.js';
import { FAMILY_LABELS, gradientRule, substitution } from './rules.js';
import type { Teaching } from './teaching.js';
import './teach.css';

type Current = NonNullable<TeachState['current']>;

/** A value as a number (scalars) or a small grid of rows, with its shape. */
function Value({ value, testId }: { value: TensorData; testId?: string }) {
  const { rows, hidden } = valueRows(value);
  // A matrix's columns are as wide as their widest number, so small ones fit the panel.
  const matrix =
    rows.length > 1 ? { gridTemplateColumns: `repeat(${rows[0]?.length ?? 1}, auto)` } : undefined;
  if (value.shape.length === 0)
    return (
      <span className="wg-learn__num" data-testid={testId}>
        {rows[0]?.[0]}
      </span>
    );
  return (
    <span className="wg-learn__tensor" data-testid={testId}>
      <span className="wg-learn__shape">{formatShape(value.shape)}</span>
      <span
        className={`wg-learn__grid${rows.length > 1 ? ' is-matrix' : ''}`}
        data-testid={testId ? `${testId}-grid` : undefined}
        style={matrix}
      >
        {rows.map((row, i) => (
          <span key={i} className="wg-learn__row">
            {row.map((v, j) => (
              <span key={j} className="wg-learn__cell">
                {v}
              </span>
            ))}
          </span>
        ))}
        {hidden > 0 && <span className="wg-learn__more">… {hidden} more</span>}
      </span>
    </span>
  );
}

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="wg-learn__line">
      <span className="wg-learn__label" title={label}>
        {label}
      </span>
      <span className="wg-learn__value">{children}</span>
    </div>
  );
}

function Rule({ op }: { op: string }) {
  const rule = gradientRule(op);
  return (
    <section className="wg-learn__section" data-testid="teach-rule">
      <h3>
        Gradient rule · <span className="wg-learn__family">{FAMILY_LABELS[rule.family]}</span>
      </h3>
      <div className="wg-math">{rule.forward}</div>
      <p className="wg-learn__words">{rule.words}</p>
      <div className="wg-math wg-math--block">
        {rule.maths.map((line) => (
          <div key={line}>{line}</div>
        ))}
      </div>
    </section>
  );
}

/** The number of a scalar value, else null. */
const scalar = (v: TensorData | null | undefined): number | null =>
  v && v.shape.length === 0 ? (v.values[0] ?? null) : null;

function StepCard({ current, labelOf }: { current: Current; labelOf: (id: string) => string }) {
  const g = current.gradient;
  const scalarInputs = current.inputs.every((i) => i.value.shape.length === 0)
    ? current.inputs.map((i) => i.value.values[0]!)
    : null;
  const out = current.label;
  return (
    <div className="wg-learn__step" data-testid="teach-step" data-step={current.id}>
      <div className="wg-learn__step-head">
        <span className="wg-learn__op">{current.op}</span>
        <span className="wg-learn__step-title" data-testid="teach-current">
          {current.label}
        </span>
        {current.group !== undefined && current.group !== current.label && (
          <span className="wg-learn__group" title="Part of this node’s decomposition">
            in {current.group}
          </span>
        )}
      </div>
      {current.doc && <p className="wg-learn__doc">{current.doc}</p>}
      <section className="wg-learn__section">
        <h3>Forward</h3>
        {current.inputs.map((input, i) => (
          <Row key={`${input.id}:${i}`} label={input.label}>
            <Value value={input.value} />
          </Row>
        ))}
        <Row label={`${out} (output)`}>
          <Value value={current.output} testId="teach-output" />
        </Row>
      </section>
      {g && (
        <section className="wg-learn__section" data-testid="teach-gradients">
          <h3>Backward</h3>
          {g.contributions.length > 1 ? (
            <>
              <p className="wg-learn__words">
                {out} feeds {g.contributions.length} consumers; its gradient is the sum of what each
                sends back:
              </p>
              {g.contributions.map((c, i) => (
                <Row key={`${c.from}:${c.inputIndex}:${i}`} label={`from ${labelOf(c.from)}`}>
                  <Value value={c.value} />
                </Row>
              ))}
              <Row label={`∂L/∂${out} (sum)`}>
                <Value value={g.sum ?? g.upstream} testId="teach-upstream" />
              </Row>
            </>
          ) : (
            <Row label={`∂L/∂${out}${g.contributions.length === 0 ? ' (seed: 1)' : ''}`}>
              <Value value={g.upstream} testId="teach-upstream" />
            </Row>
          )}
          {g.kind === 'leaf' ? (
            <p className="wg-learn__words">
              {out} is a leaf: this is its complete gradient, the value backward() leaves in its
              .grad.
            </p>
          ) : (
            <>
              <h4>Input gradients it produces</h4>
              {g.inputGradients.map((ig) => {
                const numbers = substitution(
                  current.op,
                  ig.index,
                  scalarInputs,
                  scalar(current.output),
                  scalar(g.upstream),
                  scalar(ig.value),
                );
                return (
                  <Row key={`${ig.input}:${ig.index}`} label={`∂L/∂${labelOf(ig.input)}`}>
                    {ig.value ? (
                      <span
                        className="wg-learn__produced"
                        data-testid={`teach-input-grad-${ig.index}`}
                      >
                        <Value value={ig.value} />
                        {ig.accumulated &&
                          ig.accumulated.values.some((v, k) => v !== ig.value!.values[k]) && (
                            <span className="wg-learn__total">
                              total so far <Value value={ig.accumulated} />
                            </span>
                          )}
                      </span>
                    ) : (
                      <span className="wg-learn__none">none (a constant or label)</span>
                    )}
                    {numbers && (
                      <div
                        className="wg-math wg-learn__subst"
                        data-testid={`teach-numbers-${ig.index}`}
                      >
                        = {numbers}
                      </div>
                    )}
                  </Row>
                );
              })}
            </>
          )}
        </section>
      )}
      <Rule op={current.op} />
    </div>
  );
}

const PHASE_TEXT: Record<TeachState['phase'], string> = {
  start: 'Ready',
  forward: 'Forward pass',
  backward: 'Backward pass',
  done: 'Done',
};

function inTextField(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
}

/** → / ← / Space while a lesson is on (capture phase, so canvas nodes do not move too). */
function useTeachKeys(teaching: Teaching | null, active: boolean): void {
  useEffect(() => {
    if (!active || !teaching) return;
    const onKey = (event: KeyboardEvent) => {
      if (inTextField(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === 'ArrowRight') void teaching.next();
      else if (event.key === 'ArrowLeft') void teaching.back();
      else if (event.key === ' ') teaching.togglePlay();
      else return;
      event.preventDefault();
      event.stopPropagation();
    };
    // A focused button would also take Space as a click, on key up.
    const onKeyUp = (event: KeyboardEvent) => {
      if (event.key === ' ' && !inTextField(event.target)) event.preventDefault();
    };
    window.addEventListener('keydown', onKey, true);
    window.addEventListener('keyup', onKeyUp, true);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      window.removeEventListener('keyup', onKeyUp, true);
    };
  }, [teaching, active]);
}

export function TeachPanel() {
  const learn = useLearn();
  const editor = useEditor();
  const { status, problem, state, lesson, playing, graph } = useTeaching(
    useShallow((s) => ({
      status: s.status,
      problem: s.problem,
      state: s.state,
      lesson: s.lesson,
      playing: s.playing,
      graph: s.graph,
    })),
  );
  const currentGraph = useDocumentState((s) => s.doc.graph);
  const teaching = learn?.teaching ?? null;
  useTeachKeys(teaching, status === 'teaching');
  if (!teaching) return null;
  const teachingNow = status === 'teaching' && state !== null;
  const labelOf = (id: string): string => lesson?.forward.find((s) => s.id === id)?.label ?? id;
  const stale = teachingNow && graph !== currentGraph;
  const done = state?.phase === 'done';
  const inBackward = state !== null && state.cursor > state.forwardSteps;

  return (
    <div className="wg-learn">
      <div className="wg-panel-title">Autodiff teacher</div>
      <p className="wg-learn__intro">
        Evaluate the graph one node at a time, then walk back through it applying the chain rule,
        with the same numbers <code>backward()</code> computes.
      </p>
      <div className="wg-learn__buttons">
        <button
          type="button"
          className={`wg-button${teachingNow ? '' : ' is-primary'}`}
          data-testid="teach-start"
          disabled={status === 'starting'}
          onClick={() => void teaching.start()}
        >
          {teachingNow ? '↺ Restart' : status === 'starting' ? 'Starting…' : '▶ Teach this graph'}
        </button>
        {teachingNow && (
          <button
            type="button"
            className="wg-button"
            data-testid="teach-stop"
            onClick={() => teaching.stop()}
          >
            ■ End
          </button>
        )}
      </div>
      {teachingNow && (
        <>
          <div className="wg-learn__buttons" role="toolbar" aria-label="Teacher steps">
            <button
              type="button"
              className="wg-button"
              data-testid="teach-back"
              title="Undo the last step (←)"
              disabled={state.cursor === 0}
              onClick={() => void teaching.back()}
            >
              ◀ Undo step
            </button>
            <button
              type="button"
              className="wg-button is-primary"
              data-testid="teach-forward"
              title="Forward pass: evaluate the next node (→ while going forward)"
              disabled={state.cursor >= state.forwardSteps}
              onClick={() => void teaching.forward()}
            >
              Forward step ▶
            </button>
            <button
              type="button"
              className="wg-button is-primary"
              data-testid="teach-backward"
              title="Backward pass: the gradient through the next node, in reverse order (→ after the forward pass)"
              disabled={done}
              onClick={() => void teaching.backward()}
            >
              Backward step ▶
            </button>
            <button
              type="button"
              className="wg-button"
              data-testid="teach-play"
              title="Play or pause (Space)"
              disabled={done && !playing}
              onClick={() => teaching.togglePlay()}
            >
              {playing ? '❚❚ Pause' : '▶ Play'}
            </button>
          </div>
          <div className="wg-learn__progress" data-testid="teach-progress">
            <span>{PHASE_TEXT[state.phase]}</span>
            <span className="wg-learn__count">
              {inBackward
                ? `backward ${state.cursor - state.forwardSteps} of ${state.total - state.forwardSteps}`
                : `forward ${state.cursor} of ${state.forwardSteps}`}
            </span>
          </div>
          <div className="wg-train__bar">
            <div
              className="wg-train__bar-fill"
              style={{ width: `${(state.cursor / Math.max(1, state.total)) * 100}%` }}
            />
          </div>
        </>
      )}
      {problem && (
        <p className="wg-train__problem" role="alert" data-testid="teach-problem">
          {problem}
        </p>
      )}
      {stale && (
        <p className="wg-train__problem" data-testid="teach-stale">
          The graph changed since this lesson started: the numbers below are for the graph as it
          was. Restart to teach it as it is now.
        </p>
      )}
      <div className="wg-learn__panel" data-testid="teach-panel" aria-live="polite">
        {teachingNow && state.current ? (
          <StepCard current={state.current} labelOf={labelOf} />
        ) : teachingNow ? (
          <p className="wg-learn__words">
            Press Forward step (or →) to evaluate the first node. Click a node on the canvas to jump
            to it.
          </p>
        ) : null}
      </div>
      {teachingNow && (
        <p className="wg-learn__keys">
          → next step · ← undo step · Space play/pause · click a node to jump
        </p>
      )}
      <div className="wg-panel-title">Lessons</div>
      <div className="wg-learn__lessons">
        {LESSONS.map((l) => (
          <button
            key={l.name}
            type="button"
            className="wg-menu__item"
            data-testid={`lesson-${l.name}`}
            onClick={() => {
              editor.load(l.build(), `Open lesson ${l.label}`);
              void teaching.start();
            }}
          >
            <span className="wg-menu__label">{l.label}</span>
            <span className="wg-menu__hint">{l.description}</span>
          </button>
        ))}
      </div>
    </div>
  );
}
