/**
 * Reads TypeScript that builds a graph with `GraphBuilder` (the code `exportTypeScript` writes,
 * or code written by hand in the same style) back into a graph, without evaluating it: the app
 * runs under a content security policy that forbids `eval`, and a graph needs no more than
 * this. The accepted language is small and stated in errors: `import` lines, an optional
 * `export function name(): Graph { … }` around the body, `const`/`let` bindings, calls of the
 * builder's methods (`input`, `parameter`, `op`, `linear`, `conv2d`, `batchNorm`,
 * `grouped(id, () => …)`, `output`, `build`, `toJSON`), literals (numbers, strings, booleans,
 * null, arrays, objects), and the exporter's `details` object of display names and devices.
 * Anything else is an error naming the line and what was met, so a person can see what to
 * change.
 */

import { GraphBuilder } from '../graph/builder.js';
import { Graph } from '../graph/graph.js';
import type { AttrValueJSON, GraphJSON } from '../graph/ir.js';

/** What the reader could not understand, with the 1-based line it is on. */
export class CodeImportError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CodeImportError';
  }
}

type TokenKind = 'name' | 'string' | 'number' | 'punct' | 'end';
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly line: number;
  /** The decoded value of a string literal. */
  readonly value?: string;
}

const PUNCT = [
  '=>',
  '*',
  '...',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  ':',
  ';',
  '.',
  '=',
  '<',
  '>',
  '|',
  '?',
  '-',
  '+',
];

function tokenize(code: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  const fail = (what: string): never => {
    throw new CodeImportError(line, what);
  };
  while (i < code.length) {
    const c = code[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) i++;
    else if (code.startsWith('//', i)) {
      while (i < code.length && code[i] !== '\n') i++;
    } else if (code.startsWith('/*', i)) {
      const end = code.indexOf('*/', i + 2);
      if (end < 0) fail('a /* comment is never closed');
      for (const ch of code.slice(i, end)) if (ch === '\n') line++;
      i = end + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      let value = '';
      while (j < code.length && code[j] !== c) {
        if (code[j] === '\n' && c !== '`') fail('a string runs past the end of its line');
        if (c === '`' && code.startsWith('${', j))
          fail('template strings with ${…} are not supported; write a plain string');
        if (code[j] === '\\') {
          const e = code[j + 1] ?? '';
          const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0' };
          if (e === 'u') {
            value += String.fromCharCode(parseInt(code.slice(j + 2, j + 6), 16));
            j += 6;
            continue;
          }
          value += map[e] ?? e;
          j += 2;
          continue;
        }
        if (code[j] === '\n') line++;
        value += code[j];
        j++;
      }
      if (j >= code.length) fail('a string is never closed');
      tokens.push({ kind: 'string', text: code.slice(i, j + 1), line, value });
      i = j + 1;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(code[i + 1] ?? ''))) {
      const m = /^(?:0[xX][0-9a-fA-F_]+|(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][+-]?[0-9]+)?)/.exec(
        code.slice(i),
      )!;
      tokens.push({ kind: 'number', text: m[0], line });
      i += m[0].length;
    } else if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(code.slice(i))!;
      tokens.push({ kind: 'name', text: m[0], line });
      i += m[0].length;
    } else {
      const p = PUNCT.find((q) => code.startsWith(q, i));
      if (!p) fail(`unexpected character '${c}'`);
      tokens.push({ kind: 'punct', text: p!, line });
      i += p!.length;
    }
  }
  tokens.push({ kind: 'end', text: 'the end of the code', line });
  return tokens;
}

/** A value the reader computes: node ids are strings; literals are JSON-like data. */
type Value =
  | string
  | number
  | boolean
  | null
  | readonly Value[]
  | { readonly [key: string]: Value }
  | { readonly arrow: () => Value }
  | { readonly builder: GraphBuilder };

const isBuilder = (v: Value): v is { builder: GraphBuilder } =>
  typeof v === 'object' && v !== null && 'builder' in v;
const isArrow = (v: Value): v is { arrow: () => Value } =>
  typeof v === 'object' && v !== null && 'arrow' in v;

const BUILDER_METHODS =
  'input, parameter, op, linear, conv2d, batchNorm, grouped, output, build, toJSON';

