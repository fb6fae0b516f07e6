/**
 * File → Export… and File → Import ONNX…. The export dialog picks a target (ONNX, a PyTorch
 * project, TypeScript), has the engine worker export the canvas graph, and saves the result
 * through the host (renderer/files/export-save.ts); problems (an op a target lacks, named with
 * its node) stay in the dialog. Import asks for an `.onnx` file, has the worker import it, and
 * opens it as the canvas graph (undoable); ops Wiregrad lacks import as placeholders, and a
 * report names them. Both are started by window events (export-dialog-events.ts), so the
 * toolbar, the keyboard shortcut and the desktop menu all reach the one mounted component.
 */

import { useCallback, useEffect, useRef, useState } from 'react';
import { useStore } from 'zustand';
import type { EngineClient } from '../../engine/protocol/client.js';
import type { ExportTargetName, OnnxImportSummary } from '../../engine/protocol/messages.js';
import type { Files } from '../app/files.js';
import { useEditor } from '../app/context.js';
import type { Host } from '../host/host.js';
import type { Training } from '../state/training.js';
import { documentFromFile } from '../state/document.js';
import {
  EXPORT_TARGET_INFO,
  ONNX_KIND,
  exportStem,
  openBytes,
  packageExport,
  saveBytes,
  targetInfo,
} from './export-save.js';
import { IMPORT_ONNX_EVENT, OPEN_EXPORT_EVENT } from './export-dialog-events.js';

/** Closes on Escape wherever focus is (a disabled button drops it), before the app's shortcuts. */
function useEscape(onClose: () => void): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      event.stopPropagation();
      event.preventDefault();
      onClose();
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [onClose]);
}

type ExportState =
  | { readonly phase: 'idle' }
  | { readonly phase: 'running' }
  | { readonly phase: 'done'; readonly name: string; readonly warnings: readonly string[] }
  | { readonly phase: 'failed'; readonly message: string };

/** The worker's message without the client's "engine: " prefix. */
function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/^engine: /, '');
}

