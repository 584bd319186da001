/**
 * A small typed GraphQL client for PredictQL, as a frontend would write one: fetch, the typed
 * documents GraphQL Code Generator's client preset generates from schema/ (so variables and
 * results are checked by TypeScript), and automatic persisted queries (the query's SHA-256
 * first; the text only when the server does not know it yet).
 */
import type { TypedDocumentString } from './gql/graphql.ts';

export interface ClientOptions {
  /** The server's GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  url: string;
  /** Send persisted-query hashes instead of query text (APQ). Default true. */
  persistedQueries?: boolean;
}

export class PredictQLError extends Error {
  constructor(readonly errors: Array<{ message: string; extensions?: { code?: string } }>) {
    super(errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '));
  }
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function createClient(options: ClientOptions) {
  const usePersisted = options.persistedQueries ?? true;
  let requestsSent = 0;
  let queryTextsSent = 0;

  async function post(body: unknown): Promise<{ data?: unknown; errors?: PredictQLError['errors'] }> {
    requestsSent++;
    const response = await fetch(options.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await response.json()) as { data?: unknown; errors?: PredictQLError['errors'] };
  }

  return {
    /** Runs a typed operation; rejects with PredictQLError when the server answers errors. */
    async request<Result, Variables>(document: TypedDocumentString<Result, Variables>, variables: Variables): Promise<Result> {
      const query = document.toString();
      let body;
      if (usePersisted) {
        const extensions = { persistedQuery: { version: 1, sha256Hash: await sha256Hex(query) } };
        body = await post({ variables, extensions });
        if (body.errors?.[0]?.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND') {
          queryTextsSent++;
          body = await post({ query, variables, extensions });
        }
      } else {
        queryTextsSent++;
        body = await post({ query, variables });
      }
      if (body.errors?.length) throw new PredictQLError(body.errors);
      return body.data as Result;
    },
    /** How many HTTP requests and how many query texts were sent (APQ sends each text once). */
    stats: () => ({ requestsSent, queryTextsSent }),
  };
}
