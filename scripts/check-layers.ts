/**
 * Keeps the layers of src/ one-way:
 *
 * - src/domain/ (the shared data types and the domain errors) imports nothing at all, so every
 *   layer can use it without pulling anything else in;
 * - src/engine, src/models, src/cache, src/pipelines, src/processing, src/predict and src/jobs never import the GraphQL
 *   or HTTP layers above them (src/graphql, src/http, src/server.ts, src/main.ts), type imports
 *   included: they raise domain errors and take domain types, and GraphQL translates;
 * - src/ has no import cycle, type-only imports counted.
 *
 * Every `import` and `export ... from` (`import type` included) and every dynamic `import('...')`
 * counts. The source is tokenised, so an import written in a comment or a string does not.
 *
 *   node --import tsx scripts/check-layers.ts [srcDir]    exits 1 and lists what is wrong
 *
 * .ci/run runs it, and test/layers.test.ts runs it on src/ and on a tree with planted faults.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folders whose files may import nothing (relative to the source root). */
export const IMPORTS_NOTHING = ['domain'];

/** Folders below GraphQL, and what they may never import. */
export const BELOW_GRAPHQL = ['engine', 'models', 'cache', 'pipelines', 'processing', 'predict', 'jobs'];
export const ABOVE_THEM = ['graphql', 'http', 'server.ts', 'main.ts'];

export interface ImportEdge {
  from: string;
  /** As written in the source. */
  specifier: string;
  /** The file it resolves to, for relative specifiers; null for packages and node: modules. */
  to: string | null;
}

export interface LayerReport {
  files: number;
  imports: number;
  violations: string[];
}

// ------------------------------------------------------------------------------------------------
// Tokenising just enough TypeScript: identifiers, strings, punctuation; comments, template
// literals and regular expressions skipped whole.

type Token = { kind: 'word' | 'string' | 'punct'; text: string };

const WORD = /[A-Za-z0-9_$]/;
/** After these, a `/` starts a regular expression rather than a division. */
const BEFORE_REGEX = new Set(['(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';', '+', '-', '*', '%', '<', '>', '~', '^']);
const KEYWORDS_BEFORE_REGEX = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'void', 'yield', 'await', 'throw', 'new', 'delete']);

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = source.length;
  const skipString = (quote: string): string => {
    let text = '';
    i++;
    while (i < n && source[i] !== quote) {
      if (source[i] === '\\') {
        text += source[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (source[i] === '\n') break; // an unterminated string: stop at the line's end
      text += source[i++];
    }
    i++;
    return text;
  };
  const skipTemplate = (): void => {
    i++;
    while (i < n && source[i] !== '`') {
      if (source[i] === '\\') {
        i += 2;
      } else if (source[i] === '$' && source[i + 1] === '{') {
        // An expression inside the template: skip to its closing brace, strings and nested
        // templates included.
        i += 2;
        let depth = 1;
        while (i < n && depth > 0) {
          const c = source[i]!;
          if (c === '{') depth++;
          else if (c === '}') depth--;
          if (depth === 0) break;
          if (c === '"' || c === "'") skipString(c);
          else if (c === '`') skipTemplate();
          else i++;
        }
        i++;
      } else {
        i++;
      }
    }
    i++;
  };
  const regexAllowed = (): boolean => {
    const last = tokens.at(-1);
    if (!last) return true;
    if (last.kind === 'punct') return BEFORE_REGEX.has(last.text);
    if (last.kind === 'word') return KEYWORDS_BEFORE_REGEX.has(last.text);
    return false;
  };
  while (i < n) {
    const c = source[i]!;
    if (c === '/' && source[i + 1] === '/') {
      while (i < n && source[i] !== '\n') i++;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
    } else if (c === '"' || c === "'") {
      tokens.push({ kind: 'string', text: skipString(c) });
    } else if (c === '`') {
      skipTemplate();
      tokens.push({ kind: 'string', text: '' });
    } else if (c === '/' && regexAllowed()) {
      i++;
      let inClass = false;
      while (i < n && source[i] !== '\n') {
        const r = source[i]!;
        if (r === '\\') i++;
        else if (r === '[') inClass = true;
        else if (r === ']') inClass = false;
        else if (r === '/' && !inClass) break;
        i++;
      }
      i++;
      while (i < n && WORD.test(source[i]!)) i++; // flags
      tokens.push({ kind: 'string', text: '' });
    } else if (WORD.test(c)) {
      let j = i;
      while (j < n && WORD.test(source[j]!)) j++;
      tokens.push({ kind: 'word', text: source.slice(i, j) });
      i = j;
    } else if (/\s/.test(c)) {
      i++;
    } else {
      tokens.push({ kind: 'punct', text: c });
      i++;
    }
  }
  return tokens;
}

/** Tokens that may stand between `import`/`export` and `from` in an import or re-export. */
function inClause(token: Token): boolean {
  return token.kind === 'word' || (token.kind === 'punct' && ['{', '}', ',', '*'].includes(token.text));
}

/** The module specifiers a source file imports: static, type-only, re-exports and dynamic. */
export function importSpecifiers(source: string): string[] {
  const tokens = tokenize(source);
  const specifiers: string[] = [];
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t]!;
    if (token.kind !== 'word' || (token.text !== 'import' && token.text !== 'export')) continue;
    // `obj.import`, `x.export`: a property, not a statement.
    if (tokens[t - 1]?.text === '.' && tokens[t - 1]?.kind === 'punct') continue;
    const next = tokens[t + 1];
    if (!next) continue;
    if (token.text === 'import' && next.kind === 'punct' && next.text === '(') {
      const arg = tokens[t + 2];
      if (arg?.kind === 'string') specifiers.push(arg.text);
      continue;
    }
    if (token.text === 'import' && next.kind === 'string') {
      specifiers.push(next.text);
      continue;
    }
    // `import a, { b } from 'x'`, `export * as c from 'x'`, `export type { D } from 'x'`; stop at
    // anything else (`export const`, `export function`, `import.meta`).
    for (let u = t + 1; u < tokens.length && inClause(tokens[u]!); u++) {
      const word = tokens[u]!;
      if (word.kind === 'word' && word.text === 'from' && tokens[u + 1]?.kind === 'string') {
        specifiers.push(tokens[u + 1]!.text);
        break;
      }
      if (word.kind === 'word' && ['const', 'let', 'var', 'function', 'class', 'interface', 'enum', 'default', 'async', 'abstract', 'declare', 'namespace'].includes(word.text)) break;
      // `export type X = ...`: a word followed by `=` ends the clause.
      if (tokens[u + 1]?.kind === 'punct' && tokens[u + 1]!.text === '=') break;
    }
  }
  return specifiers;
}

