/**
 * Text-line recognition (`ocr`, PP-OCRv4): each image is decoded RGB, scaled to 48 px high and
 * normalised in BGR order. Lines run in groups that share a padded width, because this network
 * mixes information across the whole width and padding a line to a wider neighbour's width can
 * change what it reads; grouped, every line reads as it would alone (and as the cache assumes).
 * Output: per-step character probabilities [N, W/8, 6625], CTC-decoded greedily here.
 *
 * An image sent by a client is checked to hold one line (processing/text-lines.ts): a page gets
 * MULTIPLE_TEXT_LINES instead of an empty or garbled reading. A line another model's stage cut
 * out of a page (a `pixels` payload, see src/pipelines/stages.ts) arrives decoded and is read as
 * it is.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { Payload } from '../domain/types.ts';
import { MultipleLinesError } from '../processing/errors.ts';
import { decodeImage, type DecodedImage, type ImageLimits } from '../processing/image.ts';
import { ctcGreedyDecode, groupOcrLines, OCR_CLASSES, prepareOcrBatch } from '../processing/ocr.ts';
import { textLineBands } from '../processing/text-lines.ts';
import { bytesOf } from './bytes.ts';
import type { HandleOf } from './handle.ts';
import { outputName } from './outputs.ts';
import { runFeeds, type Pipeline } from './pipeline.ts';

/** A line longer than this is squeezed anyway; decoding bigger images wastes time. */
const MAX_DECODE_SIDE = 4096;

/**
 * Reads the character dictionary and returns the class table the model indexes: index 0 is the
 * CTC blank (an empty string, so it can never be emitted as text), then one entry per line of the
 * file, then a space (PaddleOCR's `use_space_char`). For ppocr_keys_v1.txt that is 6625 entries,
 * the model's class count; a mismatch throws, since every character would then be shifted.
 */
export function readOcrKeys(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  // Lines end with \n (a trailing newline is optional); a \r from a Windows checkout is not a
  // character of the dictionary.
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const keys = ['', ...lines, ' '];
  if (keys.length !== OCR_CLASSES) {
    throw new Error(`${path}: ${lines.length} characters + blank + space = ${keys.length} classes, but the model outputs ${OCR_CLASSES}`);
  }
  return keys;
}

const keysByPath = new Map<string, string[]>();

function keysOf(model: HandleOf<'ocr'>): string[] {
  const path = model.options.vocabularyPath;
  if (path === null) throw new Error(`model ${model.id}: a text-line model needs a "vocabulary" file (its alphabet) in its manifest`);
  let keys = keysByPath.get(path);
  if (!keys) {
    keys = readOcrKeys(path);
    keysByPath.set(path, keys);
  }
  return keys;
}

/** One line to read: a client's image (which must hold one line), or a line a page model cut out. */
async function decodeLine(payload: Payload, limits: ImageLimits): Promise<DecodedImage> {
  if (payload.kind === 'pixels') {
    if (payload.image.channels !== 3) throw new Error(`a text line to read must be RGB, got ${payload.image.channels} channels`);
    return payload.image;
  }
  const image = await decodeImage(bytesOf(payload), limits, 'rgb', MAX_DECODE_SIDE);
  const lines = textLineBands(image);
  if (lines.length > 1) {
    const rows = lines.map((band) => `${band.top}-${band.bottom}`).join(', ');
    throw new MultipleLinesError(
      `the image holds ${lines.length} lines of text (rows ${rows} of ${image.height}); this model reads one line: crop the image to one line, or send the whole page to a page model (the bundled "ocr-page" finds and reads every line)`,
    );
  }
  return image;
}

interface OcrFeed {
  feeds: ort.InferenceSession.FeedsType;
  /** Each line's width before padding: its text is decoded from those columns only. */
  widths: number[];
}

export const ocr: Pipeline<'ocr', DecodedImage, OcrFeed, ort.InferenceSession.ReturnType> = {
  decode: (payload, model) => decodeLine(payload, model.options.image),
  outputs: (model) => [outputName(model, 'probabilities')],
  runs: (lines) => groupOcrLines(lines).map((group) => group.indices),
  feed(lines, { model }) {
    const batch = prepareOcrBatch(lines);
    return { feeds: { [model.inputTensor]: new ort.Tensor('float32', batch.data, batch.dims) }, widths: batch.widths };
  },
  run: (session, fed, batch) => runFeeds(session, fed.feeds, batch),
  postprocess(outputs, _lines, fed, { model, outputs: [name] }) {
    const output = outputs[name!]!;
    const [n, t, c] = output.dims as [number, number, number];
    // float32, as the cache stores it: the answer served from the cache is this one, to the last digit.
    return ctcGreedyDecode(output.data as Float32Array, n, t, c, keysOf(model), fed.widths).map(({ text, confidence }) => ({ kind: 'textRecognition', text, confidence: Math.fround(confidence) }));
  },
};
