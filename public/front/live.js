// The live panel: polls /live/stats.json once a second (only the points it has not seen yet) and
// draws one tile per figure: the latest value and a sparkline of the last minutes. The server
// samples once for every viewer; a hidden tab stops polling.
'use strict';

(function livePanel() {
  const tiles = document.getElementById('live-tiles');
  if (!tiles) return;
  const windowLabel = document.getElementById('live-window');
  const KEEP = 300;
  let points = [];
  let workers = 0;
  let timer;

  const ms = (v) => (v === null || v === undefined ? '–' : v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(0)} ms`);
  const pct = (v) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(0)}%`);
  const num = (v, digits) => (v === null || v === undefined ? '–' : v.toFixed(digits));

  // Each tile: its title, the figure(s) it shows and how to write the latest value.
  const TILES = [
    { id: 'rps', title: 'Requests/s', series: [['requestsPerSecond', 'line']], text: (p) => num(p.requestsPerSecond, p.requestsPerSecond < 10 ? 1 : 0) },
    { id: 'latency', title: 'Latency p50 / p99', series: [['p50Ms', 'line'], ['p99Ms', 'line second']], text: (p) => `${ms(p.p50Ms)} / ${ms(p.p99Ms)}` },
    { id: 'batch', title: 'Mean batch size', series: [['meanBatchSize', 'line']], text: (p) => num(p.meanBatchSize, 1), note: (p) => `${num(p.batchesPerSecond, 0)} batches/s` },
    { id: 'queue', title: 'Queue depth', series: [['queueDepth', 'line']], text: (p) => num(p.queueDepth, 0), note: () => 'inputs and batches waiting' },
    { id: 'cache', title: 'Cache hit ratio', series: [['cacheHitRatio', 'line']], max: 1, text: (p) => pct(p.cacheHitRatio) },
    { id: 'workers', title: 'Worker utilisation', series: [['workerUtilisation', 'line']], max: 1, text: (p) => pct(p.workerUtilisation), note: () => `of ${workers} worker threads` },
    { id: 'loop', title: 'Event-loop delay p99 / max', series: [['eventLoopP99Ms', 'line'], ['eventLoopMaxMs', 'line second']], text: (p) => `${ms(p.eventLoopP99Ms)} / ${ms(p.eventLoopMaxMs)}` },
  ];

  /** The newest point where the tile's first figure was measured (an idle second has no latency). */
  function latestFor(tile) {
    const key = tile.series[0][0];
    for (let i = points.length - 1; i >= Math.max(0, points.length - 10); i--) if (points[i][key] !== null) return points[i];
    return points[points.length - 1];
  }

  function render() {
    const last = points[points.length - 1];
    if (!last) return;
    tiles.textContent = '';
    for (const tile of TILES) {
      const box = document.createElement('figure');
      box.className = 'tile';
      box.dataset.tile = tile.id;
      const caption = document.createElement('figcaption');
      caption.textContent = tile.title;
      const value = document.createElement('div');
      value.className = 'value';
      const point = latestFor(tile);
      value.textContent = tile.text(point);
      const series = tile.series.map(([key, className]) => ({ values: points.map((p) => p[key]), className }));
      box.append(caption, value);
      if (tile.note) box.append(Object.assign(document.createElement('div'), { className: 'note', textContent: tile.note(point) }));
      box.append(window.Charts.sparkline(series, { max: tile.max }));
      tiles.append(box);
    }
    const seconds = Math.round((points[points.length - 1].t - points[0].t) / 1000);
    windowLabel.textContent = seconds >= 60 ? `last ${Math.round(seconds / 60)} min` : `last ${seconds + 1} s`;
  }

  async function poll() {
    try {
      const since = points.length ? points[points.length - 1].t : 0;
      const response = await fetch(`/live/stats.json?since=${since}`, { headers: { accept: 'application/json' } });
      if (response.ok) {
        const body = await response.json();
        workers = body.workers;
        points = points.concat(body.points).slice(-KEEP);
        render();
      }
    } catch {
      // The server may be restarting: try again on the next tick.
    }
    timer = setTimeout(poll, 1000);
  }

  document.addEventListener('visibilitychange', () => {
    clearTimeout(timer);
    if (!document.hidden) poll();
  });
  poll();
})();
