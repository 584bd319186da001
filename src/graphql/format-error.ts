/**
 * Apollo labels a bad value written inside the query text (`features: [NaN]`) as
 * GRAPHQL_VALIDATION_FAILED, but the same value passed as a variable as BAD_USER_INPUT. A client
 * should not have to know which way it sent the value: both are bad input, so both get
 * BAD_USER_INPUT.
 */
import { ApolloServerErrorCode } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';

const BAD_LITERAL = /^(Float|Int|String|Boolean|ID) cannot represent|^Expected value of type|^Field "[^"]+" of required type/;

export function formatError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  if (formatted.extensions?.code === ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED && BAD_LITERAL.test(formatted.message)) {
    return { ...formatted, extensions: { ...formatted.extensions, code: ApolloServerErrorCode.BAD_USER_INPUT } };
  }
  return formatted;
}
