/** The example frontend client (examples/client) against a real server. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runExamples } from '../examples/client/main.ts';
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
});
