/**
 * The page at `/`: what this server is, the models it serves (task, version, input kind, state),
 * links to the playground and the metrics, and a small form per image model to upload a picture,
 * or draw one on a canvas for the handwriting models, and see the prediction. Plain HTML and one
 * inline script: no build step, nothing loaded from anywhere but this server.
 */
import type { ServedModel } from '../models/served-model.ts';
import { escapeHtml, pageStart, scriptJson } from './html.ts';

/** Handwriting models: their pre-processing expects one drawn glyph, so a canvas suits them. */
function isDrawable(model: ServedModel): boolean {
  const input = model.manifest.input;
  return input.kind === 'IMAGE' && (input.preprocess === 'mnist' || input.preprocess === 'symbols');
}

function modelRow(model: ServedModel): string {
  const version = model.manifest.versionName ? `${model.version} (${model.manifest.versionName})` : model.version;
  return `<tr data-model="${escapeHtml(model.name)}">
      <td><code>${escapeHtml(model.name)}</code></td>
      <td>${escapeHtml(model.manifest.task)}</td>
      <td><code>${escapeHtml(version)}</code></td>
      <td>${escapeHtml(model.manifest.input.kind)}</td>
      <td class="state">${escapeHtml(model.status.state)}</td>
      <td>${escapeHtml(model.manifest.description)}</td>
    </tr>`;
}

function imageForm(model: ServedModel): string {
  const name = escapeHtml(model.name);
  const canvas = isDrawable(model)
    ? `<canvas width="280" height="280" aria-label="Draw here for ${name}"></canvas>
      <div class="buttons"><button type="button" data-action="clear">Clear</button><button type="submit" data-action="predict-drawing">Predict drawing</button></div>`
    : '';
  return `<form class="try" data-model="${name}" data-task="${escapeHtml(model.manifest.task)}">
      <h3><code>${name}</code></h3>
      ${canvas}
      <label>Or upload a PNG or JPEG: <input type="file" accept="image/png,image/jpeg"></label>
      <output aria-live="polite"></output>
    </form>`;
}

