/**
 * What the stream transports (graphql-ws, graphql-sse) share: the checks every subscription
 * passes before anything runs, its context, and how its results and errors are written.
 *
 * Apollo Server does not carry subscriptions, so its request pipeline (parse limits, armor's
 * validation rules, the cost-limit plugin, formatError) is not on their path: the same checks are
 * applied here, with the same settings, the same codes and the same formatting, before the first
 * input is queued.
 */
import { performance } from 'node:perf_hooks';
import { GraphQLError, Kind, parse, specifiedRules, validate, type DocumentNode, type ExecutionResult, type FormattedExecutionResult, type GraphQLFormattedError, type GraphQLSchema, type OperationDefinitionNode, type ValidationRule } from 'graphql';
import type { Logger } from 'pino';
import type { PredictionCache } from '../../cache/prediction-cache.ts';
import type { RequestContext } from '../../graphql/context.ts';
import { graphQLError } from '../../graphql/errors.ts';
import { formatErrorWith } from '../../graphql/format-error.ts';
import { priceOperation } from '../../graphql/plugins/cost-limit.ts';
import { checkRequest, measuredVariables, type RequestLimits } from '../../graphql/plugins/request-limits.ts';
import type { Metrics } from '../../metrics.ts';
import type { ModelLifecycle } from '../../models/lifecycle.ts';
import type { ModelRegistry } from '../../models/registry.ts';
import { RequestTimings } from '../../observability/timings.ts';
import { variablesCost } from '../../predict/cost.ts';
import type { PredictionJobs } from '../../jobs/jobs.ts';
import type { Predictions } from '../../predict/predictions.ts';
import { isAdminRequest } from '../admin-token.ts';

export interface StreamOperationsDeps {
  schema: GraphQLSchema;
  registry: ModelRegistry;
  lifecycle: ModelLifecycle;
  cache: PredictionCache;
  predictions: Predictions;
  /** Prediction jobs, for predictionJobProgress. */
  jobs: PredictionJobs;
  metrics: Metrics;
  logger: Logger;
  /** graphql-armor's rules (depth, aliases, directives), as Apollo runs them. */
  validationRules: readonly ValidationRule[];
  maxTokens: number;
  maxRequestCost: number;
  /** MAX_QUERY_BYTES, MAX_VARIABLES_DEPTH, MAX_VARIABLES_BYTES, checked as on POST /graphql. */
  limits: RequestLimits;
  adminToken: string | undefined;
  debugErrors: boolean;
}

/** One subscription request, as both protocols carry it. */
export interface OperationRequest {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

/** A checked operation, ready for graphql-js's subscribe. */
export interface CheckedOperation {
  document: DocumentNode;
  variableValues: Record<string, unknown> | undefined;
  operationName: string | undefined;
}

/** Who is asking, from the connection: its admin token and whether it wants timings. */
export interface Caller {
  authorization: string | undefined;
  timings: boolean;
  requestId: string;
  /** Aborts when the client's connection closes. */
  signal: AbortSignal;
  /** Ends the client's connection (it stopped reading). */
  cutOff(error: Error): void;
}

export class StreamOperations {
  private readonly format: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  private readonly rules: ValidationRule[];

  constructor(readonly deps: StreamOperationsDeps) {
    this.format = formatErrorWith({ debugErrors: deps.debugErrors });
    this.rules = [...specifiedRules, ...deps.validationRules];
  }

