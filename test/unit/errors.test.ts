/**
 * The error table (src/domain/errors.ts) against the README's, the one rule for whose fault an
 * error is, and the GraphQL form of domain errors (src/graphql/errors.ts, format-error.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';
import { badUserInput, CodedError, ERROR_CODES, inferenceFailed, isClientFault, isUnexpected, itemFailed, overloaded, overloadedForDeadline } from '../../src/domain/errors.ts';
import { graphQLError, toGraphQLError } from '../../src/graphql/errors.ts';
import { formatErrorWith } from '../../src/graphql/format-error.ts';

/** The rows of the README's error table: the codes of each row and its HTTP cell. */
function readmeErrorTable(): Array<{ codes: string[]; http: string }> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Errors\n'));
  const table = section.slice(section.indexOf('| code | HTTP | when |'));
  const rows = table.split('\n').slice(2);
  return rows
    .slice(0, rows.findIndex((line) => !line.startsWith('|')))
    .map((line) => {
      const [codes, http] = line.split('|').slice(1, 3).map((cell) => cell.trim());
      return { codes: [...codes!.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!), http: http! };
    });
}

describe('error table', () => {
  it("lists in the README exactly the codes of src/domain/errors.ts, each with its HTTP status", () => {
    const rows = readmeErrorTable();
    const listed = rows.flatMap((row) => row.codes);
    assert.deepEqual([...listed].sort(), Object.keys(ERROR_CODES).sort());
    assert.equal(new Set(listed).size, listed.length, 'each code once');
    for (const row of rows) {
      for (const code of row.codes) assert.equal(row.http, String(ERROR_CODES[code as keyof typeof ERROR_CODES].status ?? 200), `HTTP status of ${code}`);
    }
  });

  it("holds every code Apollo Server can answer with", () => {
    const apollo = Object.values(ApolloServerErrorCode).filter((code) => code !== ApolloServerErrorCode.PERSISTED_QUERY_NOT_SUPPORTED);
    for (const code of apollo) assert.ok(code in ERROR_CODES, code);
  });

  it("decides whose fault an error is by its code, or by its HTTP status when it has none", () => {
    assert.equal(isClientFault('BAD_USER_INPUT'), true);
    assert.equal(isClientFault('WORKER_CRASHED'), false);
    assert.equal(isClientFault(undefined, 400), true);
    assert.equal(isClientFault('INTERNAL_SERVER_ERROR', 404), true);
    assert.equal(isClientFault('INTERNAL_SERVER_ERROR', 500), false);
    assert.equal(isClientFault(undefined), false);
    assert.equal(isUnexpected(undefined), true);
    assert.equal(isUnexpected('INTERNAL_SERVER_ERROR', 400), false);
    assert.equal(isUnexpected('INFERENCE_FAILED'), false, 'a coded server failure is expected: its message is written for clients');
  });

  it("keeps an unknown code from a worker out of the public ones", () => {
    assert.equal(itemFailed('BAD_USER_INPUT', 'x').code, 'BAD_USER_INPUT');
    assert.equal(itemFailed('SOMETHING_ELSE', 'x').code, 'INTERNAL_SERVER_ERROR');
  });
});

describe('GraphQL form of domain errors', () => {
  it('carries the code and the details, and no HTTP status for an error in a field', () => {
    const error = toGraphQLError(badUserInput('input.text is empty')) as GraphQLError;
    assert.ok(error instanceof GraphQLError);
    assert.equal(error.message, 'input.text is empty');
    assert.deepEqual(error.extensions, { code: 'BAD_USER_INPUT' });
    assert.ok(error.originalError instanceof CodedError);
    assert.deepEqual((toGraphQLError(inferenceFailed('m', 'boom')) as GraphQLError).extensions, { code: 'INFERENCE_FAILED' });
  });

  it('makes an OVERLOADED answer 503 with Retry-After, from any field', () => {
    const queueFull = (toGraphQLError(overloaded('m', 100, 1)) as GraphQLError).extensions;
    assert.equal(queueFull.code, 'OVERLOADED');
    assert.equal(queueFull.retryAfterSeconds, 1);
    const http = queueFull.http as { status: number; headers: Map<string, string> };
    assert.equal(http.status, 503);
    assert.equal(http.headers.get('retry-after'), '1');
    const late = (toGraphQLError(overloadedForDeadline('m', 40, 2500, 900)) as GraphQLError).extensions;
    assert.equal((late.http as { headers: Map<string, string> }).headers.get('retry-after'), '3');
  });

  it('sets the status of an error that refuses the whole request', () => {
    const error = graphQLError('COST_LIMIT_EXCEEDED', 'too expensive', { cost: 10, limit: 5 }, true);
    assert.deepEqual(error.extensions, { code: 'COST_LIMIT_EXCEEDED', cost: 10, limit: 5, http: { status: 400 } });
  });

  it('leaves anything that is not a domain error as it is', () => {
    const bug = new TypeError('x is undefined');
    assert.equal(toGraphQLError(bug), bug);
  });

  it('masks an unexpected error, and labels a code-less 4xx from Apollo BAD_REQUEST', () => {
    const format = formatErrorWith({ debugErrors: false });
    const internal = new GraphQLError('ENOENT: /srv/secret/path', { path: ['predict'] });
    const masked = format({ message: internal.message, path: ['predict'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }, internal);
    assert.deepEqual(masked, { message: 'internal server error; the server log has the details', locations: undefined, path: ['predict'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    const apollo400 = new GraphQLError('Unsupported persisted query version', { extensions: { http: { status: 400 } } });
    assert.deepEqual(format({ message: apollo400.message, extensions: { code: 'INTERNAL_SERVER_ERROR' } }, apollo400).extensions, { code: 'BAD_REQUEST' });
    const coded = { message: 'model "m" failed to run: boom', extensions: { code: 'INFERENCE_FAILED' } };
    assert.equal(format(coded, toGraphQLError(inferenceFailed('m', 'boom'))), coded, 'a coded error passes as it is');
    assert.equal(formatErrorWith({ debugErrors: true })({ message: internal.message, extensions: { code: 'INTERNAL_SERVER_ERROR' } }, internal).message, internal.message);
  });
});
