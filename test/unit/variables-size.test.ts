/** The variables' size, measured before anything else walks them (src/graphql/variables-size.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { measureVariables } from '../../src/graphql/variables-size.ts';

describe('measureVariables', () => {
  it('counts depth, values and bytes: 8 a value, plus a string\'s characters and the keys', () => {
    assert.deepEqual(measureVariables({ features: [1, 2, 3] }, 10, 1000), { depth: 2, values: 4, bytes: 'features'.length + 4 * 8 });
    assert.deepEqual(measureVariables({ input: { text: 'hello' } }, 10, 1000), { depth: 2, values: 2, bytes: 'input'.length + 'text'.length + 8 + 8 + 5 });
    assert.deepEqual(measureVariables(undefined, 10, 1000), { depth: 0, values: 0, bytes: 0 });
    assert.deepEqual(measureVariables({}, 10, 1000), { depth: 0, values: 0, bytes: 0 });
  });

  it('names the limit passed, however deep the nesting (no recursion)', () => {
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.deepEqual(measureVariables({ x: deep }, 20, 1e9), { setting: 'MAX_VARIABLES_DEPTH', limit: 20 });
    assert.deepEqual(measureVariables({ x: [[1]] }, 2, 1e9), { setting: 'MAX_VARIABLES_DEPTH', limit: 2 });
    assert.deepEqual(measureVariables({ x: [1] }, 2, 1e9), { depth: 2, values: 2, bytes: 1 + 16 });
  });

  it('refuses a long array from its length, before walking it', () => {
    const long = new Array(10_000_000).fill(0);
    assert.deepEqual(measureVariables({ x: long }, 20, 1_000_000), { setting: 'MAX_VARIABLES_BYTES', limit: 1_000_000 });
    assert.deepEqual(measureVariables({ x: 'y'.repeat(2000) }, 20, 1000), { setting: 'MAX_VARIABLES_BYTES', limit: 1000 });
    assert.deepEqual(measureVariables({ ['k'.repeat(2000)]: 1 }, 20, 1000), { setting: 'MAX_VARIABLES_BYTES', limit: 1000 });
    const wide = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`key${i}`, i]));
    assert.deepEqual(measureVariables({ wide }, 20, 1000), { setting: 'MAX_VARIABLES_BYTES', limit: 1000 });
  });
});
