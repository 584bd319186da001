/**
 * Apollo's cache of parsed and validated documents, bounded by the memory its entries hold.
 *
 * Apollo's default store (30 MiB) sizes a document by its JSON, which leaves out the source text:
 * every node's `loc` points at the request's whole query string, so a document parsed from 15 MB
 * of comment padding keeps those 15 MB alive while counting a few hundred bytes, and a few
 * hundred such queries exhausted the heap. This store counts the source text too.
 *
 * Parsing without locations (`parseOptions.noLocation`) would drop the source instead, but also
 * every error's `locations` (line and column of the field that failed) that clients and GraphiQL
 * show: the locations stay, and the bound counts what they cost.
 */
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import type { DocumentNode } from 'graphql';

/** Bytes a cached document holds: its AST (measured as JSON, as Apollo does) and its source text. */
export function documentBytes(document: DocumentNode): number {
  const source = document.loc?.source.body.length ?? 0;
  return Buffer.byteLength(JSON.stringify(document), 'utf8') + source;
}

export function boundedDocumentStore(maxBytes: number): InMemoryLRUCache<DocumentNode> {
  return new InMemoryLRUCache<DocumentNode>({ maxSize: maxBytes, sizeCalculation: documentBytes });
}
