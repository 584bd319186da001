/**
 * The chain of a multi-stage model, checked against the step catalog and the other models of the
 * repository once they are all read: each value a stage takes exists (the input, or what an
 * earlier stage passes on) and is of the kind the stage takes; a called model exists, is a
 * single model reading images, and answers something a value kind can hold; every value passed
 * on is taken by a later stage or by the answer (no stage runs for nothing); the stages that run
 * in a worker come before those that call other models (this version runs a chain in that order:
 * one worker task per input, then the calls, then the answer on the main thread).
 *
 * It also works out what the work budget must count per input beyond the model's own stages: for
 * each call, the most items its list can hold (the option bounding the step that makes it, such
 * as line-crops' maxLines) times the called model's cost per input.
 */
import type { InputKind, ModelTask } from '../domain/types.ts';
import { ANSWERS, CALL_RESULTS, CALL_TAKES, STEPS, type ValueKind } from '../pipelines/stage-catalog.ts';
import { ManifestError, type StagesSpec } from './manifest.ts';

/** What the chain needs to know of a model it calls. */
export interface CalledModel {
  task: ModelTask;
  inputKind: InputKind;
  staged: boolean;
  /** The called model's own `limits.costPerInput`. */
  costPerInput: number;
}

export interface LinkedChain {
  /** Values the worker stages pass on that the main thread takes (calls, the answer). */
  exports: string[];
  /** Cost units the calls may queue per input of this model, at most. */
  callCost: number;
  /** The most items of a list the answer takes (a page's lines), from the step that bounds it; 0 when none is bounded. */
  maxAnswerItems: number;
}

export function linkChain(spec: StagesSpec, inputName: string, where: string, called: (name: string) => CalledModel | undefined): LinkedChain {
  const fail = (path: string, expected: string): never => {
    throw new ManifestError(`${where}: "${path}" ${expected}`);
  };
  const kinds = new Map<string, ValueKind>([[inputName, 'image']]);
  /** Which stage passes each value, and the length limit of a list it passes. */
  const producers = new Map<string, { worker: boolean; lengthLimit?: number }>([[inputName, { worker: true }]]);
  const taken = new Set<string>();
  const exports = new Set<string>();
  const names = new Set<string>();
  let callCost = 0;
  let calling = false;

  /** Marks `takes` as taken, checking each exists and has the kind expected. */
  const take = (takes: readonly string[], expected: readonly ValueKind[], path: string, byMainThread: boolean) => {
    if (takes.length !== expected.length) fail(`${path}.takes`, `must name ${expected.length} value${expected.length === 1 ? '' : 's'}, of kinds ${expected.join(', ')}`);
    takes.forEach((value, k) => {
      const kind = kinds.get(value);
      if (kind === undefined) fail(`${path}.takes`, `names "${value}", which is neither the input ("${inputName}") nor passed on by an earlier stage`);
      if (kind !== expected[k]) fail(`${path}.takes`, `gives "${value}", a value of kind ${kind}, where ${expected[k]} is taken`);
      taken.add(value);
      if (byMainThread && producers.get(value)!.worker) exports.add(value);
    });
  };

  spec.stages.forEach((stage, i) => {
    const path = `stages[${i}]`;
    if (names.has(stage.name)) fail(`${path}.name`, `repeats the stage name "${stage.name}"`);
    names.add(stage.name);
    if (kinds.has(stage.passes)) fail(`${path}.passes`, `names "${stage.passes}", a value that already exists; every value has one name`);
    let passes: ValueKind;
    let lengthLimit: number | undefined;
    switch (stage.kind) {
      case 'MODEL': {
        if (calling) fail(path, 'is a model stage after a call stage; this version runs the stages in workers first, then the calls');
        take(stage.takes, STEPS[stage.prepare.step].takes, path, false);
        passes = STEPS[stage.post.step].passes ?? fail(`${path}.post`, 'must name a step that passes a value on');
        break;
      }
      case 'STEP': {
        if (calling) fail(path, 'is a step after a call stage; this version runs the stages in workers first, then the calls');
        const signature = STEPS[stage.step.step];
        take(stage.takes, signature.takes, path, false);
        passes = signature.passes ?? fail(`${path}.step`, 'must name a step that passes a value on');
        const limit: string | undefined = 'lengthLimit' in signature ? signature.lengthLimit : undefined;
        lengthLimit = limit === undefined ? undefined : stage.step.options[limit];
        break;
      }
      case 'CALL': {
        calling = true;
        const target = called(stage.call);
        if (!target) fail(`${path}.call`, `names "${stage.call}", which is not a model of this repository`);
        if (target!.staged) fail(`${path}.call`, `names "${stage.call}", a multi-stage model; a call stage calls a single model`);
        if (target!.inputKind !== 'IMAGE') fail(`${path}.call`, `names "${stage.call}", which reads ${target!.inputKind}; the ${CALL_TAKES} a call stage hands on are images`);
        const result = CALL_RESULTS[target!.task];
        if (!result) fail(`${path}.call`, `names "${stage.call}", a ${target!.task} model; a call stage can call: ${Object.keys(CALL_RESULTS).join(', ')}`);
        take(stage.takes, [CALL_TAKES], path, true);
        const bound = producers.get(stage.takes[0]!)!.lengthLimit;
        if (bound === undefined) fail(`${path}.takes`, 'must be a list whose length a step bounds (such as line-crops\' maxLines), so the work budget can count its items');
        callCost += bound! * target!.costPerInput;
        passes = result!;
        break;
      }
    }
    kinds.set(stage.passes, passes);
    producers.set(stage.passes, { worker: stage.kind !== 'CALL', lengthLimit });
  });

  take(spec.answer.takes, ANSWERS[spec.answer.build].takes, 'answer', true);
  const maxAnswerItems = Math.max(0, ...spec.answer.takes.map((value) => producers.get(value)!.lengthLimit ?? 0));
  for (const [value] of kinds) {
    if (value !== inputName && !taken.has(value)) fail('stages', `pass on "${value}", which no later stage and not the answer takes; remove the stage or take its value`);
  }
  return { exports: [...exports], callCost, maxAnswerItems };
}
