/**
 * The result cache on a real Redis Cluster started here (3 masters, 3 replicas): two PredictQL
 * processes share answers through it, predictions keep succeeding while a master is killed, and
 * sharing resumes once its replica has taken over, on every master's slots. Needs redis-server
 * and redis-cli (run with `npm run test:redis`); fails, never skips, without them.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { startCli, type CliServer } from '../helpers/cli.ts';
import { graphql } from '../helpers/client.ts';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.ts';

const MANY = 'query ($inputs: [PredictionInput!]!) { predictMany(model: "iris", inputs: $inputs) { cacheSource ... on Classification { label score } } }';

/** 60 iris rows no other round uses: their keys fall on every master's slots. */
function rows(round: number): Array<{ features: number[] }> {
  return Array.from({ length: 60 }, (_, i) => ({ features: [4.5 + i / 40, 2.5 + round / 50, 1 + (i % 5), 0.2 + round / 100] }));
}

async function ask(server: CliServer, inputs: Array<{ features: number[] }>): Promise<Array<{ cacheSource: string; label: string; score: number }>> {
  const res = await graphql<{ predictMany: Array<{ cacheSource: string; label: string; score: number }> }>(server.url, { query: MANY, variables: { inputs } });
  assert.equal(res.status, 200);
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  return res.data!.predictMany;
}

/** Asks `reader` for what `writer` computed until every answer comes from the store. */
async function sharedEventually(writer: CliServer, reader: CliServer, round: number): Promise<number> {
  const computed = await ask(writer, rows(round));
  let fromStore = 0;
  for (let attempt = 0; attempt < 60 && fromStore < computed.length; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    const read = await ask(reader, rows(round));
    read.forEach((answer, i) => assert.deepEqual({ label: answer.label, score: answer.score }, { label: computed[i]!.label, score: computed[i]!.score }));
    fromStore = read.filter((answer) => answer.cacheSource === 'STORE').length;
    if (fromStore < computed.length) await ask(writer, rows(round)); // rewrites what did not land
  }
  return fromStore;
}

describe('redis cluster', () => {
  let cluster: RedisCluster;
  let a: CliServer;
  let b: CliServer;

  before(async () => {
    cluster = await startRedisCluster();
    const [first, second] = await cluster.masters();
    // The first seed is a master this test kills: the servers must find the cluster through the other.
    const url = `redis+cluster://127.0.0.1:${first},127.0.0.1:${second}`;
    const args = ['--cache-url', url, '--l1-max-bytes', '0', '--workers', '1', '--watch-models', 'false', '--cache-timeout-ms', '250', '--admin-token', 'cluster-admin'];
    [a, b] = await Promise.all([startCli(args), startCli(args)]);
  });

  after(async () => {
    for (const s of [a, b]) s?.child.kill('SIGTERM');
    await Promise.all([a, b].map((s) => (s ? once(s.child, 'exit') : undefined)));
    await cluster?.stop();
  });

  it('shares answers between two server processes, keys spread over every master', async () => {
    assert.equal(await sharedEventually(a, b, 1), 60, 'every answer computed by one process is read by the other');
    const masters = await cluster.masters();
    const keysPerMaster = await Promise.all(masters.map(async (port) => Number((await cluster.cli(port, 'dbsize')).trim())));
    assert.ok(
      keysPerMaster.every((n) => n > 0),
      `every master holds answers: ${keysPerMaster.join(', ')}`,
    );
  });

  it('keeps answering while a master dies, and shares again once its replica took over', async () => {
    const [victim] = await cluster.masters();
    await cluster.kill(victim!);
    // Until the replica is promoted, a third of the keys are unreachable: those are misses,
    // never errors (ask() fails on any error).
    let round = 10;
    let requestsDuringFailover = 0;
    for (let replaced = false; !replaced; ) {
      for (const server of [a, b]) {
        assert.equal((await ask(server, rows(round++))).length, 60);
        requestsDuringFailover++;
      }
      replaced = !(await cluster.masters()).includes(victim!);
      assert.ok(requestsDuringFailover < 2000, 'no replica took over');
    }
    await cluster.waitHealthy(3);
    assert.ok(requestsDuringFailover >= 2, 'predictions were answered while the master was down');
    assert.equal(await sharedEventually(a, b, 100), 60, 'every answer is shared again, the promoted replica\'s slots included');
    assert.equal(await sharedEventually(b, a, 101), 60, 'both ways');
  });

  it('clears the answers on every master', async () => {
    const masters = await cluster.masters();
    const stored = async () => (await Promise.all(masters.map(async (port) => Number((await cluster.cli(port, 'dbsize')).trim())))).reduce((x, y) => x + y, 0);
    const before = await stored();
    assert.ok(before > 0);
    const res = await graphql<{ clearCache: { removed: number } }>(a.url, { query: 'mutation { clearCache { removed } }' }, { headers: { authorization: 'Bearer cluster-admin' } });
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    assert.equal(res.data!.clearCache.removed, before);
    assert.equal(await stored(), 0);
  });
});
