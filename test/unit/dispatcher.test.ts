/** The Dispatcher alone: worker slots, the per-model limit, oldest-first admission, idle(). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Dispatcher } from '../../src/engine/dispatcher.ts';

describe('Dispatcher', () => {
  it('starts batches at once while slots are free, and never more than its capacity', () => {
    const dispatcher = new Dispatcher(2);
    const started: string[] = [];
    dispatcher.submit('a', 2, () => started.push('a1'));
    dispatcher.submit('b', 2, () => started.push('b1'));
    dispatcher.submit('a', 2, () => started.push('a2'));
    assert.deepEqual(started, ['a1', 'b1']);
    assert.equal(dispatcher.busy, 2);
    assert.equal(dispatcher.queued, 1);
    assert.equal(dispatcher.canStart('c', 1), false);
    dispatcher.release('b');
    assert.deepEqual(started, ['a1', 'b1', 'a2']);
    assert.equal(dispatcher.busy, 2);
    assert.equal(dispatcher.queued, 0);
  });

  it("keeps a model to its own limit, so another model's batch gets the free worker", () => {
    const dispatcher = new Dispatcher(3);
    const started: string[] = [];
    dispatcher.submit('heavy', 2, () => started.push('heavy1'));
    dispatcher.submit('heavy', 2, () => started.push('heavy2'));
    dispatcher.submit('heavy', 2, () => started.push('heavy3'));
    assert.deepEqual(started, ['heavy1', 'heavy2'], 'the third heavy batch waits though a worker is free');
    assert.equal(dispatcher.canStart('cheap', 2), true);
    dispatcher.submit('cheap', 2, () => started.push('cheap1'));
    assert.deepEqual(started, ['heavy1', 'heavy2', 'cheap1']);
  });

  it('hands a freed slot to the oldest waiting batch that may use it', () => {
    const dispatcher = new Dispatcher(1);
    const started: string[] = [];
    dispatcher.submit('a', 1, () => started.push('a1'));
    dispatcher.submit('a', 1, () => started.push('a2'));
    dispatcher.submit('b', 1, () => started.push('b1'));
    dispatcher.release('a');
    assert.deepEqual(started, ['a1', 'a2'], 'a2 waited longest');
    dispatcher.release('a');
    assert.deepEqual(started, ['a1', 'a2', 'b1']);
  });

  it('skips a waiting batch whose model is at its limit for a younger one that may run', () => {
    const dispatcher = new Dispatcher(2);
    const started: string[] = [];
    dispatcher.submit('a', 1, () => started.push('a1'));
    dispatcher.submit('b', 2, () => started.push('b1'));
    dispatcher.submit('a', 1, () => started.push('a2'));
    dispatcher.submit('b', 2, () => started.push('b2'));
    dispatcher.release('b');
    assert.deepEqual(started, ['a1', 'b1', 'b2'], 'a2 is older but a is at its limit of 1');
    dispatcher.release('a');
    assert.deepEqual(started, ['a1', 'b1', 'b2', 'a2']);
  });

  it('resolves idle() once nothing runs or waits', async () => {
    const dispatcher = new Dispatcher(1);
    let idle = false;
    await dispatcher.idle();
    dispatcher.submit('a', 1, () => undefined);
    dispatcher.submit('a', 1, () => undefined);
    const waiting = dispatcher.idle().then(() => (idle = true));
    dispatcher.release('a');
    await Promise.resolve();
    assert.equal(idle, false, 'one batch still runs');
    dispatcher.release('a');
    await waiting;
    assert.equal(idle, true);
    assert.equal(dispatcher.busy, 0);
  });

  describe('background priority', () => {
    it('starts a background batch only while no interactive batch waits', () => {
      const dispatcher = new Dispatcher(1);
      const started: string[] = [];
      dispatcher.submit('a', 1, () => started.push('i1'));
      dispatcher.submit('job', 1, () => started.push('b1'), 'background');
      dispatcher.submit('a', 1, () => started.push('i2'));
      assert.equal(dispatcher.queuedAt('background'), 1);
      assert.equal(dispatcher.queuedAt('interactive'), 1);
      dispatcher.release('a');
      assert.deepEqual(started, ['i1', 'i2'], 'the younger interactive batch goes before the older background one');
      dispatcher.release('a');
      assert.deepEqual(started, ['i1', 'i2', 'b1']);
      assert.equal(dispatcher.canStart('a', 1), false, 'the background batch holds the only worker');
      dispatcher.release('job', 'background');
      assert.equal(dispatcher.busy, 0);
    });

    it('never runs more than maxBackground background batches, leaving the other workers to interactive ones', () => {
      const dispatcher = new Dispatcher(3, 2);
      const started: string[] = [];
      for (const n of [1, 2, 3]) dispatcher.submit('job', 3, () => started.push(`b${n}`), 'background');
      assert.deepEqual(started, ['b1', 'b2'], 'a worker is free, but the background limit is 2');
      assert.equal(dispatcher.canStart('job', 3, 'background'), false);
      assert.equal(dispatcher.canStart('cheap', 1), true);
      dispatcher.submit('cheap', 1, () => started.push('i1'));
      assert.deepEqual(started, ['b1', 'b2', 'i1']);
      dispatcher.release('job', 'background');
      assert.deepEqual(started, ['b1', 'b2', 'i1', 'b3']);
    });

    it('keeps a waiting interactive batch ahead even when a background batch could use the freed slot', () => {
      const dispatcher = new Dispatcher(2, 2);
      const started: string[] = [];
      dispatcher.submit('heavy', 1, () => started.push('i1'));
      dispatcher.submit('heavy', 1, () => started.push('i2'));
      dispatcher.submit('job', 2, () => started.push('b1'), 'background');
      assert.deepEqual(started, ['i1'], 'a free worker, but an interactive batch waits (its model at its limit)');
      dispatcher.release('heavy');
      assert.deepEqual(started, ['i1', 'i2', 'b1'], 'once no interactive batch waits, the background one takes the free worker');
    });

    it('counts background batches in idle()', async () => {
      const dispatcher = new Dispatcher(1);
      dispatcher.submit('job', 1, () => undefined, 'background');
      let idle = false;
      const waiting = dispatcher.idle().then(() => (idle = true));
      await Promise.resolve();
      assert.equal(idle, false);
      dispatcher.release('job', 'background');
      await waiting;
    });
  });
});