/** The front page's HTML: the models, links, and a form per image model (served at /). */
export function landingPage(models: ServedModel[], links: { playground: boolean }): string {
  const imageModels = models.filter((m) => m.manifest.input.kind === 'IMAGE');
  return `${pageStart('PredictQL', `<style>
    body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 1.5rem; color: #1d232a; }
    h1 { margin-bottom: 0.2rem; } nav a { margin-right: 1.2rem; }
    table { border-collapse: collapse; width: 100%; margin: 1rem 0 2rem; }
    th, td { text-align: left; vertical-align: top; padding: 0.4rem 0.6rem; border-bottom: 1px solid #dde2e7; }
    td:last-child { font-size: 0.9em; color: #4a5560; }
    .forms { display: flex; flex-wrap: wrap; gap: 1.5rem; }
    .try { border: 1px solid #dde2e7; border-radius: 8px; padding: 1rem; width: 300px; }
    .try h3 { margin: 0 0 0.5rem; }
    canvas { border: 1px solid #9aa5b1; border-radius: 4px; touch-action: none; cursor: crosshair; width: 280px; height: 280px; background: #fff; }
    .buttons { display: flex; gap: 0.5rem; margin: 0.4rem 0 0.8rem; }
    output { display: block; margin-top: 0.8rem; min-height: 3rem; white-space: pre-wrap; }
    output .label { font-size: 1.6rem; font-weight: 600; }
    output.error { color: #b3261e; }
  </style>`)}
  <h1>PredictQL</h1>
  <p>A GraphQL API serving predictions from ONNX models: inputs are batched across requests, run on a
  pool of worker threads with ONNX Runtime, and repeated inputs are answered from a cache.</p>
  <nav>
    ${links.playground ? '<a href="/graphql">Playground (GraphiQL, with an example per model)</a>' : ''}
    <a href="/metrics">Metrics (Prometheus)</a>
    <a href="/readyz">Readiness</a>
  </nav>
  <h2>Models</h2>
  <table>
    <thead><tr><th>Name</th><th>Task</th><th>Version</th><th>Input</th><th>State</th><th>About</th></tr></thead>
    <tbody>
    ${models.map(modelRow).join('\n    ')}
    </tbody>
  </table>
  ${imageModels.length ? `<h2>Try an image model</h2>\n  <div class="forms">\n    ${imageModels.map(imageForm).join('\n    ')}\n  </div>` : ''}
  <script id="endpoint" type="application/json">${scriptJson('/graphql')}</script>
  <script>${CLIENT_SCRIPT}</script>
</body>
</html>
`;
}

/** The page's behaviour: drawing on the canvases and asking the server about an image. */
const CLIENT_SCRIPT = `
const endpoint = JSON.parse(document.getElementById('endpoint').textContent);
const QUERY = 'query TryImage($model: String!, $image: String!) { predict(model: $model, input: { image: $image }) {'
  + ' ... on Classification { label score classes(top: 3) { label score } }'
  + ' ... on TextRecognition { text confidence }'
  + ' ... on DocumentText { text detectedLines truncated } } }';

function show(output, prediction) {
  output.className = '';
  output.textContent = '';
  const main = document.createElement('div');
  main.className = 'label';
  const page = prediction.detectedLines !== undefined;
  main.textContent = prediction.label !== undefined ? prediction.label : page ? prediction.text : JSON.stringify(prediction.text);
  output.append(main);
  const detail = prediction.classes
    ? prediction.classes.map((c) => c.label + ' ' + (100 * c.score).toFixed(1) + '%').join(', ')
    : page
      ? prediction.detectedLines + ' lines found' + (prediction.truncated ? ', only the first read' : '')
      : 'confidence ' + (100 * prediction.confidence).toFixed(1) + '%';
  output.append(detail);
}

async function predict(form, base64) {
  const output = form.querySelector('output');
  output.className = '';
  output.textContent = 'Asking ' + form.dataset.model + '...';
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: QUERY, variables: { model: form.dataset.model, image: base64 } }),
    });
    const body = await response.json();
    if (body.errors && body.errors.length) throw new Error(body.errors.map((e) => e.message).join('; '));
    show(output, body.data.predict);
  } catch (error) {
    output.className = 'error';
    output.textContent = String(error.message || error);
  }
}

function clearCanvas(canvas) {
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  canvas.dataset.drawn = '';
}

for (const form of document.querySelectorAll('form.try')) {
  const canvas = form.querySelector('canvas');
  if (canvas) {
    clearCanvas(canvas);
    const ctx = canvas.getContext('2d');
    ctx.lineWidth = 20;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.strokeStyle = '#000';
    let drawing = false;
    const at = (e) => {
      const box = canvas.getBoundingClientRect();
      return [(e.clientX - box.left) * (canvas.width / box.width), (e.clientY - box.top) * (canvas.height / box.height)];
    };
    canvas.addEventListener('pointerdown', (e) => {
      drawing = true;
      canvas.setPointerCapture(e.pointerId);
      ctx.beginPath();
      ctx.moveTo(...at(e));
      ctx.lineTo(...at(e));
      ctx.stroke();
      canvas.dataset.drawn = 'yes';
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!drawing) return;
      ctx.lineTo(...at(e));
      ctx.stroke();
    });
    const stop = () => { drawing = false; };
    canvas.addEventListener('pointerup', stop);
    canvas.addEventListener('pointercancel', stop);
    form.querySelector('[data-action="clear"]').addEventListener('click', () => {
      clearCanvas(canvas);
      form.querySelector('output').textContent = '';
    });
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!canvas || !canvas.dataset.drawn) {
      form.querySelector('output').textContent = 'Draw something first, or upload an image.';
      return;
    }
    predict(form, canvas.toDataURL('image/png').split(',')[1]);
  });
  form.querySelector('input[type=file]').addEventListener('change', (e) => {
    const file = e.target.files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => predict(form, String(reader.result).split(',')[1]);
    reader.readAsDataURL(file);
  });
}
`;
