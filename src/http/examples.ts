/**
 * Ready-made example operations, built from the model repository so they always match what is
 * served: one per model with its manifest's warm-up sample as the input (a real row, text, image or
 * clip), a batched `predictMany`, a query with aliases across models, and one that asks for the
 * per-phase timings header, and a prediction job. The playground opens with them as tabs; the `/` page links to them.
 */
import type { Payload } from '../domain/types.ts';
import type { ServedModel } from '../models/served-model.ts';

/** One GraphiQL tab (GraphiQL names it after the operation). */
export interface ExampleTab {
  query: string;
  variables?: string;
  headers?: string;
}

/** Everyday sentences to batch with a text model's sample: neither spam nor an injection. */
const EVERYDAY_TEXTS = ['Hi Sam, are we still on for lunch tomorrow at noon?', 'What is the capital of France?'];

/** The fields worth showing for each task, as a selection on `Prediction`. */
function selectionFor(model: ServedModel, indent: string): string {
  const lines = (() => {
    switch (model.manifest.task) {
      case 'CLASSIFICATION':
        return ['... on Classification {', '  label', '  score', '  classes(top: 3) { label score }', '}'];
      case 'TEXT_RECOGNITION':
        return ['... on TextRecognition {', '  text', '  confidence', '}'];
      case 'SPEECH_DETECTION':
        return ['... on SpeechDetection {', '  segments { start end }', '  speechRatio', '  durationSeconds', '}'];
      case 'TENSOR':
        return ['... on TensorPrediction {', '  outputs { name dims data }', '}'];
      case 'DOCUMENT_TEXT':
        return ['... on DocumentText {', '  text', '  lines { text confidence box { x y width height } }', '  truncated', '}'];
    }
  })();
  return [...lines, 'cacheSource'].map((line) => indent + line).join('\n');
}

/** `Iris`, `PromptInjection`: an operation name GraphiQL can show as the tab's title. */
function operationName(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('')
    .replace(/^(\d)/, 'M$1');
}