function ExportDialog({
  client,
  host,
  training,
  onClose,
}: {
  client: EngineClient;
  host: Host;
  training: Training;
  onClose: () => void;
}) {
  const editor = useEditor();
  const [target, setTarget] = useState<ExportTargetName>('onnx');
  const trainedStep = useStore(training.store, (s) => s.progress?.step ?? 0);
  const loaded = useStore(training.store, (s) => s.weights);
  // Trained in this session, or loaded from a file (a notebook's weights, an ONNX model's).
  const hasTrained = trainedStep > 0 || loaded !== null;
  const [useTrained, setUseTrained] = useState(hasTrained);
  const [state, setState] = useState<ExportState>({ phase: 'idle' });
  const first = useRef<HTMLButtonElement>(null);
  useEffect(() => first.current?.focus(), []);
  useEscape(onClose);

  const run = async () => {
    setState({ phase: 'running' });
    try {
      const graph = editor.doc.graph;
      const weights =
        useTrained && target !== 'typescript' ? (training.exportWeights() ?? 'initial') : 'initial';
      const { files, warnings } = await client.exportGraph(graph, target, weights);
      const file = packageExport(target, exportStem(graph.name), files);
      const saved = await saveBytes(host, file.bytes, file.name, targetInfo(target).kind);
      if (!saved) return setState({ phase: 'idle' });
      setState({ phase: 'done', name: saved.name, warnings });
    } catch (error) {
      setState({ phase: 'failed', message: messageOf(error) });
    }
  };

  return (
    <div
      className="wg-dialog__backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div
        className="wg-dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="wg-export-title"
        data-testid="export-dialog"
      >
        <h2 className="wg-dialog__title" id="wg-export-title">
          Export model
        </h2>
        <div className="wg-dialog__choices" role="radiogroup" aria-label="Export as">
          {EXPORT_TARGET_INFO.map((info, i) => (
            <button
              key={info.target}
              ref={i === 0 ? first : undefined}
              type="button"
              role="radio"
              aria-checked={target === info.target}
              className={`wg-dialog__choice${target === info.target ? ' is-active' : ''}`}
              data-testid={`export-target-${info.target}`}
              onClick={() => {
                setTarget(info.target);
                setState({ phase: 'idle' });
              }}
            >
              <span className="wg-dialog__choice-label">{info.label}</span>
              <span className="wg-dialog__choice-hint">{info.description}</span>
            </button>
          ))}
        </div>
        <label className="wg-dialog__option">
          <input
            type="checkbox"
            data-testid="export-trained"
            checked={useTrained && hasTrained && target !== 'typescript'}
            disabled={!hasTrained || target === 'typescript'}
            onChange={(e) => {
              setUseTrained(e.target.checked);
              setState({ phase: 'idle' });
            }}
          />
          <span>
            {target === 'typescript'
              ? 'TypeScript rebuilds the graph; parameters take their seeded initial values'
              : trainedStep > 0
                ? `Use the trained weights (step ${trainedStep.toLocaleString('en-US')}), else the seeded initial values`
                : loaded !== null
                  ? `Use the weights from ${loaded.name}, else the seeded initial values`
                  : 'Parameters take their seeded initial values (train in the Train tab to export trained weights)'}
          </span>
        </label>
        {state.phase === 'failed' && (
          <p className="wg-dialog__error" role="alert" data-testid="export-error">
            {state.message}
          </p>
        )}
        {state.phase === 'done' && (
          <div className="wg-dialog__done" data-testid="export-status">
            <p>Exported {state.name}</p>
            {state.warnings.length > 0 && (
              <ul className="wg-dialog__warnings">
                {state.warnings.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
            )}
          </div>
        )}
        <div className="wg-dialog__actions">
          <button type="button" className="wg-button" onClick={onClose} data-testid="export-cancel">
            {state.phase === 'done' ? 'Close' : 'Cancel'}
          </button>
          <button
            type="button"
            className="wg-button wg-button--primary"
            data-testid="export-run"
            disabled={state.phase === 'running'}
            onClick={() => void run()}
          >
            {state.phase === 'running' ? 'Exporting…' : `Export ${targetInfo(target).label}`}
          </button>
        </div>
      </div>
    </div>
  );
}

/** What an import made of a file, shown when it is worth a look (placeholders, warnings). */
function ImportReport({
  name,
  report,
  onClose,
}: {
  name: string;
  report: OnnxImportSummary;
  onClose: () => void;
}) {
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => close.current?.focus(), []);
  useEscape(onClose);
  const ops = [...new Set(report.placeholders.map((p) => p.op))];
  return (
    <div className="wg-dialog__backdrop">
      <div
        className="wg-dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="wg-import-title"
        data-testid="import-report"
      >
        <h2 className="wg-dialog__title" id="wg-import-title">
          Imported {name}
        </h2>
        <p className="wg-dialog__text">
          {report.onnxNodes} ONNX nodes (opset {report.opset}
          {report.producer ? `, from ${report.producer}` : ''}) became {report.nodes} nodes with{' '}
          {report.parameters} parameters.
          {report.parameters > 0 &&
            ' The file’s weights are not kept: the parameters start from their initialisers.'}
        </p>
        {ops.length > 0 && (
          <div className="wg-dialog__error" role="alert" data-testid="import-unsupported">
            <p>
              Wiregrad has no op for {ops.map((op) => `'${op}'`).join(', ')}: these nodes are
              placeholders to replace before the model runs.
            </p>
            <ul>
              {report.placeholders.map((p) => (
                <li key={p.node}>
                  <code>{p.node}</code> ({p.op}, ONNX node {p.onnxNode}): {p.reason}
                </li>
              ))}
            </ul>
          </div>
        )}
        {report.warnings.length > 0 && (
          <ul className="wg-dialog__warnings">
            {report.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        )}
        <div className="wg-dialog__actions">
          <button
            ref={close}
            type="button"
            className="wg-button wg-button--primary"
            data-testid="import-report-close"
            onClick={onClose}
          >
            Close
          </button>
        </div>
      </div>
    </div>
  );
}

/** The export dialog and the ONNX import flow, mounted once in the app shell. */
export function ExportImport({
  client,
  host,
  files,
  training,
}: {
  client: EngineClient;
  host: Host;
  files: Files;
  training: Training;
}) {
  const editor = useEditor();
  const [exporting, setExporting] = useState(false);
  const [report, setReport] = useState<{ name: string; report: OnnxImportSummary } | null>(null);

  const closeExport = useCallback(() => setExporting(false), []);
  const closeReport = useCallback(() => setReport(null), []);

  const importOnnx = useCallback(async () => {
    const say = (message: string) => files.state.setState({ message });
    try {
      const opened = await openBytes(host, ONNX_KIND);
      if (!opened) return;
      say(`Importing ${opened.name}…`);
      const imported = await client.importOnnx(opened.bytes, opened.name);
      await editor.whenReady();
      editor.load(documentFromFile(imported.graph), `Import ${opened.name}`);
      // The file's weights become the model's: Save writes them beside the notebook.
      const weightsProblem = imported.weights
        ? await files.adoptWeights(imported.weights, opened.name)
        : null;
      const { placeholders } = imported.report;
      say(
        (placeholders.length === 0
          ? `Imported ${opened.name}: ${imported.report.onnxNodes} ONNX nodes at opset ${imported.report.opset}`
          : `Imported ${opened.name} with ${placeholders.length} unsupported node(s): ` +
            [...new Set(placeholders.map((p) => p.op))].join(', ')) +
          (imported.weights && weightsProblem === null ? ', with its weights' : '') +
          (weightsProblem !== null ? `; ${weightsProblem}` : ''),
      );
      if (placeholders.length > 0 || imported.report.warnings.length > 0)
        setReport({ name: opened.name, report: imported.report });
    } catch (error) {
      say(`Could not import the ONNX file: ${messageOf(error)}`);
    }
  }, [client, editor, files, host]);

  useEffect(() => {
    const onCommand = () => setExporting(true);
    const onImport = () => void importOnnx();
    window.addEventListener(OPEN_EXPORT_EVENT, onCommand);
    window.addEventListener(IMPORT_ONNX_EVENT, onImport);
    return () => {
      window.removeEventListener(OPEN_EXPORT_EVENT, onCommand);
      window.removeEventListener(IMPORT_ONNX_EVENT, onImport);
    };
  }, [importOnnx]);

  return (
    <>
      {exporting && (
        <ExportDialog client={client} host={host} training={training} onClose={closeExport} />
      )}
      {report && <ImportReport name={report.name} report={report.report} onClose={closeReport} />}
    </>
  );
}
