/**
 * Subscribing as clients do: graphql-ws's client over `ws` (the protocol `graphql-transport-ws`)
 * and graphql-sse's client over fetch, both its modes. Each helper gathers a stream's results.
 */
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface StreamResult<T = any> {
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string } & Record<string, any> }>;
  extensions?: Record<string, any>;
}

/** Sockets the ws clients opened, newest last, so a test can stop reading one. */
export const openedSockets: WebSocket[] = [];

class TrackedWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    openedSockets.push(this);
  }
}

export function wsUrl(serverUrl: string): string {
  return `${serverUrl.replace(/^http/, 'ws')}/graphql`;
}

export function wsClient(serverUrl: string, connectionParams?: Record<string, unknown>): Client {
  return createWsClient({ url: wsUrl(serverUrl), webSocketImpl: TrackedWebSocket, connectionParams, retryAttempts: 0, lazy: true });
}

export function sseClient(serverUrl: string, singleConnection = false, headers?: Record<string, string>) {
  return createSseClient({ url: `${serverUrl}/graphql/stream`, singleConnection, retryAttempts: 0, headers });
}

/** Every result of a subscription until it completes; an error (a protocol `error` message, a closed socket) is kept as `failure`. */
export async function collect<T = any>(results: AsyncIterable<unknown>, onResult?: (result: StreamResult<T>, count: number) => boolean | void): Promise<{ results: StreamResult<T>[]; failure?: unknown }> {
  const out: StreamResult<T>[] = [];
  try {
    for await (const result of results) {
      out.push(JSON.parse(JSON.stringify(result)) as StreamResult<T>);
      if (onResult?.(out.at(-1)!, out.length) === true) break;
    }
  } catch (failure) {
    return { results: out, failure };
  }
  return { results: out };
}

export const PREDICT_STREAM = `subscription ($model: String!, $inputs: [PredictionInput!]!, $options: PredictOptions) {
  predictStream(model: $model, inputs: $inputs, options: $options) {
    index done total
    prediction { cached ... on Classification { label } ... on TextRecognition { text } }
    error { code message }
  }
}`;

/** `count` distinct iris rows (measurements in the dataset's ranges, two decimals). */
export function irisRows(count: number): number[][] {
  return Array.from({ length: count }, (_, i) => [4.3 + (i % 36) / 10, 2 + ((i * 7) % 24) / 10, 1 + ((i * 13) % 59) / 10, 0.1 + ((i * 3) % 24) / 10 + (i % 97) / 10000]);
}
