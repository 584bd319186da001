/** The pipelines by name, as manifests refer to them. */
import type { PipelineName } from '../engine/tasks.ts';
import type { Pipeline } from './pipeline.ts';
import { tabular } from './tabular.ts';

export const PIPELINES: Partial<Record<PipelineName, Pipeline>> = {
  tabular,
};

export function pipelineFor(name: PipelineName): Pipeline {
  const pipeline = PIPELINES[name];
  if (!pipeline) throw new Error(`no pipeline named "${name}"`);
  return pipeline;
}
