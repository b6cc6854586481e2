import { CompactSign, GeneralSign, importJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  canonicalJson,
  payloadHash,
  signAgreement,
  signRevocation,
  verifyEnvelope,
  verifyRevocation,
  type AgreementEnvelope,
} from '../../src/agreements/index.js';
import { AccordError } from '../../src/errors.js';
import { createPartnership, exampleDocument, signedBy, type OrgKey, type Partnership } from './fixtures.js';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

async function rejection(promise: Promise<unknown>): Promise<AccordError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AccordError);
  expect((error as AccordError).code).toBe('INVALID_AGREEMENT');
  return error as AccordError;
}

/** A raw signature entry with any header, made with jose directly (what an attacker could send). */
async function rawSignature(payload: Uint8Array, key: OrgKey, header: Record<string, unknown>, alg = String(key.privateJwk.alg)) {
  const signed = await new GeneralSign(payload).addSignature(await importJWK(key.privateJwk, alg)).setProtectedHeader({ alg, ...header }).sign();
  const [entry] = signed.signatures;
  return { protected: entry?.protected as string, signature: entry?.signature as string };
}

describe('agreement envelopes', () => {
  let p: Partnership;
  let document: Record<string, unknown>;
  let good: AgreementEnvelope;
  let payload: Uint8Array;

  beforeAll(async () => {
    p = await createPartnership();
    document = exampleDocument();
    good = await signedBy(document, p.kc, p.westminster, p.met);
    payload = new TextEncoder().encode(canonicalJson(document));
  });

  it('verifies when the provider and every recipient signed, and reports each signer', async () => {
    const verified = await verifyEnvelope(good, { keyFor: p.keyFor });
    expect(verified.document).toEqual(document);
    expect(verified.payloadHash).toBe(payloadHash(canonicalJson(document)));
    expect(verified.payloadHash).toMatch(/^[0-9a-f]{64}$/);
    expect(verified.signatures).toEqual([
      { org: 'kensington-chelsea', kid: 'kensington-chelsea-1', alg: 'EdDSA' },
      { org: 'westminster', kid: 'westminster-1', alg: 'ES256' },
      { org: 'met-police', kid: 'met-police-1', alg: 'PS256' },
    ]);
  });

  it('signs the RFC 8785 form: key order of the source document does not matter', async () => {
    const reordered = Object.fromEntries(Object.entries(document).reverse());
    const envelope = await signAgreement({ document: reordered, org: p.kc.org, privateJwk: p.kc.privateJwk });
    expect(envelope.payload).toBe(good.payload);
  });

  it('adds a signature to an existing envelope and replaces a repeated one by the same key', async () => {
    const once = await signedBy(document, p.kc);
    const twice = await signAgreement({ document, envelope: once, org: p.kc.org, privateJwk: p.kc.privateJwk });
    expect(twice.signatures).toHaveLength(1);
    const both = await signAgreement({ document, envelope: once, org: p.westminster.org, privateJwk: p.westminster.privateJwk });
    expect(both.signatures).toHaveLength(2);
  });

  it('refuses to add a signature over a different document', async () => {
    const once = await signedBy(document, p.kc);
    const error = await signAgreement({ document: exampleDocument({ version: 2 }), envelope: once, org: p.met.org, privateJwk: p.met.privateJwk }).catch((e: unknown) => e);
    expect((error as AccordError).code).toBe('BAD_USER_INPUT');
    expect((error as Error).message).toMatch(/different document/);
  });

  it('rejects an altered payload', async () => {
    const altered = { ...good, payload: b64(canonicalJson(exampleDocument({ title: 'Something else' }))) };
    const error = await rejection(verifyEnvelope(altered, { keyFor: p.keyFor }));
    expect(error.message).toMatch(/signature 0 .*does not verify/);
  });

  it('rejects a missing recipient signature, naming the party', async () => {
    const error = await rejection(verifyEnvelope(await signedBy(document, p.kc, p.westminster), { keyFor: p.keyFor }));
    expect(error.message).toBe('no valid signature from recipient met-police');
  });

  it('rejects a missing provider signature', async () => {
    const error = await rejection(verifyEnvelope(await signedBy(document, p.westminster, p.met), { keyFor: p.keyFor }));
    expect(error.message).toBe('no valid signature from provider kensington-chelsea');
  });

  it('rejects a signature made with another org key under the wrong org (the key is not registered for that org)', async () => {
    // met-police's key, header claiming westminster with met-police's kid.
    const forged = await rawSignature(payload, p.met, { kid: p.met.kid, org: 'westminster' });
    const envelope = { payload: good.payload, signatures: [good.signatures[0], forged, good.signatures[2]] };
    const error = await rejection(verifyEnvelope(envelope, { keyFor: p.keyFor }));
    expect(error.message).toMatch(/organisation westminster has no registered key "met-police-1"/);
  });

  it("rejects a signature by another org's key under the victim's real kid", async () => {
    const forged = await rawSignature(payload, p.camden, { kid: p.westminster.kid, org: 'westminster' }, 'ES256'.replace('256', '384'));
    const envelope = { payload: good.payload, signatures: [good.signatures[0], forged, good.signatures[2]] };
    const error = await rejection(verifyEnvelope(envelope, { keyFor: p.keyFor }));
    expect(error.message).toMatch(/signature 1/);
  });

  it('rejects the whole envelope when one extra signature is bad, even if every party also signed validly', async () => {
    const bad = { ...good.signatures[1]!, signature: good.signatures[2]!.signature };
    const envelope = { payload: good.payload, signatures: [...good.signatures, bad] };
    const error = await rejection(verifyEnvelope(envelope, { keyFor: p.keyFor }));
    expect(error.message).toMatch(/signature 3 \(organisation westminster/);
  });

  it('rejects an unknown kid', async () => {
    const unknown = await rawSignature(payload, p.met, { kid: 'met-police-9', org: 'met-police' });
    const error = await rejection(verifyEnvelope({ payload: good.payload, signatures: [...good.signatures, unknown] }, { keyFor: p.keyFor }));
    expect(error.message).toMatch(/no registered key "met-police-9"/);
  });

  it('rejects a valid signature by an organisation that is not a party', async () => {
    const outsider = await rawSignature(payload, p.camden, { kid: p.camden.kid, org: 'camden' });
    const error = await rejection(verifyEnvelope({ payload: good.payload, signatures: [...good.signatures, outsider] }, { keyFor: p.keyFor }));
    expect(error.message).toMatch(/camden, which is not a party/);
  });

  it.each([
    ['none', { alg: 'none', kid: 'westminster-1', org: 'westminster' }],
    ['HS256', { alg: 'HS256', kid: 'westminster-1', org: 'westminster' }],
    ['RS384 (not on the list)', { alg: 'RS384', kid: 'westminster-1', org: 'westminster' }],
  ])('rejects alg %s before looking up any key for that signature', async (name, header) => {
    const lookups: string[] = [];
    const entry = { protected: b64(header), signature: name === 'none' ? '' : Buffer.from('x'.repeat(32)).toString('base64url') };
    const error = await rejection(
      verifyEnvelope({ payload: good.payload, signatures: [good.signatures[0], entry, good.signatures[2]] }, {
        keyFor: (org, kid, alg) => {
          lookups.push(`${org}/${kid}/${alg}`);
          return p.keyFor(org, kid, alg);
        },
      }),
    );
    expect(error.message).toMatch(/signature 1 uses an algorithm that is not accepted/);
    // Only signature 0 (the provider's, checked first) reached the key lookup: the refused
    // algorithm stopped signature 1 before any key was fetched for it, and nothing after it ran.
    expect(lookups).toEqual(['kensington-chelsea/kensington-chelsea-1/EdDSA']);
  });

  it('rejects an HMAC signature keyed with the public key (algorithm confusion)', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(p.westminster.publicJwk));
    const signed = await new GeneralSign(payload).addSignature(secret).setProtectedHeader({ alg: 'HS256', kid: 'westminster-1', org: 'westminster' }).sign();
    const envelope = { payload: good.payload, signatures: [good.signatures[0], signed.signatures[0], good.signatures[2]] };
    const error = await rejection(verifyEnvelope(envelope, { keyFor: p.keyFor }));
    expect(error.message).toMatch(/algorithm that is not accepted/);
  });

  it('rejects a header alg that does not match the registered key type', async () => {
    const entry = await rawSignature(payload, p.westminster, { kid: p.westminster.kid, org: 'westminster', alg: 'ES256' });
    const relabelled = { ...entry, protected: b64({ alg: 'ES384', kid: 'westminster-1', org: 'westminster' }) };
    const error = await rejection(verifyEnvelope({ payload: good.payload, signatures: [good.signatures[0], relabelled, good.signatures[2]] }, { keyFor: p.keyFor }));
    expect(error.message).toMatch(/signature 1/);
  });

  it('rejects a non-canonical payload even when every party signed it', async () => {
    const pretty = new TextEncoder().encode(JSON.stringify(document, null, 2));
    const entries = await Promise.all([p.kc, p.westminster, p.met].map((k) => rawSignature(pretty, k, { kid: k.kid, org: k.org })));
    const error = await rejection(verifyEnvelope({ payload: Buffer.from(pretty).toString('base64url'), signatures: entries }, { keyFor: p.keyFor }));
    expect(error.message).toMatch(/not the RFC 8785 canonical form/);
  });

  it('rejects a payload with duplicate keys (ambiguous JSON)', async () => {
    const text = canonicalJson(document).replace('{', '{"id":"other",');
    const bytes = new TextEncoder().encode(text);
    const entries = await Promise.all([p.kc, p.westminster, p.met].map((k) => rawSignature(bytes, k, { kid: k.kid, org: k.org })));
    await rejection(verifyEnvelope({ payload: Buffer.from(bytes).toString('base64url'), signatures: entries }, { keyFor: p.keyFor }));
  });

  it.each<[string, unknown, RegExp]>([
    ['a string', 'eyJ...', /JWS JSON object/],
    ['a flattened JWS', { payload: 'e30', protected: 'e30', signature: '' }, /unexpected member "protected"/],
    ['no signatures', { payload: 'e30', signatures: [] }, /no signatures/],
    ['an unprotected header', { payload: 'e30', signatures: [{ protected: 'e30', signature: 'AA', header: { kid: 'x' } }] }, /only a protected header/],
    ['a non-base64url payload', { payload: 'e30=', signatures: [{ protected: 'e30', signature: 'AA' }] }, /not base64url/],
  ])('rejects an envelope that is %s', async (_name, envelope, message) => {
    expect((await rejection(verifyEnvelope(envelope, { keyFor: p.keyFor }))).message).toMatch(message);
  });

  it.each([
    ['crit', { crit: ['b64'], b64: false }],
    ['an embedded jwk', { jwk: { kty: 'OKP' } }],
  ])('rejects a protected header carrying %s', async (_name, extra) => {
    const entry = await rawSignature(payload, p.westminster, { kid: p.westminster.kid, org: 'westminster', ...extra }).catch(() => ({
      protected: b64({ alg: 'ES256', kid: 'westminster-1', org: 'westminster', ...extra }),
      signature: 'AA',
    }));
    const error = await rejection(verifyEnvelope({ payload: good.payload, signatures: [good.signatures[0], entry, good.signatures[2]] }, { keyFor: p.keyFor }));
    expect(error.message).toMatch(/member that is not accepted/);
  });
});

