/** The front page and the live panel (src/http/front/routes.ts), mounted on Fastify. */
import type { FastifyInstance } from 'fastify';
import { frontRoutes, type FrontDeps } from '../front/routes.ts';

export async function frontPageRoutes(app: FastifyInstance, options: FrontDeps): Promise<void> {
  for (const route of frontRoutes(options)) {
    app.get(route.path, (request, reply) => {
      const answer = route.reply(request.params as Record<string, string>, request.query as Record<string, unknown>);
      reply.code(answer.status).headers(answer.headers ?? {}).type(answer.type).send(typeof answer.body === 'string' ? answer.body : Buffer.from(answer.body));
    });
  }
}
