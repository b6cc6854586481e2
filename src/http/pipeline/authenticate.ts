import type { IncomingMessage } from 'node:http';
import type { Caller } from '../../auth/caller.js';
import { verifyToken } from '../../auth/index.js';
import { isAccordError } from '../../errors.js';
import type { HubServices } from '../../services.js';
import { refusal, type Refusal } from './refusal.js';

function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer ([^\s]+)$/i.exec(header.trim());
  return match?.[1];
}

/** A verified caller and the key-store generation its token was verified under. */
export interface Authenticated {
  readonly caller: Caller;
  readonly keysGeneration: number;
}

/**
 * Step 3, authenticate: every failure is 401 UNAUTHENTICATED before any GraphQL work. Keys come
 * from memory (no round trip); a key revoked on another instance is caught when the request
 * commits, and the request is then authenticated again under the fresh keys.
 */
export async function authenticate(req: IncomingMessage, services: HubServices): Promise<Authenticated | Refusal> {
  const token = bearerToken(req);
  if (token === undefined) {
    return refusal('UNAUTHENTICATED', 'an Authorization: Bearer <token> header is required', 'unauthenticated', { headers: { 'www-authenticate': 'Bearer' } });
  }
  if (services.keys.generation === undefined) await services.keys.refresh();
  const verify = async (): Promise<Authenticated> => {
    const keysGeneration = services.keys.generation ?? 0;
    const caller = await verifyToken(token, { keys: services.keys, hubId: services.config.hubId, clock: services.clock, replay: services.replay });
    return { caller, keysGeneration };
  };
  try {
    try {
      return await verify();
    } catch (error) {
      if (!isAccordError(error) || error.code !== 'UNAUTHENTICATED') throw error;
      // An organisation or key registered a moment ago (by the CLI or another instance) is not
      // in memory yet: look once (one small query, shared by concurrent requests) and verify
      // again only if the keys changed. Otherwise the first answer stands.
      const before = services.keys.generation;
      await services.keys.refresh();
      if (services.keys.generation === before) throw error;
      return await verify();
    }
  } catch (error) {
    if (isAccordError(error) && error.code === 'UNAUTHENTICATED') {
      return refusal('UNAUTHENTICATED', error.message, 'unauthenticated', { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
    }
    throw error;
  }
}
