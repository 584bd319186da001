/**
 * The GraphiQL playground, served from node_modules so it works with no internet: GraphiQL 4's
 * prebuilt browser bundle and the React 18 UMD builds it needs. Apollo's default landing page
 * would load its IDE from a CDN and show nothing offline.
 */
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
};

/** The playground's HTML for `endpoint`, opening with `tabs`. */
export function playgroundPage(endpoint: string, tabs: ExampleTab[]): string {
  return `${pageStart('PredictQL playground', '<link rel="stylesheet" href="/playground/graphiql.css">\n  <style>html, body, #graphiql { height: 100%; margin: 0; }</style>')}
  <div id="graphiql">Loading the playground...</div>
  <script id="examples" type="application/json">${scriptJson(tabs)}</script>
  <script src="/playground/react.js"></script>
  <script src="/playground/react-dom.js"></script>
  <script src="/playground/graphiql.js"></script>
  <script>
    const endpoint = ${scriptJson(endpoint)};
    const tabs = JSON.parse(document.getElementById('examples').textContent);
    async function fetcher(params, options) {
      // Right after a tab switch GraphiQL may still send the previous tab's operation name for a
      // moment; a name the document does not define would fail, and with one operation none is needed.
      const defined = [...String(params.query).matchAll(/\\b(?:query|mutation|subscription)\\s+(\\w+)/g)].map((m) => m[1]);
      if (params.operationName && !defined.includes(params.operationName)) {
        params = { ...params, operationName: undefined };
      }
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
