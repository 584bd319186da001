/**
 * The model repository: manifests checked with clear errors, versions side by side, loading at
 * startup or on first use, and folders added, replaced or removed while the server runs.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readRepository } from '../src/models/repository.ts';
import type { ModelDefaults } from '../src/models/settings.ts';
import { modelsDirWithSlowModel, TOY_WEIGHTS, toyClassifierOnnx, writeFeaturesModel } from './helpers/fixture-models.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';

const TOY = 'query ($version: String) { predict(model: "toy", version: $version, input: { features: [1, 1, 1, 1] }) { model { version versionName } ... on Classification { label } } }';
const DEFAULTS: ModelDefaults = { maxBatchSize: 8, maxDelayMs: 1, maxQueue: 1024, maxWorkers: 1, cacheTtlSeconds: 0, maxInputsPerRequest: 10_000 };

/** Polls `check` until it returns true (the watcher reloads a moment after files change). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

/** Builds a model folder elsewhere, then moves it in whole, as a deploy script would. */
function deploy(modelsDir: string, folder: string, build: (dir: string) => void): void {
  const staging = join(tempDir('predictql-staging-'), 'model');
  build(staging);
  renameSync(staging, join(modelsDir, folder));
}

describe('manifest checks', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a bad name', { name: 'Iris Model' }, /"name" must be lowercase letters, digits and dashes/],
    ['an unknown task', { task: 'REGRESSION' }, /"task" must be one of CLASSIFICATION, TEXT_RECOGNITION, SPEECH_DETECTION, TENSOR/],
    ['a task that does not fit the input', { task: 'TEXT_RECOGNITION' }, /"task" must be CLASSIFICATION for a FEATURES input/],
    ['an unknown input kind', { input: { kind: 'VIDEO' } }, /"input.kind" must be one of FEATURES, TEXT, IMAGE, AUDIO, TENSOR/],
    ['a sample of the wrong length', { sample: [1, 2] }, /"sample" must be a list of 4 finite numbers/],
    ['a bad batch size', { batching: { maxBatchSize: 0 } }, /"batching.maxBatchSize" must be a whole number of at least 1/],
    ['a missing model file', { file: 'nope.onnx' }, /cannot read the model file .*nope.onnx/],
    ['a file outside the folder', { file: '../iris/model.onnx' }, /"file.file" must be a path inside the model's folder/],
    ['a package that is not installed', { file: undefined, model: { package: 'no-such-package-xyz', path: 'a.onnx' } }, /the npm package "no-such-package-xyz" is not installed/],
    ['repeated labels', { labels: ['x', 'x', 'z'] }, /"labels" must be a list without repeats/],
    ['an unknown loading policy', { loading: 'LAZY' }, /"loading" must be one of STARTUP, FIRST_USE/],
  ];
  for (const [what, change, message] of cases) {
    it(`refuses ${what}, naming the file and the field`, async () => {
      const dir = tempDir();
      writeFeaturesModel(join(dir, 'toy'), 'toy', toyClassifierOnnx(TOY_WEIGHTS.x));
      const manifestPath = join(dir, 'toy', 'manifest.json');
      const manifest = { ...JSON.parse((await import('node:fs')).readFileSync(manifestPath, 'utf8')), ...change };
      writeFileSync(manifestPath, JSON.stringify(manifest));
      await assert.rejects(readRepository(dir, DEFAULTS), (error: Error) => {
        assert.match(error.message, new RegExp(`${manifestPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
        assert.match(error.message, message);
        return true;
      });
      rmSync(dir, { recursive: true, force: true });
    });
  }

  it('refuses invalid JSON and two folders with one name', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'broken'));
    writeFileSync(join(dir, 'broken', 'manifest.json'), '{ "name": ');
    await assert.rejects(readRepository(dir, DEFAULTS), /broken[\\/]manifest.json: not valid JSON/);
    rmSync(join(dir, 'broken'), { recursive: true });
    writeFeaturesModel(join(dir, 'a'), 'same', toyClassifierOnnx(TOY_WEIGHTS.x));
    writeFeaturesModel(join(dir, 'b'), 'same', toyClassifierOnnx(TOY_WEIGHTS.y));
    await assert.rejects(readRepository(dir, DEFAULTS), /two folders in .* declare the model "same": a and b/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the bundled repository', async () => {
    const models = await readRepository('models', DEFAULTS);
    assert.ok(models.some((m) => m.name === 'iris'));
  });
});

describe('versions and loading', () => {
  let server: TestServer;
  let modelsDir: string;
  before(async () => {
    modelsDir = tempDir('predictql-models-');
    writeFeaturesModel(join(modelsDir, 'toy', '1'), 'toy', toyClassifierOnnx(TOY_WEIGHTS.x), { versionName: 'first' });
    writeFeaturesModel(join(modelsDir, 'toy', '2'), 'toy', toyClassifierOnnx(TOY_WEIGHTS.y), { versionName: 'second' });
    writeFeaturesModel(join(modelsDir, 'lazy'), 'lazy', toyClassifierOnnx(TOY_WEIGHTS.z), { loading: 'FIRST_USE' });
    server = await startTestServer({ MODELS_DIR: modelsDir, WATCH_MODELS: 'false' });
  });
  after(async () => {
    await server.close();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('serves several versions side by side, the latest by default', async () => {
    const latest = await server.graphql(TOY, {});
    assert.equal(latest.data.predict.label, 'y');
    assert.equal(latest.data.predict.model.versionName, 'second');
    const first = await server.graphql(TOY, { version: 'first' });
    assert.equal(first.data.predict.label, 'x');
    const byHash = await server.graphql(TOY, { version: first.data.predict.model.version.slice(0, 8) });
    assert.equal(byHash.data.predict.label, 'x');
    const listed = await server.graphql('{ model(name: "toy") { versionName versions { version versionName state } } }');
    assert.deepEqual(listed.data.model.versions.map((v: { versionName: string }) => v.versionName), ['first', 'second']);
    const missing = await server.graphql(TOY, { version: 'third' });
    assert.equal(missing.errors?.[0]?.extensions?.code, 'MODEL_NOT_FOUND');
    assert.match(missing.errors![0]!.message, /model "toy" has no version "third"; its versions are: \w{12} \(first\), \w{12} \(second\)/);
  });

  it('loads a FIRST_USE model once, on its first requests', async () => {
    const before = await server.graphql('{ model(name: "lazy") { state loaded loading loadTimeMs memoryBytes } }');
    assert.deepEqual(before.data.model, { state: 'NOT_LOADED', loaded: false, loading: 'FIRST_USE', loadTimeMs: null, memoryBytes: null });
    const query = 'query ($f: [Float!]!) { predict(model: "lazy", input: { features: $f }) { ... on Classification { label } } }';
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => server.graphql(query, { f: [1, 1, 1, i] })));
    for (const answer of answers) assert.equal(answer.data.predict.label, 'z');
    assert.equal(await server.metric('predictql_model_load_seconds_count', { model: 'lazy' }), 1, 'loaded once');
    const after = await server.graphql('{ model(name: "lazy") { state loaded loadTimeMs memoryBytes } }');
    assert.equal(after.data.model.state, 'READY');
    assert.ok(after.data.model.loadTimeMs > 0);
    assert.ok(after.data.model.memoryBytes >= 0);
  });

  it('reports load time and memory of startup models', async () => {
    const res = await server.graphql('{ models { name state loadTimeMs memoryBytes } }');
    const toy = res.data.models.find((m: { name: string }) => m.name === 'toy');
    assert.equal(toy.state, 'READY');
    assert.ok(toy.loadTimeMs > 0);
  });
});

describe('hot reload', () => {
  let server: TestServer;
  let modelsDir: string;
  before(async () => {
    modelsDir = modelsDirWithSlowModel(200);
    server = await startTestServer({ MODELS_DIR: modelsDir, WORKERS: '1', CACHE_URL: 'off', ADMIN_TOKEN: 'secret-token' });
  });
  after(async () => {
    await server.close();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  const modelVersion = async (name: string): Promise<string | null> => {
    const res = await server.graphql('query ($name: String!) { model(name: $name) { version } }', { name });
    return res.data.model?.version ?? null;
  };

  it('picks up an added model folder without a restart', async () => {
    assert.equal(await modelVersion('toy'), null);
    deploy(modelsDir, 'toy', (dir) => writeFeaturesModel(dir, 'toy', toyClassifierOnnx(TOY_WEIGHTS.x)));
    await eventually(async () => (await modelVersion('toy')) !== null, 'toy to appear');
    const res = await server.graphql(TOY, {});
    assert.equal(res.data.predict.label, 'x');
  });

  it('picks up a replaced model, while a request already running finishes on the old version', async () => {
    const oldVersion = await modelVersion('slow');
    const inputs = Array.from({ length: 64 }, (_, i) => ({ features: [99, i, 0, 0] }));
    const running = server.graphql('query ($inputs: [PredictionInput!]!) { predictMany(model: "slow", inputs: $inputs) { model { version } ... on Classification { label } } }', { inputs });
    await new Promise((resolve) => setTimeout(resolve, 30));
    rmSync(join(modelsDir, 'slow'), { recursive: true });
    deploy(modelsDir, 'slow', (dir) => writeFeaturesModel(dir, 'slow', toyClassifierOnnx(TOY_WEIGHTS.z)));
    const res = await running;
    assert.equal(res.errors, undefined);
    assert.ok(res.data.predictMany.every((p: { model: { version: string } }) => p.model.version === oldVersion));
    await eventually(async () => (await modelVersion('slow')) !== oldVersion, 'slow to be replaced');
    const after = await server.graphql('{ predict(model: "slow", input: { features: [1, 1, 1, 1] }) { ... on Classification { label } } }');
    assert.equal(after.data.predict.label, 'z');
  });

  it('drops a removed model folder', async () => {
    rmSync(join(modelsDir, 'toy'), { recursive: true });
    await eventually(async () => (await modelVersion('toy')) === null, 'toy to disappear');
    const res = await server.graphql(TOY, {});
    assert.equal(res.errors?.[0]?.extensions?.code, 'MODEL_NOT_FOUND');
  });

  it('keeps serving when a manifest is broken, and reports it through reloadModels', async () => {
    mkdirSync(join(modelsDir, 'broken'));
    writeFileSync(join(modelsDir, 'broken', 'manifest.json'), '{ "name": "broken" ');
    const iris = await server.graphql('{ predict(model: "iris", input: {features: [5.1, 3.5, 1.4, 0.2]}) { ... on Classification { label } } }');
    assert.equal(iris.data.predict.label, 'setosa');
    const body = await server.graphql('mutation { reloadModels { added removed unchanged } }', undefined, { headers: { authorization: 'Bearer secret-token' } });
    assert.match(body.errors?.[0]?.message ?? '', /broken[\\/]manifest.json: not valid JSON/);
    rmSync(join(modelsDir, 'broken'), { recursive: true });
  });

  it('reloads on demand through the admin mutation, and refuses it without the token', async () => {
    const query = 'mutation { reloadModels { added removed unchanged } }';
    const anonymous = await server.graphql('mutation { reloadModels { added } }');
    assert.equal(anonymous.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    assert.equal(anonymous.status, 401);
    const wrong = await server.graphql(query, undefined, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.errors![0]!.extensions!.code, 'UNAUTHENTICATED');
    cpSync(join(modelsDir, 'iris'), join(modelsDir, 'iris-copy'), { recursive: true });
    const manifestPath = join(modelsDir, 'iris-copy', 'manifest.json');
    const { readFileSync } = await import('node:fs');
    writeFileSync(manifestPath, JSON.stringify({ ...JSON.parse(readFileSync(manifestPath, 'utf8')), name: 'iris-copy' }));
    const ok = await server.graphql<{ reloadModels: { added: string[] } }>(query, undefined, { headers: { authorization: 'Bearer secret-token' } });
    const summary = ok.data!.reloadModels;
    // The watcher may have picked the copy up first; either way it is served now.
    assert.ok(summary.added.length <= 1);
    assert.notEqual(await modelVersion('iris-copy'), null);
  });
});
