import { AccordError } from '../errors.js';
import { canonicalJson, payloadHash } from './canonical.js';

/** A signed agreement: JWS General JSON Serialization (RFC 7515 §7.2.1) over the JCS document. */
export interface AgreementEnvelope {
  readonly payload: string;
  readonly signatures: readonly EnvelopeSignatureEntry[];
}

export interface EnvelopeSignatureEntry {
  readonly protected: string;
  readonly signature: string;
}

/** Bounds on what the hub will parse before any signature is checked (denial of service). */
export const maxPayloadBytes = 1_000_000;
export const maxSignatures = 32;

/** The envelope after its structure and payload were checked, before any signature was. */
export interface DecodedEnvelope {
  readonly envelope: AgreementEnvelope;
  /** The document as parsed from the payload: not yet validated. */
  readonly document: Record<string, unknown>;
  /** The canonical JSON text the payload carries. */
  readonly canonicalText: string;
  readonly payloadHash: string;
}

const base64url = /^[A-Za-z0-9_-]*$/;

function invalid(message: string): AccordError {
  return new AccordError('INVALID_AGREEMENT', message);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Decodes base64url strictly: only the one encoding of the bytes is accepted. */
export function decodeBase64url(text: string, what: string): Buffer {
  const bytes = Buffer.from(text, 'base64url');
  if (!base64url.test(text) || bytes.toString('base64url') !== text) throw invalid(`${what} is not base64url`);
  return bytes;
}

/** Parses bytes as UTF-8 JSON, refusing invalid UTF-8 rather than replacing it. */
export function parseJsonBytes(bytes: Uint8Array, what: string): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid(`${what} is not UTF-8`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalid(`${what} is not JSON`);
  }
}

/**
 * Checks an envelope's shape and decodes its payload, which must be exactly the RFC 8785
 * canonical form of the document it carries. Requiring the canonical form means the payload
 * hash identifies the agreement itself, whatever the signer's serializer, and that duplicate
 * keys or other ambiguous JSON (which parsers resolve differently) never reach a signature.
 */
export function decodeEnvelope(input: unknown): DecodedEnvelope {
  if (!isPlainObject(input)) throw invalid('the envelope must be a JWS JSON object {payload, signatures}');
  for (const key of Object.keys(input)) {
    if (key !== 'payload' && key !== 'signatures') throw invalid(`the envelope has an unexpected member ${JSON.stringify(key.slice(0, 64))} (use the General JWS JSON Serialization: {payload, signatures})`);
  }
  const { payload, signatures } = input;
  if (typeof payload !== 'string' || payload === '') throw invalid('the envelope payload must be a base64url string');
  if (payload.length > Math.ceil((maxPayloadBytes * 4) / 3)) throw invalid(`the envelope payload is larger than ${maxPayloadBytes} bytes`);
  if (!Array.isArray(signatures) || signatures.length === 0) throw invalid('the envelope has no signatures');
  if (signatures.length > maxSignatures) throw invalid(`the envelope has more than ${maxSignatures} signatures`);
  signatures.forEach((entry: unknown, index) => {
    if (!isPlainObject(entry)) throw invalid(`signature ${index} must be an object {protected, signature}`);
    for (const key of Object.keys(entry)) {
      // An unprotected header could name a different kid or org without breaking the signature:
      // everything that says who signed must be inside the signed, protected header.
      if (key !== 'protected' && key !== 'signature') throw invalid(`signature ${index} has an unexpected member ${JSON.stringify(key.slice(0, 64))} (only a protected header is accepted)`);
    }
    if (typeof entry.protected !== 'string' || typeof entry.signature !== 'string') {
      throw invalid(`signature ${index} must have string members protected and signature`);
    }
  });

  const bytes = decodeBase64url(payload, 'the envelope payload');
  const document = parseJsonBytes(bytes, 'the envelope payload');
  if (!isPlainObject(document)) throw invalid('the envelope payload is not a JSON object');
  const text = bytes.toString('utf8');
  if (canonicalJson(document) !== text) throw invalid('the envelope payload is not the RFC 8785 canonical form of the document');

  return {
    envelope: { payload, signatures: (signatures as EnvelopeSignatureEntry[]).map((s) => ({ protected: s.protected, signature: s.signature })) },
    document,
    canonicalText: text,
    payloadHash: payloadHash(text),
  };
}

/** The protected headers of an envelope's signatures, read without verifying them (for display). */
export function signaturesOf(envelope: AgreementEnvelope): { org: string; kid: string; alg: string }[] {
  return envelope.signatures.map((entry) => {
    const header = parseJsonBytes(Buffer.from(entry.protected, 'base64url'), 'a protected header') as Record<string, unknown>;
    return { org: String(header.org), kid: String(header.kid), alg: String(header.alg) };
  });
}
