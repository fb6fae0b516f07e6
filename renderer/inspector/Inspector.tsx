/**
 * The inspector: for the selected node, its op's description, output shape, parameter count,
 * problems with their fixes, and editable fields: a layer's configuration (features, channels,
 * kernel …) or an op's attributes, each validated by its kind before it becomes a `setAttr` or
 * `setLayerConfig` command. With nothing selected it summarises the model and lists every
 * problem, each a link to its node.
 */

import { useEffect, useMemo, useState } from 'react';
import type { AttrInfo } from '../../engine/protocol/messages.js';
import {
  useAnalysis,
  useCatalog,
  useDocumentState,
  useEditor,
  useSelection,
} from '../app/context.js';
import { useProblems, useShapeText } from '../canvas/OpNode.js';
import { formatCount, formatShape } from '../canvas/format.js';
import { TONE_GLYPHS } from '../canvas/tones.js';
import { fixesFor } from '../state/diagnostics.js';
import type { AttrValueJSON, EditorDocument, NodeJSON } from '../state/document.js';
import { sizeOfShape } from '../state/graph-edit.js';
import { type LayerConfig, readLayer } from '../state/layers.js';
import type { ViewNode } from '../state/view.js';
import { formatAttrInput, parseAttrInput } from './attr-input.js';
import { DevicePin } from './DevicePin.js';

/** Nodes whose values come from outside (data, weights): they compute nothing to place. */
const SOURCE_OPS = new Set(['input', 'parameter', 'constant']);

/**
 * Trainable values of a canvas node: its parameter members' element counts (state marked
 * `trainable: false`, such as batch norm's running statistics, is not counted, as PyTorch).
 */
export function parameterCount(doc: EditorDocument, members: readonly string[]): number {
  const wanted = new Set(members);
  let total = 0;
  for (const node of doc.graph.nodes)
    if (
      wanted.has(node.id) &&
      node.op === 'parameter' &&
      node.attrs.trainable !== false &&
      Array.isArray(node.attrs.shape)
    )
      total += sizeOfShape(node.attrs.shape as number[]);
  return total;
}

/** A text field that commits on Enter or blur, and shows why a value is refused. */
function Field({
  label,
  value,
  hint,
  testId,
  parse,
  onCommit,
}: {
  label: string;
  value: string;
  hint?: string | undefined;
  testId: string;
  parse: (
    text: string,
  ) => { ok: true; value: AttrValueJSON | undefined } | { ok: false; error: string };
  onCommit: (value: AttrValueJSON | undefined) => void;
}) {
  const [text, setText] = useState(value);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setText(value);
    setError(null);
  }, [value]);
  const commit = (): void => {
    if (text === value) return setError(null);
    const parsed = parse(text);
    if (!parsed.ok) return setError(parsed.error);
    setError(null);
    onCommit(parsed.value);
  };
  return (
    <label className={`wg-field${error ? ' has-error' : ''}`}>
      <span className="wg-field__label" title={hint}>
        {label}
      </span>
      <input
        className="wg-field__input"
        data-testid={testId}
        value={text}
        placeholder={hint ? 'default' : ''}
        spellCheck={false}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit();
          if (e.key === 'Escape') {
            setText(value);
            setError(null);
          }
        }}
      />
      {error && <span className="wg-field__error">{error}</span>}
    </label>
  );
}

