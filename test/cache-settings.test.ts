/**
 * The cache's settings: CACHE_MAX_BYTES, CACHE_SWEEP_INTERVAL_MS and the APQ bounds have
 * defaults, are read from the environment and flags, and refuse bad values at startup; a store
 * already over its bound is reported when the server starts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { LmdbCache } from '../src/cache/lmdb-cache.ts';
import { APQ_NAMESPACE, PREDICTIONS_NAMESPACE } from '../src/cache/stores.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { startCli } from './helpers/cli.ts';
import { tempDir } from './helpers/server.ts';

describe('cache settings', () => {
  it('have defaults, and come from the environment or flags', () => {
    const defaults = loadConfig([], {});
    assert.equal(defaults.cacheMaxBytes, 2 * 1024 ** 3);
    assert.equal(defaults.cacheSweepIntervalMs, 30_000);
    assert.equal(defaults.apqMaxEntries, 10_000);
    assert.equal(defaults.apqMaxQueryBytes, 65_536);
    assert.equal(defaults.apqTtlSeconds, 86_400);
    const set = loadConfig(['--cache-max-bytes', '8388608', '--apq-ttl-seconds=60'], { APQ_MAX_ENTRIES: '50', APQ_MAX_QUERY_BYTES: '4096', CACHE_SWEEP_INTERVAL_MS: '1000' });
    assert.deepEqual(
      [set.cacheMaxBytes, set.apqTtlSeconds, set.apqMaxEntries, set.apqMaxQueryBytes, set.cacheSweepIntervalMs],
      [8_388_608, 60, 50, 4096, 1000],
    );
  });

  it('refuse bad values, naming the setting and what it accepts', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ CACHE_MAX_BYTES: '2GB' }, /invalid CACHE_MAX_BYTES: expected a whole number from 4194304 to \d+, got "2GB"/],
      [{ CACHE_MAX_BYTES: '1000' }, /invalid CACHE_MAX_BYTES: expected a whole number from 4194304/],
      [{ CACHE_SWEEP_INTERVAL_MS: '0' }, /invalid CACHE_SWEEP_INTERVAL_MS: expected a whole number from 50 to 3600000/],
      [{ APQ_MAX_ENTRIES: '0' }, /invalid APQ_MAX_ENTRIES: expected a whole number from 1/],
      [{ APQ_MAX_QUERY_BYTES: '-5' }, /invalid APQ_MAX_QUERY_BYTES: expected a whole number from 64/],
      [{ APQ_TTL_SECONDS: 'forever' }, /invalid APQ_TTL_SECONDS: expected a whole number from 1/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => loadConfig([], env), (error: Error) => error instanceof ConfigError && message.test(error.message), JSON.stringify(env));
    }
  });

  it('stop npm start with exit code 2 and the reason', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--cache-max-bytes', '1000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const [code] = await once(child, 'exit');
    assert.equal(code, 2);
    assert.match(stderr, /predictql: invalid --cache-max-bytes: expected a whole number from 4194304/);
  });

  it('report at startup a cache directory already over CACHE_MAX_BYTES', async () => {
    const dir = tempDir();
    // 6 MB of answers written under a larger bound, then the server starts with 4 MiB.
    const big = new LmdbCache(dir, { maxBytes: 64 * 1024 ** 2, sweepIntervalMs: 60_000, spaces: [{ name: PREDICTIONS_NAMESPACE }, { name: APQ_NAMESPACE }] });
    const space = big.space(PREDICTIONS_NAMESPACE);
    await Promise.all(Array.from({ length: 6000 }, (_, i) => big.put(space, `${PREDICTIONS_NAMESPACE}:x@1:${i}`, { value: new Uint8Array(1000), at: Date.now() })));
    await big.close();
    const server = await startCli(['--cache-url', `lmdb://${dir}`, '--cache-max-bytes', String(4 * 1024 ** 2), '--workers', '1', '--watch-models', 'false']);
    try {
      const warning = server.logs.find((line) => typeof line.msg === 'string' && line.msg.includes('over CACHE_MAX_BYTES'));
      assert.ok(warning, 'a warning names the problem');
      assert.match(String(warning.msg), /delete .* to reclaim|to reclaim the disk/);
    } finally {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
