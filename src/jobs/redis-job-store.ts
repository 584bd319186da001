/**
 * Jobs in Redis (CACHE_URL redis://...), so every instance answers for every job and a chunk an
 * instance took can be finished by another. Per job: its record (JSON), a hash of its inputs and
 * a hash of its outcomes by index. Storing outcomes and moving the counts and state is one Lua
 * script (HSETNX per index: each index answered once, whichever instance computed it); a job
 * that ends gets an expiry on its keys (JOBS_TTL_SECONDS), so Redis removes it by itself.
 *
 * Not on Redis Cluster: a script touches a job's keys and the index sets together.
 */
import { createClient } from '@redis/client';
import { JOB_STATES, type ClientInput, type JobState } from '../domain/types.ts';
import { decodeOutcome, encodeOutcome, type JobOutcome, type JobRecord } from './job-record.ts';
import type { JobStore } from './job-store.ts';

const PREFIX = 'predictql:jobs:';
/** Hash fields per HSET when writing inputs: big jobs go in several commands, not one huge one. */
const INPUTS_PER_COMMAND = 1000;
/** How long a job operation waits for Redis to connect before it fails (it keeps reconnecting behind). */
const CONNECT_WAIT_MS = 3000;

const FINAL = "local final = { SUCCEEDED = true, FAILED = true, CANCELLED = true }\n";

/** Ends a job: its final state, times, expiry on its keys, out of the active set. KEYS: record, inputs, outcomes, active. */
const END = `
local function finish(r, state, now, ttl)
  r.state = state
  r.finishedAt = now
  r.expiresAt = now + ttl
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl) end
  redis.call('SREM', KEYS[4], r.id)
end
`;

// ARGV: now, ttl, then (index, outcome, failed 0|1) triples.
const PUT_OUTCOMES = `${FINAL}${END}
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local r = cjson.decode(raw)
if final[r.state] then return { raw, 0 } end
local now, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local before = r.done
for i = 3, #ARGV, 3 do
  if redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[i + 1]) == 1 then
    r.done = r.done + 1
    if ARGV[i + 2] == '1' then r.failed = r.failed + 1 end
  end
end
if r.done >= r.total then finish(r, 'SUCCEEDED', now, ttl) elseif r.state == 'QUEUED' then r.state = 'RUNNING' end
local out = cjson.encode(r)
redis.call('SET', KEYS[1], out, 'KEEPTTL')
return { out, r.done - before }
`;

// ARGV: now, ttl, to, from...
const TRANSITION = `${FINAL}${END}
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local r = cjson.decode(raw)
local allowed = false
for i = 4, #ARGV do if r.state == ARGV[i] then allowed = true end end
if not allowed then return raw end
if final[ARGV[3]] then finish(r, ARGV[3], tonumber(ARGV[1]), tonumber(ARGV[2])) else r.state = ARGV[3] end
local out = cjson.encode(r)
redis.call('SET', KEYS[1], out, 'KEEPTTL')
return out
`;

// KEYS: record, active, all. ARGV: record JSON, id, maxActive.
const CREATE = `
if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[2])
return 1
`;

type Client = ReturnType<typeof createClient>;

export class RedisJobStore implements JobStore {
  readonly kind = 'redis';
  private readonly client: Client;
  private readonly ready: Promise<unknown>;

  constructor(
    url: string,
    private readonly ttlMs: number,
  ) {
    this.client = createClient({ url });
    this.client.on('error', () => undefined); // failures surface as rejected commands
    this.ready = this.client.connect();
  }

  private keys(id: string): string[] {
    return [`${PREFIX}job:${id}`, `${PREFIX}in:${id}`, `${PREFIX}out:${id}`, `${PREFIX}active`];
  }