// ------------------------------------------------------------------------------------------------

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
    else if (/\.(ts|mts|tsx)$/.test(entry) && !entry.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

function resolveSpecifier(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const target = resolve(dirname(from), specifier);
  for (const candidate of [target, `${target}.ts`, join(target, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return target;
}

/** The top-level entry of src/ a file belongs to: its folder, or its own name for a file at the top. */
function areaOf(root: string, file: string): string {
  return relative(root, file).split(sep)[0]!;
}

export function importEdges(root: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of sourceFiles(root)) {
    for (const specifier of importSpecifiers(readFileSync(file, 'utf8'))) {
      edges.push({ from: file, specifier, to: resolveSpecifier(file, specifier) });
    }
  }
  return edges;
}

/** Strongly connected components of more than one file (or a file importing itself): the cycles. */
function cycles(nodes: readonly string[], edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indices.get(w)!));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of nodes) if (!indices.has(v)) visit(v);
  return found;
}

/** One path around a cycle, for the message: a -> b -> ... -> a. */
function cyclePath(component: readonly string[], edges: ReadonlyMap<string, readonly string[]>): string[] {
  const members = new Set(component);
  const start = component[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of edges.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = previous.get(u)!) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...component, start];
}

export function checkLayers(root: string): LayerReport {
  root = resolve(root);
  const files = sourceFiles(root);
  const edges = importEdges(root);
  const violations: string[] = [];
  const name = (file: string) => relative(root, file).split(sep).join('/');

  for (const edge of edges) {
    const area = areaOf(root, edge.from);
    if (IMPORTS_NOTHING.includes(area)) {
      violations.push(`${name(edge.from)} imports "${edge.specifier}": files in ${area}/ import nothing, so every layer can use them`);
      continue;
    }
    if (!edge.to) continue;
    const inside = !relative(root, edge.to).startsWith('..');
    if (!inside) continue;
    if (BELOW_GRAPHQL.includes(area) && ABOVE_THEM.includes(areaOf(root, edge.to))) {
      violations.push(`${name(edge.from)} imports ${name(edge.to)}: ${area}/ is below GraphQL and HTTP and must not import them (type imports included)`);
    }
    if (!existsSync(edge.to)) violations.push(`${name(edge.from)} imports "${edge.specifier}", which does not exist`);
  }

  const graph = new Map<string, string[]>();
  for (const edge of edges) {
    if (!edge.to || relative(root, edge.to).startsWith('..') || !existsSync(edge.to)) continue;
    const list = graph.get(edge.from) ?? [];
    if (!list.includes(edge.to)) list.push(edge.to);
    graph.set(edge.from, list);
  }
  for (const component of cycles(files, graph)) {
    violations.push(`import cycle of ${component.length} file${component.length === 1 ? '' : 's'}: ${cyclePath(component, graph).map(name).join(' -> ')}`);
  }
  return { files: files.length, imports: edges.length, violations };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? fileURLToPath(new URL('../src/', import.meta.url));
  const report = checkLayers(root);
  if (report.violations.length > 0) {
    console.error(`layer check failed (${report.violations.length}):`);
    for (const violation of report.violations) console.error(`  ${violation}`);
    process.exit(1);
  }
  console.log(`layer check passed: ${report.files} files, ${report.imports} imports, no upward import, no cycle`);
}
