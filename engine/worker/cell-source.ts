/**
 * What the notebook kernel needs to know about a cell's JavaScript (the TypeScript cell after
 * its types are removed) without a full parser: the names its top-level declarations bind
 * (`const`, `let`, `var`, `function`, `class`, destructuring included) and where its last
 * top-level statement starts, when that statement is an expression whose value the cell shows.
 *
 * A small tokenizer tracks strings, template literals, comments, regular expressions and bracket
 * depth; statement boundaries at depth 0 follow JavaScript's automatic semicolon insertion
 * closely enough for notebook cells (a line that starts with `.`, `(`, `[` or an operator
 * continues the previous one). When it guesses wrong the kernel sees a syntax error in the
 * rewritten module and runs the cell again without capturing the last value.
 */

/** A top-level name a cell declares; `const` bindings cannot be assigned by later cells. */
export interface Declaration {
  readonly name: string;
  readonly kind: 'const' | 'let';
}

export interface CellShape {
  readonly declarations: readonly Declaration[];
  /** Offsets [start, end) of the final expression statement (without its `;`), or null. */
  readonly lastExpression: { readonly start: number; readonly end: number } | null;
}

interface Token {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** Bracket depth before the token (a closing bracket has the depth it closes to). */
  readonly depth: number;
  /** Whether a line break separates the token from the previous one. */
  readonly newlineBefore: boolean;
  readonly kind: 'name' | 'number' | 'string' | 'template' | 'regex' | 'punct';
}

/** Keywords after which `/` starts a regular expression rather than dividing. */
const REGEX_AFTER = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

const PUNCTUATORS = [
  '>>>=',
  '...',
  '===',
  '!==',
  '**=',
  '<<=',
  '>>=',
  '>>>',
  '&&=',
  '||=',
  '??=',
  '=>',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '??',
  '?.',
  '++',
  '--',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '**',
  '<<',
  '>>',
];

function isIdentifierStart(c: string): boolean {
  return /[A-Za-z_$\u0080-\uffff]/.test(c);
}

function isIdentifierPart(c: string): boolean {
  return /[\w$\u0080-\uffff]/.test(c);
}

/** Whether a `/` after `prev` begins a regular expression literal. */
function regexAllowed(prev: Token | undefined): boolean {
  if (!prev) return true;
  if (prev.kind === 'name') return REGEX_AFTER.has(prev.text);
  if (prev.kind === 'punct') return ![')', ']', '}', '++', '--'].includes(prev.text);
  return false;
}

