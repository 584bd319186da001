/**
 * The GraphiQL playground, served from node_modules so it works with no internet: GraphiQL 4's
 * prebuilt browser bundle and the React 18 UMD builds it needs. Apollo's default landing page
 * would load its IDE from a CDN and show nothing offline.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ExampleTab } from './examples.ts';
import { pageStart, scriptJson } from './html.ts';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

/** The files the page loads, by the name it asks for under /playground/. */
export const PLAYGROUND_ASSETS: Record<string, string> = {
  'react.js': join(packageDir('react'), 'umd/react.production.min.js'),
  'react-dom.js': join(packageDir('react-dom'), 'umd/react-dom.production.min.js'),
  'graphiql.js': join(packageDir('graphiql'), 'dist/index.umd.js'),
  'graphiql.css': join(packageDir('graphiql'), 'dist/style.css'),
  // Subscriptions: graphql-ws's browser build, for the fetcher's WebSocket client.
  'graphql-ws.js': join(packageDir('graphql-ws'), 'umd/graphql-ws.min.js'),
};

/** The playground's HTML for `endpoint`, opening with `tabs`. */
export function playgroundPage(endpoint: string, tabs: ExampleTab[]): string {
  // Changes whenever the examples do (a model added, replaced or removed): a browser that kept
  // older tabs in localStorage gets the new ones.
  const tag = createHash('sha1').update(JSON.stringify(tabs)).digest('hex').slice(0, 16);
  return `${pageStart('PredictQL playground', `<link rel="stylesheet" href="/playground/graphiql.css">
  <style>
    html, body { height: 100%; margin: 0; } body { display: flex; flex-direction: column; }
    #graphiql { flex: 1; min-height: 0; }
    .file-var { display: flex; flex-wrap: wrap; align-items: center; gap: 0.3rem 0.8rem; padding: 0.3rem 0.8rem; font: 13px system-ui, sans-serif; border-bottom: 1px solid #dde2e7; }
    .file-var input[type=text] { width: 7rem; font: inherit; } .file-var a { margin-left: auto; }
  </style>`)}
  <form class="file-var" id="file-var" aria-label="Put a file into a variable">
    <label>Put a file into the variable <input type="text" id="var-name" value="" placeholder="image" spellcheck="false"></label>
    <label>from <input type="file" id="var-file"></label>
    <span id="var-status" aria-live="polite"></span>
    <a href="/">Front page</a>
  </form>
  <div id="graphiql">Loading the playground...</div>
  <script id="examples" type="application/json">${scriptJson(tabs)}</script>
  <script id="examples-tag" type="application/json">${scriptJson(tag)}</script>
  <script src="/playground/react.js"></script>
  <script src="/playground/react-dom.js"></script>
  <script src="/playground/graphiql.js"></script>
  <script src="/playground/graphql-ws.js"></script>
  <script>
    const endpoint = ${scriptJson(endpoint)};
    // Subscriptions go over WebSocket to the same path (graphql-transport-ws).
    const subscriptionUrl = location.origin.replace(/^http/, 'ws') + endpoint;
    const tabs = JSON.parse(document.getElementById('examples').textContent);
    // GraphiQL keeps its tabs in localStorage and ignores defaultTabs once it has some: when the
    // examples changed since this browser saved them, forget the saved tabs so the new ones show.
    const tag = JSON.parse(document.getElementById('examples-tag').textContent);
    try {
      if (localStorage.getItem('predictql:examples') !== tag) {
        for (const key of ['tabState', 'query', 'variables', 'headers', 'operationName']) localStorage.removeItem('graphiql:' + key);
        localStorage.setItem('predictql:examples', tag);
      }
    } catch {
      // Storage may be off (private mode); GraphiQL then starts from defaultTabs anyway.
    }
    const editor = (selector) => document.querySelector(selector + ' .CodeMirror')?.CodeMirror;
    // A file into a variable: read as base64 and set in the Variables pane, so an image or a WAV
    // never has to be pasted by hand. The name defaults to the query's first String variable.
    const nameField = document.getElementById('var-name');
    const status = document.getElementById('var-status');
    document.getElementById('var-file').addEventListener('change', async (event) => {
      const file = event.target.files[0];
      if (!file) return;
      const query = editor('.graphiql-query-editor')?.getValue() ?? '';
      const name = nameField.value.trim() || (query.match(/\\$(\\w+)\\s*:\\s*String/) || [])[1] || 'file';
      const variables = editor('.graphiql-editor-tool .graphiql-editor');
      if (!variables) return;
      const bytes = new Uint8Array(await file.arrayBuffer());
      let binary = '';
      for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      let current = {};
      try { current = JSON.parse(variables.getValue() || '{}'); } catch { current = {}; }
      variables.setValue(JSON.stringify({ ...current, [name]: btoa(binary) }, null, 2));
      status.textContent = file.name + ' (' + bytes.length + ' bytes) is now $' + name + '.';
      event.target.value = '';
    });
    // (Backslashes doubled: this script sits in a template literal, where a lone backslash-b is a backspace.)
    function isSubscription(params) {
      const operations = [...String(params.query).matchAll(/\\b(query|mutation|subscription)\\s*(\\w*)/g)];
      const chosen = operations.find((m) => m[2] === params.operationName) || operations[0];
      return Boolean(chosen) && chosen[1] === 'subscription';
    }
    function fetcher(params, options) {
      // Right after a tab switch GraphiQL may still send the previous tab's operation name for a
      // moment; a name the document does not define would fail, and with one operation none is needed.
      const defined = [...String(params.query).matchAll(/\\b(?:query|mutation|subscription)\\s+(\\w+)/g)].map((m) => m[1]);
      if (params.operationName && !defined.includes(params.operationName)) {
        params = { ...params, operationName: undefined };
      }
      if (!isSubscription(params)) return fetchOnce(params, options);
      // The Headers pane's admin token and timings flag travel in the connection's init payload.
      const headers = (options && options.headers) || {};
      const client = graphqlWs.createClient({
        url: subscriptionUrl,
        lazy: true,
        retryAttempts: 0,
        connectionParams: { authorization: headers.authorization || headers.Authorization, timings: headers['x-predictql-timings'] },
      });
      return client.iterate(params);
    }
    async function fetchOnce(params, options) {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(options && options.headers) },
        body: JSON.stringify(params),
      });
      return response.json();
    }
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {
        fetcher,
        defaultTabs: tabs,
        // The examples' inputs live in the Variables pane, the timings example's in Headers.
        defaultEditorToolsVisibility: true,
        shouldPersistHeaders: true,
      }),
    );
  </script>
</body>
</html>
`;
}
