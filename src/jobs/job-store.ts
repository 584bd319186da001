/**
 * Where prediction jobs live: an LMDB environment beside the cache (lmdb-job-store.ts) or Redis
 * (redis-job-store.ts), chosen by CACHE_URL. Every write that matters to "each index answered
 * once" is atomic in the store: an outcome is stored only if its index has none, and the counts
 * and the final state change in the same transaction (LMDB) or script (Redis).
 */
import type { ClientInput, JobState } from '../domain/types.ts';
import type { JobOutcome, JobRecord } from './job-record.ts';

export interface JobStore {
  readonly kind: 'lmdb' | 'redis';
  /** Stores a new job with its inputs; false (nothing stored) when `maxActive` jobs are already queued or running. */
  create(record: JobRecord, inputs: readonly ClientInput[], maxActive: number): Promise<boolean>;
  /** The job, or undefined when there is none or it has expired. */
  get(id: string): Promise<JobRecord | undefined>;
  /** The indices in [from, to) that have no outcome yet. */
  missing(id: string, from: number, to: number): Promise<number[]>;
  inputs(id: string, indices: readonly number[]): Promise<ClientInput[]>;
  /**
   * Stores the outcomes whose index has none yet (the others are left as they are) and counts
   * them; the job SUCCEEDS with its last outcome. Returns the record after and how many outcomes
   * were stored, or undefined if the job is gone. Outcomes of a job that has ended are not stored.
   */
  putOutcomes(id: string, outcomes: readonly JobOutcome[]): Promise<{ record: JobRecord; stored: number } | undefined>;
  /** The outcomes stored for indices in [offset, offset + limit), in index order. */
  outcomes(id: string, offset: number, limit: number): Promise<JobOutcome[]>;
  /** Moves the job to `to` if it is in one of `from`; returns the record after (unchanged if it was not). */
  transition(id: string, from: readonly JobState[], to: JobState): Promise<JobRecord | undefined>;
  /** Jobs queued or running. */
  unfinished(): Promise<JobRecord[]>;
  countByState(): Promise<Record<JobState, number>>;
  /** Removes the jobs past their expiry, with their inputs and outcomes; returns how many. */
  sweep(now: number): Promise<number>;
  close(): Promise<void>;
}
