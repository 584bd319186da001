/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** One input to a model. Set exactly one field: the one named by the model's `input.kind`. */
export type PredictionInput = {
  /**
   * A base64-encoded WAV file of 16-bit PCM, any sample rate, mono or stereo, for audio models: at
   * most the model's `maxBytes` (10000000 bytes unless its manifest says otherwise) and
   * `maxSeconds` seconds long (60; the bundled `vad` takes 120).
   */
  audio?: string | null | undefined;
  /**
   * A tabular row: one finite number per feature (no NaN or Infinity), exactly as many as
   * `Model.input.features` lists, in that order.
   */
  features?: Array<number> | null | undefined;
  /**
   * A base64-encoded PNG or JPEG image, for image models: at most the model's `maxBytes` once
   * decoded (5000000 bytes unless its manifest says otherwise) and `maxPixels` width x height
   * (25000000), checked from the header before the image is decoded.
   */
  image?: string | null | undefined;
  /**
   * Raw named tensors, for models served without pre-processing: one per model input, with the
   * shape the model declares, at most the model's `maxElements` numbers in all (1000000 unless its
   * manifest says otherwise).
   */
  tensor?: Array<TensorInput> | null | undefined;
  /**
   * A UTF-8 text, for text models: not empty, and at most the model's `maxLength` characters
   * (10000 unless its manifest says otherwise; `Model.input.description` gives each model's limit).
   */
  text?: string | null | undefined;
};

/** A raw tensor fed to a model input of the same name. Set exactly one of `data` and `dataBase64`. */
export type TensorInput = {
  /** The values, row-major, as JSON numbers. */
  data?: Array<number> | null | undefined;
  /** The values, row-major, as base64 of little-endian float32 (4 bytes a value): a third of the bytes of JSON numbers, and exact. */
  dataBase64?: string | null | undefined;
  /** The tensor's dimensions; their product must equal the number of values. */
  dims: Array<number>;
  /** The model input's name. */
  name: string;
};

export type IrisLabelQueryVariables = Exact<{
  features: Array<number> | number;
}>;


export type IrisLabelQuery = { predict:
    | { label: string, score: number }
    | Record<PropertyKey, never>
   };

export type IrisBatchQueryVariables = Exact<{
  inputs: Array<PredictionInput> | PredictionInput;
}>;


export type IrisBatchQuery = { predictMany: Array<
    | { label: string, cached: boolean }
    | { cached: boolean }
    | { cached: boolean }
    | { cached: boolean }
    | { cached: boolean }
  > };

export type TriageMessageQueryVariables = Exact<{
  text: string;
}>;


export type TriageMessageQuery = { spam:
    | { label: string, score: number }
    | Record<PropertyKey, never>
  , injection:
    | { label: string, score: number }
    | Record<PropertyKey, never>
   };

export type IrisStreamSubscriptionVariables = Exact<{
  inputs: Array<PredictionInput> | PredictionInput;
}>;


export type IrisStreamSubscription = { predictStream: { index: number, done: number, total: number, prediction:
      | { label: string, cached: boolean }
      | { cached: boolean }
      | { cached: boolean }
      | { cached: boolean }
      | { cached: boolean }
     | null, error: { code: string, message: string } | null } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}

export const IrisLabelDocument = new TypedDocumentString(`
    query IrisLabel($features: [Float!]!) {
  predict(model: "iris", input: {features: $features}) {
    ... on Classification {
      label
      score
    }
  }
}
    `) as unknown as TypedDocumentString<IrisLabelQuery, IrisLabelQueryVariables>;
export const IrisBatchDocument = new TypedDocumentString(`
    query IrisBatch($inputs: [PredictionInput!]!) {
  predictMany(model: "iris", inputs: $inputs) {
    cached
    ... on Classification {
      label
    }
  }
}
    `) as unknown as TypedDocumentString<IrisBatchQuery, IrisBatchQueryVariables>;
export const TriageMessageDocument = new TypedDocumentString(`
    query TriageMessage($text: String!) {
  spam: predict(model: "spam", input: {text: $text}) {
    ... on Classification {
      label
      score
    }
  }
  injection: predict(model: "prompt-injection", input: {text: $text}) {
    ... on Classification {
      label
      score
    }
  }
}
    `) as unknown as TypedDocumentString<TriageMessageQuery, TriageMessageQueryVariables>;
export const IrisStreamDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<IrisStreamSubscription, IrisStreamSubscriptionVariables>;