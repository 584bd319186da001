/**
 * Automatic persisted queries are bounded: a query text over APQ_MAX_QUERY_BYTES runs but is not
 * kept, no more than APQ_MAX_ENTRIES are kept (the oldest go), each lives APQ_TTL_SECONDS, and
 * clearCache removes them. On the LMDB store and on memory://.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { graphql, type GraphQLResponse } from './helpers/client.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const queryNumber = (i: number) => `query Q${i} { models { name } }`;

function post(server: TestServer, body: Parameters<typeof graphql>[1], token?: string): Promise<GraphQLResponse> {
  return graphql(server.url, body, token ? { headers: { authorization: `Bearer ${token}` } } : {});
}

const persisted = (query: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } });

/** Registers `query` (sent with its hash), then waits until a request by hash alone finds it, or gives up. */
async function register(server: TestServer, query: string): Promise<void> {
  const res = await post(server, { query, ...persisted(query) });
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
}

async function known(server: TestServer, query: string): Promise<boolean> {
  const res = await post(server, persisted(query));
  if (res.errors?.[0]?.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND') return false;
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  return true;
}

/** Until `check` holds (writes and sweeps land in the background), at most 5 s. */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

for (const store of ['lmdb', 'memory'] as const) {
  describe(`persisted queries on ${store}`, () => {
    const start = async (env: Record<string, string>) => {
      const dir = tempDir();
      const server = await startTestServer({ CACHE_URL: store === 'lmdb' ? `lmdb://${dir}` : 'memory://', CACHE_SWEEP_INTERVAL_MS: '100', ADMIN_TOKEN: 'apq-admin', ...env });
      return {
        server,
        close: async () => {
          await server.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    };

    it('keeps no query text longer than APQ_MAX_QUERY_BYTES', async () => {
      const { server, close } = await start({ APQ_MAX_QUERY_BYTES: '200' });
      try {
        const short = '{ models { name } }';
        const long = `{ models { name } } # ${'x'.repeat(300)}`;
        await register(server, short);
        await register(server, long);
        assert.ok(await eventually(() => known(server, short)), 'a short query is kept');
        assert.equal(await known(server, long), false, 'a long one ran but was not kept');
      } finally {
        await close();
      }
    });

    it('keeps at most APQ_MAX_ENTRIES, dropping the oldest', async () => {
      const { server, close } = await start({ APQ_MAX_ENTRIES: '5' });
      try {
        for (let i = 0; i < 12; i++) await register(server, queryNumber(i));
        assert.ok(await eventually(() => known(server, queryNumber(11))), 'the newest is kept');
        // LMDB evicts right after the write transaction commits, not inside it: wait for that.
        let kept: number[] = [];
        const within = async () => {
          kept = [];
          for (let i = 0; i < 12; i++) if (await known(server, queryNumber(i))) kept.push(i);
          return kept.length <= 5;
        };
        assert.ok(await eventually(within), `kept ${kept.join(', ')}`);
        assert.ok(kept.includes(11) && !kept.includes(0), `the oldest went first: kept ${kept.join(', ')}`);
      } finally {
        await close();
      }
    });

    it('forgets a query after APQ_TTL_SECONDS', async () => {
      const { server, close } = await start({ APQ_TTL_SECONDS: '1' });
      try {
        await register(server, queryNumber(1));
        assert.ok(await eventually(() => known(server, queryNumber(1))));
        assert.ok(await eventually(async () => !(await known(server, queryNumber(1)))), 'gone once its lifetime ended');
        if (store === 'lmdb') {
          assert.ok(await eventually(async () => (await server.metric('predictql_cache_evictions_total', { reason: 'expired' })) >= 1), 'and swept from the file');
        }
      } finally {
        await close();
      }
    });

    it('are removed by clearCache', async () => {
      const { server, close } = await start({});
      try {
        await register(server, queryNumber(7));
        assert.ok(await eventually(() => known(server, queryNumber(7))));
        const cleared = await post(server, { query: 'mutation { clearCache { removed } }' }, 'apq-admin');
        assert.equal(cleared.errors, undefined, JSON.stringify(cleared.errors));
        assert.equal(await known(server, queryNumber(7)), false);
      } finally {
        await close();
      }
    });
  });
}