function ChoiceField({
  label,
  value,
  choices,
  optional,
  testId,
  onCommit,
}: {
  label: string;
  value: string;
  choices: readonly string[];
  optional: boolean;
  testId: string;
  onCommit: (value: AttrValueJSON | undefined) => void;
}) {
  return (
    <label className="wg-field">
      <span className="wg-field__label">{label}</span>
      <select
        className="wg-field__input"
        data-testid={testId}
        value={value}
        onChange={(e) => onCommit(e.target.value === '' ? undefined : e.target.value)}
      >
        {optional && <option value="">default</option>}
        {choices.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    </label>
  );
}

const DTYPES = ['f32', 'i32', 'bool'];

function AttrEditor({ node, name, spec }: { node: NodeJSON; name: string; spec: AttrInfo }) {
  const editor = useEditor();
  const value = node.attrs[name];
  const commit = (v: AttrValueJSON | undefined) =>
    editor.run('setAttr', { node: node.id, name, value: v });
  const testId = `inspector-attr-${name}`;
  if (spec.kind === 'bool')
    return (
      <ChoiceField
        label={name}
        value={value === undefined ? '' : String(value)}
        choices={['true', 'false']}
        optional={spec.optional ?? false}
        testId={testId}
        onCommit={(v) => commit(v === undefined ? undefined : v === 'true')}
      />
    );
  if (spec.kind === 'dtype' || spec.choices)
    return (
      <ChoiceField
        label={name}
        value={typeof value === 'string' ? value : ''}
        choices={spec.choices ?? DTYPES}
        optional={spec.optional ?? false}
        testId={testId}
        onCommit={commit}
      />
    );
  const batchAsN = node.op === 'input' && name === 'shape';
  return (
    <Field
      label={name}
      value={formatAttrInput(value, { batchAsN })}
      hint={spec.doc}
      testId={testId}
      parse={(text) => parseAttrInput(spec, text, { batchAsN })}
      onCommit={commit}
    />
  );
}

const LAYER_FIELDS: Readonly<Record<LayerConfig['kind'], readonly (readonly [string, string])[]>> =
  {
    linear: [
      ['inFeatures', 'in features'],
      ['outFeatures', 'out features'],
    ],
    conv2d: [
      ['inChannels', 'in channels'],
      ['outChannels', 'out channels'],
      ['kernelSize', 'kernel size'],
      ['stride', 'stride'],
      ['padding', 'padding'],
    ],
    layerNorm: [['features', 'features']],
    embedding: [
      ['numEmbeddings', 'vocabulary'],
      ['embeddingDim', 'dimension'],
    ],
    batchNorm: [['features', 'channels']],
  };

function LayerEditor({ view }: { view: ViewNode }) {
  const editor = useEditor();
  const doc = useDocumentState((s) => s.doc);
  const config = useMemo(() => readLayer(doc, view.id)?.config, [doc, view.id]);
  if (!config)
    return <div className="wg-muted">A group from a file: its nodes are edited in code.</div>;
  const record = config as unknown as Record<string, number>;
  return (
    <>
      {LAYER_FIELDS[config.kind].map(([key, label]) => (
        <Field
          key={key}
          label={label}
          value={String(record[key])}
          testId={`inspector-layer-${key}`}
          parse={(text) => {
            const n = Number(text.trim());
            const min = key === 'padding' ? 0 : 1;
            return Number.isInteger(n) && n >= min
              ? { ok: true, value: n }
              : { ok: false, error: `a whole number ≥ ${min}` };
          }}
          onCommit={(v) =>
            editor.run('setLayerConfig', {
              group: view.id,
              config: { ...config, [key]: v } as LayerConfig,
            })
          }
        />
      ))}
    </>
  );
}

/** What a layer does, in PyTorch's terms (its output op's doc would describe only one part). */
const LAYER_DOCS: Readonly<Record<string, string>> = {
  Linear: 'y = x·Wᵀ + b, as torch.nn.Linear: weight [out, in] and bias [out], uniform ±1/√in.',
  Conv2d: '2-D convolution of [N, C, H, W] plus a bias per output channel, as torch.nn.Conv2d.',
  LayerNorm: 'Normalises the last dimension, then scales by weight and shifts by bias.',
  BatchNorm1d:
    'Normalises each channel of [N, C] or [N, C, L] with batch statistics while training and ' +
    'running statistics in evaluation, then scales and shifts, as torch.nn.BatchNorm1d.',
  BatchNorm2d:
    'Normalises each channel of [N, C, H, W] with batch statistics while training and running ' +
    'statistics in evaluation, then scales and shifts, as torch.nn.BatchNorm2d.',
};

function NodeInspector({ view }: { view: ViewNode }) {
  const editor = useEditor();
  const doc = useDocumentState((s) => s.doc);
  const info = useCatalog((c) => c.byName.get(view.op));
  const check = useAnalysis((a) => a.check);
  const shape = useShapeText(view.output);
  const dtype = useAnalysis((a) => a.check?.shapes[view.output]?.dtype);
  const all = useProblems(view.id);
  const problems = all.filter((p) => p.severity === 'error');
  const node = doc.graph.nodes.find((n) => n.id === view.output);
  const params = parameterCount(doc, view.members);
  const fixes = problems.length > 0 ? fixesFor(view, doc, check) : [];
  return (
    <div className="wg-inspector__content" data-testid="inspector">
      <div className={`wg-inspector__head tone-${view.tone}`}>
        <span className="wg-node__glyph">{TONE_GLYPHS[view.tone]}</span>
        <div>
          <div className="wg-inspector__title">{view.title}</div>
          <div className="wg-inspector__id">{view.id}</div>
        </div>
      </div>
      <p className="wg-inspector__doc">
        {(view.kind === 'layer' ? LAYER_DOCS[view.title] : undefined) ?? info?.doc}
      </p>
      <dl className="wg-facts">
        <dt>Output</dt>
        <dd className="wg-mono" data-testid="inspector-shape">
          {shape ?? '—'} {dtype && <span className="wg-muted">{dtype}</span>}
        </dd>
        {params > 0 && (
          <>
            <dt>Parameters</dt>
            <dd className="wg-mono" data-testid="inspector-params">
              {formatCount(params)}
            </dd>
          </>
        )}
      </dl>
      {problems.length > 0 && (
        <div className="wg-inspector__problems">
          {problems.map((p, i) => (
            <div key={i} className="wg-problem">
              {p.message}
            </div>
          ))}
          {fixes.map((fix) => (
            <button
              key={fix.label}
              type="button"
              className="wg-fix"
              onClick={() => editor.applyFix(fix)}
            >
              {fix.label}
            </button>
          ))}
        </div>
      )}
      {view.kind === 'layer' ? (
        <section className="wg-inspector__section">
          <h3>Layer</h3>
          <LayerEditor view={view} />
          {view.params.map((p) => (
            <div key={p.id} className="wg-param wg-param--wide">
              <span className="wg-param__name">{p.label}</span>
              <span className="wg-param__shape">{formatShape(p.shape)}</span>
            </div>
          ))}
        </section>
      ) : (
        node &&
        info &&
        Object.keys(info.attrs).length > 0 && (
          <section className="wg-inspector__section">
            <h3>Attributes</h3>
            {Object.entries(info.attrs).map(([name, spec]) => (
              <AttrEditor key={name} node={node} name={name} spec={spec} />
            ))}
          </section>
        )
      )}
      {!SOURCE_OPS.has(view.op) && <DevicePin view={view} />}
      {view.ports.length > 0 && (
        <section className="wg-inspector__section">
          <h3>Inputs</h3>
          {view.ports.map((port, i) => (
            <div key={i} className="wg-param wg-param--wide">
              <span className="wg-param__name">{port.name}</span>
              <span className={port.source ? 'wg-param__shape' : 'wg-muted'}>
                {port.source || (port.optional ? 'optional' : 'not connected')}
              </span>
            </div>
          ))}
        </section>
      )}
    </div>
  );
}

function ModelSummary() {
  const editor = useEditor();
  const doc = useDocumentState((s) => s.doc);
  const view = useDocumentState((s) => s.view);
  const problems = useAnalysis((a) => a.problems);
  const params = parameterCount(
    doc,
    doc.graph.nodes.map((n) => n.id),
  );
  const all = [...problems].flatMap(([id, ps]) => ps.map((p) => ({ id, ...p })));
  const list = all.filter((p) => p.severity === 'error');
  const open = all.length - list.length;
  return (
    <div className="wg-inspector__content">
      <div className="wg-inspector__title">{doc.graph.name ?? 'Untitled model'}</div>
      {typeof doc.graph.meta?.description === 'string' && (
        <p className="wg-inspector__doc">{doc.graph.meta.description}</p>
      )}
      <dl className="wg-facts">
        <dt>Nodes</dt>
        <dd className="wg-mono">{view.nodes.length}</dd>
        <dt>Parameters</dt>
        <dd className="wg-mono" data-testid="model-params">
          {formatCount(params)}
        </dd>
        <dt>Outputs</dt>
        <dd className="wg-mono">{doc.graph.outputs.map((o) => o.name).join(', ') || '—'}</dd>
      </dl>
      <section className="wg-inspector__section">
        <h3>
          Problems {list.length > 0 && <span className="wg-count is-error">{list.length}</span>}
        </h3>
        {list.length === 0 ? (
          <div className="wg-muted">
            {view.nodes.length === 0
              ? 'Nothing yet.'
              : open > 0
                ? 'No errors so far.'
                : 'Every shape fits.'}
          </div>
        ) : (
          list.map((p, i) => (
            <button
              key={i}
              type="button"
              className="wg-problem is-link"
              onClick={() => p.id && editor.select([p.id])}
            >
              <span className="wg-mono">{p.id || 'document'}</span> {p.message}
            </button>
          ))
        )}
      </section>
      {open > 0 && (
        <p className="wg-muted wg-inspector__tip">
          {open} input{open === 1 ? '' : 's'} not connected yet.
        </p>
      )}
      <p className="wg-muted wg-inspector__tip">Select a node to edit it.</p>
    </div>
  );
}

export function Inspector() {
  const selected = useSelection((s) => s.nodes);
  const view = useDocumentState((s) =>
    selected.length === 1 ? s.view.byId.get(selected[0]!) : undefined,
  );
  return (
    <aside className="wg-inspector" aria-label="Inspector">
      <div className="wg-panel-title">Inspector</div>
      {view ? (
        <NodeInspector key={view.id} view={view} />
      ) : selected.length > 1 ? (
        <div className="wg-inspector__content">
          <div className="wg-inspector__title">{selected.length} nodes selected</div>
          <p className="wg-muted">Delete, copy or drag them together.</p>
        </div>
      ) : (
        <ModelSummary />
      )}
    </aside>
  );
}
