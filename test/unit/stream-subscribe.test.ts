/**
 * Stream events run a copy of the subscription without its inputs (src/http/streams/subscribe.ts):
 * graphql-js would coerce every input again for every event, O(N^2) in the stream's length.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, print } from 'graphql';
import { eventDocument } from '../../src/http/streams/subscribe.ts';

const normal = (text: string) => print(parse(text));

describe('eventDocument', () => {
  it('empties the root field list arguments, from a variable or inline, and drops the variables nothing uses then', () => {
    const fromVariables = eventDocument(
      parse('subscription S($model: String!, $inputs: [PredictionInput!]!, $k: Int) { predictStream(model: $model, inputs: $inputs) { index prediction { ... on Classification { topClasses(k: $k) { label } } } } }'),
      'S',
    );
    assert.equal(print(fromVariables), normal('subscription S($model: String!, $k: Int) { predictStream(model: $model, inputs: []) { index prediction { ... on Classification { topClasses(k: $k) { label } } } } }'));
    const inline = eventDocument(parse('subscription { predictStream(model: "iris", inputs: [{ features: [1, 2, 3, 4] }, { features: [5, 6, 7, 8] }]) { done total } }'));
    assert.equal(print(inline), normal('subscription { predictStream(model: "iris", inputs: []) { done total } }'));
  });

  it('leaves fragments, other operations and non-list arguments as they are', () => {
    const text = `
      subscription Stream($inputs: [PredictionInput!]!, $skip: [String!]) { predictStream(model: "iris", inputs: $inputs) { ...Event } }
      fragment Event on PredictionEvent { index error @skip(if: false) { code } done }
      query Other($inputs: [PredictionInput!]!) { predictMany(model: "iris", inputs: $inputs) { cached } }`;
    const document = eventDocument(parse(text), 'Stream');
    const [operation, fragment, other] = document.definitions;
    assert.equal(print(operation!), normal('subscription Stream { predictStream(model: "iris", inputs: []) { ...Event } }'));
    assert.equal(print(fragment!), normal('fragment Event on PredictionEvent { index error @skip(if: false) { code } done }'));
    assert.equal(print(other!), normal('query Other($inputs: [PredictionInput!]!) { predictMany(model: "iris", inputs: $inputs) { cached } }'));
    const progress = eventDocument(parse('subscription ($id: ID!) { predictionJobProgress(id: $id) { state done } }'));
    assert.equal(print(progress), normal('subscription ($id: ID!) { predictionJobProgress(id: $id) { state done } }'));
  });
});
