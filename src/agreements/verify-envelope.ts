import { AccordError } from '../errors.js';
import { decodeEnvelope, type AgreementEnvelope } from './agreement-envelope.js';
import type { KeyLookup } from './key-lookup.js';
import { verifySignatureEntry, type VerifiedSignature } from './verify-signature-entry.js';

export interface VerifyEnvelopeOptions {
  readonly keyFor: KeyLookup;
}

export interface VerifiedEnvelope {
  /** The envelope as received (normalised to its two members). */
  readonly envelope: AgreementEnvelope;
  /** The document the payload carries: signed by every party, but not validated here. */
  readonly document: Record<string, unknown>;
  /** Hex SHA-256 of the canonical payload. */
  readonly payloadHash: string;
  /** Every signature, in envelope order; each one verified. */
  readonly signatures: readonly VerifiedSignature[];
}

function partiesOf(document: Record<string, unknown>): { provider: string; recipients: string[] } {
  const { provider, recipients } = document;
  if (typeof provider !== 'string' || !Array.isArray(recipients)) {
    throw new AccordError('INVALID_AGREEMENT', 'the envelope payload is not an agreement: it names no provider and recipients');
  }
  const orgs = recipients.map((r: unknown) => (typeof r === 'object' && r !== null ? (r as { org?: unknown }).org : undefined));
  if (!orgs.every((org): org is string => typeof org === 'string')) {
    throw new AccordError('INVALID_AGREEMENT', 'the envelope payload is not an agreement: a recipient has no org');
  }
  return { provider, recipients: orgs };
}

/**
 * Verifies a signed agreement envelope (CONTRACT §3). Every signature entry is verified on its
 * own (jose's `generalVerify` returns at the first entry that verifies, which would let a forged
 * entry ride along with one good one); any entry that is malformed, uses a refused algorithm,
 * names an unknown organisation or key, or does not verify rejects the whole envelope. Then the
 * provider and every recipient must each have at least one verified signature, and no one else
 * may have signed. The payload must be the RFC 8785 form of the document.
 *
 * Throws `AccordError('INVALID_AGREEMENT')` naming the problem.
 */
export async function verifyEnvelope(envelope: unknown, options: VerifyEnvelopeOptions): Promise<VerifiedEnvelope> {
  const decoded = decodeEnvelope(envelope);
  const { provider, recipients } = partiesOf(decoded.document);
  const parties = new Set([provider, ...recipients]);

  const signatures: VerifiedSignature[] = [];
  for (const [index, entry] of decoded.envelope.signatures.entries()) {
    const signer = await verifySignatureEntry({ payload: decoded.envelope.payload, ...entry }, options.keyFor, `signature ${index}`);
    if (!parties.has(signer.org)) {
      throw new AccordError('INVALID_AGREEMENT', `signature ${index} is by ${signer.org}, which is not a party to the agreement`);
    }
    signatures.push(signer);
  }

  const signed = new Set(signatures.map((s) => s.org));
  if (!signed.has(provider)) throw new AccordError('INVALID_AGREEMENT', `no valid signature from provider ${provider}`);
  for (const recipient of recipients) {
    if (!signed.has(recipient)) throw new AccordError('INVALID_AGREEMENT', `no valid signature from recipient ${recipient}`);
  }
  return { envelope: decoded.envelope, document: decoded.document, payloadHash: decoded.payloadHash, signatures };
}
