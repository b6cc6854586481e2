import type { IncomingMessage } from 'node:http';
import { asksForPersistedQuery, persistedQueryRefusal } from '../../graphql/persisted-query.js';
import { BodyTooLargeError, readBody } from './read-body.js';
import { refusal, type Refusal } from './refusal.js';

/**
 * Step 2, body: read up to the limit before anything else, so an oversized body is refused
 * without being held in memory (and before any token work is spent on it). A GET has none.
 */
export async function readRequestBody(req: IncomingMessage, method: 'GET' | 'POST', maxBodyBytes: number, showLimit: boolean): Promise<string | Refusal> {
  if (method === 'GET') return '';
  try {
    return await readBody(req, maxBodyBytes);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    return refusal('QUERY_TOO_COMPLEX', `request body exceeds the size limit${showLimit ? ` of ${error.limitBytes} bytes` : ''}`, 'too-large', {
      status: 413,
      headers: { connection: 'close' },
    });
  }
}

/** What Apollo is given: the parsed body (POST) and the query string (GET). */
export interface GraphQLHttpRequest {
  readonly method: 'GET' | 'POST';
  readonly body: unknown;
  readonly search: string;
  readonly url: URL;
}

/**
 * The body as one GraphQL request: JSON of the right content type, one operation (no batches),
 * and no persisted-query hash. Runs after authentication, so an unauthenticated caller learns
 * only that it must authenticate.
 */
export function parseGraphQLRequest(req: IncomingMessage, method: 'GET' | 'POST', raw: string): GraphQLHttpRequest | Refusal {
  const url = new URL(req.url ?? '/', 'http://localhost');
  let body: unknown;
  if (method === 'POST') {
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/(graphql-response\+)?json\b/i.test(type) && !/^application\/json/i.test(type)) {
      return refusal('BAD_USER_INPUT', 'Content-Type must be application/json', 'bad-request', { status: 415 });
    }
    try {
      body = JSON.parse(raw);
    } catch {
      return refusal('BAD_USER_INPUT', 'the request body is not valid JSON', 'bad-request', { status: 400 });
    }
    if (Array.isArray(body)) return refusal('QUERY_TOO_COMPLEX', 'batched requests are not accepted: send one operation per request', 'bad-request', { status: 400 });
  }
  // Refused before Apollo (whose APQ is also off), the same for a hash that was seen and one
  // that was not, so the answer tells nothing of what others sent.
  if (asksForPersistedQuery(body, url.searchParams)) return refusal('BAD_USER_INPUT', persistedQueryRefusal, 'bad-request', { status: 400 });
  return { method, body, search: url.search, url };
}
