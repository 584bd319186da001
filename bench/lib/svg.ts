/**
 * The latency-breakdown chart `npm run bench` writes: one horizontal bar per scenario, stacked by
 * request phase (mean milliseconds of server time per request, from the server's
 * predictql_request_phase_seconds histograms). Plain SVG, no dependencies.
 */
export interface BreakdownRow {
  label: string;
  /** Mean milliseconds per request, by phase, in drawing order. */
  phases: Record<string, number>;
}

const COLORS: Record<string, string> = {
  httpBodyParse: '#9e9e9e',
  graphqlParse: '#7e57c2',
  graphqlValidate: '#5c6bc0',
  cacheLookup: '#26a69a',
  queueWait: '#ffa726',
  preprocess: '#42a5f5',
  inference: '#e53935',
  postprocess: '#ab47bc',
  cacheWrite: '#66bb6a',
  resolversAndWaiting: '#bdbdbd',
  serialization: '#8d6e63',
};

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Each bar spans the plot and shows the share of each phase in that scenario's server time (the
 * scenarios differ by three orders of magnitude, so a shared scale would hide the cheap ones);
 * the total is written at the bar's end.
 */
export function breakdownSvg(title: string, rows: readonly BreakdownRow[]): string {
  const labelWidth = 400;
  const plotWidth = 560;
  const barHeight = 22;
  const gap = 10;
  const top = 48;
  const legendHeight = 70;
  const height = top + rows.length * (barHeight + gap) + legendHeight;
  const totals = rows.map((r) => Object.values(r.phases).reduce((a, b) => a + b, 0));

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 90}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<text x="10" y="38" fill="#555">share of the mean server time per request, by phase; the total in milliseconds at the right</text>`,
  ];
  rows.forEach((row, i) => {
    const y = top + i * (barHeight + gap);
    parts.push(`<text x="${labelWidth - 8}" y="${y + barHeight * 0.7}" text-anchor="end">${escape(row.label)}</text>`);
    let x = labelWidth;
    const scale = totals[i]! > 0 ? plotWidth / totals[i]! : 0;
    for (const [phase, ms] of Object.entries(row.phases)) {
      const width = ms * scale;
      if (width <= 0) continue;
      parts.push(`<rect x="${x.toFixed(2)}" y="${y}" width="${Math.max(width, 0.5).toFixed(2)}" height="${barHeight}" fill="${COLORS[phase] ?? '#000'}"><title>${escape(phase)}: ${ms.toFixed(3)} ms</title></rect>`);
      x += width;
    }
    parts.push(`<text x="${(x + 6).toFixed(2)}" y="${y + barHeight * 0.7}">${totals[i]!.toFixed(2)} ms</text>`);
  });
  const legendY = top + rows.length * (barHeight + gap) + 14;
  Object.entries(COLORS).forEach(([phase, color], i) => {
    const x = 10 + (i % 6) * 165;
    const y = legendY + Math.floor(i / 6) * 20;
    parts.push(`<rect x="${x}" y="${y}" width="12" height="12" fill="${color}"/><text x="${x + 16}" y="${y + 10}">${phase}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
