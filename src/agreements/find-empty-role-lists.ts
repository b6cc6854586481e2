import { inArray, sql } from 'drizzle-orm';
import { tables, type Db } from '../db/index.js';
import type { AgreementDocument } from './agreement-document.js';
import { statusesOfVersions, type AgreementStatus } from './agreement-status.js';

/** One stored agreement version whose recipient entry lists `roles: []`. */
export interface EmptyRoleList {
  readonly id: string;
  readonly version: number;
  readonly provider: string;
  /** The recipient organisation whose entry has the empty list. */
  readonly recipient: string;
  readonly status: AgreementStatus;
  /**
   * Whether the parties must act: the version is ACTIVE or PENDING, so its recipient's callers
   * are now refused what an earlier hub released to them. A version that ended (expired,
   * suspended, revoked, superseded) shares nothing either way.
   */
  readonly actionNeeded: boolean;
}

/**
 * Agreement versions stored with a recipient entry whose `roles` is an empty list. Hubs before
 * the rule of CONTRACT §3 ("an empty list is refused, never read as any") accepted such entries
 * and released the scope to every caller of that recipient; the decision index now reads them as
 * matching no role (fail closed). They cannot be repaired in place (the parties signed those
 * exact bytes), so this lists them for the parties to sign a new version: with the roles spelled
 * out, or with `roles` left out to mean any role.
 */
export async function findEmptyRoleLists(db: Db, now: Date): Promise<EmptyRoleList[]> {
  const t = tables.agreements;
  const affected = db
    .selectDistinct({ id: t.id })
    .from(t)
    .where(
      sql`exists (select 1 from jsonb_array_elements(${t.document} -> 'recipients') as r(entry)
        where jsonb_typeof(r.entry -> 'roles') = 'array' and jsonb_array_length(r.entry -> 'roles') = 0)`,
    );
  // Every version of an affected id: a version's status depends on the others (SUPERSEDED).
  const rows = await db
    .select({ id: t.id, version: t.version, provider: t.provider, document: t.document, validFrom: t.validFrom, validUntil: t.validUntil, reviewBy: t.reviewBy, revokedAt: t.revokedAt })
    .from(t)
    .where(inArray(t.id, affected));
  const byId = new Map<string, typeof rows>();
  for (const row of rows) byId.set(row.id, [...(byId.get(row.id) ?? []), row]);
  const found: EmptyRoleList[] = [];
  for (const versions of byId.values()) {
    const statuses = statusesOfVersions(versions, now);
    for (const row of versions) {
      const status = statuses.get(row.version);
      if (status === undefined) throw new TypeError(`no status computed for ${row.id} v${row.version}`);
      const document = row.document as unknown as AgreementDocument;
      for (const recipient of document.recipients) {
        if (recipient.roles === undefined || recipient.roles.length > 0) continue;
        found.push({ id: row.id, version: row.version, provider: row.provider, recipient: recipient.org, status, actionNeeded: status === 'ACTIVE' || status === 'PENDING' });
      }
    }
  }
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return found.sort((a, b) => order(a.id, b.id) || b.version - a.version || order(a.recipient, b.recipient));
}
