/**
 * The model repository on disk, in the spirit of Triton's:
 *
 *   models/<name>/manifest.json (+ the ONNX file, unless it lives in an npm package)
 *   models/<name>/<version>/manifest.json      several versions side by side; the folders sort
 *                                              by name (numbers numerically), the last is the
 *                                              default version
 *
 * Reading it resolves every file reference (in the folder, or inside an npm dependency through
 * Node's resolver: never downloaded) and derives each version from the ONNX file's content, so
 * changed weights are a new version without anyone bumping a number.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { Payload } from '../domain/types.ts';
import { ManifestError, parseManifest, type FileRef, type Manifest } from './manifest.ts';
import type { ServedModel, ServedStages } from './served-model.ts';
import { effectiveSettings, type ModelDefaults } from './settings.ts';
import { linkChain } from './stages.ts';

const require = createRequire(import.meta.url);
const versionCollator = new Intl.Collator('en', { numeric: true });

export async function readRepository(modelsDir: string, defaults: ModelDefaults): Promise<ServedModel[]> {
  const folders = await subfolders(modelsDir).catch((error: Error) => {
    throw new ManifestError(`cannot read the models directory ${modelsDir}: ${error.message}`);
  });
  const models: ServedModel[] = [];
  const topFolder = new Map<ServedModel, string>();
  for (const folder of folders) {
    const path = join(modelsDir, folder);
    if (await exists(join(path, 'manifest.json'))) {
      const model = await readModelFolder(path, 0, defaults);
      models.push(model);
      topFolder.set(model, folder);
      continue;
    }
    // A folder of versions: each subfolder with a manifest is one version.
    const versions = [];
    for (const sub of await subfolders(path)) {
      if (await exists(join(path, sub, 'manifest.json'))) versions.push(sub);
    }
    versions.sort(versionCollator.compare);
    for (const [order, version] of versions.entries()) {
      const model = await readModelFolder(join(path, version), order, defaults);
      models.push(model);
      topFolder.set(model, folder);
    }
  }
  checkNames(models, topFolder, modelsDir);
  return linkStages(models, defaults);
}

/**
 * Checks each multi-stage model's chain against the models it calls (their default versions)
 * and gives it what the chain adds to its settings: the cost of its calls, the values its
 * workers hand back.
 */
function linkStages(models: readonly ServedModel[], defaults: ModelDefaults): ServedModel[] {
  const latest = new Map<string, ServedModel>();
  for (const model of models) {
    const known = latest.get(model.name);
    if (!known || model.versionOrder > known.versionOrder) latest.set(model.name, model);
  }
  return models.map((model) => {
    if (!model.stages) return model;
    const linked = linkChain(model.stages.spec, model.stages.input, join(model.folder, 'manifest.json'), (name) => {
      const target = latest.get(name);
      return target && { task: target.manifest.task, inputKind: target.manifest.input.kind, staged: target.stages !== null, costPerInput: target.settings.limits.costPerInput };
    });
    return { ...model, stages: { ...model.stages, exports: linked.exports, maxAnswerItems: linked.maxAnswerItems }, settings: effectiveSettings(model.manifest, defaults, linked.callCost) };
  });
}

/** One top-level folder per name, and no two versions with the same weights. */
function checkNames(models: readonly ServedModel[], topFolder: ReadonlyMap<ServedModel, string>, modelsDir: string): void {
  const folderOfName = new Map<string, string>();
  const ids = new Set<string>();
  for (const model of models) {
    const folder = topFolder.get(model)!;
    const known = folderOfName.get(model.name);
    if (known !== undefined && known !== folder) throw new ManifestError(`two folders in ${modelsDir} declare the model "${model.name}": ${known} and ${folder}`);
    folderOfName.set(model.name, folder);
    if (ids.has(model.id)) throw new ManifestError(`${model.folder}: the same ONNX file as another version of "${model.name}" (${model.version}); versions must differ`);
    ids.add(model.id);
  }
}

