/** Settings: defaults, environment and flags, and clear refusals of bad values at startup. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, SETTINGS } from '../src/config.ts';
import { post } from './helpers/client.ts';
import { tempDir } from './helpers/server.ts';

describe('loadConfig', () => {
  it('has a default for every setting', () => {
    const config = loadConfig([], {});
    assert.equal(config.port, 4000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.cacheUrl, 'lmdb://./data/cache');
    assert.equal(config.playground, true);
    assert.equal(config.ortThreads, 1);
    assert.ok(config.workers >= 1);
    assert.deepEqual(config.executionProviders, ['cpu']);
    assert.equal(config.metricsToken, undefined);
    assert.equal(config.metricsPort, undefined);
    assert.equal(config.otelEndpoint, undefined, 'no tracing unless an endpoint is set');
    assert.equal(config.otelTracesEndpoint, undefined);
    assert.equal(config.otelServiceName, 'predictql');
    assert.equal(config.otelScheduleDelayMs, 5000);
    assert.equal(Object.keys(config).length, SETTINGS.length);
  });

  it('reads environment variables, and flags over them', () => {
    const env = { PORT: '5000', WORKERS: '3', PLAYGROUND: 'off', CACHE_URL: 'memory://' };
    const config = loadConfig(['--port', '6000', '--max-delay-ms=0.5'], env);
    assert.equal(config.port, 6000);
    assert.equal(config.workers, 3);
    assert.equal(config.playground, false);
    assert.equal(config.cacheUrl, 'memory://');
    assert.equal(config.maxDelayMs, 0.5);
    assert.equal(loadConfig([], { CACHE_URL: 'redis+cluster://10.0.0.1:6379,10.0.0.2:6379' }).cacheUrl, 'redis+cluster://10.0.0.1:6379,10.0.0.2:6379');
    const ops = loadConfig(['--execution-providers', 'CUDA, cpu', '--metrics-port=9464', '--otel-service-name', 'edge-1'], {
      METRICS_TOKEN: 'scrape-me',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector:4318/custom/traces',
      OTEL_BSP_SCHEDULE_DELAY: '250',
    });
    assert.deepEqual(ops.executionProviders, ['cuda', 'cpu']);
    assert.equal(ops.metricsPort, 9464);
    assert.equal(ops.metricsToken, 'scrape-me');
    assert.equal(ops.otelEndpoint, 'http://collector:4318');
    assert.equal(ops.otelTracesEndpoint, 'https://collector:4318/custom/traces');
    assert.equal(ops.otelServiceName, 'edge-1');
    assert.equal(ops.otelScheduleDelayMs, 250);
    assert.equal(loadConfig([], { PROCESSES: '2' }).workers, Math.max(1, Math.floor(availableParallelism() / 2)) + 1);
  });

  it('reads the request limits: query text, document cache, variables', () => {
    const defaults = loadConfig([], {});
    assert.deepEqual([defaults.maxQueryBytes, defaults.documentCacheMaxBytes, defaults.maxVariablesDepth, defaults.maxVariablesBytes], [262_144, 32 * 1024 * 1024, 20, 16_000_000]);
    const env = { MAX_QUERY_BYTES: '4096', DOCUMENT_CACHE_MAX_BYTES: '2097152', MAX_VARIABLES_DEPTH: '6', MAX_VARIABLES_BYTES: '50000' };
    const fromEnv = loadConfig([], env);
    assert.deepEqual([fromEnv.maxQueryBytes, fromEnv.documentCacheMaxBytes, fromEnv.maxVariablesDepth, fromEnv.maxVariablesBytes], [4096, 2_097_152, 6, 50_000]);
    const fromFlags = loadConfig(['--max-query-bytes', '8192', '--document-cache-max-bytes=4194304', '--max-variables-depth', '7', '--max-variables-bytes=60000'], env);
    assert.deepEqual([fromFlags.maxQueryBytes, fromFlags.documentCacheMaxBytes, fromFlags.maxVariablesDepth, fromFlags.maxVariablesBytes], [8192, 4_194_304, 7, 60_000]);
  });

  it('reads CORS origins as browsers send them, or *', () => {
    assert.deepEqual(loadConfig([], {}).corsOrigins, [], 'no CORS by default');
    assert.equal(loadConfig([], {}).corsCredentials, false);
    assert.equal(loadConfig([], { CORS_ORIGINS: ' * ' }).corsOrigins, '*');
    // Lower-case host, no default port, no trailing slash: the form of an Origin header.
    const config = loadConfig(['--cors-origins', 'https://App.Example.com/, http://localhost:5173,https://a.example.com:443', '--cors-credentials', 'true'], {});
    assert.deepEqual(config.corsOrigins, ['https://app.example.com', 'http://localhost:5173', 'https://a.example.com']);
    assert.equal(config.corsCredentials, true);
    assert.deepEqual(loadConfig([], { CORS_ORIGINS: 'http://[::1]:8080' }).corsOrigins, ['http://[::1]:8080']);
  });

  it('reads the prediction job settings, JOBS_MAX_WORKERS defaulting to WORKERS - 1', () => {
    const defaults = loadConfig([], { WORKERS: '3' });
    assert.deepEqual([defaults.jobsMaxInputs, defaults.jobsMaxActive, defaults.jobsMaxWorkers, defaults.jobsTtlSeconds], [100_000, 16, 2, 86_400]);
    assert.equal(loadConfig([], { WORKERS: '1' }).jobsMaxWorkers, 1);
    const set = loadConfig(['--jobs-max-workers', '1', '--jobs-ttl-seconds=5'], { JOBS_MAX_INPUTS: '500', JOBS_MAX_ACTIVE: '2' });
    assert.deepEqual([set.jobsMaxInputs, set.jobsMaxActive, set.jobsMaxWorkers, set.jobsTtlSeconds], [500, 2, 1, 5]);
  });

  it('reads the connection limits, with defaults that bound every connection', () => {
    const defaults = loadConfig([], {});
    assert.equal(defaults.maxConnections, 10_000);
    assert.equal(defaults.headersTimeoutMs, 10_000, 'a connection sending no complete request is closed after 10 s');
    assert.equal(defaults.requestTimeoutMs, 30_000);
    assert.equal(defaults.sendTimeoutMs, 30_000);
    assert.equal(defaults.keepAliveTimeoutMs, 72_000);
    assert.equal(defaults.maxBodyBytesInFlight, 64 * 1024 ** 2);
    assert.ok(defaults.maxBodyBytesInFlight >= defaults.maxBodyBytes);
    const config = loadConfig(['--max-connections', '500', '--headers-timeout-ms=2000', '--send-timeout-ms', '5000'], {
      REQUEST_TIMEOUT_MS: '4000',
      KEEP_ALIVE_TIMEOUT_MS: '5000',
      MAX_BODY_BYTES_IN_FLIGHT: '2000000',
      MAX_BODY_BYTES: '1000000',
      MAX_CONNECTIONS: '9',
    });
    assert.deepEqual(
      [config.maxConnections, config.headersTimeoutMs, config.requestTimeoutMs, config.sendTimeoutMs, config.keepAliveTimeoutMs, config.maxBodyBytesInFlight],
      [500, 2000, 4000, 5000, 5000, 2_000_000],
    );
  });

  it('refuses bad values, naming the setting and what it accepts', () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [[], { PORT: 'abc' }, /invalid PORT: expected a whole number from 0 to 65535, got "abc"/],
      [['--port', '70000'], {}, /invalid --port: expected a whole number from 0 to 65535, got 70000/],
      [[], { WORKERS: '300' }, /invalid WORKERS: expected a whole number from 0 to 256, got 300/],
      [[], { PLAYGROUND: 'maybe' }, /invalid PLAYGROUND: expected true or false/],
      [[], { CACHE_URL: 'redis2://x' }, /invalid CACHE_URL: expected lmdb:\/\/<directory>, redis:\/\/host:port, memory:\/\/ or off/],
      [[], { LOG_LEVEL: 'loud' }, /invalid LOG_LEVEL: expected one of fatal, error/],
      [[], { MAX_QUERY_BYTES: '100' }, /invalid MAX_QUERY_BYTES: expected a whole number from 1024 to 100000000, got 100/],
      [['--document-cache-max-bytes', '1kb'], {}, /invalid --document-cache-max-bytes: expected a whole number from 1048576 to/],
      [[], { MAX_VARIABLES_DEPTH: '0' }, /invalid MAX_VARIABLES_DEPTH: expected a whole number from 1 to 10000, got 0/],
      [['--max-variables-bytes=-5'], {}, /invalid --max-variables-bytes: expected a whole number from 1024 to 1000000000/],
      [[], { JOBS_MAX_INPUTS: '0' }, /invalid JOBS_MAX_INPUTS: expected a whole number from 1 to 100000000, got 0/],
      [['--jobs-ttl-seconds', '-1'], {}, /invalid --jobs-ttl-seconds: expected a whole number from 1/],
      [[], { EXECUTION_PROVIDERS: 'cuda,gpu' }, /invalid EXECUTION_PROVIDERS: unknown execution provider "gpu"; ONNX Runtime for Node knows cpu, cuda, tensorrt/],
      [['--execution-providers', 'cuda,,cpu'], {}, /invalid --execution-providers: expected a comma-separated list of cpu, cuda/],
      [[], { EXECUTION_PROVIDERS: 'cpu,cpu' }, /invalid EXECUTION_PROVIDERS: "cpu,cpu" names a provider twice/],
      [[], { METRICS_PORT: '65536' }, /invalid METRICS_PORT: expected a whole number from 0 to 65535/],
      [['--metrics-token', ' '], {}, /invalid --metrics-token: expected a non-empty value/],
      [[], { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, /invalid OTEL_EXPORTER_OTLP_ENDPOINT: expected an http:\/\/ or https:\/\/ URL, got "collector:4318"/],
      [['--otel-exporter-otlp-traces-endpoint', 'ftp://x/v1/traces'], {}, /invalid --otel-exporter-otlp-traces-endpoint: expected an http:\/\/ or https:\/\/ URL/],
      [[], { OTEL_BSP_SCHEDULE_DELAY: '0' }, /invalid OTEL_BSP_SCHEDULE_DELAY: expected a whole number from 1 to 600000, got 0/],
      [['--nope', '1'], {}, /unknown option "--nope"/],
      [['--port'], {}, /--port needs a value/],
      [[], { CORS_ORIGINS: 'example.com' }, /invalid CORS_ORIGINS: "example.com" is not an origin; expected http\(s\):\/\/host\[:port\] with no path/],
      [['--cors-origins', 'https://app.example.com/path'], {}, /invalid --cors-origins: "https:\/\/app.example.com\/path" is not an origin/],
      [[], { CORS_ORIGINS: 'https://a.example.com,ftp://b.example.com' }, /"ftp:\/\/b.example.com" is not an origin/],
      [[], { CORS_ORIGINS: 'https://a.example.com,' }, /"" is not an origin/],
      [[], { CORS_ORIGINS: 'https://user:pw@a.example.com' }, /is not an origin/],
      [[], { CORS_ORIGINS: 'https://a.example.com?x=1' }, /is not an origin/],
      [[], { CORS_CREDENTIALS: 'sometimes' }, /invalid CORS_CREDENTIALS: expected true or false/],
      [[], { CORS_ORIGINS: '*', CORS_CREDENTIALS: 'true' }, /CORS_CREDENTIALS=true needs CORS_ORIGINS to list origins/],
      [[], { MAX_CONNECTIONS: '0' }, /invalid MAX_CONNECTIONS: expected a whole number from 1 to 10000000, got 0/],
      [['--headers-timeout-ms', '10s'], {}, /invalid --headers-timeout-ms: expected a whole number from 100 to 3600000, got "10s"/],
      [[], { SEND_TIMEOUT_MS: '50' }, /invalid SEND_TIMEOUT_MS: expected a whole number from 100 to 3600000, got 50/],
      [[], { KEEP_ALIVE_TIMEOUT_MS: '-1' }, /invalid KEEP_ALIVE_TIMEOUT_MS: expected a whole number/],
      [[], { REQUEST_TIMEOUT_MS: '5000', HEADERS_TIMEOUT_MS: '6000' }, /REQUEST_TIMEOUT_MS \(5000\) is below HEADERS_TIMEOUT_MS \(6000\)/],
      [[], { MAX_BODY_BYTES_IN_FLIGHT: '1000000' }, /MAX_BODY_BYTES_IN_FLIGHT \(1000000\) is below MAX_BODY_BYTES \(16000000\)/],
    ];
    for (const [argv, env, message] of cases) {
      assert.throws(() => loadConfig(argv, env), (error: Error) => error instanceof ConfigError && message.test(error.message), `${argv} ${JSON.stringify(env)}`);
    }
  });
});

describe("README's settings table", () => {
  it('lists every setting with its variable and flag, and nothing else', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Settings\n'));
    const rows = section.slice(section.indexOf('| variable | flag |')).split('\n').slice(2);
    const table = rows.slice(0, rows.findIndex((line) => !line.startsWith('|'))).map((line) => line.split('|').slice(1, 3).map((cell) => cell.trim()));
    assert.deepEqual(
      table.map(([env, flag]) => `${env} ${flag}`).sort(),
      SETTINGS.map((s) => `\`${s.env}\` \`${s.flag}\``).sort(),
    );
  });
});

describe('npm start (src/main.ts)', () => {
  it('exits 2 with a clear message on a bad setting', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--workers', 'many'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const [code] = await once(child, 'exit');
    assert.equal(code, 2);
    assert.match(stderr, /predictql: invalid --workers: expected a whole number from 0 to 256, got "many"/);
  });

  it('exits 2 at startup on an unknown execution provider, before loading anything', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EXECUTION_PROVIDERS: 'cuda,rocm' } });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const [code] = await once(child, 'exit');
    assert.equal(code, 2);
    assert.match(stderr, /predictql: invalid EXECUTION_PROVIDERS: unknown execution provider "rocm"/);
  });

  it('starts, answers, and exits 0 on SIGTERM', async () => {
    const cacheDir = tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--port', '0', '--cache-url', `lmdb://${cacheDir}`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const lines = createInterface({ input: child.stdout });
      let url = '';
      for await (const line of lines) {
        const entry = JSON.parse(line) as { msg: string; url?: string };
        if (entry.msg === 'listening') url = entry.url!;
        if (entry.msg === 'ready') break;
      }
      const res = await post(url, { query: '{ predict(model: "iris", input: {features: [5.1, 3.5, 1.4, 0.2]}) { ... on Classification { label } } }' });
      assert.deepEqual(await res.json(), { data: { predict: { label: 'setosa' } } });
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