describe('revocations', () => {
  let p: Partnership;
  beforeAll(async () => {
    p = await createPartnership();
  });

  it('round-trips: signed by a party, verified with its registered key', async () => {
    const at = new Date('2026-03-01T10:00:00Z');
    const jws = await signRevocation({ agreement: 'triborough-mash-children', version: 1, reason: 'Partnership ended', at, org: p.met.org, privateJwk: p.met.privateJwk });
    expect(jws.split('.')).toHaveLength(3);
    expect(await verifyRevocation(jws, { keyFor: p.keyFor })).toEqual({
      type: 'accord.revocation/v1',
      agreement: 'triborough-mash-children',
      version: 1,
      reason: 'Partnership ended',
      at: '2026-03-01T10:00:00.000Z',
      org: 'met-police',
      kid: 'met-police-1',
      alg: 'PS256',
    });
  });

  it('rejects a revocation whose header names another org', async () => {
    const claims = { type: 'accord.revocation/v1', agreement: 'a-b', version: 1, reason: 'x', at: '2026-03-01T10:00:00Z' };
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: 'ES384', kid: p.camden.kid, org: 'kensington-chelsea' })
      .sign(await importJWK(p.camden.privateJwk, 'ES384'));
    expect((await rejection(verifyRevocation(jws, { keyFor: p.keyFor }))).message).toMatch(/kensington-chelsea has no registered key/);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['the wrong type', { type: 'accord.isa/v1' }, /type must be/],
    ['no reason', { reason: '' }, /reason/],
    ['a bad version', { version: 0 }, /version/],
    ['a bad time', { at: 'yesterday' }, /RFC 3339/],
  ])('rejects signed claims with %s', async (_name, change, message) => {
    const claims = { type: 'accord.revocation/v1', agreement: 'a-b', version: 1, reason: 'x', at: '2026-03-01T10:00:00Z', ...change };
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: 'EdDSA', kid: p.kc.kid, org: p.kc.org })
      .sign(await importJWK(p.kc.privateJwk, 'EdDSA'));
    expect((await rejection(verifyRevocation(jws, { keyFor: p.keyFor }))).message).toMatch(message);
  });

  it('rejects alg none and a tampered payload', async () => {
    const claims = b64({ type: 'accord.revocation/v1', agreement: 'a-b', version: 1, reason: 'x', at: '2026-03-01T10:00:00Z' });
    await rejection(verifyRevocation(`${b64({ alg: 'none', kid: p.kc.kid, org: p.kc.org })}.${claims}.`, { keyFor: p.keyFor }));
    const jws = await signRevocation({ agreement: 'a-b', version: 1, reason: 'x', at: new Date(), org: p.kc.org, privateJwk: p.kc.privateJwk });
    const [h, , s] = jws.split('.');
    await rejection(verifyRevocation(`${h}.${b64({ type: 'accord.revocation/v1', agreement: 'a-b', version: 2, reason: 'x', at: '2026-03-01T10:00:00Z' })}.${s}`, { keyFor: p.keyFor }));
  });
});
