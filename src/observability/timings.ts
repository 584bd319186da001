/**
 * Where one request's time went, phase by phase. Filled in by the HTTP layer, the Apollo
 * plugin and the prediction path; reported in Prometheus histograms, in the structured log line
 * of the request, and in the response's `extensions.timings` when the client asks for it
 * (header `x-predictql-timings: 1`). With tracing on, a PhaseTrace beside it also keeps when each
 * phase started and ended, for the request's spans.
 */
import { performance } from 'node:perf_hooks';
import type { BatchRun, PhaseTrace } from './phase-trace.ts';

export const PHASES = [
  'httpBodyParse',
  'graphqlParse',
  'graphqlValidate',
  'cacheLookup',
  'queueWait',
  'preprocess',
  'inference',
  'postprocess',
  'cacheWrite',
  'execution',
  'serialization',
] as const;
export type Phase = (typeof PHASES)[number];

export class RequestTimings {
  /** Milliseconds per phase; prediction phases keep the slowest of the request's inputs. */
  readonly ms: Partial<Record<Phase, number>> = {};
  /** Multi-stage models: milliseconds per stage (by the manifest's stage names), the slowest input's. */
  readonly stages: Record<string, number> = {};
  readonly startedAt = performance.now();

  /** `trace`: given only while tracing is on (src/observability/tracing.ts). */
  constructor(readonly trace?: PhaseTrace) {}

  /** A phase that just ended after `ms` milliseconds; `model`: the model it worked for, if any (in its span). */
  add(phase: Phase, ms: number, model?: string): void {
    this.ms[phase] = (this.ms[phase] ?? 0) + ms;
    if (this.trace) this.trace.ended(phase, ms, performance.now(), model === undefined ? undefined : { 'predictql.model': model });
  }

  /** Phases that overlap across a request's inputs (they wait and run together): keep the longest. */
  max(phase: Phase, ms: number): void {
    this.ms[phase] = Math.max(this.ms[phase] ?? 0, ms);
  }

  /** The worker phases of the batch an input of `model` ran in. */
  batch(run: BatchRun, model: string): void {
    this.max('queueWait', run.queueMs);
    this.max('preprocess', run.timings.preprocessMs);
    this.max('inference', run.timings.inferenceMs);
    this.max('postprocess', run.timings.postprocessMs);
    if (this.trace) this.trace.batch(run, performance.now(), model);
  }

  /** One stage of a multi-stage model for one input; stages of several inputs keep the longest. */
  stage(name: string, ms: number): void {
    this.stages[name] = Math.max(this.stages[name] ?? 0, ms);
  }

  /** Times `fn` into `phase` (summed). */
  async time<T>(phase: Phase, fn: () => Promise<T>, model?: string): Promise<T> {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.add(phase, performance.now() - started, model);
    }
  }

  /** Every phase, rounded to microseconds, with the total so far; `stages` (ms by stage name) when a multi-stage model ran. */
  report(): Record<string, number | Record<string, number>> {
    const out: Record<string, number | Record<string, number>> = {};
    for (const phase of PHASES) out[`${phase}Ms`] = round(this.ms[phase] ?? 0);
    out.totalMs = round(performance.now() - this.startedAt);
    const stages = Object.entries(this.stages);
    if (stages.length > 0) out.stages = Object.fromEntries(stages.map(([name, ms]) => [name, round(ms)]));
    return out;
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
