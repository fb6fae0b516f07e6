/**
 * The part of the WebAssembly JS API that the engine uses, for programs that have no DOM lib.
 * TypeScript declares the WebAssembly namespace only in lib.dom and lib.webworker, and
 * @types/node does not declare it at all, so engine core (lib ES2023, no types) and Node-side
 * programs (engine/node, tests) include this file. Programs with the DOM or WebWorker lib
 * (renderer, engine worker) must not include it: they get the full declarations from their lib.
 *
 * Keep it a subset of lib.dom's declarations (same names, parameter types no wider), so that
 * code which compiles here also compiles against lib.dom. Reference: the WebAssembly JS API
 * spec, https://webassembly.github.io/spec/js-api/.
 */

declare namespace WebAssembly {
  /** Bytes of a module: an ArrayBuffer or a view over one (as lib.dom's `BufferSource`). */
  type BufferSource = ArrayBufferView<ArrayBuffer> | ArrayBuffer;

  interface MemoryDescriptor {
    /** Initial size in 64 KiB pages. */
    initial: number;
    /** Maximum size in pages; required when `shared` is true. */
    maximum?: number;
    /** Back the memory with a SharedArrayBuffer (needs cross-origin isolation in browsers). */
    shared?: boolean;
  }

  class Memory {
    constructor(descriptor: MemoryDescriptor);
    /** Detached and replaced on every grow of a non-shared memory: take views afresh. */
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    /** Grows by `delta` pages and returns the previous size in pages. */
    grow(delta: number): number;
  }

  type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'externref' | 'anyfunc';

  interface GlobalDescriptor {
    value: ValueType;
    mutable?: boolean;
  }

  class Global {
    constructor(descriptor: GlobalDescriptor, value?: unknown);
    value: unknown;
    valueOf(): unknown;
  }

  interface TableDescriptor {
    element: 'anyfunc' | 'externref';
    initial: number;
    maximum?: number;
  }

  class Table {
    constructor(descriptor: TableDescriptor, value?: unknown);
    readonly length: number;
    get(index: number): unknown;
    grow(delta: number, value?: unknown): number;
    set(index: number, value?: unknown): void;
  }

  /** An exported or imported function: call sites cast it to its real signature. */
  type ExportedFunction = (...args: never[]) => unknown;
  type ExportValue = ExportedFunction | Global | Memory | Table;
  type Exports = Record<string, ExportValue>;
  type ImportValue = ExportValue | number | bigint;
  type ModuleImports = Record<string, ImportValue>;
  type Imports = Record<string, ModuleImports>;

  type ImportExportKind = 'function' | 'global' | 'memory' | 'table';

  interface ModuleExportDescriptor {
    kind: ImportExportKind;
    name: string;
  }

  interface ModuleImportDescriptor {
    kind: ImportExportKind;
    module: string;
    name: string;
  }

  /** Compiles synchronously; browsers limit synchronous compilation to small modules off-worker. */
  class Module {
    constructor(bytes: BufferSource);
    static exports(moduleObject: Module): ModuleExportDescriptor[];
    static imports(moduleObject: Module): ModuleImportDescriptor[];
    static customSections(moduleObject: Module, sectionName: string): ArrayBuffer[];
  }

  class Instance {
    constructor(module: Module, importObject?: Imports);
    readonly exports: Exports;
  }

  interface WebAssemblyInstantiatedSource {
    instance: Instance;
    module: Module;
  }

  class CompileError extends Error {}
  class LinkError extends Error {}
  class RuntimeError extends Error {}

  /** True if the bytes are a valid module for this engine (used to feature-detect SIMD). */
  function validate(bytes: BufferSource): boolean;
  function compile(bytes: BufferSource): Promise<Module>;
  function instantiate(
    bytes: BufferSource,
    importObject?: Imports,
  ): Promise<WebAssemblyInstantiatedSource>;
  function instantiate(moduleObject: Module, importObject?: Imports): Promise<Instance>;
}
