/**
 * The Redis stores of the cache, on node-redis (@redis/client): one Redis server
 * (`redis://host:port[/db]`, `rediss://`) or a Redis Cluster (`redis+cluster://seed1,seed2`).
 *
 * Why not @keyv/redis: against a real 3-master cluster it failed every read once the cluster had
 * been through a failover ("Cannot read properties of undefined (reading 'master')": it reads
 * the slot table of a cluster client directly and finds holes in it), and a cluster client never
 * looks the topology up again after a master dies, so the dead master's slots stay unreachable
 * even after its replica took over. Here:
 *
 * - a read of many keys is one GET per key (MGET fails across slots in a cluster; node-redis
 *   pipelines the GETs on each node's connection, so this is one round trip per node), and a
 *   key that fails (its master is down) is a miss for that key only;
 * - when commands fail, a new cluster client asks the seeds for the topology (at most once per
 *   TOPOLOGY_REFRESH_MS) and replaces the old one once it has reached every master, so reads and
 *   writes to a dead master's slots resume once a replica has taken over, while the old client
 *   keeps serving the other masters' slots meanwhile;
 * - commands fail at once while a server is unreachable (no offline queue), and each has a
 *   timeout, so nothing queues up without bound;
 * - values are bytes: the answers are stored as they are (no base64, no JSON), the persisted
 *   queries as UTF-8 text.
 */
import { EventEmitter } from 'node:events';
import { createClient, createCluster, RESP_TYPES } from '@redis/client';
import type { KeyvStoreAdapter, StoredData } from 'keyv';

/** At most one cluster topology refresh per this many milliseconds. */
const TOPOLOGY_REFRESH_MS = 1000;
const CONNECT_TIMEOUT_MS = 1000;
/** Longest a new cluster client may take to reach every master. */
const CLUSTER_CONNECT_TIMEOUT_MS = 2000;
/** Keys per SCAN step and per deletion round when clearing. */
const SCAN_COUNT = 1000;

/** What the stores use of a node-redis client or cluster, with bulk strings read as Buffers. */
interface Commands {
  get(key: string): Promise<Buffer | null>;
  set(key: string, value: Buffer, options?: { PX: number }): Promise<unknown>;
  del(key: string): Promise<number>;
  exists(key: string): Promise<number>;
}

/** One node's commands for clearing: SCAN there, and delete what it holds. */
interface ScanNode {
  scan(cursor: string, options: { MATCH: string; COUNT: number }): Promise<{ cursor: string | Buffer; keys: Array<string | Buffer> }>;
  unlink(key: string): Promise<number>;
}

interface Connected {
  commands: Commands;
  /** The nodes holding data: the server itself, or every master of the cluster. */
  nodes(): Promise<ScanNode[]>;
  close(): Promise<void>;
}

const BUFFERS = { [RESP_TYPES.BLOB_STRING]: Buffer };

export class RedisConnection {
  readonly description: string;
  private readonly cluster: boolean;
  private readonly seeds: string[];
  private current: Connected | undefined;
  private connecting: Promise<void> | undefined;
  private lastAttempt = 0;
  private closed = false;

