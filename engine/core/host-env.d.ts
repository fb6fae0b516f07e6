/**
 * The standard non-DOM globals that engine core may use, present in every host the engine runs
 * in (Node, browser main thread, workers, Electron). Engine core compiles with lib ES2023 and no
 * types, which lack these. Anything host-specific (files, workers, WebGPU adapters) is passed
 * in by the host instead of being declared here.
 *
 * Only engine/tsconfig.json includes this file. @types/node declares some of the same names
 * with other types (`performance`, `TextEncoder`), so a program with Node types cannot include
 * it, and does not need to. Keep each declaration a subset of lib.dom's and @types/node's, so
 * code that compiles here compiles in those programs too.
 */

interface Console {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  debug(...data: unknown[]): void;
  time(label?: string): void;
  timeEnd(label?: string): void;
}
declare var console: Console;

interface Performance {
  /** Milliseconds since `timeOrigin`, monotonic, sub-millisecond where the host allows it. */
  now(): number;
  readonly timeOrigin: number;
}
declare var performance: Performance;

declare function queueMicrotask(callback: () => void): void;

/** Opaque: a number in browsers, a Timeout object in Node. Store it as `ReturnType<typeof setTimeout>`. */
interface TimerHandle {
  readonly __timerHandle: never;
}
declare function setTimeout(handler: () => void, timeout?: number): TimerHandle;
declare function clearTimeout(handle: TimerHandle | undefined): void;

/** Deep copy by the HTML structured clone algorithm (what postMessage uses). */
declare function structuredClone<T>(value: T, options?: { transfer?: ArrayBuffer[] }): T;

interface TextEncoder {
  readonly encoding: string;
  encode(input?: string): Uint8Array<ArrayBuffer>;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
declare var TextEncoder: {
  prototype: TextEncoder;
  new (): TextEncoder;
};

interface TextDecoder {
  readonly encoding: string;
  readonly fatal: boolean;
  decode(input?: ArrayBuffer | ArrayBufferView, options?: { stream?: boolean }): string;
}
declare var TextDecoder: {
  prototype: TextDecoder;
  new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }): TextDecoder;
};

/** For cancelling long requests (training runs, imports). */
interface AbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  throwIfAborted(): void;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
interface AbortController {
  readonly signal: AbortSignal;
  abort(reason?: unknown): void;
}
declare var AbortController: {
  prototype: AbortController;
  new (): AbortController;
};
