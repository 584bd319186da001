/**
 * The GraphiQL playground, served from node_modules so it works with no internet: GraphiQL 4's
 * prebuilt browser bundle and the React 18 UMD builds it needs. Apollo's default landing page
 * would load its IDE from a CDN and show nothing offline.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express, { type Router } from 'express';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

const ASSETS: Record<string, string> = {
  'react.js': join(packageDir('react'), 'umd/react.production.min.js'),
  'react-dom.js': join(packageDir('react-dom'), 'umd/react-dom.production.min.js'),
  'graphiql.js': join(packageDir('graphiql'), 'dist/index.umd.js'),
  'graphiql.css': join(packageDir('graphiql'), 'dist/style.css'),
};

export const DEFAULT_PLAYGROUND_QUERY = `# Which iris is this? Four measurements in cm:
# sepal length, sepal width, petal length, petal width.
{
  predict(model: "iris", input: { features: [5.1, 3.5, 1.4, 0.2] }) {
    ... on Classification {
      label
      score
      classes(top: 3) { label score }
    }
    cached
  }
}
`;

function page(endpoint: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>PredictQL playground</title>
  <link rel="stylesheet" href="/playground/graphiql.css">
  <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="graphiql">Loading the playground...</div>
  <script src="/playground/react.js"></script>
  <script src="/playground/react-dom.js"></script>
  <script src="/playground/graphiql.js"></script>
  <script>
    const endpoint = ${JSON.stringify(endpoint)};
    async function fetcher(params, options) {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(options && options.headers) },
        body: JSON.stringify(params),
      });
      return response.json();
    }
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, { fetcher, defaultQuery: ${JSON.stringify(DEFAULT_PLAYGROUND_QUERY)} }),
    );
  </script>
</body>
</html>
`;
}

/** GET /graphql from a browser (Accept: text/html) gets the IDE; other requests pass through. */
export function playgroundRouter(endpoint = '/graphql'): Router {
  const router = express.Router();
  const html = page(endpoint);
  router.get(endpoint, (req, res, next) => {
    if (req.accepts(['application/json', 'text/html']) !== 'text/html' || typeof req.query.query === 'string') return next();
    res.type('html').send(html);
  });
  for (const [name, file] of Object.entries(ASSETS)) {
    router.get(`/playground/${name}`, (_req, res) => res.sendFile(file, { maxAge: '1h' }));
  }
  return router;
}
