import type { IncomingMessage } from 'node:http';
import { refusal, type Refusal } from './refusal.js';

/** Step 1, method: POST, or GET for queries (Apollo refuses a mutation sent by GET). */
export function acceptMethod(req: IncomingMessage): 'GET' | 'POST' | Refusal {
  if (req.method === 'POST' || req.method === 'GET') return req.method;
  return refusal('BAD_USER_INPUT', 'use POST (or GET for queries)', 'bad-method', { status: 405, headers: { allow: 'GET, POST' } });
}
