/** The example frontend client (examples/client) against a real server. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runExamples } from '../examples/client/main.ts';
import { streamIris } from '../examples/client/stream.ts';
import { startTestServer } from './helpers/server.ts';

describe('example client', () => {
  it('runs its typed queries, batch and aliases through persisted queries', async () => {
    const server = await startTestServer();
    try {
      const results = await runExamples(`${server.url}/graphql`);
      const one = results.one.predict as { label: string; score: number };
      assert.equal(one.label, 'setosa');
      const many = results.many.predictMany as Array<{ label: string }>;
      assert.deepEqual(many.map((p) => p.label), ['setosa', 'versicolor', 'virginica']);
      const triage = results.triage as { spam: { label: string }; injection: { label: string } };
      assert.equal(triage.injection.label, 'injection');
      assert.equal((results.again.predict as { label: string }).label, 'virginica');
      // Three distinct operations: each text travelled once; the repeat sent only its hash.
      assert.deepEqual(results.stats, { requestsSent: 7, queryTextsSent: 3 });
    } finally {
      await server.close();
    }
  });

  it('streams rows through its typed graphql-ws subscription, with progress', async () => {
    const server = await startTestServer({ CACHE_URL: 'memory://' });
    try {
      const progress: string[] = [];
      const labels = await streamIris(`${server.url.replace('http', 'ws')}/graphql`, [[5.1, 3.5, 1.4, 0.2], [6.0, 2.2, 4.0, 1.0], [6.7, 3.0, 5.2, 2.3]], (done, total) => progress.push(`${done}/${total}`));
      assert.deepEqual(labels, ['setosa', 'versicolor', 'virginica']);
      assert.deepEqual(progress, ['1/3', '2/3', '3/3']);
    } finally {
      await server.close();
    }
  });
});
