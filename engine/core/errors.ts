/**
 * Errors for people. Every engine error says what went wrong and where: the op, and when the
 * failing call belongs to a graph, the node id, so that the UI can point at it.
 */

export interface ErrorSite {
  /** The op being run or checked, e.g. `matmul`. */
  op?: string;
  /** The graph node id, when the error comes from a graph. */
  node?: string;
}

export class WiregradError extends Error {
  readonly op: string | undefined;
  readonly node: string | undefined;
  constructor(message: string, site: ErrorSite = {}) {
    const where = [site.node ? `node '${site.node}'` : '', site.op ? `op '${site.op}'` : '']
      .filter((s) => s !== '')
      .join(', ');
    super(where ? `${where}: ${message}` : message);
    this.name = new.target.name;
    this.op = site.op;
    this.node = site.node;
  }
}

/** Shapes that do not fit together (broadcasting, matmul inner dimensions, reshape sizes …). */
export class ShapeError extends WiregradError {}

/** An operand of a dtype the op does not accept. */
export class DTypeError extends WiregradError {}

/** A malformed or inconsistent graph document, an unknown op, a dangling edge. */
export class GraphError extends WiregradError {}

/** A tensor used after `dispose()` or after the `tidy` scope that owned it ended. */
export class DisposedError extends WiregradError {}

/** A NaN or Inf produced from finite inputs, reported at its origin. */
export class NumericsError extends WiregradError {}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A byte count for people: 1.5 KB, 256 GB (powers of 1024, written KB/MB/GB/TB). */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} bytes` : `${Number(v.toPrecision(3))} ${units[u]}`;
}
