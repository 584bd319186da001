/**
 * One answer per input: computed, from L1, and from the LMDB store after a restart, every
 * bundled model gives the same JSON to the last digit (OCR's confidence once differed in its
 * 8th digit: a float64 computed, a float32 stored). test/redis/ runs the same on Redis.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { assertOneAnswerPerModel } from './helpers/one-answer.ts';
import { tempDir } from './helpers/server.ts';

describe('one answer', () => {
  it('is the same computed, from L1 and from the LMDB store, for every bundled model', async () => {
    const dir = tempDir();
    try {
      const models = await assertOneAnswerPerModel({ CACHE_URL: `lmdb://${dir}` });
      assert.deepEqual(models.sort(), ['digits', 'iris', 'ocr', 'ocr-page', 'prompt-injection', 'spam', 'symbols', 'vad']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
