/** The schema explorer teaches the API: every type, field, argument and enum value is described. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSchema, isEnumType, isInputObjectType, isInterfaceType, isObjectType, isSpecifiedScalarType } from 'graphql';
import { loadTypeDefs } from '../src/graphql/type-defs.ts';

describe('schema docs', () => {
  it('describes every type, field, argument and enum value in schema/', () => {
    const schema = buildSchema(loadTypeDefs());
    const missing: string[] = [];
    const check = (path: string, description: string | null | undefined) => {
      if (!description || description.trim().length < 8) missing.push(path);
    };
    let described = 0;
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || isSpecifiedScalarType(type)) continue;
      check(type.name, type.description);
      described++;
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          check(`${type.name}.${field.name}`, field.description);
          described++;
          for (const arg of 'args' in field ? field.args : []) {
            check(`${type.name}.${field.name}(${arg.name})`, arg.description);
            described++;
          }
        }
      }
      if (isEnumType(type)) {
        for (const value of type.getValues()) {
          check(`${type.name}.${value.name}`, value.description);
          described++;
        }
      }
    }
    assert.ok(described > 100, `${described} schema elements checked`);
    assert.deepEqual(missing, [], 'these schema elements need a description');
  });

  it('states the limits and units of the inputs a client sends', () => {
    const schema = buildSchema(loadTypeDefs());
    const input = schema.getType('PredictionInput');
    assert.ok(isInputObjectType(input));
    const fields = input.getFields();
    assert.match(fields.text!.description!, /characters|length/i);
    assert.match(fields.image!.description!, /bytes|pixels|MB/i);
    assert.match(fields.audio!.description!, /seconds/i);
    const options = schema.getType('PredictOptions');
    assert.ok(isInputObjectType(options));
    assert.match(options.getFields().deadlineMs!.description!, /Milliseconds.*1 to 600000/s);
  });
});
