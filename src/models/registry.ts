/**
 * The models the server answers for, by name. Resolvers look models up here, and an unknown
 * name becomes a MODEL_NOT_FOUND error that lists the names that exist.
 */
import { modelNotFound } from '../graphql/errors.ts';
import type { ServedModel } from './served-model.ts';

export class ModelRegistry {
  private readonly byName: Map<string, ServedModel>;

  constructor(models: readonly ServedModel[]) {
    this.byName = new Map(models.map((m) => [m.name, m]));
  }

  list(): ServedModel[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  find(name: string): ServedModel | undefined {
    return this.byName.get(name);
  }

  get(name: string): ServedModel {
    const model = this.byName.get(name);
    if (!model) throw modelNotFound(name, this.list().map((m) => m.name));
    return model;
  }

  get allLoaded(): boolean {
    return this.list().every((m) => m.status.loaded);
  }
}