  constructor(
    private readonly cacheUrl: string,
    /** Longest a command may take before it fails; the cache gives up on it sooner (CACHE_TIMEOUT_MS). */
    private readonly commandTimeoutMs: number,
  ) {
    this.cluster = /^rediss?\+cluster:\/\//.test(cacheUrl);
    this.seeds = this.cluster ? cacheUrl.replace(/^rediss?\+cluster:\/\//, '').replace(/\/$/, '').split(',') : [];
    const url = new URL(this.cluster ? `redis://${this.seeds[0]}` : cacheUrl);
    this.description = this.cluster ? `redis cluster ${this.seeds.join(',')}` : `redis ${url.hostname}:${url.port || 6379}${url.pathname}`;
    this.connect();
  }

  /** The connected client, or an error at once while there is none (the cache counts a miss). */
  commands(): Commands {
    if (this.current) return this.current.commands;
    this.connect();
    throw new Error(`${this.description} is not connected`);
  }

  async nodes(): Promise<ScanNode[]> {
    if (!this.current) throw new Error(`${this.description} is not connected`);
    return this.current.nodes();
  }

  /**
   * A command failed. A single server reconnects by itself. A cluster client would keep sending
   * a dead master's slots to the dead master, so a new one is built from the seeds, in the
   * background: the old one serves the other masters' slots until the new one has connected.
   */
  failed(): void {
    if (this.cluster) this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    await this.current?.close().catch(() => undefined);
    this.current = undefined;
  }

  /** Opens a client (again), at most once per TOPOLOGY_REFRESH_MS, and swaps it in once connected. */
  private connect(): void {
    if (this.closed || this.connecting || (this.current && !this.cluster) || Date.now() - this.lastAttempt < TOPOLOGY_REFRESH_MS) return;
    this.lastAttempt = Date.now();
    const attempt = this.cluster ? this.openCluster() : this.openClient();
    this.connecting = attempt
      .then(async (connected) => {
        if (this.closed) return connected.close();
        const stale = this.current;
        this.current = connected;
        await stale?.close().catch(() => undefined);
      })
      .catch(() => undefined)
      .finally(() => {
        this.connecting = undefined;
      });
  }

  private clientOptions() {
    return {
      // Commands must fail while Redis is away, not queue up without bound until it returns.
      disableOfflineQueue: true,
      socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) },
      commandOptions: { timeout: this.commandTimeoutMs },
    };
  }

  private async openClient(): Promise<Connected> {
    const client = createClient({ url: this.cacheUrl, ...this.clientOptions() });
    client.on('error', () => undefined); // failures surface as rejected commands
    // A single server keeps reconnecting by itself once it has connected once; until then,
    // commands fail at once (disableOfflineQueue) and the client retries in the background.
    void client.connect().catch(() => undefined);
    const commands = client.withTypeMapping(BUFFERS) as unknown as Commands;
    return {
      commands,
      nodes: async () => [client as unknown as ScanNode],
      close: async () => {
        client.destroy();
      },
    };
  }

  private async openCluster(): Promise<Connected> {
    const cluster = createCluster({
      rootNodes: this.seeds.map((node) => ({ url: `redis://${node}` })),
      defaults: this.clientOptions(),
      commandOptions: { timeout: this.commandTimeoutMs },
    });
    cluster.on('error', () => undefined);
    // While a master is down and not yet replaced, connecting waits on it for ever: give up,
    // and let the next failure try again once the topology has changed.
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        cluster.connect(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${this.description}: no connection to every master within ${CLUSTER_CONNECT_TIMEOUT_MS} ms`)), CLUSTER_CONNECT_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      cluster.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return {
      commands: cluster.withTypeMapping(BUFFERS) as unknown as Commands,
      nodes: () => Promise.all(cluster.masters.map((master) => cluster.nodeClient(master) as unknown as Promise<ScanNode>)),
      close: async () => {
        cluster.destroy();
      },
    };
  }
}

/** A Keyv store on one namespace of a Redis connection; `text` for the persisted queries' strings. */
export class KeyvRedisStore extends EventEmitter implements KeyvStoreAdapter {
  readonly opts: { dialect: 'redis'; url: string };
  namespace?: string;

  constructor(
    private readonly connection: RedisConnection,
    private readonly text: boolean,
  ) {
    super();
    this.opts = { dialect: 'redis', url: 'redis://' };
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.run(async (redis) => this.decode<Value>(await redis.get(key)));
  }

  /**
   * One GET per key, concurrently. A key whose node fails is a miss; only when every key failed
   * is the read a failure (the cache then leaves the store alone for a moment).
   */
  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    const redis = this.connection.commands();
    const settled = await Promise.allSettled(keys.map((key) => redis.get(key)));
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) {
      this.connection.failed();
      if (settled.every((s) => s.status === 'rejected')) throw failure.reason;
      this.emit('error', failure.reason);
    }
    return settled.map((s) => (s.status === 'fulfilled' ? this.decode<Value>(s.value) : undefined)) as Array<StoredData<Value | undefined>>;
  }

  async set(key: string, data: { value?: unknown }, ttl?: number): Promise<boolean> {
    const { value } = data ?? {};
    if (!(value instanceof Uint8Array) && typeof value !== 'string') throw new TypeError('the Redis cache stores bytes or text');
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    await this.run((redis) => redis.set(key, bytes, ttl ? { PX: Math.ceil(ttl) } : undefined));
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return this.run(async (redis) => (await redis.del(key)) > 0);
  }

  async has(key: string): Promise<boolean> {
    return this.run(async (redis) => (await redis.exists(key)) > 0);
  }

  /** Removes the keys of this namespace that start with `prefix`, on every master; returns how many. */
  async deletePrefix(prefix = ''): Promise<number> {
    const match = `${globEscape(`${this.namespace ? `${this.namespace}:` : ''}${prefix}`)}*`;
    let removed = 0;
    for (const node of await this.connection.nodes()) {
      let cursor = '0';
      do {
        const step = await node.scan(cursor, { MATCH: match, COUNT: SCAN_COUNT });
        cursor = step.cursor.toString();
        // One key per command: in a cluster, a multi-key command must stay within one slot.
        const counts = await Promise.all(step.keys.map((key) => node.unlink(key.toString())));
        removed += counts.reduce((a, b) => a + b, 0);
      } while (cursor !== '0');
    }
    return removed;
  }

  async clear(): Promise<void> {
    await this.deletePrefix();
  }

  /** The connection is closed by its owner, once for both namespaces. */
  async disconnect(): Promise<void> {}

  private async run<T>(command: (redis: Commands) => Promise<T>): Promise<T> {
    try {
      return await command(this.connection.commands());
    } catch (error) {
      this.connection.failed();
      throw error;
    }
  }

  private decode<Value>(bytes: Buffer | string | null): StoredData<Value> | undefined {
    if (bytes === null || bytes === undefined) return undefined;
    const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    // A copy: the reply may be a slice of a larger socket read, which the L1 would keep alive.
    const value = this.text ? buffer.toString('utf8') : new Uint8Array(buffer);
    return { value: value as Value, expires: undefined } as StoredData<Value>;
  }
}

/** `text` with Redis glob characters escaped, for SCAN MATCH. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
