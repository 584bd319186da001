/**
 * Starts the servers under test as child processes, so the load generator (this process) and
 * each server have their own event loop, as a real client and server would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface ServerProcess {
  url: string;
  /** Where its /metrics is: `url`, or a port of its own for a reference whose HTTP front only answers GraphQL. */
  metricsUrl: string;
  child: ChildProcess;
  /** Reads one sample from the server's /metrics (the first line whose name ends with `suffix`). */
  metric(suffix: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Spawns `node --import tsx <script> ...args` and waits for its `ready` log line. `cwd` runs it
 * from another checkout (the server as of an earlier commit, say), with that checkout's code,
 * models and node_modules. `nodeArgs` go to node itself (`--cpu-prof`, say). The server must log
 * at `info` or below (its 'listening' and 'ready' lines): `env` must not raise LOG_LEVEL.
 */
export async function startServerProcess(script: string, args: string[], env: Record<string, string> = {}, cwd?: string, nodeArgs: string[] = []): Promise<ServerProcess> {
  if (env.LOG_LEVEL && !['trace', 'debug', 'info'].includes(env.LOG_LEVEL)) throw new Error(`LOG_LEVEL=${env.LOG_LEVEL} would hide the server's 'ready' line`);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    cwd,
  });
  const lines = createInterface({ input: child.stdout! });
  let url = '';
  let metricsUrl = '';
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`${script} exited with code ${code} before it was ready`);
  });
  const ready = (async () => {
    for await (const line of lines) {
      let entry: { msg?: string; url?: string; metricsUrl?: string };
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      if (entry.msg === 'listening' && entry.url) {
        url = entry.url;
        metricsUrl = entry.metricsUrl ?? url;
      }
      // Fastify's own line, should a server announce itself only that way.
      const fastify = /^Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(entry.msg ?? '');
      if (fastify && !url) url = metricsUrl = fastify[1]!;
      if (entry.msg === 'ready') return;
    }
    // Its output ended without a 'ready' line: it died while starting (the exit event may come later).
    throw new Error(`${script} closed its output before it was ready`);
  })();
  await Promise.race([ready, exited]);
  exited.catch(() => undefined);
  // Keep draining the logs so the child never blocks on a full pipe.
  lines.on('line', () => undefined);

  return {
    url,
    metricsUrl,
    child,
    async metric(suffix, labels = {}) {
      const text = await (await fetch(`${metricsUrl}/metrics`)).text();
      const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
      for (const line of text.split('\n')) {
        if (line.startsWith('#')) continue;
        const name = line.split(/[{ ]/)[0]!;
        if (name.endsWith(suffix) && wanted.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return Number.NaN;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
