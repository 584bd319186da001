/** The resolver types in src/ must be what `npm run codegen` makes from schema/ today. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { generate, loadCodegenConfig } from '@graphql-codegen/cli';
import { typeReexports } from '../scripts/codegen-type-exports.ts';

describe('codegen', () => {
  it('generated resolver types are up to date with schema/ (run `npm run codegen`)', async () => {
    const { config } = await loadCodegenConfig({ configFilePath: 'codegen.yml' });
    const outputs = (await generate({ ...config, silent: true }, false)) as Array<{ filename: string; content: string }>;
    assert.ok(outputs.length > 0);
    for (const { filename, content } of outputs) {
      // What `npm run codegen` writes: the output, then its afterOneFileWrite hook's rewrite.
      assert.equal(readFileSync(resolve(filename), 'utf8'), typeReexports(content), `${filename} is stale: run npm run codegen`);
    }
  });
});
