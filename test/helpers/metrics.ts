/** Reads Prometheus samples from a running server's /metrics through the test client. */
import { request } from './client.ts';

/** The values of the samples of `name` whose labels include `labels`, in /metrics order. */
export async function metricSamples(serverUrl: string, name: string, labels: Record<string, string> = {}): Promise<number[]> {
  const text = await (await request(`${serverUrl}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return text
    .split('\n')
    .filter((line) => (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && wanted.every((pair) => line.includes(pair)))
    .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
}

/** The sum of those samples (every model's count, say); 0 when there is none. */
export async function metricTotal(serverUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return (await metricSamples(serverUrl, name, labels)).reduce((sum, value) => sum + value, 0);
}
