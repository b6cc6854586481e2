import { and, asc, desc, eq, inArray, or, sql } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import { tables, databaseErrorOf, type Db, type Tx } from '../db/index.js';
import { AccordError } from '../errors.js';
import type { AgreementDocument } from './agreement-document.js';
import { decodeEnvelope, signaturesOf, type AgreementEnvelope } from './agreement-envelope.js';
import { statusesOfVersions, type AgreementStatus } from './agreement-status.js';
import { orgIdPattern } from './formats.js';
import type { KeyLookup } from './key-lookup.js';
import { verifyRevocation } from './revocation.js';
import { validateAgreement } from './validate-agreement.js';
import { verifyEnvelope } from './verify-envelope.js';

/** One stored agreement version with its status at the store's clock. */
export interface StoredAgreement {
  readonly id: string;
  readonly version: number;
  readonly title: string;
  readonly provider: string;
  /** Recipient organisation ids, in document order. */
  readonly recipients: readonly string[];
  readonly document: AgreementDocument;
  /** The envelope exactly as submitted, so anyone can re-verify it. */
  readonly envelope: AgreementEnvelope;
  readonly payloadHash: string;
  /** Signers as the envelope's protected headers name them (all verified on submission). */
  readonly signatures: readonly { readonly org: string; readonly kid: string; readonly alg: string }[];
  readonly validFrom: Date;
  readonly validUntil: Date;
  readonly reviewBy: string | null;
  readonly submittedAt: Date;
  readonly submittedBy: string;
  readonly revokedAt: Date | null;
  readonly revokedBy: string | null;
  readonly revocationReason: string | null;
  /** The revocation compact JWS as received. */
  readonly revocation: string | null;
  readonly status: AgreementStatus;
}

export interface AgreementStore {
  /**
   * Validates the document, verifies every signature and stores the agreement version. Refuses a
   * version that exists already or is not higher than the highest stored version of that id, and
   * a new version whose provider differs from the earlier versions'. Bumps the `agreements`
   * generation in the same transaction so every hub instance reloads at its next request.
   */
  submit(envelope: unknown, submittedBy: string, afterWrite?: AfterAgreementWrite): Promise<StoredAgreement>;
  /** Applies a revocation signed by the provider or a recipient of that version. */
  revoke(revocation: unknown, afterWrite?: AfterAgreementWrite): Promise<StoredAgreement>;
  /** Agreement versions the party is provider or recipient of (all without `party`), highest version first per id. */
  list(filter?: { readonly party?: string | undefined; readonly status?: AgreementStatus | undefined }): Promise<StoredAgreement[]>;
  /** One version, or the highest version when `version` is omitted. */
  get(id: string, version?: number): Promise<StoredAgreement | undefined>;
}

/** The agreement version a submission or revocation wrote, as its audit event cites it. */
export interface WrittenAgreement {
  readonly id: string;
  readonly version: number;
  readonly payloadHash: string;
  readonly provider: string;
  readonly title: string;
  /** For a revocation: the verified revoking party and its reason. */
  readonly revocation?: { readonly by: string; readonly reason: string };
}

/**
 * Runs inside the write's transaction, after the agreement row is written: if it throws, the
 * submission or revocation is rolled back. Lets its audit event commit together with it.
 */
export type AfterAgreementWrite = (tx: Tx, written: WrittenAgreement) => Promise<void>;

export interface AgreementStoreOptions {
  readonly clock: Clock;
  readonly keyFor: KeyLookup;
}

type AgreementRow = typeof tables.agreements.$inferSelect;

/** How far in the future a revocation's `at` may be (clock skew between parties and hub). */
const revocationFutureSkewMs = 5 * 60 * 1000;

function isPartyTo(row: Pick<AgreementRow, 'provider' | 'document'>, org: string): boolean {
  const document = row.document as unknown as AgreementDocument;
  return row.provider === org || document.recipients.some((r) => r.org === org);
}

