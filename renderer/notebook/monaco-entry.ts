/**
 * The notebook's code editor: Monaco with its editor features, TypeScript colouring and the
 * TypeScript language service, bundled locally as `notebook-editor.js` (with
 * `notebook-editor.css`, its icon font, and the `editor.worker.js` and `ts.worker.js` workers
 * next to it), so it works offline and in Electron. The main bundle loads it on demand
 * (monaco-loader.ts) the first time a code cell shows.
 *
 * The engine's public API is given to the language service as declarations
 * (`wiregrad-api.js`, written at build time) and a global `wg`, so `wg.` completes and type
 * errors show in cells. Each code cell is its own model (a script file, so names declared by one
 * cell are known in the others, as in the kernel); diagnostics that the kernel's rules make
 * wrong (a name redeclared by a later cell, top-level `await`) are not shown.
 */

// First: Monaco reads its environment while its modules load.
import './monaco-environment.js';
import * as monaco from 'monaco-editor/editor/editor.api.js';
import 'monaco-editor/features/register.all.js';
import 'monaco-editor/languages/definitions/typescript/register.js';
import 'monaco-editor/languages/definitions/markdown/register.js';
import * as tsLanguage from 'monaco-editor/languages/features/typescript/register.js';

/** TypeScript diagnostics the notebook's semantics make wrong. */
const IGNORED_DIAGNOSTICS = [
  2451, // Cannot redeclare block-scoped variable: a later cell may redeclare a name.
  2300, // Duplicate identifier (same reason).
  2393, // Duplicate function implementation (same reason).
  1375, // 'await' at top level needs a module: cells run as modules.
  1378, // Top-level 'await' needs module/target options: cells run as modules.
];

const ts = tsLanguage.typescriptDefaults;
ts.setCompilerOptions({
  target: tsLanguage.ScriptTarget.ESNext,
  module: tsLanguage.ModuleKind.ESNext,
  moduleResolution: tsLanguage.ModuleResolutionKind.NodeJs,
  lib: ['es2023'],
  strict: true,
  noEmit: true,
  allowNonTsExtensions: true,
});
ts.setDiagnosticsOptions({
  noSemanticValidation: false,
  noSyntaxValidation: false,
  diagnosticCodesToIgnore: IGNORED_DIAGNOSTICS,
});
ts.setEagerModelSync(true);

monaco.editor.defineTheme('wiregrad-dark', {
  base: 'vs-dark',
  inherit: true,
  rules: [],
  colors: {
    'editor.background': '#0d1014',
    'editor.lineHighlightBackground': '#171c24',
    'editorGutter.background': '#0d1014',
    'editorLineNumber.foreground': '#6b7587',
  },
});

// What cells have besides `wg` and the language: the kernel's console and timers (no DOM).
ts.addExtraLib(
  [
    '/** Prints under the cell. */',
    'declare const console: {',
    '  log(...values: unknown[]): void;',
    '  info(...values: unknown[]): void;',
    '  warn(...values: unknown[]): void;',
    '  error(...values: unknown[]): void;',
    '  debug(...values: unknown[]): void;',
    '};',
    'declare function setTimeout(handler: () => void, ms?: number): number;',
    'declare function clearTimeout(id: number | undefined): void;',
  ].join('\n'),
  'file:///node_modules/@types/wiregrad-console/index.d.ts',
);

/** What wiregrad-api.js exports: the engine's declaration files by path. */
interface ApiTypes {
  readonly files: Readonly<Record<string, string>>;
}

let apiTypes: Promise<void> | null = null;

/**
 * Adds the engine's declarations (wiregrad-api.js, loaded once) and the global `wg`.
 * Without the file (a build without it), cells still edit; `wg` is then typed loosely.
 */
function loadApiTypes(): Promise<void> {
  const url = new URL('./wiregrad-api.js', import.meta.url).href;
  apiTypes ??= (import(/* @vite-ignore */ url) as Promise<{ default: ApiTypes }>)
    .then(({ default: { files } }) => {
      for (const [path, text] of Object.entries(files))
        ts.addExtraLib(text, `file:///node_modules/wiregrad/${path}`);
      ts.addExtraLib(
        [
          "import type * as api from 'wiregrad';",
          'declare global {',
          '  /** The Wiregrad engine: tensors, ops, autodiff, nn, optim, data. */',
          '  const wg: typeof api;',
          '  namespace wg {',
          '    type Tensor = api.Tensor;',
          '    type DType = api.DType;',
          '    type Shape = api.Shape;',
          '    type Graph = api.Graph;',
          '    type GraphJSON = api.GraphJSON;',
          '  }',
          '  /** A line chart under the cell: numbers, {x, y} points, a 1-D tensor, or named lines. */',
          '  function plot(',
          '    data: PlotData | Record<string, PlotData>,',
          '    options?: { title?: string; xLabel?: string; yLabel?: string; name?: string },',
          "  ): { readonly kind: 'chart' };",
          '  type PlotData = readonly number[] | api.Tensor | readonly { x: number; y: number }[];',
          '  /** An image under the cell from values in 0..1: [H, W] grey or [C, H, W], C = 1 or 3. */',
          '  function image(',
          '    data: api.Tensor | readonly (readonly number[])[],',
          '    options?: { title?: string },',
          "  ): { readonly kind: 'image' };",
          '  /** A progress bar, done of total (0 ≤ done ≤ total): display(progress(i, n), "train"). */',
          '  function progress(',
          '    done: number,',
          '    total: number,',
          '    info?: { title?: string; metrics?: Record<string, number | api.Tensor> },',
          "  ): { readonly kind: 'progress' };",
          '  /** Shows a value under the cell now; a later display with the same id replaces it. */',
          '  function display(value: unknown, id?: string): void;',
          '}',
          'export {};',
        ].join('\n'),
        'file:///node_modules/@types/wiregrad-notebook/index.d.ts',
      );
      ts.addExtraLib(
        '{"name": "wiregrad", "types": "index.d.ts"}',
        'file:///node_modules/wiregrad/package.json',
      );
    })
    .catch((error: unknown) => {
      console.warn('The engine API types could not be loaded:', error);
      ts.addExtraLib(
        'declare const wg: any; declare function plot(...a: any[]): any; declare function image(...a: any[]): any; declare function progress(...a: any[]): any; declare function display(...a: any[]): void;',
        'file:///node_modules/@types/wiregrad-loose/index.d.ts',
      );
    });
  return apiTypes;
}

