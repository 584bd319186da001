/** Temporary folders and free ports for tests, without starting anything. */
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'predictql-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A port nothing listens on right now (it was free a moment ago): for a store that is down, or a Redis of our own. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}
