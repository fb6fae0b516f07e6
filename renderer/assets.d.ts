/**
 * Module types for non-code files the renderer and its tests import: esbuild and vitest load
 * JSON as data. Its type is unknown, so code that reads it must check what it gets.
 */
declare module '*.json' {
  const value: unknown;
  export default value;
}
