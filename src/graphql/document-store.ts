import type { DocumentStore } from '@apollo/server';
import { BREAK, Kind, visit, type DocumentNode } from 'graphql';

export interface DocumentStoreOptions {
  /** Most documents kept (least recently used dropped first). Default 1,000. */
  readonly maxEntries?: number;
}

/**
 * Whether a document holds a string or number literal anywhere (arguments, list and object
 * values, variable defaults): a value such as an NHS number or a case reference written into the
 * query text instead of passed as a variable. Booleans, enums and null name no one.
 */
export function hasIdentifyingLiterals(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    enter(node) {
      if (node.kind === Kind.STRING || node.kind === Kind.INT || node.kind === Kind.FLOAT) {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/**
 * Apollo's cache of parsed and validated documents, shared by every caller, keyed by the
 * document's SHA-256. A hit skips parsing and validation (a few hundred microseconds), so a
 * caller that sends a document and times the answer learns whether anyone sent the very same
 * text recently. For a document that carries no literals that says only that some partner uses
 * that query shape; for one with an NHS number written into it, it would say that someone looked
 * that person up. So documents with string or number literals are never cached (they are parsed
 * and validated every time, as a document with variables would not need), and the rest are kept
 * in a bounded LRU map. Partner integrations pass values as variables (docs/security.md).
 */
export function createDocumentStore(options: DocumentStoreOptions = {}): DocumentStore {
  const maxEntries = options.maxEntries ?? 1_000;
  const entries = new Map<string, DocumentNode>();
  return {
    async get(key) {
      const document = entries.get(key);
      if (document !== undefined) {
        // Map order is insertion order: re-inserting marks it most recently used.
        entries.delete(key);
        entries.set(key, document);
      }
      return document;
    },
    async set(key, document) {
      if (hasIdentifyingLiterals(document)) return;
      entries.delete(key);
      entries.set(key, document);
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done === true) break;
        entries.delete(oldest.value);
      }
    },
    async delete(key) {
      return entries.delete(key);
    },
  };
}
