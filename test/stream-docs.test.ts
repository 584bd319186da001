/** The README's curl command over SSE, run as written (port aside) against a real server. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';

describe('README: streaming with curl over SSE', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ CACHE_URL: 'memory://' });
  });
  after(() => server.close());

  it('prints the events the README shows', async () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = /<!-- curl-sse:[^\n]*-->\n```sh\n([\s\S]*?)```\n\n```text\n([\s\S]*?)```/.exec(readme);
    assert.ok(block, 'the README has the curl-sse block');
    const command = block[1]!.replace('http://localhost:4000', server.url);
    // Asynchronously: the server answers from this process.
    const { stdout } = await promisify(execFile)('bash', ['-c', command]);
    assert.equal(stdout.trim(), block[2]!.trim());
  });
});
