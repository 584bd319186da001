/**
 * The model versions the server answers for, by name. Resolvers look models up here: an unknown
 * name or version becomes a MODEL_NOT_FOUND error that lists what exists. The registry also
 * makes sure a version is loaded before it is used, loading it once however many requests ask
 * at the same time.
 */
import { modelLoadFailed, modelNotFound } from '../domain/errors.ts';
import type { ServedModel } from './served-model.ts';

export class ModelRegistry {
  /** Each name's versions, the default (highest versionOrder) last. */
  private versionsByName = new Map<string, ServedModel[]>();
  private readonly loads = new Map<string, Promise<void>>();

  constructor(
    models: readonly ServedModel[],
    private readonly loadModel: (model: ServedModel) => Promise<void>,
  ) {
    this.versionsByName = group(models);
  }

  /** The default version of every model, by name. */
  list(): ServedModel[] {
    return [...this.versionsByName.keys()].sort().map((name) => this.versionsByName.get(name)!.at(-1)!);
  }

  /** Every version of every model. */
  all(): ServedModel[] {
    return [...this.versionsByName.values()].flat();
  }

  versions(name: string): ServedModel[] {
    return [...(this.versionsByName.get(name) ?? [])];
  }

  /**
   * A model by name, at `version` (its content version, or a prefix of it of at least 6 digits,
   * or its versionName), or its default version.
   */
  find(name: string, version?: string | null): ServedModel | undefined {
    const versions = this.versionsByName.get(name);
    if (!versions) return undefined;
    if (version === undefined || version === null) return versions.at(-1);
    return versions.find((m) => m.version === version || (version.length >= 6 && m.version.startsWith(version)) || m.manifest.versionName === version);
  }

  get(name: string, version?: string | null): ServedModel {
    const model = this.find(name, version);
    if (model) return model;
    const versions = this.versionsByName.get(name);
    if (!versions) throw modelNotFound(`there is no model named "${name}"`, `the models served are: ${[...this.versionsByName.keys()].sort().join(', ') || 'none'}`);
    const known = versions.map((m) => (m.manifest.versionName ? `${m.version} (${m.manifest.versionName})` : m.version));
    throw modelNotFound(`model "${name}" has no version "${version}"`, `its versions are: ${known.join(', ')}`);
  }

  /**
   * Resolves once the model is loaded in every worker; loads it if nobody has yet. Works for a
   * version not yet in the registry too (a reload loads new versions before swapping them in).
   */
  ensureLoaded(model: ServedModel): Promise<void> {
    if (model.status.state === 'READY') return Promise.resolve();
    let load = this.loads.get(model.id);
    if (!load) {
      load = this.loadModel(model).catch((error: unknown) => {
        throw modelLoadFailed(model.name, (error as Error).message);
      });
      // A failure is kept: the model stays failed until its folder changes (a new version).
      load.catch(() => undefined);
      this.loads.set(model.id, load);
    }
    return load;
  }

  /**
   * Swaps in a new reading of the repository. Versions whose id is unchanged keep their
   * ServedModel (and load state); the others are returned for the caller to load or retire.
   */
  replace(models: readonly ServedModel[]): { added: ServedModel[]; removed: ServedModel[] } {
    const current = new Map(this.all().map((m) => [m.id, m]));
    const next = models.map((m) => current.get(m.id) ?? m);
    const nextIds = new Set(next.map((m) => m.id));
    const added = next.filter((m) => !current.has(m.id));
    const removed = [...current.values()].filter((m) => !nextIds.has(m.id));
    for (const model of removed) this.loads.delete(model.id);
    this.versionsByName = group(next);
    return { added, removed };
  }
}

function group(models: readonly ServedModel[]): Map<string, ServedModel[]> {
  const byName = new Map<string, ServedModel[]>();
  for (const model of models) byName.set(model.name, [...(byName.get(model.name) ?? []), model]);
  for (const versions of byName.values()) versions.sort((a, b) => a.versionOrder - b.versionOrder);
  return byName;
}
