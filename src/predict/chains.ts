/**
 * The main thread's half of a multi-stage model (a page reader: detection, then every line to the
 * line model), for one input that missed the model's cache:
 *
 *   1. the worker stages, as one input of the model's own batcher: queued, deduplicated in flight
 *      and bounded like any model's input; a worker decodes the image once and runs them all
 *      (src/pipelines/stages.ts), handing back the cut-out lines with their boxes and digests;
 *   2. each call stage: every item of its list becomes an input of the called model through the
 *      same path as a client's (its cache, keyed on the item's pixels, its in-flight dedup, its
 *      batcher, queue bound, deadline check and metrics), so the lines of every page in flight
 *      fill that model's batches beside plain requests, and a line already read (a letterhead on
 *      every page) is read once. At most `window` items of one input wait in that model's queue
 *      at a time, so a 200-line page cannot push every other request of the model back by 200
 *      lines; the rest follow as those finish. One item failing fails the input (with that
 *      item's error) and withdraws its items still queued;
 *   3. the answer, assembled here (src/predict/answers.ts): map lookups and string joins.
 *
 * Each stage's time goes into the request's timings (`extensions.timings.stages`) and
 * `predictql_stage_seconds`; the number of items a stage passes on into `predictql_stage_items`.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { CachePolicy, CacheSource, ImageRegion, ItemResult, StageOutput, StageValue } from '../domain/types.ts';
import type { Priority } from '../engine/dispatcher.ts';
import type { ModelBatcher } from '../engine/batcher.ts';
import { abortReason, type ComputedItem } from '../engine/job.ts';
import type { Metrics } from '../metrics.ts';
import type { ModelRegistry } from '../models/registry.ts';
import type { ServedModel } from '../models/served-model.ts';
import type { RequestTimings } from '../observability/timings.ts';
import { ANSWER_BUILDERS } from './answers.ts';
import type { EncodedInput } from './input.ts';

/** One input's answer from a model, or where the cache had it: what Predictions.resolve gives. */
export interface ModelOutcome {
  item: ItemResult;
  source: CacheSource;
}

/** What the chain uses of the prediction path (src/predict/predictions.ts). */
export interface ChainDependencies {
  registry: ModelRegistry;
  /** The multi-stage model's own batcher, for its worker stages. */
  batcher(model: ServedModel, priority: Priority): ModelBatcher;
  /** Predictions.resolve for inputs of a called model: its cache, then its batcher (their timings are not the request's phases). */
  resolve(model: ServedModel, inputs: readonly EncodedInput[], signal: AbortSignal, policy: CachePolicy, deadlineAt: number | undefined, priority: Priority): Promise<Array<ModelOutcome | Error>>;
  metrics: Metrics;
}

export interface ChainRun {
  model: ServedModel;
  input: EncodedInput;
  signal: AbortSignal;
  policy: CachePolicy;
  deadlineAt: number | undefined;
  timings: RequestTimings;
  /** A prediction job's page runs every stage, the calls included, at background priority. */
  priority: Priority;
}

export class ChainRunner {
  constructor(private readonly deps: ChainDependencies) {}

  /**
   * The digest a multi-stage model's answer is cached under: the input's, and the versions of the
   * models it calls now, so a new version of the line model is never answered from pages it did
   * not read.
   */
  cacheDigest(model: ServedModel, inputDigest: string): string {
    const called = model.stages!.spec.stages.flatMap((stage) => (stage.kind === 'CALL' ? [this.deps.registry.get(stage.call).id] : []));
    return createHash('sha256').update(inputDigest).update(called.join('\n')).digest('base64url');
  }

