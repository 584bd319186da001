/**
 * The model repository: one folder per model under the models directory, each with a
 * manifest.json and the ONNX file it names. Reading it resolves paths and derives each model's
 * version from the file's content, so a changed file is a new version without anyone bumping it.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ManifestError, parseManifest } from './manifest.ts';
import type { ServedModel } from './served-model.ts';

export interface BatchingDefaults {
  maxBatchSize: number;
  maxDelayMs: number;
}

export async function readRepository(modelsDir: string, defaults: BatchingDefaults): Promise<ServedModel[]> {
  let entries;
  try {
    entries = await readdir(modelsDir, { withFileTypes: true });
  } catch (error) {
    throw new ManifestError(`cannot read the models directory ${modelsDir}: ${(error as Error).message}`);
  }
  const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const models: ServedModel[] = [];
  for (const folder of folders) {
    const model = await readModelFolder(join(modelsDir, folder), defaults);
    if (model) models.push(model);
  }
  const seen = new Set<string>();
  for (const model of models) {
    if (seen.has(model.name)) throw new ManifestError(`two folders in ${modelsDir} declare the model "${model.name}"`);
    seen.add(model.name);
  }
  return models;
}

/** Reads one model folder; a folder without manifest.json is not a model and yields null. */
async function readModelFolder(folder: string, defaults: BatchingDefaults): Promise<ServedModel | null> {
  const manifestPath = join(folder, 'manifest.json');
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch {
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(`${manifestPath}: not valid JSON (${(error as Error).message})`);
  }
  const manifest = parseManifest(json, manifestPath);
  const filePath = resolve(folder, manifest.file);
  let bytes: Buffer;
  try {
    bytes = await readFile(filePath);
  } catch (error) {
    throw new ManifestError(`${manifestPath}: cannot read the model file ${filePath}: ${(error as Error).message}`);
  }
  const version = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  return {
    id: `${manifest.name}@${version}`,
    name: manifest.name,
    version,
    manifest,
    filePath,
    maxBatchSize: manifest.batching?.maxBatchSize ?? defaults.maxBatchSize,
    maxDelayMs: manifest.batching?.maxDelayMs ?? defaults.maxDelayMs,
    maxQueue: manifest.batching?.maxQueue,
    status: { loaded: false, loadTimeMs: null, memoryBytes: null },
  };
}
