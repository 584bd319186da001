/**
 * A pipeline is the worker-side half of a model family, in four steps that runPipeline takes
 * every batch through, in this order, for every model:
 *
 *   decode       each input alone (decode an image or a WAV file, tokenise a text); an input
 *                that cannot be decoded fails alone and the rest of the batch still runs
 *   feed         the decoded inputs of one session run -> the graph's input tensors
 *   run          the session (once, or step by step for a recurrent model)
 *   postprocess  the outputs -> one answer per input
 *
 * runPipeline also splits the batch into runs where a pipeline asks (OCR lines of one width, a
 * graph that fixes its batch at 1), times each step into preprocess / inference / postprocess,
 * and reports the graph outputs it fetched. It runs on a worker thread, so decoding images,
 * tokenising text and decoding CTC output never take time from the main thread's event loop.
 */
import { performance } from 'node:perf_hooks';
import type * as ort from 'onnxruntime-node';
import type { ClassificationNeeds, ItemFailure, ItemResult, Payload, PhaseTimings, WorkerAnswer } from '../domain/types.ts';
import { InputError } from '../processing/errors.ts';
import type { HandleOf, PipelineName } from './handle.ts';

/** What every step of one batch may read. */
export interface Batch<P extends PipelineName> {
  model: HandleOf<P>;
  /** Classifiers: compute only what the batch's queries select. */
  needs: ClassificationNeeds;
  /** The graph outputs this batch fetches. */
  outputs: readonly string[];
}

export interface Pipeline<P extends PipelineName, Item, Fed, Out> {
  /** Decodes one input. An InputError fails this input only (with its code, BAD_USER_INPUT usually); anything else fails the batch. */
  decode(payload: Payload, model: HandleOf<P>): Item | Promise<Item>;
  /** The graph outputs a batch fetches: only those the selected fields need. */
  outputs(model: HandleOf<P>, needs: ClassificationNeeds, session: ort.InferenceSession): readonly string[];
  /** Splits the decoded inputs into session runs (lists of indices into `items`); undefined: one run of all. */
  runs?(items: readonly Item[], model: HandleOf<P>): number[][] | undefined;
  /** The feeds of one run. */
  feed(items: readonly Item[], batch: Batch<P>): Fed;
  /** Runs the session on one run's feeds. */
  run(session: ort.InferenceSession, fed: Fed, batch: Batch<P>): Promise<Out>;
  /** One answer per item of the run, in order. */
  postprocess(out: Out, items: readonly Item[], fed: Fed, batch: Batch<P>): ItemResult[];
}

export interface BatchOutcome<R extends WorkerAnswer = WorkerAnswer> {
  /** One per payload, in order: an answer (or a multi-stage model's values), or the failure of that input alone. */
  results: Array<R | ItemFailure>;
  timings: PhaseTimings;
  /** The graph outputs session.run was asked for (what `needs` saved shows here). */
  fetched: string[];
}

/** session.run of a batch's outputs, for the pipelines whose feed is the graph's inputs as they are. */
export function runFeeds(session: ort.InferenceSession, feeds: ort.InferenceSession.FeedsType, batch: Batch<PipelineName>): Promise<ort.InferenceSession.ReturnType> {
  return session.run(feeds, batch.outputs);
}

export async function runPipeline<P extends PipelineName, Item, Fed, Out>(
  pipeline: Pipeline<P, Item, Fed, Out>,
  session: ort.InferenceSession,
  model: HandleOf<P>,
  payloads: readonly Payload[],
  needs: ClassificationNeeds,
): Promise<BatchOutcome<ItemResult>> {
  const timings: PhaseTimings = { preprocessMs: 0, inferenceMs: 0, postprocessMs: 0 };
  const results = new Array<ItemResult | ItemFailure>(payloads.length);
  const items: Item[] = [];
  /** The payload index of each decoded item. */
  const positions: number[] = [];

  const started = performance.now();
  for (let i = 0; i < payloads.length; i++) {
    try {
      const decoded = pipeline.decode(payloads[i]!, model);
      items.push(decoded instanceof Promise ? await decoded : decoded);
      positions.push(i);
    } catch (error) {
      // Errors cross back to the main thread as data: structured clone would drop the class.
      if (!(error instanceof InputError)) throw error;
      results[i] = { kind: 'failure', code: error.code, message: error.message };
    }
  }
  timings.preprocessMs += performance.now() - started;
  if (items.length === 0) return { results, timings, fetched: [] };

  const batch: Batch<P> = { model, needs, outputs: pipeline.outputs(model, needs, session) };
  /** Feeds, runs and post-processes `runItems` (items[run[k]], or all items when `run` is null). */
  const runOnce = async (runItems: readonly Item[], run: readonly number[] | null) => {
    const fedFrom = performance.now();
    const fed = pipeline.feed(runItems, batch);
    const ranFrom = performance.now();
    timings.preprocessMs += ranFrom - fedFrom;
    const out = await pipeline.run(session, fed, batch);
    const postFrom = performance.now();
    timings.inferenceMs += postFrom - ranFrom;
    const answers = pipeline.postprocess(out, runItems, fed, batch);
    timings.postprocessMs += performance.now() - postFrom;
    if (answers.length !== runItems.length) throw new Error(`model ${model.id}: ${answers.length} answers for a run of ${runItems.length} inputs`);
    for (let k = 0; k < answers.length; k++) results[positions[run ? run[k]! : k]!] = answers[k]!;
    answered += answers.length;
  };
  let answered = 0;
  const runs = pipeline.runs?.(items, model);
  if (!runs) await runOnce(items, null);
  else for (const run of runs) await runOnce(run.map((i) => items[i]!), run);
  if (answered !== items.length) throw new Error(`model ${model.id}: the runs answered ${answered} of ${items.length} inputs`);
  return { results, timings, fetched: [...batch.outputs] };
}
