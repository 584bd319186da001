/**
 * A quick look at the cache-hit path: starts PredictQL (src/main.ts) in its own process, warms one
 * iris answer into the cache, then hammers that same query from this process with the closed-loop
 * load generator and prints requests/s and latencies, at PROFILE_CONNECTIONS (default 64) and
 * for one client. With PROFILE_CPU=dir the server runs under `node --cpu-prof` and writes its
 * profile there on exit (open it in Chrome DevTools, or summarise it with
 * `node --import tsx bench/profile.ts --summary <file>`).
 *
 *   flock -x /tmp/predictql-cpu.lock node --import tsx bench/profile.ts
 */
import { readFileSync } from 'node:fs';

/**
 * CPU seconds a process has used (user + system, all its threads), from /proc: per request, the
 * figure that survives a machine shared with other work, where requests/s do not.
 */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}
import { closedLoop } from './lib/load.ts';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** Starts src/main.ts with `nodeArgs` (e.g. --cpu-prof, which NODE_OPTIONS does not allow); resolves once it is ready. */
async function startServer(nodeArgs: string[], args: string[], cwd = process.cwd()): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts', '--port', '0', ...args], { cwd, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'info' } });
  let url = '';
  for await (const line of createInterface({ input: child.stdout! })) {
    const entry = (() => {
      try {
        return JSON.parse(line) as { msg?: string; url?: string };
      } catch {
        return {};
      }
    })();
    if (entry.msg === 'listening') url = entry.url!;
    if (entry.msg === 'ready') break;
  }
  child.stdout!.resume();
  return {
    url,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

const QUERY = 'query ($f: [Float!]!) { predict(model: "iris", input: { features: $f }) { ... on Classification { label score } } }';

function summarise(file: string, top = 30): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
    samples: number[];
  };
  const self = new Map<number, number>();
  for (const id of profile.samples) self.set(id, (self.get(id) ?? 0) + 1);
  const byName = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const name = `${functionName || '(anon)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|bench)\//, '$1/')}:${lineNumber + 1}`;
    byName.set(name, (byName.get(name) ?? 0) + (self.get(node.id) ?? 0));
  }
  const total = profile.samples.length;
  for (const [name, count] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * count) / total).toFixed(1).padStart(5)}%  ${name}`);
}

if (process.argv[2] === '--summary') {
  summarise(process.argv[3]!, Number(process.argv[4] ?? 30));
} else {
  // PROFILE_TREES=dirA,dirB: checkouts to compare (e.g. `git archive <commit> | tar -x -C dirA`
  // with node_modules linked in), measured alternately PROFILE_ROUNDS times; default: this one.
  const trees = (process.env.PROFILE_TREES ?? process.cwd()).split(',');
  const rounds = Number(process.env.PROFILE_ROUNDS ?? 1);
  const seconds = Number(process.env.PROFILE_SECONDS ?? 5);
  const connections = Number(process.env.PROFILE_CONNECTIONS ?? 64);
  const nodeArgs = process.env.PROFILE_CPU ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROFILE_CPU}`] : [];
  const body = JSON.stringify({ query: QUERY, variables: { f: [5.1, 3.5, 1.4, 0.2] } });
  const f = (n: number) => n.toFixed(3);
  for (let round = 0; round < rounds; round++) {
    for (const tree of trees) {
      const server = await startServer(nodeArgs, ['--workers', '1', '--cache-url', 'memory://'], tree);
      const url = `${server.url}/graphql`;
      try {
        await closedLoop({ url, concurrency: 1, durationMs: 300, body: () => body });
        const cpu0 = cpuSeconds(server.pid);
        const many = await closedLoop({ url, concurrency: connections, durationMs: seconds * 1000, body: () => body });
        const cpuUs = ((cpuSeconds(server.pid) - cpu0) * 1e6) / many.requests;
        const one = await closedLoop({ url, concurrency: 1, durationMs: Math.min(seconds, 3) * 1000, body: () => body });
        console.log(
          `${tree}: cache hit c=${connections} ${many.throughput.toFixed(0)} req/s (p50 ${f(many.p50Ms)} ms, p99 ${f(many.p99Ms)} ms), server CPU ${cpuUs.toFixed(0)} us/request; c=1 p50 ${f(one.p50Ms)} ms, ${one.throughput.toFixed(0)} req/s; errors ${many.errors + one.errors}`,
        );
      } finally {
        await server.stop();
      }
    }
  }
}
