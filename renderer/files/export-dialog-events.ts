/**
 * How the rest of the app opens File → Export… and starts File → Import ONNX…: window events
 * that the one mounted export/import component (export-dialog.tsx) listens for, so actions
 * (toolbar, shortcut, desktop menu) need no reference to it.
 */

export const OPEN_EXPORT_EVENT = 'wiregrad:open-export';
export const IMPORT_ONNX_EVENT = 'wiregrad:import-onnx';

export function requestExport(target: EventTarget = window): void {
  target.dispatchEvent(new CustomEvent(OPEN_EXPORT_EVENT));
}

export function requestOnnxImport(target: EventTarget = window): void {
  target.dispatchEvent(new CustomEvent(IMPORT_ONNX_EVENT));
}
