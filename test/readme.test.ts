/**
 * The README's walk-through against a real server: every answer it shows (a ```json block
 * starting with {"data") is what the server answers to the query shown with it, number for number
 * (compared as JSON text after parsing, so only the README's line breaks may differ), and every
 * query it shows without variables runs without errors. An answer whose figures change from run
 * to run (timings) is marked `"requestId":"..."` and compared by its shape and its data.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderPage } from './helpers/render-page.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';

interface Block {
  lang: string;
  text: string;
  line: number;
}

const README = readFileSync('README.md', 'utf8');

/** Every fenced code block, indented ones (inside a list) dedented. */
function codeBlocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^( *)```(\w*)\n([\s\S]*?)^\1```/gm)].map((m) => ({
    lang: m[2]!,
    text: m[3]!
      .split('\n')
      .map((line) => line.slice(m[1]!.length))
      .join('\n'),
    line: markdown.slice(0, m.index).split('\n').length + 1,
  }));
}

/**
 * The request a block shows: a GraphQL document, or the query and headers of a curl command (a
 * POST with a JSON body, or `curl -G` with the query in `--data-urlencode`, sent as a GET).
 */
function requestOf(block: Block): { query: string; headers: Record<string, string>; get: boolean } {
  if (block.lang === 'graphql') return { query: block.text, headers: {}, get: false };
  const headers = Object.fromEntries([...block.text.matchAll(/-H '([^:]+): ([^']+)'/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
  const urlencoded = block.text.match(/ -G [\s\S]*--data-urlencode 'query=([^']+)'/);
  if (urlencoded) return { query: urlencoded[1]!, headers, get: true };
  const body = block.text.match(/-d '(\{[\s\S]*?\})'/);
  assert.ok(body, `README line ${block.line}: a curl command with a JSON body or a -G query`);
  return { query: (JSON.parse(body[1]!) as { query: string }).query, headers, get: false };
}

/** An answer's shape: its keys, recursively, with every leaf reduced to its type. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]));
  return typeof value;
}

/** The invoice the page-reading example shows: three lines in DejaVu Sans, 24 px. */
const INVOICE = ['Invoice number 2024-0173', 'Total due: 1234.56 EUR', 'Thank you for your business'];

describe('the README walk-through', () => {
  let server: TestServer;
  let modelsDir: string;
  const blocks = codeBlocks(README);
  const answers = blocks.filter((b) => b.lang === 'json' && b.text.trimStart().startsWith('{"data"'));

  before(async () => {
    // The bundled models, and the temperature model the "Add your own model" steps copy in.
    modelsDir = tempDir('predictql-readme-models-');
    cpSync('models', modelsDir, { recursive: true });
    cpSync('examples/tensor-model/temperature', join(modelsDir, 'temperature'), { recursive: true });
    server = await startTestServer({ CACHE_URL: 'memory://', MODELS_DIR: modelsDir });
  });
  after(async () => {
    await server?.close();
    if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
  });

  /** The block that asks for an answer: the one just above it, except where the README says otherwise. */
  function questionFor(answer: Block): { block: Block; variables?: () => Promise<Record<string, unknown>> } {
    if (answer.text.includes('"Invoice number')) {
      const block = blocks.find((b) => b.lang === 'graphql' && b.text.includes('model: "ocr-page"'))!;
      return { block, variables: async () => ({ png: Buffer.from((await renderPage(INVOICE, { size: 24 })).bytes).toString('base64') }) };
    }
    const before = blocks.filter((b) => b.line < answer.line && (b.lang === 'graphql' || (b.lang === 'sh' && b.text.includes('curl'))));
    return { block: before.at(-1)! };
  }

  it('shows answers, and each is the one the server gives', async (t) => {
    let compared = 0;
    for (const answer of answers) {
      const { block, variables } = questionFor(answer);
      const { query, headers, get } = requestOf(block);
      // Mutations, and queries on state they created (a job by its id), are walked through by
      // the tests of their own feature; here, the answers any server gives to the same question.
      if (/^\s*mutation\b/m.test(query) || (query.includes('$') && !variables)) {
        t.diagnostic(`README line ${answer.line}: left to its feature's tests (a mutation, or a query with variables)`);
        continue;
      }
      compared++;
      const res = get
        ? ((await (await fetch(`${server.url}/graphql?query=${encodeURIComponent(query)}`, { headers })).json()) as Awaited<ReturnType<TestServer['graphql']>>)
        : await server.graphql(query, variables ? await variables() : undefined, { headers });
      const got = { data: res.data, ...(res.errors ? { errors: res.errors } : {}), ...(res.extensions ? { extensions: res.extensions } : {}) };
      const shown = JSON.parse(answer.text) as { data: unknown; extensions?: { requestId?: string } };
      if (shown.extensions?.requestId === '...') {
        // Timings differ on every run: the data must match, the rest its shape.
        assert.deepEqual(got.data, shown.data, `README line ${answer.line}`);
        assert.deepEqual(shape(got.extensions), shape(shown.extensions), `README line ${answer.line}: the extensions' fields`);
      } else {
        assert.equal(JSON.stringify(shown), JSON.stringify(got), `README line ${answer.line} (asked at line ${block.line})`);
      }
    }
    assert.ok(compared >= 5, `answers compared: ${compared}`);
  });

  it('shows queries that all run without errors', async () => {
    const queries = blocks.filter((b) => b.lang === 'graphql' && !b.text.includes('$') && !/^\s*mutation/.test(b.text));
    assert.ok(queries.length >= 8, `queries found: ${queries.length}`);
    for (const block of queries) {
      const res = await server.graphql(block.text);
      assert.equal(res.errors, undefined, `README line ${block.line}: ${JSON.stringify(res.errors)}`);
    }
  });
});
