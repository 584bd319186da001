/**
 * The HTML of the front page and the live page: a shell that the scripts in public/front/ fill in
 * from /front/models.json and /live/stats.json. Nothing is loaded from anywhere but this server.
 */
import { pageStart, scriptJson } from '../html.ts';

function head(title: string): string {
  return pageStart(title, '<link rel="stylesheet" href="/front/front.css">');
}

/** Where the nav links may point: the playground when it is on, /metrics when the main port serves it (not with METRICS_PORT). */
export interface PageLinks {
  playground: boolean;
  metrics: boolean;
}

function nav(links: PageLinks, here: 'front' | 'live'): string {
  return `<nav aria-label="Pages">
      ${here === 'live' ? '<a href="/">Try the models</a>' : ''}
      ${links.playground ? '<a href="/graphql">Playground</a>' : ''}
      ${here === 'front' ? '<a href="/live">Live panel</a>' : ''}
      ${links.metrics ? '<a href="/metrics">Metrics</a>' : ''}
      <a href="/readyz">Readiness</a>
    </nav>`;
}

const LIVE_PANEL = `<section class="live" aria-labelledby="live-title">
      <h2 id="live-title">The server, live <small id="live-window"></small></h2>
      <div class="tiles" id="live-tiles" aria-live="off"><p class="muted">Waiting for the first second of samples...</p></div>
    </section>`;

export function frontPage(links: PageLinks): string {
  return `${head('PredictQL')}
  <header>
    <div>
      <h1>PredictQL</h1>
      <p class="lede" id="lede">A GraphQL API that serves ONNX models: requests are batched across clients, run on a pool of
      worker threads, and repeated inputs are answered from a cache.</p>
    </div>
    ${nav(links, 'front')}
  </header>
  <main class="front">
    <section class="try" aria-labelledby="try-title">
      <h2 id="try-title">Try a model</h2>
      <div class="models" role="tablist" aria-label="Models" id="model-tabs"></div>
      <div id="model-forms"><p class="muted">Loading the models...</p></div>
    </section>
    ${LIVE_PANEL}
  </main>
  <script id="front-config" type="application/json">${scriptJson({ endpoint: '/graphql', streamEndpoint: '/graphql/stream' })}</script>
  <script src="/front/charts.js"></script>
  <script src="/front/live.js"></script>
  <script src="/front/batch.js"></script>
  <script src="/front/front.js"></script>
</body>
</html>
`;
}

export function livePage(links: PageLinks): string {
  return `${head('PredictQL live')}
  <header>
    <div>
      <h1>PredictQL, live</h1>
      <p class="lede">What this server is doing, second by second, from its own metrics.</p>
    </div>
    ${nav(links, 'live')}
  </header>
  <main class="live-only">
    ${LIVE_PANEL}
  </main>
  <script src="/front/charts.js"></script>
  <script src="/front/live.js"></script>
</body>
</html>
`;
}
