/** The execution-provider fallback alone, with a stand-in for ONNX Runtime's session factory. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openWithFallback } from '../../src/engine/providers.ts';

/** Opens when the list's first provider is one of `working`; fails like ORT otherwise. */
function fakeOrt(working: string[]) {
  const tried: string[][] = [];
  const open = async (providers: string[]) => {
    tried.push(providers);
    if (!working.includes(providers[0]!)) throw new Error(`OrtSessionOptionsAppendExecutionProvider_${providers[0]}: Failed to load shared library\nmore`);
    return { providers };
  };
  return { open, tried };
}

describe('openWithFallback', () => {
  it('uses the first provider that opens, reporting the ones skipped and why', async () => {
    const ort = fakeOrt(['cpu']);
    const opened = await openWithFallback(['cuda', 'cpu'], ort.open);
    assert.equal(opened.provider, 'cpu');
    assert.deepEqual(opened.fallbacks, [{ provider: 'cuda', reason: 'OrtSessionOptionsAppendExecutionProvider_cuda: Failed to load shared library' }]);
    assert.deepEqual(ort.tried, [['cuda', 'cpu'], ['cpu']]);
  });

  it('keeps the whole list when the first provider works, and appends CPU when it is missing', async () => {
    const ort = fakeOrt(['tensorrt', 'cuda', 'cpu']);
    assert.equal((await openWithFallback(['tensorrt', 'cuda'], ort.open)).provider, 'tensorrt');
    assert.deepEqual(ort.tried, [['tensorrt', 'cuda', 'cpu']]);
  });

  it('does not try again a provider that failed while a later one worked', async () => {
    const ort = fakeOrt(['cpu']);
    const unavailable = new Map<string, string>();
    await openWithFallback(['cuda', 'cpu'], ort.open, unavailable);
    const second = await openWithFallback(['cuda', 'cpu'], ort.open, unavailable);
    assert.equal(second.provider, 'cpu');
    assert.equal(second.fallbacks[0]!.provider, 'cuda', 'still reported');
    assert.deepEqual(ort.tried, [['cuda', 'cpu'], ['cpu'], ['cpu']]);
  });

  it('throws the model error when even CPU fails, and blames no provider for it', async () => {
    const unavailable = new Map<string, string>();
    const broken = async () => {
      throw new Error('protobuf parsing failed');
    };
    await assert.rejects(openWithFallback(['cuda', 'cpu'], broken, unavailable), /protobuf parsing failed/);
    assert.equal(unavailable.size, 0);
  });
});
