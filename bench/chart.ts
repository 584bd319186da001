/**
 * Redraws bench/results/latency-breakdown.svg from bench/results/latest.json without running
 * the benchmark again (the run itself draws it too).
 *
 *   node --import tsx bench/chart.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { breakdownSvg, type BreakdownRow } from './lib/svg.ts';

interface Measured {
  server: string;
  concurrency: number;
  phases?: Record<string, number>;
}

const { results } = JSON.parse(readFileSync('bench/results/latest.json', 'utf8')) as { results: unknown };
const rows: BreakdownRow[] = [];
/** The model a part of the results measured, by the key it sits under. */
const MODEL_OF_KEY: Record<string, string> = { iris: 'iris', ocr: 'ocr', mixed: 'ocr', heavyAlone: 'ocr', tensors: 'temperature' };
// Every measurement with phase figures, in the order the run took them.
const visit = (value: unknown, model: string): void => {
  if (Array.isArray(value)) return value.forEach((v) => visit(v, model));
  if (typeof value !== 'object' || value === null) return;
  const m = value as Measured;
  if (m.phases && typeof m.server === 'string') rows.push({ label: `${model}, ${m.server.replace(/ ocr$/, "")}, c=${m.concurrency}`, phases: m.phases });
  for (const [key, child] of Object.entries(value)) if (key !== 'phases') visit(child, MODEL_OF_KEY[key] ?? model);
};
visit(results, 'iris');
writeFileSync('bench/results/latency-breakdown.svg', breakdownSvg("PredictQL: where a request's time goes on the server", rows));
console.log(`wrote bench/results/latency-breakdown.svg (${rows.length} bars)`);
