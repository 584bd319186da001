/**
 * Model lifecycle: loading versions into the workers (at startup or on first use, as each
 * manifest says), and picking up changes to the repository while the server runs. A change is
 * seen by watching the models directory, or on demand through the `reloadModels` admin mutation.
 *
 * A reload reads the whole repository again. A version whose ONNX file is unchanged keeps
 * serving untouched; a new version is loaded (STARTUP ones before they become visible); a removed
 * or replaced version is retired once the requests already using it have finished, then its
 * sessions are closed in the workers. A repository that fails to read (a half-written manifest,
 * say) changes nothing: the error is logged and the previous models keep serving.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from 'pino';
import type { InferencePool } from '../engine/pool.ts';
import type { Metrics } from '../metrics.ts';
import { modelHandle } from './handle.ts';
import type { ModelRegistry } from './registry.ts';
import { readRepository } from './repository.ts';
import type { ServedModel } from './served-model.ts';
import type { ModelDefaults } from './settings.ts';

export interface ReloadSummary {
  added: string[];
  removed: string[];
  unchanged: number;
}

const WATCH_DEBOUNCE_MS = 300;

export class ModelLifecycle {
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | undefined;
  private reloading: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly modelsDir: string,
    private readonly defaults: ModelDefaults,
    private readonly pool: InferencePool,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    /** Waits for a version's queued and running batches, then forgets its batcher. */
    private readonly drain: (model: ServedModel) => Promise<void>,
  ) {}

  /** Opens the model in every worker, warms it up, and records time and memory. */
  async load(model: ServedModel): Promise<void> {
    model.status = { ...model.status, state: 'LOADING', error: null };
    try {
      const report = await this.pool.loadEverywhere(modelHandle(model), model.sample);
      const batching = model.settings.batching;
      if (report.fixedBatchSize !== null && report.fixedBatchSize > 0 && batching.maxBatchSize > report.fixedBatchSize) {
        this.logger.warn({ model: model.id, maxBatchSize: batching.maxBatchSize, fixedBatchSize: report.fixedBatchSize }, 'the graph fixes its batch size; batches are capped to it');
        batching.maxBatchSize = report.fixedBatchSize;
      }
      model.status = { state: 'READY', loadTimeMs: report.loadTimeMs, memoryBytes: report.memoryBytes, error: null };
      this.metrics.modelLoadSeconds.observe({ model: model.name }, report.loadTimeMs / 1000);
      this.metrics.modelMemoryBytes.set({ model: model.name, version: model.version }, report.memoryBytes);
      for (const { session, provider, fallbacks } of report.sessions) {
        for (const fallback of fallbacks) {
          this.logger.warn({ model: model.id, session, executionProvider: fallback.provider, reason: fallback.reason, using: provider }, 'execution provider unavailable; the session fell back to the next one');
        }
      }
      this.logger.info(
        {
          model: model.id,
          versionName: model.manifest.versionName,
          loadTimeMs: round(report.loadTimeMs),
          memoryBytes: report.memoryBytes,
          workers: this.pool.size,
          maxBatchSize: model.settings.batching.maxBatchSize,
          // Which provider each session got: the model's own, or each stage's (`<id>/<stage>`).
          executionProviders: Object.fromEntries(report.sessions.map((s) => [s.session, s.provider])),
        },
        'model loaded',
      );
    } catch (error) {
      model.status = { ...model.status, state: 'FAILED', error: (error as Error).message };
      this.logger.error({ model: model.id, err: error }, 'model failed to load');
      throw error;
    }
  }

  /** Reads the repository again and applies the differences; one reload at a time. */
  reload(registry: ModelRegistry): Promise<ReloadSummary> {
    const run = () => this.applyReload(registry);
    const result = this.reloading.then(run, run);
    this.reloading = result.catch(() => undefined);
    return result;
  }

  private async applyReload(registry: ModelRegistry): Promise<ReloadSummary> {
    const models = await readRepository(this.modelsDir, this.defaults);
    const known = new Set(registry.all().map((m) => m.id));
    // Load new STARTUP versions before they become visible, so no request waits on them.
    for (const model of models) {
      if (!known.has(model.id) && model.manifest.loading === 'STARTUP') await registry.ensureLoaded(model);
    }
    const { added, removed } = registry.replace(models);
    for (const model of removed) void this.retire(model);
    const summary = { added: added.map((m) => m.id), removed: removed.map((m) => m.id), unchanged: models.length - added.length };
    if (added.length > 0 || removed.length > 0) this.logger.info(summary, 'model repository reloaded');
    return summary;
  }

  private async retire(model: ServedModel): Promise<void> {
    try {
      await this.drain(model);
      if (model.status.state === 'READY') await this.pool.unloadEverywhere(model.id);
      this.metrics.modelMemoryBytes.remove({ model: model.name, version: model.version });
      this.logger.info({ model: model.id }, 'model version retired');
    } catch (error) {
      this.logger.error({ model: model.id, err: error }, 'retiring a model version failed');
    }
  }

  /** Reloads a moment after the models directory changes (editors and copies write in bursts). */
  watch(registry: ModelRegistry): void {
    this.watcher = watch(this.modelsDir, { recursive: true }, () => {
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        this.reload(registry).catch((error: unknown) => this.logger.error({ err: error }, 'model repository changed but could not be read; keeping the models already served'));
      }, WATCH_DEBOUNCE_MS);
    });
    this.watcher.on('error', (error) => this.logger.error({ err: error }, 'watching the models directory failed'));
  }

  async close(): Promise<void> {
    clearTimeout(this.debounce);
    this.watcher?.close();
    await this.reloading;
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
