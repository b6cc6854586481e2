/**
 * Automatic persisted queries (a `persistedQuery` extension carrying a document's SHA-256, with
 * or without the document) are refused whole (CONTRACT §5): a cache of documents by hash shared
 * by every caller let one organisation run, or probe for, a document another organisation sent.
 */
export const persistedQueryRefusal = 'persisted queries are not accepted: send the query document itself with every request, without extensions.persistedQuery';

function namesPersistedQuery(extensions: unknown): boolean {
  return typeof extensions === 'object' && extensions !== null && !Array.isArray(extensions) && 'persistedQuery' in extensions;
}

/**
 * Whether a GraphQL-over-HTTP request asks for a persisted query: `extensions.persistedQuery` in
 * a POST body, or in the JSON `extensions` parameter of a GET. An `extensions` parameter that is
 * not JSON is left to Apollo, which refuses it.
 */
export function asksForPersistedQuery(body: unknown, search: URLSearchParams): boolean {
  if (typeof body === 'object' && body !== null && namesPersistedQuery((body as { extensions?: unknown }).extensions)) return true;
  const extensions = search.get('extensions');
  if (extensions === null) return false;
  try {
    return namesPersistedQuery(JSON.parse(extensions));
  } catch {
    return false;
  }
}
