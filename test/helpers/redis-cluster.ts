/**
 * A real Redis Cluster for a test: six `redis-server` processes in cluster mode on free local
 * ports (three masters, three replicas, joined by `redis-cli --cluster create`), each in a
 * temporary directory, all killed and removed by stop(). Starting fails loudly when redis-server
 * or redis-cli is missing: the test must fail, not skip.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, tempDir } from './server.ts';

const run = promisify(execFile);

export interface ClusterNode {
  port: number;
  process: ChildProcess;
}

export interface RedisCluster {
  nodes: ClusterNode[];
  /** `redis-cli -p port args...`, its output. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** The ports of the masters that serve slots now, as a live node sees them. */
  masters(): Promise<number[]>;
  /** Waits until every live node says cluster_state:ok and the masters are `count`. */
  waitHealthy(count?: number): Promise<void>;
  kill(port: number): Promise<void>;
  stop(): Promise<void>;
}

async function startNode(port: number, dir: string): Promise<ClusterNode> {
  mkdirSync(dir, { recursive: true });
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', '1000', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('error', (error) => reject(new Error(`redis-server could not be started (${error.message}); the Redis Cluster test needs it installed`)));
    child.once('exit', (code) => reject(new Error(`redis-server on port ${port} exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve();
    });
  });
  return { port, process: child };
}

export async function startRedisCluster(): Promise<RedisCluster> {
  const root = tempDir('predictql-redis-cluster-');
  const ports: number[] = [];
  while (ports.length < 6) {
    const port = await freePort();
    // The cluster bus listens on port + 10000: both must be free and distinct.
    if (port + 10000 < 65536 && !ports.includes(port) && !ports.includes(port + 10000)) ports.push(port);
  }
  const nodes: ClusterNode[] = [];
  const cli = async (port: number, ...args: string[]) => (await run('redis-cli', ['-p', String(port), ...args])).stdout;
  const live = () => nodes.filter((n) => n.process.exitCode === null && n.process.signalCode === null);
  const cluster: RedisCluster = {
    nodes,
    cli,
    async masters() {
      const text = await cli(live()[0]!.port, 'cluster', 'nodes');
      return text
        .trim()
        .split('\n')
        .map((line) => line.split(' '))
        .filter((f) => f[2]!.includes('master') && !f[2]!.includes('fail') && f.length > 8)
        .map((f) => Number(f[1]!.split(':')[1]!.split('@')[0]));
    },
    async waitHealthy(count = 3) {
      for (let attempt = 0; attempt < 200; attempt++) {
        const states = await Promise.all(live().map((n) => cli(n.port, 'cluster', 'info').catch(() => '')));
        if (states.every((s) => s.includes('cluster_state:ok')) && (await cluster.masters()).length === count) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('the Redis Cluster did not become healthy within 20 s');
    },
    async kill(port) {
      const node = nodes.find((n) => n.port === port)!;
      node.process.kill('SIGKILL');
      if (node.process.exitCode === null && node.process.signalCode === null) await once(node.process, 'exit');
    },
    async stop() {
      for (const node of nodes) if (node.process.exitCode === null && node.process.signalCode === null) node.process.kill('SIGKILL');
      await Promise.all(nodes.map((n) => (n.process.exitCode === null && n.process.signalCode === null ? once(n.process, 'exit') : undefined)));
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    for (const port of ports) nodes.push(await startNode(port, join(root, String(port))));
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes']);
    await cluster.waitHealthy();
    // A replica that has not synced with its master yet would not take over from it.
    for (let attempt = 0; ; attempt++) {
      const roles = await Promise.all(ports.map((port) => cli(port, 'info', 'replication')));
      const replicas = roles.filter((r) => r.includes('role:slave'));
      if (replicas.length === 3 && replicas.every((r) => r.includes('master_link_status:up'))) break;
      if (attempt >= 200) throw new Error('the Redis Cluster replicas did not sync with their masters within 20 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
