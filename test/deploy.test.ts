/**
 * The container and Kubernetes files cannot run here (no Docker engine, no cluster); what can be
 * checked is: they parse, their settings are settings the server accepts, and their ports and
 * probe paths are the ones the server really serves.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/config.ts';
import { startTestServer } from './helpers/server.ts';

type Doc = { kind: string; metadata: { name: string }; spec: any };

function manifests(file: string): Doc[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    assert.deepEqual(d.errors, [], `${file} parses`);
    return d.toJS() as Doc;
  });
}

describe('deployment files', () => {
  const docs = [...manifests('deploy/kubernetes/predictql.yaml'), ...manifests('deploy/kubernetes/redis.yaml')];
  const deployment = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'predictql')!;
  const container = deployment.spec.template.spec.containers[0];
  const env = Object.fromEntries(container.env.filter((e: { value?: string }) => e.value !== undefined).map((e: { name: string; value: string }) => [e.name, e.value]));

  it('has the Deployment, Service, HorizontalPodAutoscaler and Redis', () => {
    assert.deepEqual(docs.map((d) => `${d.kind}/${d.metadata.name}`).sort(), [
      'Deployment/predictql',
      'Deployment/predictql-redis',
      'HorizontalPodAutoscaler/predictql',
      'Service/predictql',
      'Service/predictql-redis',
    ]);
    const service = docs.find((d) => d.kind === 'Service' && d.metadata.name === 'predictql')!;
    assert.equal(service.spec.ports[0].targetPort, 'http');
    assert.deepEqual(service.spec.selector, deployment.spec.template.metadata.labels);
    const hpa = docs.find((d) => d.kind === 'HorizontalPodAutoscaler')!;
    assert.equal(hpa.spec.scaleTargetRef.name, 'predictql');
    const redisService = docs.find((d) => d.kind === 'Service' && d.metadata.name === 'predictql-redis')!;
    assert.match(env.CACHE_URL, new RegExp(`^redis://${redisService.metadata.name}:${redisService.spec.ports[0].port}/`));
  });

  it('sets only settings the server accepts, on the port the Dockerfile exposes', () => {
    const config = loadConfig([], env);
    const http = container.ports.find((p: { name: string }) => p.name === 'http');
    assert.equal(http.containerPort, config.port);
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    assert.match(dockerfile, new RegExp(`EXPOSE ${config.port}\\b`));
    assert.match(dockerfile, new RegExp(`PORT=${config.port}\\b`));
    assert.match(dockerfile, /HOST=0\.0\.0\.0/);
    // The pod's grace period outlasts the server's own drain.
    assert.ok(deployment.spec.template.spec.terminationGracePeriodSeconds * 1000 > config.shutdownGraceMs);
  });

  it('probes paths that the server answers: /healthz at once, /readyz once the models are loaded', async () => {
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    const server = await startTestServer({ ...env, PORT: '0', HOST: '127.0.0.1', CACHE_URL: 'memory://' });
    try {
      for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
        const res = await server.get(probe.httpGet.path);
        assert.equal(res.status, 200, probe.httpGet.path);
      }
    } finally {
      await server.close();
    }
  });
});
