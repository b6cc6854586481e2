import { and, asc, eq, sql } from 'drizzle-orm';
import { systemClock, type Clock } from '../clock.js';
import type { Db, Tx } from '../db/index.js';
import { tables } from '../db/index.js';
import { AccordError, InputError, type Problem } from '../errors.js';
import { validatePublicJwks, type PublicJwk } from './validate-public-jwks.js';

export const organisationKinds = ['COUNCIL', 'NHS_TRUST', 'POLICE', 'SCHOOL', 'OTHER'] as const;
export type OrganisationKind = (typeof organisationKinds)[number];

/** CONTRACT §2. */
export const organisationIdPattern = /^[a-z0-9][a-z0-9-]{1,62}$/;
const maxNameLength = 200;

export interface OrganisationKey {
  readonly kid: string;
  readonly jwk: PublicJwk;
  readonly addedAt: Date;
  /** Set when a later key set replaced this key: it no longer verifies tokens, but still verifies old signatures. */
  readonly retiredAt: Date | undefined;
}

export interface Organisation {
  readonly id: string;
  readonly name: string;
  readonly kind: OrganisationKind;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Active keys first, then retired ones, each in the order they were added. */
  readonly keys: readonly OrganisationKey[];
}

export interface RegisterOrganisationInput {
  readonly id: unknown;
  readonly name: unknown;
  readonly kind: unknown;
  /** The public JSON Web Key Set, as parsed from the operator's file. */
  readonly jwks: unknown;
}

export function isOrganisationKind(value: unknown): value is OrganisationKind {
  return typeof value === 'string' && (organisationKinds as readonly string[]).includes(value);
}

function idProblems(id: unknown): Problem[] {
  return typeof id === 'string' && organisationIdPattern.test(id)
    ? []
    : [{ path: 'id', reason: 'must be 2-63 lower-case letters, digits or hyphens, starting with a letter or digit' }];
}

/**
 * Every change to organisations or keys bumps this counter in the same transaction, so each hub
 * instance's key cache notices the change on its next request (see key-store.ts).
 */
async function bumpOrganisationsGeneration(tx: Tx): Promise<void> {
  await tx
    .insert(tables.hubState)
    .values({ key: 'organisations', generation: 1 })
    .onConflictDoUpdate({ target: tables.hubState.key, set: { generation: sql`${tables.hubState.generation} + 1` } });
}

/**
 * Registers an organisation with its public key set (`accord org add`). Every problem with the
 * input is reported at once as `BAD_USER_INPUT`, including an id that is already taken.
 */
export async function registerOrganisation(db: Db, input: RegisterOrganisationInput, clock: Clock = systemClock): Promise<Organisation> {
  const problems: Problem[] = idProblems(input.id);
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (name === '' || name.length > maxNameLength) problems.push({ path: 'name', reason: `must be a non-empty string of at most ${maxNameLength} characters` });
  if (!isOrganisationKind(input.kind)) problems.push({ path: 'kind', reason: `must be one of ${organisationKinds.join(', ')}` });
  const { jwks, problems: keyProblems } = await validatePublicJwks(input.jwks);
  problems.push(...keyProblems);
  if (problems.length > 0 || jwks === undefined) throw new InputError('BAD_USER_INPUT', 'invalid organisation', problems);

  const id = input.id as string;
  const kind = input.kind as OrganisationKind;
  const now = clock();
  await db.transaction(async (tx) => {
    const inserted = await tx
      .insert(tables.organisations)
      .values({ id, name, kind, createdAt: now, updatedAt: now })
      .onConflictDoNothing()
      .returning({ id: tables.organisations.id });
    if (inserted.length === 0) {
      throw new InputError('BAD_USER_INPUT', 'invalid organisation', [{ path: 'id', reason: `an organisation with id "${id}" is already registered` }]);
    }
    await tx.insert(tables.organisationKeys).values(jwks.keys.map((jwk) => ({ orgId: id, kid: jwk.kid, jwk, addedAt: now })));
    await bumpOrganisationsGeneration(tx);
  });
  return (await getOrganisation(db, id)) as Organisation;
}

/**
 * Replaces an organisation's active key set (`accord org keys`). Keys absent from the new set are
 * retired, never deleted, so agreement signatures they made stay verifiable. A `kid` is never
 * reused for different key material: a retired signature must always point at the key that made it.
 * A key in the new set that is already registered (same kid, same material) stays or becomes active.
 */
