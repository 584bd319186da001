/**
 * Runs bench/lib/load-process.ts in a process of its own and returns what it measured, and
 * writes the files of request bodies it reads.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LoadSpec, StreamResult } from './load-process.ts';

export type { LoadSpec, StreamResult, StreamSpec } from './load-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'predictql-load-'));
let files = 0;

/** Writes `count` bodies, one per line (JSON never holds a raw newline), and returns the file. */
export function bodiesFile(name: string, count: number, body: (i: number) => string): string {
  const path = join(dir, `${files++}-${name}.ndjson`);
  writeFileSync(path, `${Array.from({ length: count }, (_, i) => body(i)).join('\n')}\n`);
  return path;
}

export async function remoteLoad(spec: LoadSpec): Promise<StreamResult[]> {
  const specFile = join(dir, `spec-${files++}.json`);
  writeFileSync(specFile, JSON.stringify(spec));
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/lib/load-process.ts', specFile], {
    maxBuffer: 1 << 24,
    timeout: spec.warmupMs + spec.durationMs + 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as StreamResult[];
}
