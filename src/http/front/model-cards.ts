/**
 * What the front page needs to know about each served model to build a form for it: its task,
 * its input kind and how to fill it (feature names with the sample row, the sample text, whether
 * an image is drawn or uploaded), and whether it has a sample file the page can offer. Served as
 * JSON and re-read by the page, so models added or removed at run time show up without a reload.
 */
import { createHash } from 'node:crypto';
import type { ServedModel } from '../../models/served-model.ts';

export interface ModelCard {
  name: string;
  version: string;
  versionName: string | null;
  task: string;
  description: string;
  state: string;
  /** The `PredictionInput` field the model reads. */
  input: 'features' | 'text' | 'image' | 'audio' | 'tensor';
  /** FEATURES: the names, in order, and the sample row as example values. */
  features?: { name: string; example: number }[];
  /** TEXT: the sample text. */
  text?: string;
  /** IMAGE: a handwriting model, whose input is best drawn on a canvas. */
  drawable?: boolean;
  /** IMAGE and AUDIO: the sample file's media type, fetched from /front/samples/<name>. */
  sampleType?: string;
  /** TENSOR: the sample tensors, as the `tensor` input takes them. */
  tensors?: { name: string; dims: number[]; data: number[] }[];
  /** CLASSIFICATION: how many labels there are. */
  labelCount: number;
}

export function modelCard(model: ServedModel): ModelCard {
  const input = model.manifest.input;
  const sample = model.sample;
  const card: ModelCard = {
    name: model.name,
    version: model.version,
    versionName: model.manifest.versionName ?? null,
    task: model.manifest.task,
    description: model.manifest.description,
    state: model.status.state,
    input: input.kind === 'TENSOR' ? 'tensor' : (input.kind.toLowerCase() as ModelCard['input']),
    labelCount: model.labels.length,
  };
  if (input.kind === 'FEATURES' && sample.kind === 'features') card.features = input.features.map((name, i) => ({ name, example: Number(sample.values[i]!.toPrecision(6)) }));
  if (sample.kind === 'text') card.text = sample.text;
  if (input.kind === 'IMAGE') card.drawable = input.preprocess === 'mnist' || input.preprocess === 'symbols';
  if (sample.kind === 'bytes') card.sampleType = sampleFile(model)!.type;
  if (sample.kind === 'tensors') card.tensors = sample.tensors.map((t) => ({ name: t.name, dims: [...t.dims], data: [...t.data] }));
  return card;
}

/** The sample's bytes and media type, for image and audio models. */
export function sampleFile(model: ServedModel): { type: string; bytes: Uint8Array } | undefined {
  if (model.sample.kind !== 'bytes') return undefined;
  const bytes = model.sample.bytes;
  const type = bytes[0] === 0x89 && bytes[1] === 0x50 ? 'image/png' : bytes[0] === 0xff && bytes[1] === 0xd8 ? 'image/jpeg' : model.manifest.input.kind === 'AUDIO' ? 'audio/wav' : 'application/octet-stream';
  return { type, bytes };
}

/** The cards of every served model, with a tag that changes whenever any of them does. */
export function modelCards(models: ServedModel[]): { tag: string; models: ModelCard[] } {
  const cards = models.map(modelCard);
  const tag = createHash('sha1').update(JSON.stringify(cards.map((c) => [c.name, c.version, c.state]))).digest('hex').slice(0, 16);
  return { tag, models: cards };
}
