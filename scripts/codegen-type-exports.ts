/**
 * A codegen hook (codegen.yml, afterOneFileWrite): GraphQL Code Generator re-exports the enum types
 * that `enumValues` maps onto src/domain/types.ts as `export { X };`, which TypeScript refuses for
 * a type under `verbatimModuleSyntax`. This rewrites them as `export type { X };` in the files
 * named on the command line.
 */
import { readFileSync, writeFileSync } from 'node:fs';

for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8');
  const fixed = text.replace(/^export \{ (\w+) \};$/gm, 'export type { $1 };');
  if (fixed !== text) writeFileSync(file, fixed);
}
