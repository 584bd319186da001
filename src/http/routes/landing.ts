/** GET / : the server's front page (src/http/landing.ts builds it). */
import type { FastifyInstance } from 'fastify';
import type { ServedModel } from '../../models/served-model.ts';
import { PAGE_CSP } from '../html.ts';
import { landingPage } from '../landing.ts';

export interface LandingRouteOptions {
  models: () => ServedModel[];
  links: { playground: boolean };
}

export async function landingRoutes(app: FastifyInstance, options: LandingRouteOptions): Promise<void> {
  app.get('/', (_request, reply) => {
    // Built per request: the table follows the models as they load, change or go.
    reply.header('content-security-policy', PAGE_CSP).type('text/html; charset=utf-8').send(landingPage(options.models(), options.links));
  });
}