  /**
   * Checks the query text's and the variables' size (MAX_QUERY_BYTES, MAX_VARIABLES_DEPTH,
   * MAX_VARIABLES_BYTES, by request-limits.ts's own check), parses (MAX_TOKENS), validates (the schema, MAX_QUERY_DEPTH, MAX_ALIASES, MAX_DIRECTIVES)
   * and prices (MAX_REQUEST_COST) a subscription; returns its errors, or the operation to run.
   * Queries and mutations are refused: they belong on POST /graphql, through Apollo.
   */
  check(request: OperationRequest): CheckedOperation | GraphQLError[] {
    const { deps } = this;
    if (typeof request.query !== 'string') return [graphQLError('BAD_REQUEST', 'the request has no query text (a persisted query hash alone is not accepted on streams)', {}, true)];
    if (request.variables !== undefined && request.variables !== null && (typeof request.variables !== 'object' || Array.isArray(request.variables))) {
      return [graphQLError('BAD_REQUEST', '`variables` must be an object', {}, true)];
    }
    if (request.operationName !== undefined && request.operationName !== null && typeof request.operationName !== 'string') {
      return [graphQLError('BAD_REQUEST', '`operationName` must be a string', {}, true)];
    }
    const variableValues = (request.variables ?? undefined) as Record<string, unknown> | undefined;
    const operationName = (request.operationName ?? undefined) as string | undefined;
    // Before parsing, as on POST /graphql: an oversized text or deep variables cost nothing more.
    const limited = { query: request.query, variables: variableValues, operationName };
    const refused = checkRequest(limited, deps.limits);
    if (refused) {
      deps.metrics.queriesRefused.inc({ limit: refused.setting });
      return [refused.error];
    }
    let document: DocumentNode;
    try {
      document = parse(request.query, { maxTokens: deps.maxTokens });
    } catch (error) {
      return [new GraphQLError((error as Error).message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
    }
    const invalid = validate(deps.schema, document, this.rules);
    if (invalid.length > 0) return invalid.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { ...e.extensions, code: 'GRAPHQL_VALIDATION_FAILED' } }));
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
    if (!operation) return [graphQLError('OPERATION_RESOLUTION_FAILURE', operationName ? `the document has no operation named "${operationName}"` : 'the document holds several operations: name the one to run in operationName', {}, true)];
    if (operation.operation !== 'subscription') {
      return [graphQLError('BAD_REQUEST', `this endpoint carries subscriptions; send ${operation.operation === 'query' ? 'queries' : 'mutations'} to POST /graphql`, {}, true)];
    }
    const priced = priceOperation(operation.selectionSet, document, deps.schema, variableValues ?? {}, deps.registry, deps.schema.getSubscriptionType()!);
    const cost = priced.reduce((sum, p) => sum + p.cost, 0) + variablesCost(measuredVariables(limited)?.values ?? 0);
    if (cost > deps.maxRequestCost) {
      deps.metrics.queriesRefused.inc({ limit: 'MAX_REQUEST_COST' });
      return [
        graphQLError(
          'COST_LIMIT_EXCEEDED',
          `this request would cost ${cost} units of work, over the limit of ${deps.maxRequestCost} (MAX_REQUEST_COST); split it into smaller streams`,
          { cost, limit: deps.maxRequestCost },
          true,
        ),
      ];
    }
    return { document, variableValues, operationName };
  }

  /** The resolvers' context for one subscription. */
  context(caller: Caller): RequestContext {
    const { deps } = this;
    const timings = new RequestTimings();
    return {
      registry: deps.registry,
      lifecycle: deps.lifecycle,
      cache: deps.cache,
      predictions: deps.predictions.forRequest(timings, caller.signal),
      jobs: deps.jobs,
      isAdmin: isAdminRequest(caller.authorization, deps.adminToken),
      requestId: caller.requestId,
      timings,
      stream: {
        cutOff: (error) => caller.cutOff(error),
        logUnexpected: (error) => deps.logger.error({ err: error, requestId: caller.requestId }, 'internal error in a stream'),
      },
    };
  }

  /** Errors as clients see them on every path: the codes and masking of format-error.ts, without Apollo's `http` extension. */
  formatErrors(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
    return errors.map((error) => {
      if (error.extensions?.code === undefined || error.extensions.code === 'INTERNAL_SERVER_ERROR') {
        this.deps.logger.error({ err: error.originalError ?? error, path: error.path }, 'internal error while answering a stream');
      }
      const { http: _http, ...extensions } = (error.extensions ?? {}) as Record<string, unknown>;
      const formatted = error.toJSON();
      return this.format({ ...formatted, extensions: { code: 'INTERNAL_SERVER_ERROR', ...extensions } }, error);
    });
  }

  /** One result to send: errors formatted; the timings so far in `extensions` when the client asked for them. */
  formatResult(result: ExecutionResult, context: RequestContext | undefined, timingsWanted: boolean): FormattedExecutionResult {
    const out: FormattedExecutionResult = { data: result.data };
    if (result.errors?.length) out.errors = this.formatErrors(result.errors);
    if (timingsWanted && context) {
      const started = performance.now();
      JSON.stringify(result.data);
      context.timings.add('serialization', performance.now() - started);
      out.extensions = { ...result.extensions, timings: context.timings.report(), requestId: context.requestId };
    } else if (result.extensions) out.extensions = result.extensions;
    return out;
  }
}

/** The value of a `timings` flag: `true`, `1` or `"1"`/`"true"` (a header or a connection parameter). */
export function wantsTimings(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 'true';
}