/** Splits JavaScript into tokens (comments and whitespace dropped). */
export function tokenize(code: string): Token[] {
  const tokens: Token[] = [];
  /** Open brackets; a template's `${` is marked so its `}` resumes the template. */
  const stack: string[] = [];
  let i = 0;
  let newline = false;
  const push = (kind: Token['kind'], start: number, end: number, depth = stack.length): void => {
    tokens.push({
      text: code.slice(start, end),
      start,
      end,
      depth,
      newlineBefore: newline,
      kind,
    });
    newline = false;
  };
  /** Reads template characters from i (after a backtick or a `}` closing `${`). */
  const readTemplate = (start: number): void => {
    while (i < code.length) {
      const c = code[i]!;
      if (c === '\\') i += 2;
      else if (c === '`') {
        i++;
        push('template', start, i);
        return;
      } else if (c === '$' && code[i + 1] === '{') {
        i += 2;
        push('template', start, i);
        stack.push('${');
        return;
      } else i++;
    }
    push('template', start, i);
  };
  while (i < code.length) {
    const c = code[i]!;
    if (c === '\n') {
      newline = true;
      i++;
    } else if (/\s/.test(c)) i++;
    else if (c === '/' && code[i + 1] === '/') {
      while (i < code.length && code[i] !== '\n') i++;
    } else if (c === '/' && code[i + 1] === '*') {
      const end = code.indexOf('*/', i + 2);
      const stop = end < 0 ? code.length : end + 2;
      if (code.slice(i, stop).includes('\n')) newline = true;
      i = stop;
    } else if (c === '"' || c === "'") {
      const start = i++;
      while (i < code.length && code[i] !== c && code[i] !== '\n') i += code[i] === '\\' ? 2 : 1;
      i++;
      push('string', start, Math.min(i, code.length));
    } else if (c === '`') {
      const start = i++;
      readTemplate(start);
    } else if (c === '}' && stack[stack.length - 1] === '${') {
      stack.pop();
      const start = i++;
      readTemplate(start);
    } else if (isIdentifierStart(c)) {
      const start = i++;
      while (i < code.length && isIdentifierPart(code[i]!)) i++;
      push('name', start, i);
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(code[i + 1] ?? ''))) {
      const start = i++;
      while (i < code.length && /[\w.]/.test(code[i]!)) i++;
      push('number', start, i);
    } else if (c === '/' && regexAllowed(tokens[tokens.length - 1])) {
      const start = i++;
      let inClass = false;
      while (i < code.length && code[i] !== '\n') {
        const r = code[i]!;
        if (r === '\\') i++;
        else if (r === '[') inClass = true;
        else if (r === ']') inClass = false;
        else if (r === '/' && !inClass) break;
        i++;
      }
      i++;
      while (i < code.length && isIdentifierPart(code[i]!)) i++;
      push('regex', start, Math.min(i, code.length));
    } else if (c === '(' || c === '[' || c === '{') {
      push('punct', i, i + 1);
      stack.push(c);
      i++;
    } else if (c === ')' || c === ']' || c === '}') {
      stack.pop();
      push('punct', i, i + 1);
      i++;
    } else {
      const p = PUNCTUATORS.find((candidate) => code.startsWith(candidate, i)) ?? c;
      push('punct', i, i + p.length);
      i += p.length;
    }
  }
  return tokens;
}

/** Tokens a line may start with and still continue the previous statement. */
function continuesPrevious(token: Token): boolean {
  if (token.kind === 'template') return true;
  if (token.kind !== 'punct') return ['instanceof', 'in', 'of'].includes(token.text);
  return !['{', '!', '~', '++', '--', ';', '}'].includes(token.text);
}

/** Tokens after which a statement cannot end (an operator, an opening bracket, a comma …). */
function expectsMore(token: Token): boolean {
  if (token.kind === 'punct') return ![')', ']', '}', '++', '--', ';'].includes(token.text);
  if (token.kind === 'name') return REGEX_AFTER.has(token.text) && token.text !== 'await';
  return false;
}

/** Indexes of the tokens that begin a top-level statement. */
function statementStarts(tokens: readonly Token[]): number[] {
  const starts: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.depth !== 0 || (token.kind === 'punct' && [')', ']', '}'].includes(token.text)))
      continue;
    const prev = tokens[i - 1];
    if (!prev) {
      starts.push(i);
      continue;
    }
    if (prev.text === ';') starts.push(i);
    else if (prev.text === '}' && prev.kind === 'punct') {
      const continuation =
        continuesPrevious(token) ||
        ['else', 'catch', 'finally', 'while'].includes(token.text) ||
        (!token.newlineBefore && token.kind !== 'name');
      if (!continuation) starts.push(i);
    } else if (token.newlineBefore && !expectsMore(prev) && !continuesPrevious(token))
      starts.push(i);
  }
  return starts;
}

/** Keywords that begin a statement that is not an expression. */
const STATEMENT_KEYWORDS = new Set([
  'const',
  'let',
  'var',
  'function',
  'class',
  'if',
  'for',
  'while',
  'do',
  'return',
  'throw',
  'try',
  'switch',
  'break',
  'continue',
  'import',
  'export',
  'debugger',
]);

