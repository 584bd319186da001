/**
 * The request path's buffered metrics (src/observability/deferred.ts through src/metrics.ts): a
 * scrape sees every observation made before it, exactly, and the buffer flushes itself when it
 * fills, with nobody scraping.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metrics } from '../../src/metrics.ts';
import { DeferredObservations } from '../../src/observability/deferred.ts';

describe('deferred metrics', () => {
  it('shows every buffered observation and count at the next scrape', async () => {
    const metrics = new Metrics();
    metrics.observePhase('cacheLookup', 0.0002);
    metrics.observePhase('cacheLookup', 0.003);
    metrics.countPrediction('iris', 'ok', true);
    metrics.countPrediction('iris', 'ok', true);
    metrics.countPrediction('iris', 'OVERLOADED', false);
    metrics.countCacheLookup('iris', 'hit_l1');
    const text = await metrics.registry.metrics();
    assert.match(text, /predictql_request_phase_seconds_count\{phase="cacheLookup"\} 2\n/);
    assert.match(text, /predictql_request_phase_seconds_bucket\{le="0.00025",phase="cacheLookup"\} 1\n/);
    assert.match(text, /predictql_request_phase_seconds_sum\{phase="cacheLookup"\} 0.0032\n/);
    assert.match(text, /predictql_predictions_total\{model="iris",outcome="ok",cached="true"\} 2\n/);
    assert.match(text, /predictql_predictions_total\{model="iris",outcome="OVERLOADED",cached="false"\} 1\n/);
    assert.match(text, /predictql_cache_lookups_total\{model="iris",result="hit_l1"\} 1\n/);
    metrics.countCacheLookup('iris', 'hit_l1');
    assert.match(await metrics.registry.metrics(), /predictql_cache_lookups_total\{model="iris",result="hit_l1"\} 2\n/, 'counted once each, across scrapes');
  });

  it('flushes by itself once 4096 observations wait', () => {
    const seen: number[] = [];
    const deferred = new DeferredObservations();
    const target = { observe: (value: number) => seen.push(value) };
    for (let i = 0; i < 4095; i++) deferred.observe(target, i);
    assert.equal(seen.length, 0, 'nothing handed over yet');
    deferred.observe(target, 4095);
    assert.equal(seen.length, 4096);
    assert.deepEqual(seen.slice(0, 3), [0, 1, 2]);
  });
});