async function subfolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort(versionCollator.compare);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Resolves a file reference: a path in the model's folder, or a file inside an npm package. */
export function resolveFile(ref: FileRef, folder: string): string {
  if ('file' in ref) return resolve(folder, ref.file);
  const dir = packageDir(ref.package);
  if (!dir) throw new ManifestError(`${join(folder, 'manifest.json')}: the npm package "${ref.package}" is not installed (run npm install)`);
  const path = resolve(dir, ref.path);
  if (!path.startsWith(dir)) throw new ManifestError(`${join(folder, 'manifest.json')}: "${ref.path}" is outside the package "${ref.package}"`);
  return path;
}

/**
 * The folder of an installed package, found along Node's resolution paths. Not through
 * require.resolve('<pkg>/package.json'): packages with an "exports" map may not export it.
 */
function packageDir(name: string): string | null {
  for (const base of require.resolve.paths(name) ?? []) {
    const dir = join(base, name);
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return null;
}

async function readBytes(ref: FileRef, folder: string, what: string, where: string): Promise<Buffer> {
  const path = resolveFile(ref, folder);
  try {
    return await readFile(path);
  } catch (error) {
    throw new ManifestError(`${where}: cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

async function readModelFolder(folder: string, versionOrder: number, defaults: ModelDefaults): Promise<ServedModel> {
  const where = join(folder, 'manifest.json');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(where, 'utf8'));
  } catch (error) {
    throw new ManifestError(`${where}: not valid JSON (${(error as Error).message})`);
  }
  const manifest = parseManifest(json, where);
  const hash = createHash('sha256');
  let stages: ServedStages | null = null;
  if (manifest.model) {
    hash.update(await readBytes(manifest.model, folder, 'the model file', where));
  } else {
    // A multi-stage model: its stages' files, and the chain itself (its options change answers).
    const files: Record<string, string> = {};
    for (const stage of manifest.stages!.stages) {
      if (stage.kind !== 'MODEL') continue;
      hash.update(await readBytes(stage.model, folder, `the model file of stage "${stage.name}"`, where));
      files[stage.name] = resolveFile(stage.model, folder);
    }
    hash.update(JSON.stringify(manifest.stages));
    const input = manifest.input.kind === 'IMAGE' && manifest.input.preprocess === 'stages' ? manifest.input.name : 'input';
    stages = { spec: manifest.stages!, input, files, exports: [], maxAnswerItems: 0 };
  }
  const version = hash.digest('hex').slice(0, 12);
  return {
    id: `${manifest.name}@${version}`,
    name: manifest.name,
    version,
    versionOrder,
    folder,
    manifest,
    filePath: manifest.model ? resolveFile(manifest.model, folder) : null,
    stages,
    labels: await readLabels(manifest, folder, where),
    vocabularyPath: manifest.vocabulary ? resolveFile(manifest.vocabulary, folder) : null,
    sample: await readSample(manifest, folder, where),
    settings: effectiveSettings(manifest, defaults),
    status: { state: 'NOT_LOADED', loadTimeMs: null, memoryBytes: null, error: null },
  };
}

async function readLabels(manifest: Manifest, folder: string, where: string): Promise<string[]> {
  const spec = manifest.labels;
  if (spec === undefined) return [];
  if (Array.isArray(spec)) return spec;
  const text = (await readBytes(spec, folder, 'the labels file', where)).toString('utf8');
  if (spec.format === 'lines') return text.split(/\r?\n/).filter((line) => line !== '');
  // detypify-service's infer.json: [{ char, names: [...] }], one entry per output column.
  const entries = JSON.parse(text) as Array<{ char: string; names: string[] }>;
  return entries.map((e) => e.names[0] ?? e.char);
}

async function readSample(manifest: Manifest, folder: string, where: string): Promise<Payload> {
  const sample = manifest.sample;
  switch (manifest.input.kind) {
    case 'FEATURES':
      return { kind: 'features', values: Float32Array.from(sample as number[]) };
    case 'TEXT':
      return { kind: 'text', text: sample as string };
    case 'IMAGE':
    case 'AUDIO':
      return { kind: 'bytes', bytes: new Uint8Array(await readBytes(sample as FileRef, folder, 'the sample', where)) };
    case 'TENSOR':
      return {
        kind: 'tensors',
        tensors: (sample as Array<{ name: string; dims: number[]; data: number[] }>).map((t) => ({ name: t.name, dims: t.dims, data: Float32Array.from(t.data) })),
      };
  }
}
