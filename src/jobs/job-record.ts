/**
 * What a prediction job is, as every store keeps it: its record (state and counts), its inputs as
 * the client sent them, and one outcome per input index, written once.
 */
import { randomBytes } from 'node:crypto';
import { decodeResult, encodeResult } from '../cache/result-codec.ts';
import type { CachePolicy, CacheSource, ItemResult, JobState } from '../domain/types.ts';

export interface JobRecord {
  /** 128 random bits, hex: unguessable, so an id is the capability to read the job. */
  id: string;
  modelName: string;
  /** The content version the job runs: fixed at submission, so a new default version does not change a running job's answers. */
  version: string;
  state: JobState;
  total: number;
  done: number;
  failed: number;
  /** Inputs per chunk: the unit a runner takes, and the unit of work a BullMQ job carries. */
  chunkSize: number;
  cache: CachePolicy;
  /** Milliseconds since the epoch. */
  createdAt: number;
  finishedAt: number | null;
  /** When a finished job is removed, with its inputs and results (finishedAt + JOBS_TTL_SECONDS). */
  expiresAt: number | null;
}

/** One input's outcome: the model's answer (and where it came from), or an error with its public code. */
export type JobOutcome = { index: number; result: ItemResult; source: CacheSource } | { index: number; error: { code: string; message: string } };

export function newJobId(): string {
  return randomBytes(16).toString('hex');
}

export const JOB_ID = /^[0-9a-f]{32}$/;

const SOURCES: readonly CacheSource[] = ['L1', 'STORE', 'NONE'];

/**
 * An outcome as bytes: a tag (1: an answer, 0: an error), then the answer in the cache's codec
 * after a byte for its source, or the error as JSON. The index is the key, not part of the value.
 */
export function encodeOutcome(outcome: JobOutcome): Uint8Array {
  if ('error' in outcome) {
    const json = Buffer.from(JSON.stringify(outcome.error), 'utf8');
    return Buffer.concat([Buffer.of(0), json]);
  }
  return Buffer.concat([Buffer.of(1, SOURCES.indexOf(outcome.source)), encodeResult(outcome.result)]);
}

export function decodeOutcome(index: number, bytes: Uint8Array): JobOutcome {
  if (bytes[0] === 0) return { index, error: JSON.parse(Buffer.from(bytes.subarray(1)).toString('utf8')) as { code: string; message: string } };
  return { index, source: SOURCES[bytes[1]!] ?? 'NONE', result: decodeResult(bytes.subarray(2)) };
}

/** The record a final state leaves: when it ended and when it goes. */
export function finished(record: JobRecord, state: JobState, now: number, ttlMs: number): JobRecord {
  return { ...record, state, finishedAt: now, expiresAt: now + ttlMs };
}
