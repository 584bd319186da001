// Small SVG charts for the front page and the live panel: a sparkline, bars for class scores and
// a stacked bar for per-phase timings. Plain SVG: a charting library would be larger than this.
'use strict';

const SVG_NS = 'http://www.w3.org/2000/svg';

function svgElement(name, attributes) {
  const element = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes || {})) element.setAttribute(key, String(value));
  return element;
}

/**
 * A sparkline of one or more series over the same points: `series` is [{ values, className }],
 * values may hold nulls (gaps). The y axis starts at 0 and ends at the largest value (or `max`).
 */
function sparkline(series, options) {
  const width = 240;
  const height = 48;
  const count = Math.max(1, ...series.map((s) => s.values.length));
  const top = options && options.max !== undefined ? options.max : Math.max(1e-9, ...series.flatMap((s) => s.values.filter((v) => v !== null)));
  const svg = svgElement('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', class: 'spark', 'aria-hidden': 'true' });
  for (const { values, className } of series) {
    let path = '';
    let pen = false;
    values.forEach((v, i) => {
      if (v === null || v === undefined) {
        pen = false;
        return;
      }
      const x = count === 1 ? width : (i / (count - 1)) * width;
      const y = height - 2 - (Math.min(v, top) / top) * (height - 4);
      path += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
      pen = true;
    });
    svg.append(svgElement('path', { d: path || 'M0,0', class: className || 'line' }));
  }
  return svg;
}

/** Horizontal bars, one per { label, score } with score in 0..1, the first highlighted. */
function scoreBars(classes) {
  const list = document.createElement('ol');
  list.className = 'bars';
  for (const [i, c] of classes.entries()) {
    const item = document.createElement('li');
    if (i === 0) item.className = 'top';
    const name = document.createElement('span');
    name.className = 'bar-label';
    name.textContent = c.label;
    const track = document.createElement('span');
    track.className = 'bar-track';
    const fill = document.createElement('span');
    fill.className = 'bar-fill';
    fill.style.width = `${Math.max(0.5, c.score * 100).toFixed(1)}%`;
    track.append(fill);
    const value = document.createElement('span');
    value.className = 'bar-value';
    value.textContent = `${(c.score * 100).toFixed(1)}%`;
    item.append(name, track, value);
    list.append(item);
  }
  return list;
}

/** The phases of a request's timings, in the order they happen, with their colour class. */
const PHASES = [
  ['httpBodyParseMs', 'HTTP body'],
  ['graphqlParseMs', 'parse'],
  ['graphqlValidateMs', 'validate'],
  ['cacheLookupMs', 'cache lookup'],
  ['queueWaitMs', 'queue'],
  ['preprocessMs', 'pre-processing'],
  ['inferenceMs', 'inference'],
  ['postprocessMs', 'post-processing'],
  ['cacheWriteMs', 'cache write'],
  ['serializationMs', 'serialization'],
];

/** A stacked bar of where a request's time went, with a legend of the phases that took any. */
function timingsBar(timings) {
  const box = document.createElement('div');
  box.className = 'timings';
  const total = timings.totalMs || PHASES.reduce((sum, [key]) => sum + (timings[key] || 0), 0);
  const bar = document.createElement('div');
  bar.className = 'stack';
  bar.setAttribute('role', 'img');
  const legend = document.createElement('ul');
  legend.className = 'legend';
  const described = [];
  PHASES.forEach(([key, label], i) => {
    const ms = timings[key];
    if (!ms || ms <= 0) return;
    const part = document.createElement('span');
    part.className = `phase p${i}`;
    part.style.width = `${Math.max(0.5, (ms / Math.max(total, 1e-9)) * 100).toFixed(2)}%`;
    part.title = `${label}: ${ms.toFixed(2)} ms`;
    bar.append(part);
    const item = document.createElement('li');
    item.innerHTML = `<span class="swatch p${i}"></span>`;
    item.append(`${label} ${ms < 10 ? ms.toFixed(2) : ms.toFixed(0)} ms`);
    legend.append(item);
    described.push(`${label} ${ms.toFixed(2)} ms`);
  });
  // What no phase accounts for: execution around the phases, a multi-stage model's calls.
  const rest = total - PHASES.reduce((sum, [key]) => sum + (timings[key] || 0), 0);
  if (rest > total * 0.02) {
    const part = document.createElement('span');
    part.className = 'phase rest';
    part.style.width = `${((rest / total) * 100).toFixed(2)}%`;
    part.title = `other: ${rest.toFixed(2)} ms`;
    bar.append(part);
    const item = document.createElement('li');
    item.innerHTML = '<span class="swatch rest"></span>';
    item.append(`other ${rest < 10 ? rest.toFixed(2) : rest.toFixed(0)} ms`);
    legend.append(item);
    described.push(`other ${rest.toFixed(2)} ms`);
  }
  bar.setAttribute('aria-label', `Where the ${total.toFixed(1)} ms went: ${described.join(', ')}`);
  const head = document.createElement('div');
  head.className = 'timings-total';
  head.textContent = `${total.toFixed(total < 10 ? 2 : 0)} ms on the server`;
  box.append(head, bar, legend);
  return box;
}

window.Charts = { svgElement, sparkline, scoreBars, timingsBar };
