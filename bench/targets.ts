/**
 * The `targets` scenario (BENCH_SCENARIOS=targets): issue 14's targets, PredictQL against the
 * references it names, in one run on one machine, alternating servers round by round, with
 * the load generator in a process of its own (bench/lib/load-process.ts).
 *
 *   (a) trivial    Apollo Server 5 startStandaloneServer answering a constant (bench/trivial-server.ts)
 *   (b) naive      Apollo standalone running ONNX Runtime on its main thread (bench/naive-server.ts;
 *                  predictMany as one session.run of all its rows)
 *   (c) mercurius  Fastify 5 + Mercurius + graphql-jit answering a constant (bench/mercurius-server.ts)
 *
 * Groups (BENCH_TARGETS, comma-separated; default all), each a few minutes at most, so a run can
 * be split; every run merges its groups into bench/results/targets.json and rewrites targets.md:
 *
 *   hit       iris cache hits (200 inputs asked again and again) at 64 connections, then one
 *             client: PredictQL against (a) and (c)
 *   computed  iris unique inputs at 64 connections and one client, and predictMany of 256
 *             unique rows at 8 connections: PredictQL against (b)
 *   mixed     OCR saturated by 8 clients while a cached iris query arrives at 50/s (for twice
 *             BENCH_SECONDS: the p99 of 50/s needs samples): the iris p99 and OCR lines/s
 *
 * Only answered requests count (status 200, no GraphQL errors); errors are reported by kind.
 * PredictQL runs with its default settings and a fresh LMDB cache per start (L1 in front).
 * BENCH_CANDIDATE_DIR runs the candidate from another checkout (default: this one);
 * BENCH_BEFORE_DIR adds a "before" server (e.g. a worktree of the commit before issue 14).
 * BENCH_SECONDS (default 5) per measurement after 1 s of warm-up, BENCH_ROUNDS (default 2).
 * BENCH_CPU_PROF=<dir> runs the PredictQL servers under `node --cpu-prof`, profiles into <dir>
 * (one per server start: open them in Chrome DevTools or speedscope).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startServerProcess, type ServerProcess } from './lib/processes.ts';
import { bodiesFile, remoteLoad, type StreamResult, type StreamSpec } from './lib/remote-load.ts';
import { ocrWorkload } from './lib/workloads.ts';
import { loadIris } from '../training/iris/data.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const groups = (process.env.BENCH_TARGETS ?? 'hit,computed,mixed').split(',');
const candidateDir = resolve(process.env.BENCH_CANDIDATE_DIR ?? '.');
const beforeDir = process.env.BENCH_BEFORE_DIR ? resolve(process.env.BENCH_BEFORE_DIR) : undefined;
const WARMUP_MS = 1000;
const MANY_ROWS = 256;
const IRIS_RATE = 50;
const RESULTS = 'bench/results/targets.json';
const cpuProf = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;

interface ServerSpec {
  name: string;
  script: string;
  args: () => string[];
  cwd?: string;
  nodeArgs?: string[];
}

/** Node options for the candidate only (`--max-semi-space-size=32`, say), to compare against `before`. */
const candidateNodeArgs = (process.env.BENCH_CANDIDATE_NODE_ARGS ?? '').split(' ').filter(Boolean);
const predictql = (name: string, cwd: string, nodeArgs: string[] = []): ServerSpec => ({
  name,
  script: 'src/main.ts',
  // The default store (LMDB, L1 in front), empty at each start: hits come from what this run asked.
  args: () => ['--cache-url', `lmdb://${mkdtempSync(join(tmpdir(), 'predictql-targets-cache-'))}`],
  cwd,
  nodeArgs: [...nodeArgs, ...(cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(cpuProf, name)}`] : [])],
});
const candidates = (): ServerSpec[] => [predictql('predictql', candidateDir, candidateNodeArgs), ...(beforeDir ? [predictql('before', beforeDir)] : [])];
const trivial: ServerSpec = { name: '(a) apollo constant', script: 'bench/trivial-server.ts', args: () => [] };
const naive = (models: string): ServerSpec => ({ name: '(b) naive', script: 'bench/naive-server.ts', args: () => ['--models', models] });
const mercurius: ServerSpec = { name: '(c) mercurius+jit', script: 'bench/mercurius-server.ts', args: () => [] };

// The documents every server answers: PredictQL's own queries.
const IRIS_QUERY = 'query ($f: [Float!]!) { predict(model: "iris", input: { features: $f }) { ... on Classification { label score } } }';
const MANY_QUERY = 'query ($inputs: [PredictionInput!]!) { predictMany(model: "iris", inputs: $inputs) { ... on Classification { label score } } }';
const irisRows = loadIris().map((r) => r.features);
const irisBody = (f: number[]) => JSON.stringify({ query: IRIS_QUERY, variables: { f } });
/** Input i of a sequence of distinct inputs: each perturbs its own feature, so no two sequences meet. */
const perturbed = (i: number, feature: number, step: number) => irisRows[i % irisRows.length]!.map((v, j) => (j === feature ? Math.round((v + step) * 1e6) / 1e6 : v));
/** Distinct as long as i < 150 x 9973. */
const uniqueRow = (i: number) => perturbed(i, 0, (i % 9973) * 1e-4);
/** 200 inputs, none of them a unique row: the cache-hit workload. */
const hitRow = (i: number) => perturbed(i % 200, 1, ((i % 200) + 1) * 1e-3);
/** Rows of predictMany requests, none of them a unique row or a hit row. */
const manyRow = (k: number) => perturbed(k, 2, (k + 1) * 1e-5);

interface Measured {
  server: string;
  round: number;
  measure: string;
  result: StreamResult;
  loopDelayP99Ms?: number;
  /**
   * The server's CPU time (all its threads: workers too) per response, warm-up included, in us:
   * the figure that holds on a machine shared with other work, where requests/s do not.
   */
  cpuUsPerRequest?: number;
}

/** CPU seconds a process has used (user + system, all threads), from /proc. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return Number.NaN;
  }
}

async function withServer<T>(spec: ServerSpec, fn: (server: ServerProcess) => Promise<T>): Promise<T> {
  const server = await startServerProcess(spec.script, spec.args(), {}, spec.cwd, spec.nodeArgs);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

function show(m: Measured, unit = 'req/s', factor = 1) {
  const r = m.result;
  const cpu = m.cpuUsPerRequest !== undefined ? `  cpu ${fmt(m.cpuUsPerRequest)} us/req` : '';
  const errors = r.errors ? `  ERRORS ${r.errors} ${JSON.stringify(r.errorKinds)}` : '';
  const wrapped = r.sent > r.bodies ? `  (inputs repeated: ${r.sent} sent, ${r.bodies} distinct)` : '';
  const loop = m.loopDelayP99Ms !== undefined ? `  loop p99 ${m.loopDelayP99Ms.toFixed(1)} ms` : '';
  console.log(
    `  r${m.round} ${m.server.padEnd(20)} ${m.measure.padEnd(18)} ${fmt(r.throughput * factor).padStart(7)} ${unit}  p50 ${fmt(r.p50Ms, 3)} ms  p99 ${fmt(r.p99Ms, 2)} ms${cpu}${loop}${errors}${wrapped}`,
  );
}

/** Runs `fn` for every server, `rounds` times, the order reversed every other round. */
async function alternate(specs: ServerSpec[], fn: (spec: ServerSpec, server: ServerProcess, round: number) => Promise<Measured[]>): Promise<Measured[]> {
  const out: Measured[] = [];
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? specs : [...specs].reverse();
    for (const spec of order) out.push(...(await withServer(spec, (server) => fn(spec, server, round))));
  }
  return out;
}

async function closed(server: ServerProcess, bodies: string, connections: number, offset = 0): Promise<{ result: StreamResult; cpuUsPerRequest: number }> {
  const cpuBefore = cpuSeconds(server.child.pid);
  const [result] = await remoteLoad({ url: `${server.url}/graphql`, warmupMs: WARMUP_MS, durationMs: seconds * 1000, streams: [{ name: 'load', bodiesFile: bodies, connections, offset }] });
  return { result: result!, cpuUsPerRequest: ((cpuSeconds(server.child.pid) - cpuBefore) * 1e6) / Math.max(1, result!.responses) };
}

/** The server's event-loop delay p99 in ms (prom-client samples every 10 ms), where it publishes one. */
async function loopDelay(server: ServerProcess): Promise<number | undefined> {
  try {
    const value = await server.metric('eventloop_lag_p99_seconds');
    return Number.isNaN(value) ? undefined : value * 1000;
  } catch {
    return undefined;
  }
}

async function hitGroup(): Promise<Measured[]> {
  console.log('\n# hit: iris cache hits, c=64 and one client; PredictQL against (a) and (c)');
  const hits = bodiesFile('hit', 200, (i) => irisBody(hitRow(i)));
  return alternate([...candidates(), trivial, mercurius], async (spec, server, round) => {
    const ms: Measured[] = [];
    for (const [measure, c] of [['hit c=64', 64], ['hit c=1', 1]] as const) {
      const m = { server: spec.name, round, measure, ...(await closed(server, hits, c)) };
      show(m);
      ms.push(m);
    }
    return ms;
  });
}

async function computedGroup(): Promise<Measured[]> {
  console.log('\n# computed: iris unique inputs c=64 and one client, predictMany of 256 rows c=8; PredictQL against (b)');
  const unique = bodiesFile('unique', 120_000, (i) => irisBody(uniqueRow(i)));
  const many = bodiesFile('many', 1500, (i) => JSON.stringify({ query: MANY_QUERY, variables: { inputs: Array.from({ length: MANY_ROWS }, (_, k) => ({ features: manyRow(i * MANY_ROWS + k) })) } }));
  return alternate([...candidates(), naive('iris')], async (spec, server, round) => {
    const ms: Measured[] = [];
    const run = async (measure: string, bodies: string, c: number, offset: number, unit?: string, factor?: number) => {
      const m = { server: spec.name, round, measure, ...(await closed(server, bodies, c, offset)) };
      show(m, unit, factor);
      ms.push(m);
    };
    await run('unique c=64', unique, 64, 0);
    await run('unique c=1', unique, 1, 80_000);
    await run('many256 c=8', many, 8, 0, 'rows/s', MANY_ROWS);
    return ms;
  });
}

async function mixedGroup(): Promise<Measured[]> {
  console.log(`\n# mixed: OCR saturated by 8 clients, a cached iris query at ${IRIS_RATE}/s alongside (${2 * seconds} s)`);
  const ocr = await ocrWorkload();
  // Computed, not answered from the cache: each of the 400 lines is asked again and again.
  const ocrBodies = bodiesFile('ocr', 400, (i) => {
    const body = JSON.parse(ocr.body(i)) as { query: string };
    return JSON.stringify({ ...body, query: body.query.replace('input: { image: $image })', 'input: { image: $image }, options: { cache: BYPASS })') });
  });
  const cachedIris = bodiesFile('iris-cached', 10, (i) => irisBody(hitRow(i)));
  const specs = [...candidates(), ...(process.env.BENCH_MIXED_NAIVE === '1' ? [naive('iris,ocr')] : [])];
  return alternate(specs, async (spec, server, round) => {
    const streams: StreamSpec[] = [
      { name: 'ocr', bodiesFile: ocrBodies, connections: 8 },
      { name: 'iris', bodiesFile: cachedIris, rate: IRIS_RATE },
    ];
    await loopDelay(server); // prom-client's histogram restarts at each scrape: start afresh
    const [o, i] = await remoteLoad({ url: `${server.url}/graphql`, warmupMs: 2 * WARMUP_MS, durationMs: 2 * seconds * 1000, streams });
    const loop = await loopDelay(server);
    const ms: Measured[] = [
      { server: spec.name, round, measure: 'mixed ocr', result: o! },
      { server: spec.name, round, measure: 'mixed iris', result: i!, loopDelayP99Ms: loop },
    ];
    for (const m of ms) show(m, m.measure === 'mixed ocr' ? 'lines/s' : 'req/s');
    return ms;
  });
}

// ---- summary -------------------------------------------------------------------------------

interface GroupRecord {
  date: string;
  settings: { seconds: number; rounds: number; warmupMs: number };
  machine: { cpus: number; model?: string; node: string; loadAverageBefore: number[] };
  candidate: { dir: string; commit: string };
  before?: { dir: string; commit: string };
  measurements: Measured[];
}

const commitOf = (dir: string) => {
  try {
    return execFileSync('git', ['-C', dir, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

type Pick = (r: StreamResult) => number;
const throughput: Pick = (r) => r.throughput;
const rowsPerSecond: Pick = (r) => r.throughput * MANY_ROWS;
const p50: Pick = (r) => r.p50Ms;
const p99: Pick = (r) => r.p99Ms;

function values(ms: Measured[], server: string, measure: string, pick: Pick): number[] {
  return ms.filter((m) => m.server === server && m.measure === measure).map((m) => pick(m.result));
}
function errorsOf(ms: Measured[], server: string, measure: string): string {
  const kinds: Record<string, number> = {};
  for (const m of ms.filter((x) => x.server === server && x.measure === measure)) for (const [k, v] of Object.entries(m.result.errorKinds)) kinds[k] = (kinds[k] ?? 0) + v;
  return Object.entries(kinds).map(([k, v]) => `${v} ${k}`).join(', ');
}
/** A figure, or '-' where there is none (NaN, or null: NaN after a JSON round trip). */
const fmt = (x: number | null, digits = 0) => (x === null || Number.isNaN(x) ? '-' : x.toFixed(digits));
const range = (xs: number[], digits: number) => (xs.length > 1 ? ` (${fmt(Math.min(...xs), digits)}-${fmt(Math.max(...xs), digits)})` : '');

interface Row {
  target: string;
  measure: string;
  candidate: string;
  before: string;
  reference: string;
  result: string;
  goal: string;
  reached: string;
  errors: string;
}

/** A ratio target: the candidate's median over the reference's, per-round ratios in brackets. */
function ratioRow(ms: Measured[], target: string, measure: string, label: string, reference: string, pick: Pick, goal: number | undefined, digits = 0): Row {
  const cand = values(ms, 'predictql', measure, pick);
  const ref = values(ms, reference, measure, pick);
  const bef = values(ms, 'before', measure, pick);
  const perRound = cand.map((c, k) => c / ref[k]!);
  const ratio = median(cand) / median(ref);
  const befRatio = bef.length ? ` (before: ${fmt(median(bef) / median(ref), 2)}x)` : '';
  const cpu = (server: string) => median(ms.filter((m) => m.server === server && m.measure === measure && m.cpuUsPerRequest !== undefined).map((m) => m.cpuUsPerRequest!));
  const cpuNote = Number.isNaN(cpu('predictql')) ? '' : `; server CPU per request ${fmt(cpu('predictql'))} us${bef.length ? ` (before ${fmt(cpu('before'))})` : ''} vs ${fmt(cpu(reference))}: ${fmt(cpu(reference) / cpu('predictql'), 2)}x`;
  return {
    target,
    measure: label,
    candidate: fmt(median(cand), digits) + range(cand, digits),
    before: bef.length ? fmt(median(bef), digits) : '',
    reference: `${reference}: ${fmt(median(ref), digits)}`,
    result: `**${fmt(ratio, 2)}x**${range(perRound, 2)}${befRatio}${cpuNote}`,
    goal: goal === undefined ? 'report' : `>= ${goal}x`,
    reached: goal === undefined ? '' : ratio >= goal ? 'yes' : 'no',
    errors: [errorsOf(ms, 'predictql', measure), bef.length ? errorsOf(ms, 'before', measure) && `before: ${errorsOf(ms, 'before', measure)}` : '', errorsOf(ms, reference, measure) && `ref: ${errorsOf(ms, reference, measure)}`].filter(Boolean).join('; '),
  };
}

/** A latency target: the candidate's median p50 minus the reference's. */
function diffRow(ms: Measured[], target: string, measure: string, label: string, reference: string, goal: number): Row {
  const cand = values(ms, 'predictql', measure, p50);
  const ref = values(ms, reference, measure, p50);
  const bef = values(ms, 'before', measure, p50);
  const diff = median(cand) - median(ref);
  return {
    target,
    measure: label,
    candidate: `${fmt(median(cand), 3)}${range(cand, 3)}`,
    before: bef.length ? fmt(median(bef), 3) : '',
    reference: `${reference}: ${fmt(median(ref), 3)}`,
    result: `**+${fmt(diff, 3)} ms**${bef.length ? ` (before: +${fmt(median(bef) - median(ref), 3)})` : ''}`,
    goal: `<= +${goal} ms`,
    reached: diff <= goal ? 'yes' : 'no',
    errors: [errorsOf(ms, 'predictql', measure), errorsOf(ms, reference, measure) && `ref: ${errorsOf(ms, reference, measure)}`].filter(Boolean).join('; '),
  };
}

function mixedRows(ms: Measured[]): Row[] {
  const irisP99 = values(ms, 'predictql', 'mixed iris', p99);
  const befP99 = values(ms, 'before', 'mixed iris', p99);
  const lines = values(ms, 'predictql', 'mixed ocr', throughput);
  const befLines = values(ms, 'before', 'mixed ocr', throughput);
  const loops = ms.filter((m) => m.server === 'predictql' && m.measure === 'mixed iris' && m.loopDelayP99Ms !== undefined).map((m) => m.loopDelayP99Ms!);
  const naiveP99 = values(ms, '(b) naive', 'mixed iris', p99);
  return [
    {
      target: '5. mixed',
      measure: `iris p99 ms (${IRIS_RATE}/s, cached) with OCR saturated (c=8)`,
      candidate: `${fmt(median(irisP99), 2)}${range(irisP99, 2)}`,
      before: befP99.length ? fmt(median(befP99), 2) : '',
      reference: naiveP99.length ? `(b) naive: ${fmt(median(naiveP99), 1)}` : '',
      result: `p50 ${fmt(median(values(ms, 'predictql', 'mixed iris', p50)), 2)} ms${loops.length ? `, loop delay p99 ${fmt(median(loops), 1)} ms` : ''}`,
      goal: '<= 5 ms',
      reached: median(irisP99) <= 5 ? 'yes' : 'no',
      errors: errorsOf(ms, 'predictql', 'mixed iris'),
    },
    {
      target: '5. mixed',
      measure: 'OCR lines/s (c=8) with iris alongside',
      candidate: `${fmt(median(lines), 1)}${range(lines, 1)}`,
      before: befLines.length ? fmt(median(befLines), 1) : '',
      reference: '',
      result: befLines.length ? `**${fmt(median(lines) / median(befLines), 2)}x** before` : 'no before server in this run',
      goal: '>= 1.0x before',
      reached: befLines.length ? (median(lines) >= median(befLines) ? 'yes' : 'no') : '?',
      errors: [errorsOf(ms, 'predictql', 'mixed ocr'), befLines.length && errorsOf(ms, 'before', 'mixed ocr') ? `before: ${errorsOf(ms, 'before', 'mixed ocr')}` : ''].filter(Boolean).join('; '),
    },
  ];
}

function report(saved: Record<string, GroupRecord>): string {
  const lines = ['# Issue 14 targets', ''];
  const rows: Row[] = [];
  const hit = saved.hit?.measurements;
  if (hit) {
    rows.push(ratioRow(hit, '1. cache hit', 'hit c=64', 'iris hit req/s, c=64', trivial.name, throughput, 1.2));
    rows.push(ratioRow(hit, '1. cache hit', 'hit c=64', 'iris hit req/s, c=64', mercurius.name, throughput, undefined));
  }
  const computed = saved.computed?.measurements;
  if (computed) {
    rows.push(ratioRow(computed, '2. unique', 'unique c=64', 'iris unique req/s, c=64', '(b) naive', throughput, 1.0));
    rows.push(ratioRow(computed, '3. predictMany', 'many256 c=8', 'rows/s, 256 unique rows a request, c=8', '(b) naive', rowsPerSecond, 2.5));
    rows.push(diffRow(computed, '4. one client', 'unique c=1', 'computed iris p50 ms, c=1', '(b) naive', 0.15));
  }
  if (hit) rows.push(diffRow(hit, '4. one client', 'hit c=1', 'cache hit p50 ms, c=1', trivial.name, 0.1));
  const mixed = saved.mixed?.measurements;
  if (mixed) rows.push(...mixedRows(mixed));
  lines.push(
    '| target | measure | predictql (rounds) | before | reference | result | goal | reached | errors |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.target} | ${r.measure} | ${r.candidate} | ${r.before} | ${r.reference} | ${r.result} | ${r.goal} | ${r.reached} | ${r.errors || 'none'} |`),
    '',
    'Medians over rounds; in brackets the range over rounds (of the figure, or of the per-round ratio). Throughput counts answered requests only (status 200, no errors). Server CPU per request: the server process\'s user + system time (workers included) over the measurement and its warm-up, per response; the ratio given is the reference\'s over PredictQL\'s (above 1: PredictQL spends less), the figure that survives a machine shared with other work.',
    '',
    '## Runs',
    '',
  );
  for (const [name, g] of Object.entries(saved)) {
    lines.push(
      `- **${name}**: ${g.date}; ${g.settings.seconds} s per measurement${name === 'mixed' ? ` (mixed: ${2 * g.settings.seconds} s)` : ''} after ${g.settings.warmupMs} ms of warm-up, ${g.settings.rounds} rounds; ${g.machine.cpus} cores (${g.machine.model}), Node ${g.machine.node}, load average before ${g.machine.loadAverageBefore.map((x) => x.toFixed(2)).join(' ')}; predictql: ${g.candidate.dir} at ${g.candidate.commit}${g.before ? `; before: ${g.before.dir} at ${g.before.commit}` : ''}`,
    );
  }
  lines.push('', '## Every measurement', '', '| group | round | server | measure | answered/s | p50 ms | p99 ms | server CPU us/request | errors | response bytes |', '|---|---|---|---|---|---|---|---|---|---|');
  for (const [name, g] of Object.entries(saved)) {
    for (const m of g.measurements) {
      const r = m.result;
      lines.push(`| ${name} | ${m.round} | ${m.server} | ${m.measure} | ${fmt(r.throughput, 1)} | ${fmt(r.p50Ms, 3)} | ${fmt(r.p99Ms, 2)} | ${m.cpuUsPerRequest === undefined ? '' : fmt(m.cpuUsPerRequest)} | ${r.errors ? `${r.errors} ${JSON.stringify(r.errorKinds)}` : 0} | ${fmt(r.responseBytes)} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function targetsScenario(): Promise<void> {
  for (const dir of [candidateDir, beforeDir].filter((d): d is string => d !== undefined)) {
    if (!existsSync(join(dir, 'src/main.ts')) || !existsSync(join(dir, 'node_modules'))) throw new Error(`${dir}: no src/main.ts or node_modules there`);
  }
  const saved: Record<string, GroupRecord> = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')).groups : {};
  const runners: Record<string, () => Promise<Measured[]>> = { hit: hitGroup, computed: computedGroup, mixed: mixedGroup };
  for (const group of groups) {
    const runner = runners[group];
    if (!runner) throw new Error(`BENCH_TARGETS: ${group} is not one of ${Object.keys(runners).join(', ')}`);
    const loadAverageBefore = loadavg();
    const measurements = await runner();
    saved[group] = {
      date: new Date().toISOString(),
      settings: { seconds, rounds, warmupMs: WARMUP_MS },
      machine: { cpus: availableParallelism(), model: cpus()[0]?.model, node: process.version, loadAverageBefore },
      candidate: { dir: candidateDir, commit: commitOf(candidateDir) },
      ...(beforeDir ? { before: { dir: beforeDir, commit: commitOf(beforeDir) } } : {}),
      measurements,
    };
    // Written after each group, so a run cut short keeps what it measured.
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify({ groups: saved }, null, 2)}\n`);
    writeFileSync('bench/results/targets.md', report(saved));
  }
  console.log(`\n${report(saved).split('\n## Every measurement')[0]}`);
  console.log('wrote bench/results/targets.json and targets.md');
}
