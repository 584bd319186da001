/**
 * On Redis: corrupt entries with the right digest are misses with the right answer, counted,
 * logged once per model and overwritten; and every bundled model's answer is the same computed,
 * from L1 and from Redis. Needs Redis at 127.0.0.1:6379 (run with `npm run test:redis`); fails,
 * never skips, when it is not there.
 */
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@redis/client';
import { startCli } from '../helpers/cli.ts';
import { exerciseCorruptEntries } from '../helpers/corrupt-entries.ts';
import { assertOneAnswerPerModel } from '../helpers/one-answer.ts';

// A database of its own, emptied first: answers left by an earlier run would not be computed.
const REDIS_URL = process.env.REDIS_VALIDATION_URL ?? 'redis://127.0.0.1:6379/4';

describe('redis: stored answers', () => {
  const redis = createClient({ url: REDIS_URL });
  before(async () => {
    await redis.connect();
    await redis.flushDb();
  });
  after(() => redis.close());

  it('are validated: a corrupt entry is a miss with the right answer, counted, logged once, overwritten', async () => {
    const server = await startCli(['--cache-url', REDIS_URL, '--l1-max-bytes', '0', '--workers', '2', '--watch-models', 'false']);
    try {
      await exerciseCorruptEntries(server, async (key, entry) => {
        await redis.set(`predictql:${key}`, Buffer.from(entry));
      });
    } finally {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
    }
  });

  it('are the computed answers, to the last digit, for every bundled model', async () => {
    await redis.flushDb();
    await assertOneAnswerPerModel({ CACHE_URL: REDIS_URL });
  });
});
