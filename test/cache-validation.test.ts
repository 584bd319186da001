/**
 * Stored entries are checked when read: a corrupt entry with the right digest in the LMDB file
 * (a label index past the labels, a short probability array, NaN, another task's answer,
 * truncated or trailing bytes, a count of 4 billion floats, an old format) is a miss with the
 * right answer, counted, logged once per model, and overwritten. test/redis/ does the same on
 * Redis.
 */
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { writeLmdbEntry } from './helpers/cache-store.ts';
import { startCli } from './helpers/cli.ts';
import { exerciseCorruptEntries } from './helpers/corrupt-entries.ts';
import { tempDir } from './helpers/server.ts';

describe('stored entries are validated', () => {
  it('serves the right answer over a corrupt LMDB entry, counts it, logs once per model, and overwrites it', async () => {
    const dir = tempDir();
    const server = await startCli(['--cache-url', `lmdb://${dir}`, '--l1-max-bytes', '0', '--workers', '2', '--watch-models', 'false']);
    try {
      await exerciseCorruptEntries(server, (key, entry) => writeLmdbEntry(dir, key, entry));
    } finally {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
