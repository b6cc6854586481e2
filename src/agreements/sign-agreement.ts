import { GeneralSign, type JWK } from 'jose';
import { AccordError } from '../errors.js';
import { canonicalBytes } from './canonical.js';
import { decodeEnvelope, type AgreementEnvelope } from './agreement-envelope.js';
import { importPrivateSigningKey } from './import-private-signing-key.js';
import { orgIdPattern } from './formats.js';

export interface SignAgreementOptions {
  /** The agreement document (signed as its RFC 8785 canonical form). */
  readonly document: unknown;
  /** An envelope other parties already signed: the new signature is added to it. */
  readonly envelope?: AgreementEnvelope | undefined;
  /** The signing organisation, written into the protected header. */
  readonly org: string;
  /** The organisation's private JWK (with `kid`; `alg` unless it follows from the curve). */
  readonly privateJwk: JWK;
}

/**
 * Signs an agreement for one party and returns the General JWS envelope: a new one, or `envelope`
 * with this signature added (replacing an earlier one by the same org and kid). Signing does not
 * validate the document against the hub's registry: the hub does that on submission.
 */
export async function signAgreement(options: SignAgreementOptions): Promise<AgreementEnvelope> {
  const { org, privateJwk } = options;
  if (!orgIdPattern.test(org)) throw new AccordError('BAD_USER_INPUT', `organisation id must match ${orgIdPattern.source}`);
  let payload: Uint8Array;
  try {
    payload = canonicalBytes(options.document);
  } catch (error) {
    throw new AccordError('BAD_USER_INPUT', 'the agreement document is not JSON', { cause: error });
  }

  let existing: AgreementEnvelope | undefined;
  if (options.envelope !== undefined) {
    existing = decodeEnvelope(options.envelope).envelope;
    if (existing.payload !== Buffer.from(payload).toString('base64url')) {
      throw new AccordError('BAD_USER_INPUT', 'the envelope was signed over a different document: every party must sign the same document');
    }
  }

  const { alg, kid, key } = await importPrivateSigningKey(privateJwk);
  const signed = await new GeneralSign(payload).addSignature(key).setProtectedHeader({ alg, kid, org }).sign();
  const [signature] = signed.signatures;
  if (signature?.protected === undefined) throw new TypeError('jose returned no protected header');
  const entry = { protected: signature.protected, signature: signature.signature };

  const others = (existing?.signatures ?? []).filter((s) => {
    const header = JSON.parse(Buffer.from(s.protected, 'base64url').toString('utf8')) as { org?: unknown; kid?: unknown };
    return !(header.org === org && header.kid === kid);
  });
  return { payload: signed.payload, signatures: [...others, entry] };
}
