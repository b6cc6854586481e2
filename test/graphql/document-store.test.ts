/**
 * The document cache Apollo shares across callers (src/graphql/document-store.ts): a hit is
 * measurably faster, so a document carrying a string or number literal (an NHS number written
 * into the query) is never kept, and one whose values are all variables is.
 */
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createDocumentStore, hasIdentifyingLiterals } from '../../src/graphql/document-store.js';

describe('the shared document store', () => {
  it.each([
    ['an NHS number as an argument', '{ subject(nhsNumber: "9434765919") { nhsNumber } }'],
    ['a number in a list value', 'query { auditEvents(first: 10) { edges { cursor } } }'],
    ['a literal inside an input object', 'mutation { publishRecords(input: { demographics: [{ externalId: "x", nhsNumber: "9434765919" }] }) { count } }'],
    ['a variable default', 'query Q($n: NHSNumber = "9434765919") { subject(nhsNumber: $n) { nhsNumber } }'],
    ['a float', '{ subject(nhsNumber: 1.5) { nhsNumber } }'],
  ])('does not keep a document with %s', async (_name, text) => {
    const document = parse(text);
    expect(hasIdentifyingLiterals(document)).toBe(true);
    const store = createDocumentStore();
    await store.set('k', document);
    expect(await store.get('k')).toBeUndefined();
  });

  it.each([
    ['variables only', 'query Q($n: NHSNumber!) { subject(nhsNumber: $n) { demographics { givenName } } }'],
    ['booleans, enums and null, which name no one', 'query Q($n: NHSNumber!) { subject(nhsNumber: $n) @include(if: true) { nhsNumber } agreements(status: ACTIVE) { id } a: agreement(id: $n, version: null) { id } }'],
  ])('keeps a document with %s', async (_name, text) => {
    const document = parse(text);
    expect(hasIdentifyingLiterals(document)).toBe(false);
    const store = createDocumentStore();
    await store.set('k', document);
    expect(await store.get('k')).toBe(document);
    expect(await store.delete('k')).toBe(true);
    expect(await store.get('k')).toBeUndefined();
  });

  it('is bounded, dropping the least recently used document first', async () => {
    const store = createDocumentStore({ maxEntries: 2 });
    const [a, b, c] = ['{ me { subject } }', '{ organisations { id } }', '{ agreements { id } }'].map((text) => parse(text));
    await store.set('a', a!);
    await store.set('b', b!);
    expect(await store.get('a')).toBe(a);
    await store.set('c', c!);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBe(a);
    expect(await store.get('c')).toBe(c);
  });
});
