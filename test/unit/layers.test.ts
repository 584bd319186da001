/**
 * The layer check of scripts/check-layers.ts: src/ passes it, and it catches what it is for on a
 * small tree with planted faults (an upward type import, a dynamic import, a cycle made only of
 * type imports, a domain file that imports), while imports in comments and strings do not count.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { checkLayers, importSpecifiers } from '../../scripts/check-layers.ts';
import { tempDir } from '../helpers/temp.ts';

function tree(files: Record<string, string>): string {
  const root = tempDir('predictql-layers-');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('layer check', () => {
  it('passes on src/', () => {
    const report = checkLayers('src');
    assert.deepEqual(report.violations, []);
    assert.ok(report.files > 50 && report.imports > 200, `scanned ${report.files} files, ${report.imports} imports`);
  });

  it('reads every kind of import, and none from comments or strings', () => {
    const source = [
      "import a from './a.ts';",
      "import type { B } from '../b.ts';",
      'import {',
      '  c,',
      '  type D,',
      "} from './c.ts';",
      "import './side-effect.ts';",
      "export * from './e.ts';",
      "export type { F } from './f.ts';",
      "const g = await import('./g.ts');",
      "// import h from './h.ts';",
      "/* export * from './i.ts'; */",
      "const text = \"import j from './j.ts'\";",
      "const pattern = /from '.\\/k.ts'/;",
      'export const url = new URL(\'./worker.ts\', import.meta.url);',
      "export function f(x: string) { return x; }",
    ].join('\n');
    assert.deepEqual(importSpecifiers(source), ['./a.ts', '../b.ts', './c.ts', './side-effect.ts', './e.ts', './f.ts', './g.ts']);
  });

  it('catches an upward import, type-only or dynamic, a cycle of type imports, and a domain file that imports', () => {
    const root = tree({
      'domain/types.ts': "import type { Unused } from '../models/a.ts';\nexport type Id = string;\n",
      'models/a.ts': "import type { Context } from '../graphql/context.ts';\nexport type Unused = Context;\n",
      'engine/b.ts': "export async function load() { return import('../graphql/resolvers.ts'); }\n",
      'graphql/context.ts': "export interface Context { id: string }\n",
      'graphql/resolvers.ts': "export const resolvers = {};\n",
      'cache/x.ts': "import type { Y } from './y.ts';\nexport type X = { y?: Y };\n",
      'cache/y.ts': "import type { X } from './x.ts';\nexport type Y = { x?: X };\n",
      'graphql/schema.ts': "import type { Unused } from '../models/a.ts';\nexport type Ok = Unused;\n",
    });
    try {
      const { violations } = checkLayers(root);
      assert.equal(violations.length, 4, violations.join('\n'));
      assert.ok(violations.some((v) => /^domain\/types\.ts imports "\.\.\/models\/a\.ts": files in domain\/ import nothing/.test(v)));
      assert.ok(violations.some((v) => /^models\/a\.ts imports graphql\/context\.ts: models\/ is below GraphQL/.test(v)));
      assert.ok(violations.some((v) => /^engine\/b\.ts imports graphql\/resolvers\.ts/.test(v)));
      assert.ok(violations.some((v) => v === 'import cycle of 2 files: cache/x.ts -> cache/y.ts -> cache/x.ts'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