class Reader {
  private pos = 0;
  private readonly scope = new Map<string, Value>();
  private builder: GraphBuilder | null = null;
  private details: Record<string, Value> | null = null;
  private result: GraphJSON | null = null;

  constructor(private readonly tokens: readonly Token[]) {}

  private get tok(): Token {
    return this.tokens[this.pos]!;
  }
  private fail(what: string, at: Token = this.tok): never {
    throw new CodeImportError(at.line, what);
  }
  private is(text: string): boolean {
    return this.tok.kind !== 'string' && this.tok.text === text;
  }
  private eat(text: string): boolean {
    if (!this.is(text)) return false;
    this.pos++;
    return true;
  }
  private expect(text: string): void {
    if (!this.eat(text)) this.fail(`expected '${text}' but found '${this.tok.text}'`);
  }
  private name(): string {
    if (this.tok.kind !== 'name') this.fail(`expected a name but found '${this.tok.text}'`);
    return this.tokens[this.pos++]!.text;
  }

  /** Skips a type annotation up to (not including) one of `stops` at bracket depth 0. */
  private skipType(stops: readonly string[]): void {
    let depth = 0;
    while (this.tok.kind !== 'end') {
      if (depth === 0 && stops.some((s) => this.is(s))) return;
      if (['(', '[', '{', '<'].some((s) => this.is(s))) depth++;
      else if ([')', ']', '}', '>'].some((s) => this.is(s))) depth--;
      this.pos++;
    }
  }

  read(): GraphJSON {
    while (this.tok.kind !== 'end') this.topLevel();
    if (this.result) return this.result;
    if (!this.builder)
      this.fail('no GraphBuilder: the code should start with `const b = new GraphBuilder(name)`');
    return this.builder.toJSON();
  }

  private topLevel(): void {
    if (this.eat('import')) {
      // Up to the module name: `import … from 'x'` or `import 'x'`.
      while (this.tok.kind !== 'string' && this.tok.kind !== 'end') this.pos++;
      this.pos++;
      this.eat(';');
      return;
    }
    if (this.is('export') || this.is('function')) {
      this.eat('export');
      this.eat('default');
      if (!this.eat('function')) this.fail('only `export function name(): Graph { … }` is read');
      if (this.tok.kind === 'name') this.pos++;
      this.expect('(');
      if (!this.is(')')) this.fail('the function that builds the graph takes no arguments');
      this.expect(')');
      if (this.eat(':')) this.skipType(['{']);
      this.expect('{');
      while (!this.is('}')) {
        if (this.tok.kind === 'end') this.fail("the function body is never closed with '}'");
        this.statement();
      }
      this.expect('}');
      return;
    }
    this.statement();
  }