  async compute({ model, input, signal, policy, deadlineAt, timings, priority }: ChainRun): Promise<ComputedItem & { result: ItemResult }> {
    const spec = model.stages!.spec;
    // The in-flight key is the full digest, as for any model: two requests for one page share its worker stages.
    const segment = await this.deps.batcher(model, priority).compute(`${model.id}:${input.digest}`, input.payload, 'label', signal, deadlineAt);
    const output = segment.result;
    if (output.kind !== 'stageOutput') throw new Error(`model ${model.id}: its worker stages answered ${output.kind}`);
    this.recordWorkerStages(model, output, timings);

    const values = new Map<string, StageValue>(Object.entries(output.values));
    for (const stage of spec.stages) {
      if (stage.kind !== 'CALL') continue;
      const started = performance.now();
      const list = values.get(stage.takes[0]!);
      if (list?.kind !== 'regions') throw new Error(`model ${model.id}, stage ${stage.name}: "${stage.takes[0]}" is not a list of regions`);
      const called = this.deps.registry.get(stage.call);
      const answers = await this.callEach(model, stage.name, called, list.regions, stage.window, { signal, policy, deadlineAt, priority });
      values.set(stage.passes, { kind: 'texts', texts: answers.map((item) => textOf(item, called)) });
      this.stageTime(model, stage.name, performance.now() - started, timings);
    }
    const result = ANSWER_BUILDERS[spec.answer.build](spec.answer.takes.map((name) => values.get(name)!));
    return { ...segment, result };
  }

  /** Each region as an input of `called`, at most `window` of them queued at once; answers in order. */
  private async callEach(
    model: ServedModel,
    stage: string,
    called: ServedModel,
    regions: readonly ImageRegion[],
    window: number,
    request: { signal: AbortSignal; policy: CachePolicy; deadlineAt: number | undefined; priority: Priority },
  ): Promise<ItemResult[]> {
    const answers = new Array<ItemResult>(regions.length);
    // One item failing withdraws the others still queued (unless another request wants them too).
    const failed = new AbortController();
    const signal = AbortSignal.any([request.signal, failed.signal]);
    let next = 0;
    const sources = { cache: 0, computed: 0 };
    const lane = async () => {
      while (next < regions.length) {
        if (signal.aborted) throw abortReason(signal);
        const i = next++;
        const region = regions[i]!;
        const [outcome] = await this.deps.resolve(called, [{ payload: { kind: 'pixels', image: region.image }, digest: region.digest }], signal, request.policy, request.deadlineAt, request.priority);
        if (outcome instanceof Error || outcome === undefined) throw outcome ?? new Error(`model ${called.id} gave no answer`);
        answers[i] = outcome.item;
        sources[outcome.source === 'NONE' ? 'computed' : 'cache']++;
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(window, regions.length) }, lane));
    } catch (error) {
      failed.abort(error);
      throw error;
    }
    this.deps.metrics.stageItemSources.inc({ model: model.name, stage, source: 'cache' }, sources.cache);
    this.deps.metrics.stageItemSources.inc({ model: model.name, stage, source: 'computed' }, sources.computed);
    return answers;
  }

  private recordWorkerStages(model: ServedModel, output: StageOutput, timings: RequestTimings): void {
    for (const [stage, ms] of Object.entries(output.stageMs)) this.stageTime(model, stage, ms, timings);
    for (const [name, value] of Object.entries(output.values)) {
      if (value.kind !== 'regions') continue;
      this.deps.metrics.stageItems.observe({ model: model.name, value: name }, value.regions.length);
      if (value.truncated) this.deps.metrics.stageTruncated.inc({ model: model.name, value: name });
    }
  }

  private stageTime(model: ServedModel, stage: string, ms: number, timings: RequestTimings): void {
    timings.stage(stage, ms);
    this.deps.metrics.stageSeconds.observe({ model: model.name, stage }, ms / 1000);
  }
}

function textOf(item: ItemResult, called: ServedModel): { text: string; confidence: number } {
  if (item.kind !== 'textRecognition') throw new Error(`model ${called.id} answered ${item.kind} where a text was expected`);
  return { text: item.text, confidence: item.confidence };
}