/** Names bound by a declaration whose binding starts at token `i`; returns them and the end. */
function bindingNames(tokens: readonly Token[], i: number): { names: string[]; next: number } {
  const first = tokens[i];
  if (!first) return { names: [], next: i };
  if (first.kind === 'name') return { names: [first.text], next: i + 1 };
  if (first.text !== '{' && first.text !== '[') return { names: [], next: i + 1 };
  // A destructuring pattern: names are identifiers followed by `,`, `}`, `]` or `=` that are
  // not property keys (followed by `:`); default values after `=` are skipped.
  const names: string[] = [];
  const base = first.depth;
  let j = i + 1;
  while (j < tokens.length && !(tokens[j]!.depth === base && /^[}\]]$/.test(tokens[j]!.text))) {
    const t = tokens[j]!;
    const next = tokens[j + 1];
    if (t.text === '=' && t.kind === 'punct') {
      // Skip the default value up to the next `,` or the pattern's close at the same depth.
      const depth = t.depth;
      j++;
      while (
        j < tokens.length &&
        !(tokens[j]!.depth === depth && [',', '}', ']'].includes(tokens[j]!.text))
      )
        j++;
      continue;
    }
    if (
      t.kind === 'name' &&
      next &&
      [',', '}', ']', '='].includes(next.text) &&
      tokens[j - 1]?.text !== '.'
    )
      names.push(t.text);
    j++;
  }
  return { names, next: j + 1 };
}

/** The top-level declarations of a cell and its final expression statement. */
export function analyzeCell(code: string): CellShape {
  const tokens = tokenize(code);
  const starts = statementStarts(tokens);
  const declarations: Declaration[] = [];
  const declare = (name: string, kind: Declaration['kind']): void => {
    const existing = declarations.findIndex((d) => d.name === name);
    if (existing >= 0) declarations.splice(existing, 1);
    declarations.push({ name, kind });
  };
  for (const s of starts) {
    let i = s;
    if (tokens[i]?.text === 'async' && tokens[i + 1]?.text === 'function') i++;
    const keyword = tokens[i]?.text;
    if (keyword === 'function' || keyword === 'class') {
      let k = i + 1;
      if (tokens[k]?.text === '*') k++;
      const name = tokens[k];
      if (name?.kind === 'name') declare(name.text, 'let');
    } else if (keyword === 'const' || keyword === 'let' || keyword === 'var') {
      const kind = keyword === 'const' ? 'const' : 'let';
      let k = i + 1;
      for (;;) {
        const { names, next } = bindingNames(tokens, k);
        for (const name of names) declare(name, kind);
        // Skip the initializer to a `,` at depth 0 (another declarator) or the statement's end.
        k = next;
        while (
          k < tokens.length &&
          !(tokens[k]!.depth === 0 && tokens[k]!.text === ',') &&
          !(tokens[k]!.depth === 0 && tokens[k]!.text === ';') &&
          !starts.includes(k)
        )
          k++;
        if (tokens[k]?.text !== ',') break;
        k++;
      }
    }
  }
  const lastStart = starts[starts.length - 1];
  let lastExpression: CellShape['lastExpression'] = null;
  if (lastStart !== undefined) {
    const first = tokens[lastStart]!;
    const isStatement =
      (first.kind === 'name' && STATEMENT_KEYWORDS.has(first.text)) ||
      (first.text === 'async' && tokens[lastStart + 1]?.text === 'function') ||
      (first.kind === 'name' && tokens[lastStart + 1]?.text === ':') ||
      (first.kind === 'punct' && (first.text === '{' || first.text === ';'));
    if (!isStatement) {
      let endToken = tokens.length - 1;
      while (endToken > lastStart && tokens[endToken]!.text === ';') endToken--;
      const semicolon = tokens.findIndex(
        (t, k) => k >= lastStart && k <= endToken && t.depth === 0 && t.text === ';',
      );
      if (semicolon < 0) lastExpression = { start: first.start, end: tokens[endToken]!.end };
    }
  }
  return { declarations, lastExpression };
}
