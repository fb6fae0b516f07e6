/**
 * Where an export's files go and where an imported model comes from, through the host adapter:
 * TypeScript as one `.ts` file, ONNX as one `.onnx` file, and a PyTorch project (module,
 * weights, training script, README) as one stored ZIP whose files sit in a folder named after
 * the model. Hosts that cannot save or open binary files themselves get the page's own download
 * and file input (an <a download> and an <input type=file>).
 */

import type { ExportedFile, ExportTargetName } from '../../engine/protocol/messages.js';
import type { FileKind, Host, HostFile, OpenedBytes } from '../host/host.js';
import { zipStore } from './zip.js';

export interface ExportTargetInfo {
  readonly target: ExportTargetName;
  readonly label: string;
  readonly description: string;
  readonly kind: FileKind;
}

export const EXPORT_TARGET_INFO: readonly ExportTargetInfo[] = [
  {
    target: 'onnx',
    label: 'ONNX',
    description: 'model.onnx at opset 17 with the weights, for ONNX Runtime, Netron and others',
    kind: { description: 'ONNX model', mime: 'application/octet-stream', extensions: ['.onnx'] },
  },
  {
    target: 'pytorch',
    label: 'PyTorch',
    description:
      'a zip of model.py (nn.Module), weights.safetensors, train.py (one process or torchrun) ' +
      'and a README',
    kind: { description: 'ZIP archive', mime: 'application/zip', extensions: ['.zip'] },
  },
  {
    target: 'typescript',
    label: 'TypeScript',
    description: 'model.ts, which rebuilds this graph with the Wiregrad engine',
    kind: { description: 'TypeScript', mime: 'text/plain', extensions: ['.ts'] },
  },
];

export const ONNX_KIND: FileKind = EXPORT_TARGET_INFO[0]!.kind;

export function targetInfo(target: ExportTargetName): ExportTargetInfo {
  return EXPORT_TARGET_INFO.find((t) => t.target === target)!;
}

/** A file-name stem for a model name: safe characters, lower case. */
export function exportStem(modelName: string | undefined): string {
  return (
    (modelName ?? 'model')
      .replace(/[^\w.-]+/g, '-')
      .replace(/^-|-$/g, '')
      .toLowerCase() || 'model'
  );
}

/** The one file to save for an export, and its name. */
export function packageExport(
  target: ExportTargetName,
  stem: string,
  files: readonly ExportedFile[],
): { name: string; bytes: Uint8Array } {
  if (target === 'pytorch')
    return {
      name: `${stem}-pytorch.zip`,
      bytes: zipStore(files.map((f) => ({ name: `${stem}/${f.name}`, contents: f.contents }))),
    };
  const file = files[0];
  if (!file || files.length !== 1)
    throw new Error(`the ${target} export made ${files.length} files where one was expected`);
  const bytes =
    typeof file.contents === 'string' ? new TextEncoder().encode(file.contents) : file.contents;
  return { name: `${stem}${targetInfo(target).kind.extensions[0]}`, bytes };
}

/** Offers bytes as a download (the browser's own save). */
export function downloadBytes(bytes: Uint8Array, name: string, mime: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  // Revoke after the click's download has started.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Saves through the host where it can, else as a download; null when the user cancels. */
export async function saveBytes(
  host: Host,
  bytes: Uint8Array,
  name: string,
  kind: FileKind,
): Promise<HostFile | null> {
  if (host.saveBytes) return host.saveBytes(bytes, name, kind);
  downloadBytes(bytes, name, kind.mime);
  return { name };
}

/** Asks for a file through a hidden file input; null when the user cancels. */
function uploadBytes(kind: FileKind): Promise<OpenedBytes | null> {
  return new Promise((resolve, reject) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = kind.extensions.join(',');
    input.addEventListener('change', () => {
      const file = input.files?.[0];
      if (!file) return resolve(null);
      file
        .arrayBuffer()
        .then((buffer) => resolve({ name: file.name, bytes: new Uint8Array(buffer) }), reject);
    });
    input.addEventListener('cancel', () => resolve(null));
    input.click();
  });
}

/** Asks the user for a binary file, through the host where it can. */
export function openBytes(host: Host, kind: FileKind): Promise<OpenedBytes | null> {
  return host.openBytes ? host.openBytes(kind) : uploadBytes(kind);
}
