/**
 * A typed subscription over graphql-ws: each row's answer as it is ready, with progress.
 *
 *   npm start                                    # in one terminal
 *   node --import tsx examples/client/stream.ts  # in another (PREDICTQL_WS_URL to point elsewhere)
 *
 * In a browser, drop the `ws` import: graphql-ws uses the browser's own WebSocket.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { IrisStream } from './documents.ts';
import type { TypedDocumentString } from './gql/graphql.ts';

/** The results of a typed subscription document, typed: `data` is the document's result type. */
export async function* subscribe<TResult, TVariables>(client: Client, document: TypedDocumentString<TResult, TVariables>, variables: TVariables): AsyncGenerator<TResult> {
  for await (const result of client.iterate<TResult>({ query: document.toString(), variables: variables as Record<string, unknown> })) {
    if (result.errors?.length) throw new Error(result.errors.map((e) => e.message).join('; '));
    yield result.data as TResult;
  }
}

export async function streamIris(wsUrl: string, rows: number[][], onProgress?: (done: number, total: number) => void) {
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
  // The answers in input order, filled as they arrive (they come in completion order).
  const labels: Array<string | null> = rows.map(() => null);
  try {
    for await (const { predictStream: event } of subscribe(client, IrisStream, { inputs: rows.map((features) => ({ features })) })) {
      // Typed: a prediction with `label` is the Classification; `event.error` is a failed row's.
      if (event.prediction && 'label' in event.prediction) labels[event.index] = event.prediction.label;
      onProgress?.(event.done, event.total);
    }
  } finally {
    await client.dispose();
  }
  return labels;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.PREDICTQL_WS_URL ?? 'ws://127.0.0.1:4000/graphql';
  const labels = await streamIris(url, [[5.1, 3.5, 1.4, 0.2], [6.0, 2.2, 4.0, 1.0], [6.7, 3.0, 5.2, 2.3]], (done, total) => console.log(`${done}/${total}`));
  console.log(labels);
}