  private statement(): void {
    if (this.eat(';')) return;
    if (this.is('const') || this.is('let')) {
      this.pos++;
      const at = this.tok;
      const name = this.name();
      if (this.eat(':')) this.skipType(['=']);
      this.expect('=');
      const value = this.expression();
      if (
        name === 'details' &&
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value)
      )
        this.details = value as Record<string, Value>;
      if (this.scope.has(name)) this.fail(`'${name}' is declared twice`, at);
      this.scope.set(name, value);
    } else if (this.eat('return')) {
      this.returned();
    } else {
      this.expression();
    }
    this.eat(';');
  }

  /** `return b.build(meta)`, or the exporter's `Graph.fromJSON({ ...doc, … details … })`. */
  private returned(): void {
    if (this.is('Graph')) {
      const at = this.tok;
      // The exporter's form: the document from `const doc = b.toJSON(meta)` with `details` merged.
      while (!this.is('(') && this.tok.kind !== 'end') this.pos++;
      let depth = 0;
      do {
        if (this.is('(')) depth++;
        else if (this.is(')')) depth--;
        this.pos++;
      } while (depth > 0 && this.tok.kind !== 'end');
      const doc = this.scope.get('doc');
      if (typeof doc !== 'object' || doc === null || !('nodes' in doc))
        this.fail('`return Graph.fromJSON(…)` needs `const doc = b.toJSON(…)` before it', at);
      const json = doc as unknown as GraphJSON;
      const details = (this.details ?? {}) as Record<string, Record<string, string>>;
      this.result = { ...json, nodes: json.nodes.map((n) => ({ ...n, ...details[n.id] })) };
      return;
    }
    const value = this.expression();
    if (typeof value === 'object' && value !== null && 'nodes' in value)
      this.result = value as unknown as GraphJSON;
  }

  private expression(): Value {
    const at = this.tok;
    if (this.eat('new')) {
      if (this.eat('wg')) this.expect('.');
      const cls = this.name();
      if (cls !== 'GraphBuilder')
        this.fail(`only 'new GraphBuilder(…)' is read, not 'new ${cls}'`, at);
      const args = this.args();
      if (typeof args[0] !== 'string') this.fail('new GraphBuilder needs the graph name first', at);
      const options = (args[1] ?? {}) as { seed?: Value };
      if (this.builder) this.fail('only one GraphBuilder per graph', at);
      this.builder = new GraphBuilder(
        args[0] as string,
        typeof options.seed === 'number' ? { seed: options.seed } : {},
      );
      return { builder: this.builder };
    }
    if (this.is('(')) {
      this.pos++;
      this.expect(')');
      this.expect('=>');
      const start = this.pos;
      // Arrows are called by `grouped`: read the body then, inside the group.
      this.skipExpression();
      const end = this.pos;
      return {
        arrow: () => {
          const back = this.pos;
          this.pos = start;
          const v = this.expression();
          if (this.pos !== end) this.fail('an arrow function body must be one expression');
          this.pos = back;
          return v;
        },
      };
    }
    if (this.eat('[')) {
      const items: Value[] = [];
      while (!this.eat(']')) {
        items.push(this.expression());
        if (!this.is(']')) this.expect(',');
      }
      return items;
    }
    if (this.eat('{')) {
      const obj: Record<string, Value> = {};
      while (!this.eat('}')) {
        const key =
          this.tok.kind === 'string'
            ? this.tokens[this.pos++]!.value!
            : this.tok.kind === 'number'
              ? this.tokens[this.pos++]!.text
              : this.name();
        this.expect(':');
        obj[key] = this.expression();
        if (!this.is('}')) this.expect(',');
      }
      return obj;
    }
    if (this.eat('-')) {
      const v = this.expression();
      if (typeof v !== 'number') this.fail('a minus sign needs a number after it', at);
      return -v;
    }
    if (at.kind === 'string') {
      this.pos++;
      return at.value!;
    }
    if (at.kind === 'number') {
      this.pos++;
      return Number(at.text.replace(/_/g, ''));
    }
    if (at.kind !== 'name') this.fail(`unexpected '${at.text}'`);
    this.pos++;
    if (at.text === 'true' || at.text === 'false') return at.text === 'true';
    if (at.text === 'null' || at.text === 'undefined') return null;
    if (at.text === 'Infinity' || at.text === 'NaN') return at.text;
    const value = this.scope.get(at.text);
    if (value === undefined) this.fail(`'${at.text}' is not defined above`, at);
    if (!this.eat('.')) return value;
    const method = this.name();
    if (!isBuilder(value))
      this.fail(`'${at.text}.${method}': only the GraphBuilder's methods can be called`, at);
    return this.call(value.builder, method, this.args(), at);
  }

  /** Moves past one expression without evaluating it (balanced brackets, up to , ; or a close). */
  private skipExpression(): void {
    let depth = 0;
    while (this.tok.kind !== 'end') {
      if (
        depth === 0 &&
        (this.is(',') || this.is(';') || this.is(')') || this.is(']') || this.is('}'))
      )
        return;
      if (this.is('(') || this.is('[') || this.is('{')) depth++;
      else if (this.is(')') || this.is(']') || this.is('}')) depth--;
      this.pos++;
    }
  }

  private args(): Value[] {
    this.expect('(');
    const args: Value[] = [];
    while (!this.eat(')')) {
      args.push(this.expression());
      if (!this.is(')')) this.expect(',');
    }
    return args;
  }

  private call(b: GraphBuilder, method: string, args: Value[], at: Token): Value {
    const str = (i: number, what: string): string => {
      if (typeof args[i] !== 'string') this.fail(`${method}: ${what} must be a string`, at);
      return args[i] as string;
    };
    const num = (i: number, what: string): number => {
      if (typeof args[i] !== 'number') this.fail(`${method}: ${what} must be a number`, at);
      return args[i] as number;
    };
    const shape = (i: number): number[] => {
      const s = args[i];
      if (!Array.isArray(s) || !s.every((d) => typeof d === 'number'))
        this.fail(`${method}: the shape must be a list of numbers`, at);
      return s as number[];
    };
    const attrs = (i: number): Record<string, AttrValueJSON> => {
      const a = args[i] ?? {};
      if (typeof a !== 'object' || a === null || Array.isArray(a))
        this.fail(`${method}: attributes must be an object literal`, at);
      return a as Record<string, AttrValueJSON>;
    };
    const meta = (i: number): Record<string, unknown> | undefined =>
      args[i] === undefined || args[i] === null ? undefined : (attrs(i) as Record<string, unknown>);
    try {
      switch (method) {
        case 'input': {
          const dtype = str(2, 'the dtype') as 'f32';
          return b.input(str(0, 'the id'), shape(1), dtype, str(3, 'the role') as 'data');
        }
        case 'parameter':
          return b.parameter(str(0, 'the id'), shape(1), attrs(2));
        case 'op': {
          const inputs = args[1] ?? [];
          if (!Array.isArray(inputs) || !inputs.every((x) => typeof x === 'string'))
            this.fail('op: the inputs must be a list of values made above', at);
          const id = args[3] === undefined ? undefined : str(3, 'the id');
          return b.op(str(0, 'the op name'), inputs as string[], attrs(2), id);
        }
        case 'linear':
          return b.linear(
            str(0, 'the input'),
            num(1, 'in features'),
            num(2, 'out features'),
            str(3, 'the id'),
          );
        case 'conv2d': {
          const o = attrs(5) as { stride?: number; padding?: number };
          return b.conv2d(
            str(0, 'the input'),
            num(1, 'in channels'),
            num(2, 'out channels'),
            num(3, 'the kernel size'),
            str(4, 'the id'),
            o,
          );
        }
        case 'batchNorm': {
          const o = attrs(3) as { dims?: Value; training?: Value; momentum?: Value; eps?: Value };
          if (o.dims !== 1 && o.dims !== 2)
            this.fail('batchNorm: the options need dims: 1 (BatchNorm1d) or 2 (BatchNorm2d)', at);
          const optional = (key: 'momentum' | 'eps' | 'training', type: string) => {
            const v = o[key];
            if (v === undefined || v === null) return {};
            if (typeof v !== type) this.fail(`batchNorm: ${key} must be a ${type}`, at);
            return { [key]: v };
          };
          return b.batchNorm(
            str(0, 'the input'),
            num(1, 'the number of features'),
            str(2, 'the id'),
            {
              dims: o.dims,
              ...optional('training', 'boolean'),
              ...optional('momentum', 'number'),
              ...optional('eps', 'number'),
            },
          );
        }
        case 'grouped': {
          const body = args[1];
          if (body === undefined || !isArrow(body))
            this.fail('grouped: the second argument must be `() => …`', at);
          return b.grouped(str(0, 'the group id'), () => (body as { arrow: () => Value }).arrow());
        }
        case 'output':
          b.output(str(0, 'the output name'), str(1, 'the value'));
          return null;
        case 'build':
        case 'toJSON':
          return b.toJSON(meta(0)) as unknown as Value;
        default:
          return this.fail(
            `'${method}' is not a GraphBuilder method this reader knows (${BUILDER_METHODS})`,
            at,
          );
      }
    } catch (error) {
      if (error instanceof CodeImportError) throw error;
      throw new CodeImportError(at.line, error instanceof Error ? error.message : String(error));
    }
  }
}

/**
 * The graph document that `code` builds (see the file comment for what code is read). Throws a
 * `CodeImportError` naming the line for code outside that language, and the engine's own error
 * (naming the node) for a graph that does not validate.
 */
export function importTypeScript(code: string): Graph {
  const json = new Reader(tokenize(code)).read();
  return Graph.fromJSON(json);
}
