/**
 * A 400-line OCR job survives a SIGKILL of the server: a new server on the same LMDB directory
 * resumes it, computes only the lines with no stored answer, and every index ends with exactly
 * one answer, the text that was rendered.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { startCli, type CliServer } from './helpers/cli.ts';
import { graphql } from './helpers/client.ts';
import { jobProgress, SUBMIT_OCR_JOB } from './helpers/jobs.ts';
import { metricTotal } from './helpers/metrics.ts';
import { ocrLineTexts, renderOcrLines } from './helpers/ocr-lines.ts';
import { tempDir } from './helpers/server.ts';

const JOB = 'query ($id: ID!, $offset: Int) { predictionJob(id: $id) { state total done failed results(offset: $offset, limit: 1000) { index error { code } prediction { ... on TextRecognition { text } } } } }';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


describe('a prediction job across a SIGKILL', () => {
  it('resumes after a restart, computing only what had no stored answer; each of 400 lines answered once, right', async () => {
    const texts = ocrLineTexts(400);
    const images = await renderOcrLines(texts);
    const cacheDir = tempDir('predictql-jobs-cache-');
    const args = ['--cache-url', `lmdb://${cacheDir}`, '--workers', '2', '--watch-models', 'false'];
    let first: CliServer | undefined = await startCli(args);
    let second: CliServer | undefined;
    try {
      const submitted = await graphql(first.url, { query: SUBMIT_OCR_JOB, variables: { inputs: images.map((image) => ({ image })) } });
      assert.equal(submitted.errors, undefined, JSON.stringify(submitted.errors));
      const id = submitted.data.submitPredictionJob.id as string;

      // Kill it once a good part of the job is stored, and well before the end.
      let before = await jobProgress(first, id);
      while (before.done < 60) {
        await sleep(100);
        before = await jobProgress(first, id);
      }
      first.child.kill('SIGKILL');
      await once(first.child, 'exit');
      first = undefined;
      assert.equal(before.state, 'RUNNING');
      assert.ok(before.done < 300, `${before.done} lines were done before the kill; the test needs the job unfinished`);

      second = await startCli(args);
      let after = await jobProgress(second, id);
      const until = Date.now() + 240_000;
      while (after.state !== 'SUCCEEDED') {
        assert.ok(Date.now() < until, `the job did not finish after the restart (${after.done}/400)`);
        await sleep(200);
        after = await jobProgress(second, id);
      }

      const res = await graphql(second.url, { query: JOB, variables: { id, offset: 0 } });
      const job = res.data.predictionJob;
      assert.equal(job.total, 400);
      assert.equal(job.done, 400);
      assert.equal(job.failed, 0);
      assert.deepEqual(job.results.map((r: { index: number }) => r.index), texts.map((_, i) => i), 'one answer per index, in order');
      const wrong = job.results.filter((r: { index: number; prediction: { text: string } }) => r.prediction.text !== texts[r.index]);
      assert.deepEqual(wrong, [], 'every line read right');

      // What the first server stored was not computed again: the second computed at most the rest
      // (lines the first computed but was killed before storing come from the cache, not the model).
      const computed = await metricTotal(second.url, 'predictql_batch_size_sum', { model: 'ocr' });
      const stored = await metricTotal(second.url, 'predictql_job_inputs_total', { model: 'ocr' });
      assert.ok(computed > 0, 'the second server computed the rest');
      assert.ok(computed <= 400 - before.done, `the second server computed ${computed} lines; ${before.done} were stored before the kill`);
      assert.ok(stored <= 400 - before.done && stored > 0, `the second server stored ${stored} answers`);
    } finally {
      for (const server of [first, second]) {
        if (!server) continue;
        server.child.kill('SIGTERM');
        await once(server.child, 'exit');
      }
      rmSync(cacheDir, { recursive: true, force: true });
      rmSync(`${cacheDir}-jobs`, { recursive: true, force: true });
    }
  });
});