/** Agreement storage and lifecycle over the `agreements` table (CONTRACT §3). */
export function createAgreementStore(db: Db, options: AgreementStoreOptions): AgreementStore {
  const { clock, keyFor } = options;

  function toStored(row: AgreementRow, status: AgreementStatus): StoredAgreement {
    const document = row.document as unknown as AgreementDocument;
    const envelope = row.envelope as unknown as AgreementEnvelope;
    return {
      id: row.id,
      version: row.version,
      title: row.title,
      provider: row.provider,
      recipients: document.recipients.map((r) => r.org),
      document,
      envelope,
      payloadHash: row.payloadHash,
      signatures: signaturesOf(envelope),
      validFrom: row.validFrom,
      validUntil: row.validUntil,
      reviewBy: row.reviewBy,
      submittedAt: row.submittedAt,
      submittedBy: row.submittedBy,
      revokedAt: row.revokedAt,
      revokedBy: row.revokedBy,
      revocationReason: row.revocationReason,
      revocation: row.revocation,
      status,
    };
  }

  /** Stored agreements from rows that include every version of each id (status depends on the others). */
  function withStatuses(rows: readonly AgreementRow[]): StoredAgreement[] {
    const now = clock();
    const byId = new Map<string, AgreementRow[]>();
    for (const row of rows) byId.set(row.id, [...(byId.get(row.id) ?? []), row]);
    const result: StoredAgreement[] = [];
    for (const versions of byId.values()) {
      const statuses = statusesOfVersions(versions, now);
      for (const row of versions) {
        const status = statuses.get(row.version);
        if (status === undefined) throw new TypeError(`no status computed for ${row.id} v${row.version}`);
        result.push(toStored(row, status));
      }
    }
    return result;
  }

  async function registeredAmong(document: Record<string, unknown>): Promise<Set<string>> {
    const candidates = new Set<string>();
    if (typeof document.provider === 'string') candidates.add(document.provider);
    if (Array.isArray(document.recipients)) {
      for (const r of document.recipients as unknown[]) {
        const org = typeof r === 'object' && r !== null ? (r as { org?: unknown }).org : undefined;
        if (typeof org === 'string') candidates.add(org);
      }
    }
    const ids = [...candidates].filter((id) => orgIdPattern.test(id));
    if (ids.length === 0) return new Set();
    const rows = await db.select({ id: tables.organisations.id }).from(tables.organisations).where(inArray(tables.organisations.id, ids));
    return new Set(rows.map((r) => r.id));
  }

  async function versionsOf(id: string): Promise<AgreementRow[]> {
    return await db.select().from(tables.agreements).where(eq(tables.agreements.id, id)).orderBy(desc(tables.agreements.version));
  }

  async function bumpGeneration(tx: Pick<Db, 'update'>): Promise<void> {
    // Also serialises submissions and revocations: the row lock is held to the end of the
    // transaction, so two submissions cannot both pass the version check.
    await tx
      .update(tables.hubState)
      .set({ generation: sql`${tables.hubState.generation} + 1` })
      .where(eq(tables.hubState.key, 'agreements'));
  }

  return {
    async submit(envelope, submittedBy, afterWrite) {
      // Validate first so a draft's problems are all reported together, then check signatures.
      const decoded = decodeEnvelope(envelope);
      const registered = await registeredAmong(decoded.document);
      const document = validateAgreement(decoded.document, { isRegisteredOrg: (id) => registered.has(id) });
      const verified = await verifyEnvelope(decoded.envelope, { keyFor });

      try {
        await db.transaction(async (tx) => {
          await bumpGeneration(tx);
          const existing = await tx
            .select({ version: tables.agreements.version, provider: tables.agreements.provider, document: tables.agreements.document })
            .from(tables.agreements)
            .where(eq(tables.agreements.id, document.id))
            .orderBy(desc(tables.agreements.version));
          const highest = existing[0];
          // Only the provider can supersede its agreement: otherwise any two organisations could
          // sign a "version 99" of someone else's agreement and so switch it off. Checked first,
          // and answered in two ways: a submitter that is party to an earlier version knows that
          // provider and is told it; any other is told only that the id is taken. The refusal
          // goes to the caller and into an audit event its DPO reads, and a non-party may not
          // learn that agreement's provider, title, recipients or versions (`agreement(id)`
          // answers it null).
          if (highest !== undefined && highest.provider !== document.provider) {
            if (!existing.some((row) => isPartyTo(row, submittedBy))) {
              throw new AccordError('INVALID_AGREEMENT', `the agreement id ${document.id} is already used by an agreement ${submittedBy} is not a party to: choose another id`);
            }
            throw new AccordError('INVALID_AGREEMENT', `agreement ${document.id} belongs to provider ${highest.provider}: a new version must keep that provider`);
          }
          // From here the stored agreement's provider signed this envelope, which names the
          // submitter as a party: it may know that the agreement exists and where its versions are.
          if (existing.some((row) => row.version === document.version)) {
            throw new AccordError('INVALID_AGREEMENT', `agreement ${document.id} version ${document.version} already exists`);
          }
          if (highest !== undefined && document.version < highest.version) {
            throw new AccordError('INVALID_AGREEMENT', `agreement ${document.id} version ${document.version} is not higher than the stored version ${highest.version}`);
          }
          await tx.insert(tables.agreements).values({
            id: document.id,
            version: document.version,
            provider: document.provider,
            title: document.title,
            document: document as unknown as Record<string, unknown>,
            envelope: verified.envelope as unknown as Record<string, unknown>,
            payloadHash: verified.payloadHash,
            validFrom: new Date(document.validFrom),
            validUntil: new Date(document.validUntil),
            reviewBy: document.reviewBy ?? null,
            submittedAt: clock(),
            submittedBy,
          });
          await afterWrite?.(tx, { id: document.id, version: document.version, payloadHash: verified.payloadHash, provider: document.provider, title: document.title });
        });
      } catch (error) {
        // A concurrent submission of the same version on another instance.
        if (databaseErrorOf(error)?.code === '23505') {
          // Said without naming the other submission: it may be another partnership's agreement.
          throw new AccordError('INVALID_AGREEMENT', `agreement ${document.id} version ${document.version} was taken by another submission at the same moment: nothing was stored`, { cause: error });
        }
        throw error;
      }
      const stored = withStatuses(await versionsOf(document.id)).find((a) => a.version === document.version);
      if (stored === undefined) throw new Error(`agreement ${document.id} v${document.version} vanished after insert`);
      return stored;
    },

    async revoke(revocation, afterWrite) {
      const claims = await verifyRevocation(revocation, { keyFor });
      const now = clock();
      if (Date.parse(claims.at) > now.getTime() + revocationFutureSkewMs) {
        throw new AccordError('INVALID_AGREEMENT', 'the revocation is dated in the future');
      }
      await db.transaction(async (tx) => {
        await bumpGeneration(tx);
        const [row] = await tx
          .select()
          .from(tables.agreements)
          .where(and(eq(tables.agreements.id, claims.agreement), eq(tables.agreements.version, claims.version)));
        if (row === undefined) throw new AccordError('INVALID_AGREEMENT', `agreement ${claims.agreement} version ${claims.version} does not exist`);
        if (!isPartyTo(row, claims.org)) {
          throw new AccordError('INVALID_AGREEMENT', `${claims.org} is not a party to agreement ${claims.agreement} version ${claims.version} and cannot revoke it`);
        }
        if (row.revokedAt !== null) throw new AccordError('INVALID_AGREEMENT', `agreement ${claims.agreement} version ${claims.version} is already revoked`);
        await tx
          .update(tables.agreements)
          .set({ revokedAt: now, revokedBy: claims.org, revocationReason: claims.reason, revocation: revocation as string })
          .where(and(eq(tables.agreements.id, claims.agreement), eq(tables.agreements.version, claims.version)));
        await afterWrite?.(tx, { id: row.id, version: row.version, payloadHash: row.payloadHash, provider: row.provider, title: row.title, revocation: { by: claims.org, reason: claims.reason } });
      });
      const stored = withStatuses(await versionsOf(claims.agreement)).find((a) => a.version === claims.version);
      if (stored === undefined) throw new Error(`agreement ${claims.agreement} v${claims.version} vanished after revocation`);
      return stored;
    },

    async list(filter = {}) {
      const { party, status } = filter;
      const t = tables.agreements;
      const rows =
        party === undefined
          ? await db.select().from(t).orderBy(asc(t.id), desc(t.version))
          : await db
              .select()
              .from(t)
              .where(
                inArray(
                  t.id,
                  db
                    .select({ id: t.id })
                    .from(t)
                    .where(or(eq(t.provider, party), sql`${t.document} -> 'recipients' @> ${JSON.stringify([{ org: party }])}::jsonb`)),
                ),
              )
              .orderBy(asc(t.id), desc(t.version));
      const stored = withStatuses(rows);
      return stored.filter((a) => {
        if (party !== undefined && a.provider !== party && !a.recipients.includes(party)) return false;
        return status === undefined || a.status === status;
      });
    },

    async get(id, version) {
      const all = withStatuses(await versionsOf(id));
      if (version === undefined) return all.reduce<StoredAgreement | undefined>((best, a) => (best === undefined || a.version > best.version ? a : best), undefined);
      return all.find((a) => a.version === version);
    },
  };
}