export async function replaceOrganisationKeys(db: Db, id: unknown, jwksInput: unknown, clock: Clock = systemClock): Promise<Organisation> {
  const problems: Problem[] = idProblems(id);
  const { jwks, problems: keyProblems } = await validatePublicJwks(jwksInput);
  problems.push(...keyProblems);
  if (problems.length > 0 || jwks === undefined) throw new InputError('BAD_USER_INPUT', 'invalid key set', problems);
  const orgId = id as string;
  const now = clock();

  await db.transaction(async (tx) => {
    // Row lock: two rotations of one organisation run one after the other.
    const found = await tx.select({ id: tables.organisations.id }).from(tables.organisations).where(eq(tables.organisations.id, orgId)).for('update');
    if (found.length === 0) throw new AccordError('BAD_USER_INPUT', `organisation "${orgId}" is not registered`);

    const existing = await tx.select().from(tables.organisationKeys).where(eq(tables.organisationKeys.orgId, orgId));
    const byKid = new Map(existing.map((row) => [row.kid, row]));
    const conflicts: Problem[] = [];
    for (const [index, jwk] of jwks.keys.entries()) {
      const old = byKid.get(jwk.kid);
      if (old !== undefined && !sameKeyMaterial(old.jwk, jwk)) {
        conflicts.push({ path: `jwks.keys[${index}].kid`, reason: `"${jwk.kid}" already names a different key of this organisation; give the new key a new kid` });
      }
    }
    if (conflicts.length > 0) throw new InputError('BAD_USER_INPUT', 'invalid key set', conflicts);

    const keep = new Set(jwks.keys.map((jwk) => jwk.kid));
    for (const row of existing) {
      if (!keep.has(row.kid) && row.retiredAt === null) {
        await tx.update(tables.organisationKeys).set({ retiredAt: now }).where(and(eq(tables.organisationKeys.orgId, orgId), eq(tables.organisationKeys.kid, row.kid)));
      } else if (keep.has(row.kid) && row.retiredAt !== null) {
        await tx.update(tables.organisationKeys).set({ retiredAt: null }).where(and(eq(tables.organisationKeys.orgId, orgId), eq(tables.organisationKeys.kid, row.kid)));
      }
    }
    const added = jwks.keys.filter((jwk) => !byKid.has(jwk.kid));
    if (added.length > 0) await tx.insert(tables.organisationKeys).values(added.map((jwk) => ({ orgId, kid: jwk.kid, jwk, addedAt: now })));
    await tx.update(tables.organisations).set({ updatedAt: now }).where(eq(tables.organisations.id, orgId));
    await bumpOrganisationsGeneration(tx);
  });
  return (await getOrganisation(db, orgId)) as Organisation;
}

/**
 * Sets (or, with `undefined`, clears) an organisation's own request rate (`accord org limits`).
 * Every hub instance picks it up at its next request through the `organisations` generation.
 */
export async function setOrganisationRateLimit(
  db: Db,
  id: string,
  limit: { perSecond: number | undefined; burst: number | undefined },
  clock: Clock = systemClock,
): Promise<void> {
  const problems: Problem[] = idProblems(id);
  for (const [name, value] of Object.entries(limit)) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > 1_000_000)) problems.push({ path: name, reason: 'must be a whole number from 1 to 1000000' });
  }
  if (problems.length > 0) throw new InputError('BAD_USER_INPUT', 'invalid rate limit', problems);
  await db.transaction(async (tx) => {
    const updated = await tx
      .update(tables.organisations)
      .set({ rateLimitPerSecond: limit.perSecond ?? null, rateLimitBurst: limit.burst ?? null, updatedAt: clock() })
      .where(eq(tables.organisations.id, id))
      .returning({ id: tables.organisations.id });
    if (updated.length === 0) throw new AccordError('BAD_USER_INPUT', `organisation "${id}" is not registered`);
    await bumpOrganisationsGeneration(tx);
  });
}

/** The members that define a public key's material, per key type (RFC 7638 §3.2). */
const materialMembers: Readonly<Record<string, readonly string[]>> = { OKP: ['crv', 'x'], EC: ['crv', 'x', 'y'], RSA: ['e', 'n'] };

function sameKeyMaterial(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  if (a.kty !== b.kty) return false;
  const members = materialMembers[String(a.kty)];
  return members !== undefined && members.every((member) => a[member] === b[member]);
}

type OrganisationRow = typeof tables.organisations.$inferSelect;
type KeyRow = typeof tables.organisationKeys.$inferSelect;

function toOrganisation(row: OrganisationRow, keyRows: readonly KeyRow[]): Organisation {
  const keys = keyRows
    .filter((key) => key.orgId === row.id)
    .map((key) => ({ kid: key.kid, jwk: key.jwk as PublicJwk, addedAt: key.addedAt, retiredAt: key.retiredAt ?? undefined }))
    .sort((a, b) => Number(a.retiredAt !== undefined) - Number(b.retiredAt !== undefined) || a.addedAt.getTime() - b.addedAt.getTime() || a.kid.localeCompare(b.kid));
  return { id: row.id, name: row.name, kind: row.kind as OrganisationKind, createdAt: row.createdAt, updatedAt: row.updatedAt, keys };
}

/** Every registered organisation with all its keys (active and retired), ordered by id. */
export async function listOrganisations(db: Db): Promise<Organisation[]> {
  const rows = await db.select().from(tables.organisations).orderBy(asc(tables.organisations.id));
  const keyRows = await db.select().from(tables.organisationKeys);
  return rows.map((row) => toOrganisation(row, keyRows));
}

/** One organisation with all its keys, or `undefined` when none has this id. */
export async function getOrganisation(db: Db, id: string): Promise<Organisation | undefined> {
  const rows = await db.select().from(tables.organisations).where(eq(tables.organisations.id, id));
  const row = rows[0];
  if (row === undefined) return undefined;
  const keyRows = await db.select().from(tables.organisationKeys).where(eq(tables.organisationKeys.orgId, id));
  return toOrganisation(row, keyRows);
}

/** Only the active keys of an organisation (those that verify caller tokens). */
export function activeKeys(organisation: Organisation): OrganisationKey[] {
  return organisation.keys.filter((key) => key.retiredAt === undefined);
}