/** `promptInjection`: a GraphQL alias for a model's name. */
function aliasFor(name: string): string {
  const pascal = operationName(name);
  return pascal[0]!.toLowerCase() + pascal.slice(1);
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** The sample as a GraphQL input literal, or as a variable when it is a file or tensors. */
function inputOf(sample: Payload): { literal: string } | { variableType: string; value: unknown } {
  switch (sample.kind) {
    case 'features':
      return { literal: `{ features: [${[...sample.values].map((v) => Number(v.toPrecision(6))).join(', ')}] }` };
    case 'text':
      return { literal: `{ text: ${JSON.stringify(sample.text)} }` };
    case 'bytes':
      return { variableType: 'String!', value: base64(sample.bytes) };
    case 'tensors':
      return { variableType: '[TensorInput!]!', value: sample.tensors.map((t) => ({ name: t.name, dims: t.dims, data: [...t.data] })) };
    case 'pixels':
      throw new Error('a sample is read from a file, never decoded pixels');
  }
}

function describeSample(model: ServedModel): string {
  const input = model.manifest.input;
  switch (input.kind) {
    case 'FEATURES':
      return `# Features, in order: ${input.features.join(', ')}.`;
    case 'TEXT':
      return '# Input: a text.';
    case 'IMAGE':
      return '# Input: the model\'s sample image, base64-encoded in the Variables pane. Paste your own PNG or JPEG there.';
    case 'AUDIO':
      return '# Input: the model\'s sample clip, a base64-encoded WAV in the Variables pane.';
    case 'TENSOR':
      return '# Input: raw named tensors, in the Variables pane.';
  }
}

function singleModelTab(model: ServedModel): ExampleTab {
  const input = inputOf(model.sample);
  const name = operationName(model.name);
  const header = `# ${model.manifest.description.split(/(?<=\.)\s/)[0]}\n${describeSample(model)}\n`;
  const selection = selectionFor(model, '    ');
  if ('literal' in input) {
    return { query: `${header}query ${name} {\n  predict(model: ${JSON.stringify(model.name)}, input: ${input.literal}) {\n${selection}\n  }\n}\n` };
  }
  const field = model.manifest.input.kind === 'TENSOR' ? 'tensor' : model.manifest.input.kind.toLowerCase();
  return {
    query: `${header}query ${name}($${field}: ${input.variableType}) {\n  predict(model: ${JSON.stringify(model.name)}, input: { ${field}: $${field} }) {\n${selection}\n  }\n}\n`,
    variables: JSON.stringify({ [field]: input.value }, null, 2),
  };
}

/** predictMany over the first text model (else the first tabular one), answers in input order. */
function batchTab(models: ServedModel[]): ExampleTab | undefined {
  const text = models.find((m) => m.sample.kind === 'text');
  const features = models.find((m) => m.sample.kind === 'features');
  const model = text ?? features;
  if (!model) return undefined;
  const inputs =
    model.sample.kind === 'text'
      ? [model.sample.text, ...EVERYDAY_TEXTS].map((t) => `    { text: ${JSON.stringify(t)} }`)
      : [`    ${(inputOf(model.sample) as { literal: string }).literal}`];
  return {
    query:
      `# Many inputs in one request: they are merged into model batches (with other clients' inputs too),\n` +
      `# repeated ones come from the cache, and answers come back in the order of \`inputs\`.\n` +
      `# Asking only for \`label\` makes the payload (and the work) smaller.\n` +
      `query Batch${operationName(model.name)} {\n  predictMany(model: ${JSON.stringify(model.name)}, inputs: [\n${inputs.join(',\n')}\n  ]) {\n` +
      `    ... on Classification { label score }\n    cacheSource\n  }\n}\n`,
  };
}

/**
 * predictStream over the line reader: each line's answer as soon as it is read, with progress.
 * The inputs are the line model's sample twice (the second is answered with the first) and, when
 * the page reader is served, its page: several lines, refused by the line model with an error
 * event while the stream goes on.
 */
function streamOcrTab(models: ServedModel[]): ExampleTab | undefined {
  const ocr = models.find((m) => m.name === 'ocr');
  if (!ocr || ocr.sample.kind !== 'bytes') return undefined;
  const page = models.find((m) => m.name === 'ocr-page');
  const lines = [ocr.sample.bytes, ocr.sample.bytes, ...(page?.sample.kind === 'bytes' ? [page.sample.bytes] : [])].map((bytes) => ({ image: base64(bytes) }));
  return {
    query:
      `# A subscription: one event per input as soon as it is answered (cache hits first), with\n` +
      `# \`done\` of \`total\` for a progress bar. An input that fails sends its \`error\`; the others go on.\n` +
      `# Served over WebSocket (graphql-ws) at /graphql, and over Server-Sent Events at /graphql/stream.\n` +
      `subscription StreamOcr($lines: [PredictionInput!]!) {\n  predictStream(model: "ocr", inputs: $lines) {\n    index\n    done\n    total\n` +
      `    prediction {\n      ... on TextRecognition { text confidence }\n      cacheSource\n    }\n    error { code message }\n  }\n}\n`,
    variables: JSON.stringify({ lines }, null, 2),
  };
}

/**
 * One request, several models: each alias names one model's answer to its own sample, the input
 * it was made for (a mail to the spam filter, a prompt to the injection detector, a row to iris).
 */
function aliasesTab(models: ServedModel[]): ExampleTab | undefined {
  const inline = models.filter((m) => m.sample.kind === 'text' || m.sample.kind === 'features');
  if (inline.length < 2) return undefined;
  const fields = inline.map((model) => {
    const input = inputOf(model.sample) as { literal: string };
    return `  ${aliasFor(model.name)}: predict(model: ${JSON.stringify(model.name)}, input: ${input.literal}) {\n    ... on Classification { label score }\n  }`;
  });
  return { query: `# Aliases ask several models in one request; each answer comes back under its alias.\nquery SeveralModels {\n${fields.join('\n')}\n}\n` };
}

/**
 * Prediction jobs on the first tabular model (else the first text one): submit, then follow the
 * job by its id, or cancel it. Three operations in one tab; GraphiQL's run button asks which.
 */
function jobsTab(models: ServedModel[]): ExampleTab | undefined {
  const model = models.find((m) => m.sample.kind === 'features') ?? models.find((m) => m.sample.kind === 'text');
  if (!model) return undefined;
  const sample = (inputOf(model.sample) as { literal: string }).literal;
  const inputs = model.sample.kind === 'text' ? [sample, ...EVERYDAY_TEXTS.map((t) => `{ text: ${JSON.stringify(t)} }`)] : [sample, sample.replace(/\[([^,\]]+)/, (_, first: string) => `[${Number(first) + 1}`)];
  return {
    query:
      `# Prediction jobs: inputs predicted in the background, behind interactive requests, each answer\n` +
      `# stored as it comes (a job survives a restart). Run Jobs, paste the id it returns into the\n` +
      `# Variables pane, then run JobProgress (again, to follow it) or CancelJob.\n` +
      `mutation Jobs {\n  submitPredictionJob(model: ${JSON.stringify(model.name)}, inputs: [\n${inputs.map((i) => `    ${i}`).join(',\n')}\n  ]) {\n    id\n    state\n    total\n  }\n}\n\n` +
      `query JobProgress($id: ID!) {\n  predictionJob(id: $id) {\n    state\n    total\n    done\n    failed\n    finishedAt\n    results(offset: 0, limit: 10) {\n      index\n      prediction { ... on Classification { label score } }\n      error { code message }\n    }\n  }\n}\n\n` +
      `mutation CancelJob($id: ID!) {\n  cancelPredictionJob(id: $id) {\n    state\n    done\n  }\n}\n`,
    variables: JSON.stringify({ id: 'paste the id Jobs returned' }, null, 2),
  };
}

/** The first example again, with the header that adds the per-phase timings to `extensions`. */
function timingsTab(models: ServedModel[]): ExampleTab | undefined {
  const model = models.find((m) => m.sample.kind === 'features' || m.sample.kind === 'text');
  if (!model) return undefined;
  const example = singleModelTab(model);
  return {
    query:
      `# The header \`x-predictql-timings: 1\` (see the Headers pane) adds \`extensions.timings\` to the answer:\n` +
      `# milliseconds spent in each phase (parse, validate, cache, queue, pre-processing, inference, ...).\n` +
      example.query.replace(/^query (\w+)/m, 'query $1Timings'),
    headers: JSON.stringify({ 'x-predictql-timings': '1' }, null, 2),
  };
}

/**
 * Every example tab: one per model, then the batch, stream, aliases, jobs and timings ones. A model whose input
 * is written inline goes first: GraphiQL 4 fills the first tab's query from `defaultTabs` but not
 * its variables, so a first tab that needed them would fail when run.
 */
export function exampleTabs(models: ServedModel[]): ExampleTab[] {
  const inline = (m: ServedModel) => m.sample.kind === 'features' || m.sample.kind === 'text';
  const ordered = [...models.filter(inline), ...models.filter((m) => !inline(m))];
  return [...ordered.map(singleModelTab), batchTab(models), streamOcrTab(models), aliasesTab(models), jobsTab(models), timingsTab(models)].filter((t): t is ExampleTab => t !== undefined);
}
