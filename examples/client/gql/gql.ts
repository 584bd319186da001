/* eslint-disable */
import * as types from './graphql.ts';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query IrisLabel($features: [Float!]!) {\n    predict(model: \"iris\", input: { features: $features }) {\n      ... on Classification {\n        label\n        score\n      }\n    }\n  }\n": typeof types.IrisLabelDocument,
    "\n  query IrisBatch($inputs: [PredictionInput!]!) {\n    predictMany(model: \"iris\", inputs: $inputs) {\n      cached\n      ... on Classification {\n        label\n      }\n    }\n  }\n": typeof types.IrisBatchDocument,
    "\n  query TriageMessage($text: String!) {\n    spam: predict(model: \"spam\", input: { text: $text }) {\n      ... on Classification {\n        label\n        score\n      }\n    }\n    injection: predict(model: \"prompt-injection\", input: { text: $text }) {\n      ... on Classification {\n        label\n        score\n      }\n    }\n  }\n": typeof types.TriageMessageDocument,
    "\n  subscription IrisStream($inputs: [PredictionInput!]!) {\n    predictStream(model: \"iris\", inputs: $inputs) {\n      index\n      done\n      total\n      prediction {\n        cached\n        ... on Classification {\n          label\n        }\n      }\n      error {\n        code\n        message\n      }\n    }\n  }\n": typeof types.IrisStreamDocument,
};
const documents: Documents = {
    "\n  query IrisLabel($features: [Float!]!) {\n    predict(model: \"iris\", input: { features: $features }) {\n      ... on Classification {\n        label\n        score\n      }\n    }\n  }\n": types.IrisLabelDocument,
    "\n  query IrisBatch($inputs: [PredictionInput!]!) {\n    predictMany(model: \"iris\", inputs: $inputs) {\n      cached\n      ... on Classification {\n        label\n      }\n    }\n  }\n": types.IrisBatchDocument,
    "\n  query TriageMessage($text: String!) {\n    spam: predict(model: \"spam\", input: { text: $text }) {\n      ... on Classification {\n        label\n        score\n      }\n    }\n    injection: predict(model: \"prompt-injection\", input: { text: $text }) {\n      ... on Classification {\n        label\n        score\n      }\n    }\n  }\n": types.TriageMessageDocument,
    "\n  subscription IrisStream($inputs: [PredictionInput!]!) {\n    predictStream(model: \"iris\", inputs: $inputs) {\n      index\n      done\n      total\n      prediction {\n        cached\n        ... on Classification {\n          label\n        }\n      }\n      error {\n        code\n        message\n      }\n    }\n  }\n": types.IrisStreamDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query IrisLabel($features: [Float!]!) {\n    predict(model: \"iris\", input: { features: $features }) {\n      ... on Classification {\n        label\n        score\n      }\n    }\n  }\n"): typeof import('./graphql.ts').IrisLabelDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query IrisBatch($inputs: [PredictionInput!]!) {\n    predictMany(model: \"iris\", inputs: $inputs) {\n      cached\n      ... on Classification {\n        label\n      }\n    }\n  }\n"): typeof import('./graphql.ts').IrisBatchDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TriageMessage($text: String!) {\n    spam: predict(model: \"spam\", input: { text: $text }) {\n      ... on Classification {\n        label\n        score\n      }\n    }\n    injection: predict(model: \"prompt-injection\", input: { text: $text }) {\n      ... on Classification {\n        label\n        score\n      }\n    }\n  }\n"): typeof import('./graphql.ts').TriageMessageDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription IrisStream($inputs: [PredictionInput!]!) {\n    predictStream(model: \"iris\", inputs: $inputs) {\n      index\n      done\n      total\n      prediction {\n        cached\n        ... on Classification {\n          label\n        }\n      }\n      error {\n        code\n        message\n      }\n    }\n  }\n"): typeof import('./graphql.ts').IrisStreamDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
