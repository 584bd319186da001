/**
 * The operations of the example client, written once and typed by GraphQL Code Generator's
 * client preset (`npm run codegen` writes examples/client/gql/ from schema/ and this file).
 */
import { graphql } from './gql/index.ts';

/** The smallest useful query: one prediction, two fields. */
export const IrisLabel = graphql(`
  query IrisLabel($features: [Float!]!) {
    predict(model: "iris", input: { features: $features }) {
      ... on Classification {
        label
        score
      }
    }
  }
`);

/** A batch job: many rows in one request, answers in input order. */
export const IrisBatch = graphql(`
  query IrisBatch($inputs: [PredictionInput!]!) {
    predictMany(model: "iris", inputs: $inputs) {
      cached
      ... on Classification {
        label
      }
    }
  }
`);

/** Several models in one round trip, told apart by aliases. */
export const TriageMessage = graphql(`
  query TriageMessage($text: String!) {
    spam: predict(model: "spam", input: { text: $text }) {
      ... on Classification {
        label
        score
      }
    }
    injection: predict(model: "prompt-injection", input: { text: $text }) {
      ... on Classification {
        label
        score
      }
    }
  }
`);

/** A stream: one event per row as soon as it is answered, with progress (graphql-ws or SSE). */
export const IrisStream = graphql(`
  subscription IrisStream($inputs: [PredictionInput!]!) {
    predictStream(model: "iris", inputs: $inputs) {
      index
      done
      total
      prediction {
        cached
        ... on Classification {
          label
        }
      }
      error {
        code
        message
      }
    }
  }
`);