  private async redis(): Promise<Client> {
    if (this.client.isReady) return this.client;
    // node-redis reconnects for ever: without a bound, a job operation (and the server's start,
    // which resumes jobs) would wait for ever while Redis is down.
    let timer: NodeJS.Timeout | undefined;
    const unavailable = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the job store (Redis) did not connect within ${CONNECT_WAIT_MS} ms`)), CONNECT_WAIT_MS);
    });
    try {
      await Promise.race([this.ready, unavailable]);
    } finally {
      clearTimeout(timer);
    }
    return this.client;
  }

  async create(record: JobRecord, inputs: readonly ClientInput[], maxActive: number): Promise<boolean> {
    const redis = await this.redis();
    const [recordKey, inputsKey] = this.keys(record.id);
    for (let start = 0; start < inputs.length; start += INPUTS_PER_COMMAND) {
      const fields: Record<string, string> = {};
      inputs.slice(start, start + INPUTS_PER_COMMAND).forEach((input, i) => (fields[String(start + i)] = JSON.stringify(input)));
      await redis.hSet(inputsKey!, fields);
    }
    const created = await redis.eval(CREATE, { keys: [recordKey!, `${PREFIX}active`, `${PREFIX}all`], arguments: [JSON.stringify(record), record.id, String(maxActive)] });
    if (created !== 1) await redis.del(inputsKey!);
    return created === 1;
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const raw = await (await this.redis()).get(this.keys(id)[0]!);
    return raw ? parseRecord(raw) : undefined;
  }

  async missing(id: string, from: number, to: number): Promise<number[]> {
    const indices = Array.from({ length: to - from }, (_, i) => String(from + i));
    const present = await (await this.redis()).hmGet(this.keys(id)[2]!, indices);
    return indices.flatMap((index, i) => (present[i] == null ? [Number(index)] : []));
  }

  async inputs(id: string, indices: readonly number[]): Promise<ClientInput[]> {
    const raw = await (await this.redis()).hmGet(this.keys(id)[1]!, indices.map(String));
    return raw.map((value, i) => {
      if (value == null) throw new Error(`job ${id} has no input ${indices[i]}`);
      return JSON.parse(value) as ClientInput;
    });
  }

  async putOutcomes(id: string, outcomes: readonly JobOutcome[]): Promise<{ record: JobRecord; stored: number } | undefined> {
    const args = [String(Date.now()), String(this.ttlMs)];
    for (const outcome of outcomes) args.push(String(outcome.index), Buffer.from(encodeOutcome(outcome)).toString('base64'), 'error' in outcome ? '1' : '0');
    const reply = (await (await this.redis()).eval(PUT_OUTCOMES, { keys: this.keys(id), arguments: args })) as [string, number] | null;
    return reply ? { record: parseRecord(reply[0]), stored: Number(reply[1]) } : undefined;
  }

  async outcomes(id: string, offset: number, limit: number): Promise<JobOutcome[]> {
    const indices = Array.from({ length: limit }, (_, i) => offset + i);
    const raw = await (await this.redis()).hmGet(this.keys(id)[2]!, indices.map(String));
    return indices.flatMap((index, i) => (raw[i] == null ? [] : [decodeOutcome(index, Buffer.from(raw[i]!, 'base64'))]));
  }

  async transition(id: string, from: readonly JobState[], to: JobState): Promise<JobRecord | undefined> {
    const raw = await (await this.redis()).eval(TRANSITION, { keys: this.keys(id), arguments: [String(Date.now()), String(this.ttlMs), to, ...from] });
    return typeof raw === 'string' ? parseRecord(raw) : undefined;
  }

  async unfinished(): Promise<JobRecord[]> {
    const redis = await this.redis();
    const ids = await redis.sMembers(`${PREFIX}active`);
    return (await this.records(ids)).filter((r): r is JobRecord => r !== undefined);
  }

  async countByState(): Promise<Record<JobState, number>> {
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    const ids = await (await this.redis()).sMembers(`${PREFIX}all`);
    for (const record of await this.records(ids)) if (record) counts[record.state]++;
    return counts;
  }

  /** Redis expires the jobs' keys by itself: this drops the ids of expired jobs from the index sets. */
  async sweep(): Promise<number> {
    const redis = await this.redis();
    const ids = await redis.sMembers(`${PREFIX}all`);
    const records = await this.records(ids);
    const gone = ids.filter((_, i) => records[i] === undefined);
    if (gone.length > 0) {
      await redis.sRem(`${PREFIX}all`, gone);
      await redis.sRem(`${PREFIX}active`, gone);
    }
    return gone.length;
  }

  async close(): Promise<void> {
    // Never connected (Redis down): stop reconnecting at once rather than wait for a connection.
    if (!this.client.isReady) {
      try {
        if (this.client.isOpen) this.client.destroy();
      } catch {
        // already closed
      }
      return;
    }
    await this.client.quit().catch(() => undefined);
  }

  private async records(ids: readonly string[]): Promise<Array<JobRecord | undefined>> {
    if (ids.length === 0) return [];
    const raw = await (await this.redis()).mGet(ids.map((id) => this.keys(id)[0]!));
    return raw.map((value) => (value ? parseRecord(value) : undefined));
  }
}

/** Lua's cjson writes an empty value as null and numbers as they were: the record comes back as it went in. */
function parseRecord(raw: string): JobRecord {
  const r = JSON.parse(raw) as JobRecord;
  return { ...r, finishedAt: r.finishedAt ?? null, expiresAt: r.expiresAt ?? null };
}
