/**
 * The schema's enums are the domain's string unions (codegen.yml maps them onto
 * src/domain/types.ts): the values must be the same, or the types would lie.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSchema, GraphQLEnumType } from 'graphql';
import { CACHE_POLICIES, CACHE_SOURCES, INPUT_KINDS, JOB_STATES, LOADING_POLICIES, MODEL_STATES, MODEL_TASKS } from '../../src/domain/types.ts';
import { loadTypeDefs } from '../../src/graphql/type-defs.ts';

describe('schema enums', () => {
  const schema = buildSchema(loadTypeDefs());
  const domain: Record<string, readonly string[]> = { ModelTask: MODEL_TASKS, InputKind: INPUT_KINDS, ModelState: MODEL_STATES, LoadingPolicy: LOADING_POLICIES, CachePolicy: CACHE_POLICIES, CacheSource: CACHE_SOURCES, JobState: JOB_STATES };
  for (const [name, values] of Object.entries(domain)) {
    it(`${name} has the values of src/domain/types.ts`, () => {
      const type = schema.getType(name);
      assert.ok(type instanceof GraphQLEnumType);
      assert.deepEqual(type.getValues().map((v) => v.name).sort(), [...values].sort());
    });
  }
});
