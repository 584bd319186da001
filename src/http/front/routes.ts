/**
 * The front page's routes, independent of the HTTP framework: each is a path and a function from
 * the request's parameters to a reply. The server mounts them in one place (src/server.ts).
 *
 *   GET /                       the front page: try every model, the live panel
 *   GET /live                   the live panel on its own
 *   GET /front/models.json      the served models, as the page builds its forms from them
 *   GET /front/samples/:name    an image or audio model's sample file
 *   GET /live/stats.json        the live panel's points (?since=<epoch ms> for the new ones only)
 *   GET /front/<asset>          the page's script and style sheet, from public/front/
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServedModel } from '../../models/served-model.ts';
import { FRONT_CSP } from '../html.ts';
import type { LiveSampler } from './live-sampler.ts';
import { modelCards, sampleFile } from './model-cards.ts';
import { frontPage, livePage } from './pages.ts';

export interface FrontReply {
  status: number;
  type: string;
  body: string | Uint8Array;
  headers?: Record<string, string>;
}

export interface FrontRoute {
  path: string;
  /** `params` holds the path's `:name` parameter when it has one. */
  reply(params: Record<string, string>, query: Record<string, unknown>): FrontReply;
}

export interface FrontDeps {
  models: () => ServedModel[];
  live: LiveSampler;
  playground: boolean;
  /** False when METRICS_PORT serves /metrics elsewhere: the pages then do not link to it. */
  metricsLink: boolean;
}

const ASSET_DIR = join(import.meta.dirname, '..', '..', '..', 'public', 'front');
const ASSET_TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
/** Read once: a fixed set of small files that only change with a new release. */
const ASSETS = new Map(
  ['front.js', 'batch.js', 'live.js', 'charts.js', 'front.css'].map((file) => [file, { type: ASSET_TYPES[file.slice(file.lastIndexOf('.'))]!, body: readFileSync(join(ASSET_DIR, file)) }]),
);

const html = (body: string): FrontReply => ({ status: 200, type: 'text/html; charset=utf-8', body, headers: { 'content-security-policy': FRONT_CSP } });
const json = (value: unknown): FrontReply => ({ status: 200, type: 'application/json; charset=utf-8', body: JSON.stringify(value), headers: { 'cache-control': 'no-store' } });
const notFound = (what: string): FrontReply => ({ status: 404, type: 'text/plain; charset=utf-8', body: `${what} not found\n` });

export function frontRoutes(deps: FrontDeps): FrontRoute[] {
  return [
    { path: '/', reply: () => html(frontPage({ playground: deps.playground, metrics: deps.metricsLink })) },
    { path: '/live', reply: () => html(livePage({ playground: deps.playground, metrics: deps.metricsLink })) },
    { path: '/front/models.json', reply: () => json(modelCards(deps.models())) },
    {
      path: '/front/samples/:name',
      reply: ({ name }) => {
        const model = deps.models().find((m) => m.name === name);
        const file = model && sampleFile(model);
        return file ? { status: 200, type: file.type, body: file.bytes, headers: { 'cache-control': 'no-cache' } } : notFound('sample');
      },
    },
    {
      path: '/live/stats.json',
      reply: (_params, query) => {
        const since = Number(query.since);
        return json(deps.live.read(Number.isFinite(since) ? since : 0));
      },
    },
    {
      path: '/front/:asset',
      reply: ({ asset }) => {
        const file = ASSETS.get(asset ?? '');
        return file ? { status: 200, type: file.type, body: file.body, headers: { 'cache-control': 'no-cache' } } : notFound('asset');
      },
    },
  ];
}
