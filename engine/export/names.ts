/**
 * Readable, valid and unique identifiers for generated code, made from node ids: `fc1.weight`
 * becomes `fc1_weight` in Python and `fc1Weight` in TypeScript. Names the generated code
 * itself uses (keywords, `torch`, `self` …) are reserved; a clash gets a numeric suffix.
 */

export type NameStyle = 'snake' | 'camel';

export const PYTHON_KEYWORDS: readonly string[] = [
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class',
  'continue', 'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if',
  'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try',
  'while', 'with', 'yield', 'match', 'case',
]; // prettier-ignore

/** Python builtins a variable would shadow (legal, but confusing in generated code). */
export const PYTHON_BUILTINS: readonly string[] = [
  'abs', 'all', 'any', 'bool', 'dict', 'dir', 'divmod', 'filter', 'float', 'format', 'hash', 'id',
  'input', 'int', 'iter', 'len', 'list', 'map', 'max', 'min', 'next', 'object', 'open', 'pow',
  'print', 'range', 'repr', 'round', 'set', 'slice', 'sorted', 'str', 'sum', 'tuple', 'type',
  'vars', 'zip',
]; // prettier-ignore

export const TS_KEYWORDS: readonly string[] = [
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do',
  'else', 'enum', 'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import',
  'in', 'instanceof', 'new', 'null', 'return', 'super', 'switch', 'this', 'throw', 'true', 'try',
  'typeof', 'var', 'void', 'while', 'with', 'let', 'static', 'yield', 'await', 'implements',
  'interface', 'package', 'private', 'protected', 'public', 'arguments', 'eval', 'undefined',
]; // prettier-ignore

function words(id: string): string[] {
  return id.split(/[^A-Za-z0-9]+/).filter((w) => w !== '');
}

/** `id` as an identifier in `style`, before making it unique. */
export function identifier(id: string, style: NameStyle): string {
  const parts = words(id);
  let name =
    style === 'snake'
      ? parts.join('_')
      : parts.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
  if (name === '') name = 'value';
  if (/^[0-9]/.test(name)) name = (style === 'snake' ? 'v_' : 'v') + name;
  return name;
}

/** Hands out unique identifiers: the same id gets the same name every time it is asked. */
export class Namer {
  private readonly taken = new Set<string>();
  private readonly given = new Map<string, string>();

  constructor(
    private readonly style: NameStyle,
    reserved: Iterable<string>,
  ) {
    for (const r of reserved) this.taken.add(r);
  }

  name(id: string): string {
    const known = this.given.get(id);
    if (known !== undefined) return known;
    const base = identifier(id, this.style);
    // A reserved word gets a trailing underscore first (`sum_`, as PEP 8 suggests), then numbers.
    let name = this.taken.has(base) ? `${base}_` : base;
    for (let k = 2; this.taken.has(name); k++)
      name = `${base}${this.style === 'snake' ? '_' : ''}${k}`;
    this.taken.add(name);
    this.given.set(id, name);
    return name;
  }

  /** Marks a name as used without tying it to an id. */
  reserve(name: string): void {
    this.taken.add(name);
  }
}
