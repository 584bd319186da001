/**
 * Jobs on disk, in their own LMDB environment beside the cache's directory (`<cache dir>-jobs`):
 * the cache evicts to stay under CACHE_MAX_BYTES, a job's inputs and results must not be evicted,
 * so they do not share a file. Three databases: the job records, the inputs and the outcomes, the
 * last two keyed by [job id, index], so a job's rows are one range.
 *
 * Every outcome is written in a transaction that first reads whether its index has one: a chunk
 * that runs twice (a restart between computing and storing, two processes on one directory)
 * stores each index once, and the counts move with the rows. LMDB commits durably, so what a
 * SIGKILL interrupts is at most the transaction in flight.
 *
 * Processes sharing the directory (PROCESSES > 1, or a restart) each run the jobs they own: a
 * record names its owner's pid, and a process takes over the unfinished jobs whose owner is not
 * alive any more.
 */
import { mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import { JOB_STATES, isFinalJobState, type ClientInput, type JobState } from '../domain/types.ts';
import { decodeOutcome, encodeOutcome, finished, type JobOutcome, type JobRecord } from './job-record.ts';
import type { JobStore } from './job-store.ts';

type OwnedRecord = JobRecord & { owner?: number };

export class LmdbJobStore implements JobStore {
  readonly kind = 'lmdb';
  private readonly root: RootDatabase;
  private readonly jobs: Database<OwnedRecord, string>;
  private readonly inputRows: Database<ClientInput, [string, number]>;
  private readonly outcomeRows: Database<Buffer, [string, number]>;

  constructor(
    readonly dir: string,
    private readonly ttlMs: number,
  ) {
    mkdirSync(dir, { recursive: true });
    this.root = open({ path: dir, maxDbs: 4 });
    this.jobs = this.root.openDB<OwnedRecord, string>({ name: 'jobs' });
    this.inputRows = this.root.openDB<ClientInput, [string, number]>({ name: 'inputs' });
    this.outcomeRows = this.root.openDB<Buffer, [string, number]>({ name: 'outcomes', encoding: 'binary' });
  }

  async create(record: JobRecord, inputs: readonly ClientInput[], maxActive: number): Promise<boolean> {
    return this.root.transaction(() => {
      if (this.active().length >= maxActive) return false;
      this.jobs.put(record.id, { ...record, owner: process.pid });
      inputs.forEach((input, i) => this.inputRows.put([record.id, i], input));
      return true;
    });
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const record = this.jobs.get(id);
    if (!record || (record.expiresAt !== null && record.expiresAt <= Date.now())) return undefined;
    return withoutOwner(record);
  }

  async missing(id: string, from: number, to: number): Promise<number[]> {
    const have = new Set<number>();
    for (const key of this.outcomeRows.getKeys({ start: [id, from], end: [id, to] })) have.add(key[1]);
    const missing: number[] = [];
    for (let i = from; i < to; i++) if (!have.has(i)) missing.push(i);
    return missing;
  }

  async inputs(id: string, indices: readonly number[]): Promise<ClientInput[]> {
    return indices.map((i) => {
      const input = this.inputRows.get([id, i]);
      if (input === undefined) throw new Error(`job ${id} has no input ${i}`);
      return input;
    });
  }

  async putOutcomes(id: string, outcomes: readonly JobOutcome[]): Promise<{ record: JobRecord; stored: number } | undefined> {
    return this.root.transaction(() => {
      const record = this.jobs.get(id);
      if (!record) return undefined;
      if (isFinalJobState(record.state)) return { record: withoutOwner(record), stored: 0 };
      let next: OwnedRecord = { ...record };
      for (const outcome of outcomes) {
        if (this.outcomeRows.get([id, outcome.index]) !== undefined) continue;
        this.outcomeRows.put([id, outcome.index], Buffer.from(encodeOutcome(outcome)));
        next.done++;
        if ('error' in outcome) next.failed++;
      }
      const stored = next.done - record.done;
      if (next.done >= next.total) next = { ...finished(next, 'SUCCEEDED', Date.now(), this.ttlMs), owner: next.owner };
      else if (next.state === 'QUEUED') next.state = 'RUNNING';
      this.jobs.put(id, next);
      return { record: withoutOwner(next), stored };
    });
  }

  async outcomes(id: string, offset: number, limit: number): Promise<JobOutcome[]> {
    const outcomes: JobOutcome[] = [];
    for (const { key, value } of this.outcomeRows.getRange({ start: [id, offset], end: [id, offset + limit] })) outcomes.push(decodeOutcome(key[1], value));
    return outcomes;
  }

  async transition(id: string, from: readonly JobState[], to: JobState): Promise<JobRecord | undefined> {
    return this.root.transaction(() => {
      const record = this.jobs.get(id);
      if (!record) return undefined;
      if (!from.includes(record.state)) return withoutOwner(record);
      const next: OwnedRecord = isFinalJobState(to) ? { ...finished(record, to, Date.now(), this.ttlMs), owner: record.owner } : { ...record, state: to };
      this.jobs.put(id, next);
      return withoutOwner(next);
    });
  }

  async unfinished(): Promise<JobRecord[]> {
    return this.active().map(withoutOwner);
  }

  /**
   * Takes over the unfinished jobs whose owner process is gone (killed, say) and returns them:
   * this process runs them now. Checked and written in one transaction, so two processes starting
   * together do not both take a job.
   */
  async adoptOrphans(): Promise<JobRecord[]> {
    return this.root.transaction(() => {
      const adopted: JobRecord[] = [];
      for (const record of this.active()) {
        if (record.owner === process.pid || (record.owner !== undefined && isAlive(record.owner))) continue;
        this.jobs.put(record.id, { ...record, owner: process.pid });
        adopted.push(withoutOwner(record));
      }
      return adopted;
    });
  }

  async countByState(): Promise<Record<JobState, number>> {
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    const now = Date.now();
    for (const { value } of this.jobs.getRange()) if (value.expiresAt === null || value.expiresAt > now) counts[value.state]++;
    return counts;
  }

  async sweep(now: number): Promise<number> {
    const expired = [...this.jobs.getRange()].filter(({ value }) => value.expiresAt !== null && value.expiresAt <= now).map(({ key }) => key);
    if (expired.length === 0) return 0;
    await this.root.transaction(() => {
      for (const id of expired) {
        this.jobs.remove(id);
        for (const key of this.inputRows.getKeys({ start: [id, 0], end: [id, Number.MAX_SAFE_INTEGER] })) this.inputRows.remove(key);
        for (const key of this.outcomeRows.getKeys({ start: [id, 0], end: [id, Number.MAX_SAFE_INTEGER] })) this.outcomeRows.remove(key);
      }
    });
    return expired.length;
  }

  /** Rows a job still has on disk (inputs, outcomes): for tests of expiry. */
  rowCount(id: string): number {
    return this.inputRows.getKeysCount({ start: [id, 0], end: [id, Number.MAX_SAFE_INTEGER] }) + this.outcomeRows.getKeysCount({ start: [id, 0], end: [id, Number.MAX_SAFE_INTEGER] });
  }

  async close(): Promise<void> {
    await this.root.close();
  }

  private active(): OwnedRecord[] {
    const active: OwnedRecord[] = [];
    for (const { value } of this.jobs.getRange()) if (!isFinalJobState(value.state)) active.push(value);
    return active;
  }
}

function withoutOwner(record: OwnedRecord): JobRecord {
  const { owner: _owner, ...rest } = record;
  return rest;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
