/**
 * Prediction jobs with Redis (CACHE_URL redis://, DB 11: flushed here, used by nothing else):
 * chunks go through BullMQ, so two server processes share one job; one is SIGKILLed mid-job and
 * the other finishes it (BullMQ's stalled-job check hands it the dead one's chunks), every index
 * answered once and read right, and either instance answers for the job.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { createClient } from '@redis/client';
import { startCli, type CliServer } from '../helpers/cli.ts';
import { graphql } from '../helpers/client.ts';
import { jobProgress, SUBMIT_OCR_JOB } from '../helpers/jobs.ts';
import { metricTotal } from '../helpers/metrics.ts';
import { ocrLineTexts, renderOcrLines } from '../helpers/ocr-lines.ts';

const REDIS_URL = process.env.REDIS_JOBS_URL ?? 'redis://127.0.0.1:6379/11';
const JOB = 'query ($id: ID!) { predictionJob(id: $id) { state total done failed results(limit: 1000) { index error { code message } prediction { ... on TextRecognition { text } } } } }';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


async function flushJobsDb(): Promise<void> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  await client.flushDb();
  await client.quit();
}

describe('prediction jobs on Redis (BullMQ)', () => {
  it('two instances share a job; one is SIGKILLed mid-job and the other finishes it', async () => {
    await flushJobsDb();
    const texts = ocrLineTexts(160);
    const images = await renderOcrLines(texts);
    const args = ['--cache-url', REDIS_URL, '--workers', '2', '--watch-models', 'false'];
    let a: CliServer | undefined;
    let b: CliServer | undefined;
    try {
      [a, b] = await Promise.all([startCli(args), startCli(args)]);
      const submitted = await graphql(a.url, { query: SUBMIT_OCR_JOB, variables: { inputs: images.map((image) => ({ image })) } });
      assert.equal(submitted.errors, undefined, JSON.stringify(submitted.errors));
      const id = submitted.data.submitPredictionJob.id as string;

      // Both take chunks: wait until each has stored answers of its own.
      const until = Date.now() + 120_000;
      for (;;) {
        const [byA, byB] = await Promise.all([metricTotal(a.url, 'predictql_job_inputs_total'), metricTotal(b.url, 'predictql_job_inputs_total')]);
        if (byA > 0 && byB > 0) break;
        assert.ok(Date.now() < until, `the instances did not share the job (stored by a: ${byA}, by b: ${byB})`);
        await sleep(100);
      }
      const before = await jobProgress(b, id);
      assert.ok(before.done < 120, `${before.done} lines done before the kill; the test needs the job unfinished`);
      a.child.kill('SIGKILL');
      await once(a.child, 'exit');
      a = undefined;

      let after = before;
      while (after.state !== 'SUCCEEDED') {
        assert.ok(Date.now() < until + 120_000, `the job did not finish on the surviving instance (${after.done}/160)`);
        await sleep(250);
        after = await jobProgress(b, id);
      }
      const job = (await graphql(b.url, { query: JOB, variables: { id } })).data.predictionJob;
      assert.equal(job.done, 160);
      assert.equal(job.failed, 0);
      assert.deepEqual(job.results.map((r: { index: number }) => r.index), texts.map((_, i) => i), 'one answer per index');
      const wrong = job.results.filter((r: { index: number; prediction: { text: string } }) => r.prediction.text !== texts[r.index]);
      assert.deepEqual(wrong, [], 'every line read right');
      // The survivor stored the rest; the dead instance's stored answers stayed (each index once).
      const storedByB = await metricTotal(b.url, 'predictql_job_inputs_total');
      assert.ok(storedByB > 0 && storedByB < 160, `b stored ${storedByB} of 160`);
    } finally {
      for (const server of [a, b]) {
        if (!server) continue;
        server.child.kill('SIGTERM');
        await once(server.child, 'exit');
      }
    }
  });
});