export interface CodeEditorOptions {
  readonly value: string;
  readonly language: 'typescript' | 'markdown';
  /** A stable name for the cell's model (its id). */
  readonly name: string;
  readonly readOnly?: boolean;
  readonly onChange: (value: string) => void;
  /** Shift+Enter. */
  readonly onRun: () => void;
  /** Ctrl/⌘+Enter. */
  readonly onRunInPlace?: () => void;
  /** Called with the number of error markers whenever they change. */
  readonly onMarkers?: (errors: number, firstMessage: string | null) => void;
  readonly onFocus?: () => void;
  /** Escape. */
  readonly onEscape?: () => void;
}

export interface CodeEditorHandle {
  setValue(value: string): void;
  setReadOnly(readOnly: boolean): void;
  /** Shows an error at a line (from a run), or clears it with null. */
  setRunError(line: number | null, message?: string): void;
  focus(): void;
  dispose(): void;
}

const LINE_HEIGHT = 19;

/** Creates an editor in `container`, which grows with its content. */
export function createCodeEditor(
  container: HTMLElement,
  options: CodeEditorOptions,
): CodeEditorHandle {
  if (options.language === 'typescript') void loadApiTypes();
  const uri = monaco.Uri.parse(
    `file:///notebook/${options.name}.${options.language === 'typescript' ? 'ts' : 'md'}`,
  );
  monaco.editor.getModel(uri)?.dispose();
  const model = monaco.editor.createModel(options.value, options.language, uri);
  const editor = monaco.editor.create(container, {
    model,
    theme: 'wiregrad-dark',
    automaticLayout: true,
    minimap: { enabled: false },
    scrollBeyondLastLine: false,
    scrollbar: { alwaysConsumeMouseWheel: false, vertical: 'hidden', verticalScrollbarSize: 0 },
    overviewRulerLanes: 0,
    lineNumbersMinChars: 3,
    lineHeight: LINE_HEIGHT,
    fontSize: 13,
    fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
    renderLineHighlight: 'line',
    folding: false,
    glyphMargin: false,
    padding: { top: 6, bottom: 6 },
    tabSize: 2,
    readOnly: options.readOnly ?? false,
    fixedOverflowWidgets: true,
    wordWrap: options.language === 'markdown' ? 'on' : 'off',
    // A textarea, which the app's shortcuts recognise as a text field (EditContext is not).
    editContext: false,
  });
  const resize = () => {
    const height = Math.max(editor.getContentHeight(), LINE_HEIGHT + 12);
    container.style.height = `${height}px`;
    editor.layout();
  };
  resize();
  const subscriptions = [
    editor.onDidContentSizeChange(resize),
    model.onDidChangeContent(() => options.onChange(model.getValue())),
    editor.onDidFocusEditorText(() => options.onFocus?.()),
    monaco.editor.onDidChangeMarkers((uris) => {
      if (!uris.some((u) => u.toString() === uri.toString())) return;
      const errors = monaco.editor
        .getModelMarkers({ resource: uri })
        .filter((m) => m.severity === monaco.MarkerSeverity.Error && m.owner !== 'wiregrad-run');
      options.onMarkers?.(errors.length, errors[0]?.message ?? null);
    }),
  ];
  editor.addAction({
    id: 'wiregrad.runCell',
    label: 'Run cell',
    keybindings: [monaco.KeyMod.Shift | monaco.KeyCode.Enter],
    run: () => options.onRun(),
  });
  editor.addAction({
    id: 'wiregrad.runCellInPlace',
    label: 'Run cell and stay in it',
    keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter],
    run: () => options.onRunInPlace?.(),
  });
  editor.addAction({
    id: 'wiregrad.leaveCell',
    label: 'Leave cell',
    keybindings: [monaco.KeyCode.Escape],
    precondition: '!suggestWidgetVisible && !findWidgetVisible',
    run: () => options.onEscape?.(),
  });
  return {
    setValue(value) {
      if (model.getValue() !== value) model.setValue(value);
    },
    setReadOnly(readOnly) {
      editor.updateOptions({ readOnly });
    },
    setRunError(line, message) {
      monaco.editor.setModelMarkers(
        model,
        'wiregrad-run',
        line === null || line < 1 || line > model.getLineCount()
          ? []
          : [
              {
                severity: monaco.MarkerSeverity.Error,
                message: message ?? 'error',
                startLineNumber: line,
                endLineNumber: line,
                startColumn: model.getLineFirstNonWhitespaceColumn(line) || 1,
                endColumn: model.getLineMaxColumn(line),
              },
            ],
      );
    },
    focus() {
      editor.focus();
    },
    dispose() {
      for (const s of subscriptions) s.dispose();
      editor.dispose();
      model.dispose();
    },
  };
}
