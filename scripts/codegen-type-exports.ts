/**
 * A codegen hook (codegen.yml, afterOneFileWrite): GraphQL Code Generator re-exports the enum types
 * that `enumValues` maps onto src/domain/types.ts as `export { X };`, which TypeScript refuses for
 * a type under `verbatimModuleSyntax`. This rewrites them as `export type { X };` in the files
 * named on the command line. test/codegen.test.ts applies the same rewrite to what it generates.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function typeReexports(text: string): string {
  return text.replace(/^export \{ (\w+) \};$/gm, 'export type { $1 };');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const file of process.argv.slice(2)) {
    const text = readFileSync(file, 'utf8');
    const fixed = typeReexports(text);
    if (fixed !== text) writeFileSync(file, fixed);
  }
}
