/**
 * The result cache on Redis: shared by two server processes, and surviving Redis going away and
 * coming back. Needs Redis at 127.0.0.1:6379 and the redis-server binary (`.ci/run` checks both);
 * run with `npm run test:redis`. These tests fail, never skip, when Redis is missing.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { startCli, type CliServer } from '../helpers/cli.ts';
import { graphql } from '../helpers/client.ts';
import { freePort, startTestServer } from '../helpers/server.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/3';
const QUERY = 'query ($f: [Float!]!) { predict(model: "iris", input: { features: $f }) { cached cacheSource ... on Classification { label } } }';

async function ask(url: string, f: number[]) {
  const body = await graphql<{ predict: { cached: boolean; cacheSource: string; label: string } }>(url, { query: QUERY, variables: { f } });
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data!.predict;
}

async function startRedis(port: number): Promise<ChildProcess> {
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    redis.once('error', reject);
    redis.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    redis.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve();
    });
  });
  return redis;
}

describe('redis cache', () => {
  it('is reachable at ' + REDIS_URL, async () => {
    const server = await startTestServer({ CACHE_URL: REDIS_URL });
    try {
      const f = [randomInt(1000), 1, 2, 3];
      await ask(server.url, f);
      // L1 off would hide nothing here: a fresh server reads the store.
      assert.equal(await server.metric('predictql_cache_errors_total', { operation: 'write' }), 0);
      assert.equal(await server.metric('predictql_cache_errors_total', { operation: 'read' }), 0);
    } finally {
      await server.close();
    }
  });

  describe('two server processes', () => {
    let a: CliServer;
    let b: CliServer;
    before(async () => {
      [a, b] = await Promise.all([startCli(['--cache-url', REDIS_URL, '--workers', '1']), startCli(['--cache-url', REDIS_URL, '--workers', '1'])]);
    });
    after(async () => {
      for (const s of [a, b]) s.child.kill('SIGTERM');
      await Promise.all([once(a.child, 'exit'), once(b.child, 'exit')]);
    });

    it('share answers: one computes, the other reads it from Redis', async () => {
      const f = [4.9 + randomInt(1_000_000) / 1e7, 3.1, 1.5, 0.1];
      const first = await ask(a.url, f);
      assert.equal(first.cacheSource, 'NONE');
      let second = await ask(b.url, f);
      // The first process writes without waiting; give the write a moment to land.
      for (let i = 0; i < 20 && !second.cached; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        second = await ask(b.url, [...f.slice(0, 3), f[3]!]);
      }
      assert.equal(second.cacheSource, 'STORE');
      assert.equal(second.label, first.label);
    });
  });

  describe('Redis going away and coming back', () => {
    it('keeps serving while Redis is down and uses it again once it is back', async () => {
      const port = await freePort();
      let redis = await startRedis(port);
      // No in-memory level, so that every hit below comes from Redis itself.
      const server = await startTestServer({ CACHE_URL: `redis://127.0.0.1:${port}`, L1_MAX_BYTES: '0', CACHE_TIMEOUT_MS: '100' });
      try {
        const before = [6.3, 3.3, 6.0, 2.5];
        assert.equal((await ask(server.url, before)).cacheSource, 'NONE');
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.equal((await ask(server.url, before)).cacheSource, 'STORE');

        redis.kill('SIGKILL');
        await once(redis, 'exit');
        for (let i = 0; i < 5; i++) {
          const during = await ask(server.url, [5.8, 2.7, 5.1, 1.9 + i / 100]);
          assert.equal(during.label, 'virginica');
          assert.equal(during.cached, false);
        }
        assert.ok((await server.metric('predictql_cache_errors_total', {})) >= 1, 'the outage was counted');

        redis = await startRedis(port);
        // The cache leaves a failing store alone for a second, and the client reconnects.
        const after = [5.7, 2.8, 4.1, 1.3];
        let source = '';
        for (let i = 0; i < 40 && source !== 'STORE'; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          await ask(server.url, after);
          await new Promise((resolve) => setTimeout(resolve, 20));
          source = (await ask(server.url, after)).cacheSource;
        }
        assert.equal(source, 'STORE', 'hits come from Redis again');
      } finally {
        await server.close();
        redis.kill('SIGKILL');
      }
    });
  });
});
