/**
 * The playground: its page for a browser's GET on the GraphQL path (the GraphQL route asks
 * `playgroundPage` first), and its scripts and stylesheet under /playground/, sent from
 * node_modules by @fastify/static (ETag, Last-Modified, cached for an hour).
 */
import { basename, dirname } from 'node:path';
import fastifyStatic from '@fastify/static';
import { negotiate } from '@fastify/accept-negotiator';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServedModel } from '../../models/served-model.ts';
import { exampleTabs } from '../examples.ts';
import { PAGE_CSP } from '../html.ts';
import { PLAYGROUND_ASSETS, playgroundPage } from '../playground.ts';

/**
 * For GraphQLRouteOptions.browserPage: a GET that prefers HTML to JSON (a browser opening the
 * URL) and carries no query gets the IDE; GraphQL GET requests go on to Apollo.
 */
export function playgroundPageFor(models: () => ServedModel[], endpoint: string) {
  return (request: FastifyRequest, reply: FastifyReply): boolean => {
    const accept = request.headers.accept;
    if (accept === undefined || negotiate(accept, ['application/json', 'text/html']) !== 'text/html') return false;
    if (typeof (request.query as { query?: unknown }).query === 'string') return false;
    // Built per request: the tabs follow the models as they are added, replaced or removed.
    reply.header('content-security-policy', PAGE_CSP).type('text/html; charset=utf-8').send(playgroundPage(endpoint, exampleTabs(models())));
    return true;
  };
}

export async function playgroundAssetRoutes(app: FastifyInstance): Promise<void> {
  const files = Object.entries(PLAYGROUND_ASSETS);
  // Only reply.sendFile: each asset is one known file, served under a name of its own.
  await app.register(fastifyStatic, { root: dirname(files[0]![1]), serve: false });
  for (const [name, file] of files) {
    app.get(`/playground/${name}`, (_request, reply) => reply.sendFile(basename(file), dirname(file), { maxAge: 3_600_000 }));
  }
}
