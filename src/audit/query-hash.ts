/**
 * The audit trail's hash of a query document (CONTRACT §7): HMAC-SHA-256 under a secret of the
 * hub, so that nobody reading the trail (a DPO, an export, a database copy) can test guesses of
 * the literals a query held, such as another person's NHS number, offline. A plain SHA-256 can be
 * brute-forced over the ~10^9 valid NHS numbers in minutes.
 *
 * The secret is derived, not stored: HKDF-SHA-256 (RFC 5869) from the hub signing key's private
 * scalar, with its own `info`, so it is a key of its own (nothing signed with the signing key can
 * be confused with it) that needs no new file, variable or backup, and every instance that signs
 * checkpoints with the same key (which production already requires, docs/operator.md) computes
 * the same hashes. A rotated hub key gives later events different hashes for the same document.
 */
import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';

/** What a keyed hash starts with; a value without it is a plain SHA-256 hex written before. */
export const keyedQueryHashPrefix = 'hmac-sha256:';

/** HKDF `info`: names the purpose and version of the derived key (RFC 5869 §3.2). */
export const queryHashKeyInfo = 'accord audit query-hash v1';

/** Derives the query-hash key from the hub signing key's private bytes (the JWK's `d`). */
export function deriveQueryHashKey(signingKeySecret: Uint8Array): KeyObject {
  if (signingKeySecret.byteLength < 32) throw new TypeError('the hub signing key secret must be at least 32 bytes');
  return createSecretKey(Buffer.from(hkdfSync('sha256', signingKeySecret, new Uint8Array(0), queryHashKeyInfo, 32)));
}

/** `hmac-sha256:` + hex HMAC-SHA-256 of the document's UTF-8 text, exactly as the caller sent it. */
export function keyedQueryHash(key: KeyObject, document: string): string {
  return `${keyedQueryHashPrefix}${createHmac('sha256', key).update(document, 'utf8').digest('hex')}`;
}

/** How an event's `queryHash` was made: keyed (this hub's key) or plain SHA-256 (events written before). */
export function queryHashKind(queryHash: string): 'hmac-sha256' | 'sha256' {
  return queryHash.startsWith(keyedQueryHashPrefix) ? 'hmac-sha256' : 'sha256';
}
