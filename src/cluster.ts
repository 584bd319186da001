/**
 * Several server processes on one machine (PROCESSES > 1), with node:cluster: the primary forks
 * the processes, which share the listening port (the primary hands out connections round-robin)
 * and the cache (the LMDB file, or Redis). A process that dies is replaced. SIGTERM to the
 * primary drains every process, then exits.
 *
 * /metrics must describe the whole server, not whichever process the scrape reached: a process
 * asked for metrics asks the primary, which collects every process's metrics and merges them
 * with prom-client's AggregatorRegistry.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from 'pino';

type Message =
  | { type: 'predictql:metrics-request'; id: string }
  | { type: 'predictql:metrics-collect'; id: string }
  | { type: 'predictql:metrics-part'; id: string; metrics: unknown }
  | { type: 'predictql:metrics-result'; id: string; text: string };

const COLLECT_TIMEOUT_MS = 2000;

/** Runs in the primary: forks, replaces and drains the server processes; merges their metrics. */
export function runPrimary(processes: number, logger: Logger): void {
  let stopping = false;
  const fork = () => cluster.fork();
  for (let i = 0; i < processes; i++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.error({ pid: worker.process.pid, code, signal }, 'a server process exited; starting another');
    fork();
  });

  const pending = new Map<string, { parts: unknown[]; expected: number; requester: Worker; timer: NodeJS.Timeout }>();
  const finish = (id: string) => {
    const collection = pending.get(id);
    if (!collection) return;
    pending.delete(id);
    clearTimeout(collection.timer);
    const text = AggregatorRegistry.aggregate(collection.parts as never).metrics();
    void Promise.resolve(text).then((t) => collection.requester.send({ type: 'predictql:metrics-result', id, text: t } satisfies Message));
  };
  cluster.on('message', (worker, message: Message) => {
    if (message?.type === 'predictql:metrics-request') {
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
      pending.set(message.id, { parts: [], expected: workers.length, requester: worker, timer: setTimeout(() => finish(message.id), COLLECT_TIMEOUT_MS) });
      for (const w of workers) w.send({ type: 'predictql:metrics-collect', id: message.id } satisfies Message);
    } else if (message?.type === 'predictql:metrics-part') {
      const collection = pending.get(message.id);
      if (!collection) return;
      collection.parts.push(message.metrics);
      if (collection.parts.length >= collection.expected) finish(message.id);
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal, processes }, 'shutting down every server process');
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      let left = workers.length;
      if (left === 0) process.exit(0);
      for (const worker of workers) {
        worker.once('exit', () => {
          if (--left === 0) process.exit(0);
        });
        worker.process.kill(signal);
      }
    });
  }
}

/** Runs in each server process: answers the primary's metric collections from `registry`. */
export function serveClusterMetrics(registry: Registry): void {
  process.on('message', (message: Message) => {
    if (message?.type !== 'predictql:metrics-collect') return;
    void registry.getMetricsAsJSON().then((metrics) => process.send?.({ type: 'predictql:metrics-part', id: message.id, metrics } satisfies Message));
  });
}

/** The whole server's metrics, as Prometheus text: asked of the primary in cluster mode. */
export function clusterMetrics(): Promise<string> {
  const id = randomUUID();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('the primary process did not answer with the cluster metrics'));
    }, COLLECT_TIMEOUT_MS * 2);
    const onMessage = (message: Message) => {
      if (message?.type !== 'predictql:metrics-result' || message.id !== id) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(message.text);
    };
    process.on('message', onMessage);
    process.send?.({ type: 'predictql:metrics-request', id } satisfies Message);
  });
}

export const isClusterWorker = (): boolean => cluster.isWorker;
export const isClusterPrimary = (processes: number): boolean => processes > 1 && cluster.isPrimary;
