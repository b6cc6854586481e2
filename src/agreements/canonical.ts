import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';

// canonicalize is CommonJS whose typings declare an ES default export; under NodeNext TypeScript
// reads that as a namespace, while at run time the default import is the function itself.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/**
 * RFC 8785 (JCS) canonical JSON text of a value, so that every party signs, and the hub hashes,
 * exactly the same bytes whatever serializer produced the document. Throws TypeError for values
 * JSON cannot represent (undefined at the top, NaN, Infinity).
 */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (error) {
    throw new TypeError(`value has no canonical JSON form: ${(error as Error).message}`, { cause: error });
  }
  if (text === undefined) throw new TypeError('value has no canonical JSON form');
  return text;
}

/** UTF-8 bytes of the canonical JSON of a value: the JWS payload of an agreement envelope. */
export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}

/** Hex SHA-256 of the canonical payload (bytes, or the canonical JSON text): the hash audit events cite. */
export function payloadHash(payload: Uint8Array | string): string {
  return createHash('sha256').update(typeof payload === 'string' ? payload : Buffer.from(payload)).digest('hex');
}
