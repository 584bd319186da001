/** Prediction jobs as the restart and Redis tests drive them: an OCR job submitted, then polled. */
import assert from 'node:assert/strict';
import type { CliServer } from './cli.ts';
import { graphql } from './client.ts';

export const SUBMIT_OCR_JOB = 'mutation ($inputs: [PredictionInput!]!) { submitPredictionJob(model: "ocr", inputs: $inputs) { id state total } }';
const PROGRESS = 'query ($id: ID!) { predictionJob(id: $id) { state done } }';

/** The job's state and how many inputs are done, as one server answers. */
export async function jobProgress(server: CliServer, id: string): Promise<{ state: string; done: number }> {
  const res = await graphql(server.url, { query: PROGRESS, variables: { id } });
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  return res.data.predictionJob;
}
