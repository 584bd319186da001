/** The live panel's latency quantiles, read from a histogram's cumulative bucket counts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quantileFromBuckets } from '../../src/http/front/live-sampler.ts';

describe('quantileFromBuckets', () => {
  it('interpolates inside the bucket that holds the rank', () => {
    // 10 observations <= 1, 10 more in (1, 2], none above.
    const buckets: Array<[number, number]> = [[1, 10], [2, 20], [Infinity, 20]];
    assert.equal(quantileFromBuckets(buckets, 0.5), 1);
    assert.equal(quantileFromBuckets(buckets, 0.75), 1.5);
    assert.equal(quantileFromBuckets(buckets, 0.25), 0.5);
  });

  it('gives null with no observations, and the last finite bound for ranks in +Inf', () => {
    assert.equal(quantileFromBuckets([[1, 0], [Infinity, 0]], 0.5), null);
    assert.equal(quantileFromBuckets([[1, 1], [5, 1], [Infinity, 10]], 0.99), 5);
  });
});
