import { eq } from 'drizzle-orm';
import { importJWK } from 'jose';
import type { Db } from '../db/index.js';
import { tables } from '../db/index.js';
import { algorithmsForKey, defaultAlgorithmForKey, type SigningAlgorithm } from './signing-algorithms.js';
import type { PublicJwk } from './validate-public-jwks.js';

export interface KeyLookupOptions {
  /** The algorithm the key will verify (a token's `alg`); a key that cannot serve it is not returned. */
  readonly alg?: SigningAlgorithm;
  /**
   * Also return retired keys. Only for signatures made in the past (agreements, revocations);
   * caller tokens are verified with active keys only, so a rotated-out key cannot log in.
   */
  readonly includeRetired?: boolean;
}

/** Organisations' public keys, imported once and cached until the `organisations` generation moves. */
export interface OrganisationKeyStore {
  /**
   * Reads the `organisations` generation (one small query) and reloads the keys when another
   * instance or the CLI changed them. The request pipeline calls this once per request; the
   * lookups below then cost no database round trip.
   */
  refresh(): Promise<void>;
  /** Whether an organisation with this id is registered (as of the last refresh). */
  hasOrganisation(org: string): Promise<boolean>;
  /** The imported verification key, or `undefined` when the organisation has no such (active) key. */
  getKey(org: string, kid: string, options?: KeyLookupOptions): Promise<CryptoKey | undefined>;
  /** The generation the cache reflects; `undefined` before the first load. */
  readonly generation: number | undefined;
}

interface CachedKey {
  readonly jwk: PublicJwk;
  readonly retired: boolean;
  /** Imports per algorithm: WebCrypto binds a key to one algorithm (RSA-PSS vs PKCS#1 v1.5). */
  readonly imported: Map<SigningAlgorithm, Promise<CryptoKey>>;
}

interface Snapshot {
  readonly generation: number;
  readonly organisations: ReadonlyMap<string, ReadonlyMap<string, CachedKey>>;
}

/**
 * A key store over the organisations tables. Every key of every organisation is loaded at once
 * (a partnership has tens of organisations, each with a few keys), so a token naming an unknown
 * organisation or kid is answered from memory and cannot make the hub query the database.
 */
export function createOrganisationKeyStore(db: Db): OrganisationKeyStore {
  let snapshot: Snapshot | undefined;
  let inFlight: Promise<void> | undefined;

  async function load(): Promise<void> {
    // Generation first, rows second: a change committed in between makes the next refresh
    // reload again, never leaves the cache older than the generation it records.
    const state = await db.select({ generation: tables.hubState.generation }).from(tables.hubState).where(eq(tables.hubState.key, 'organisations'));
    const generation = state[0]?.generation ?? 0;
    if (snapshot !== undefined && snapshot.generation === generation) return;

    const orgRows = await db.select({ id: tables.organisations.id }).from(tables.organisations);
    const keyRows = await db.select().from(tables.organisationKeys);
    const previous = snapshot;
    const organisations = new Map<string, Map<string, CachedKey>>(orgRows.map((row) => [row.id, new Map()]));
    for (const row of keyRows) {
      const jwk = row.jwk as PublicJwk;
      const before = previous?.organisations.get(row.orgId)?.get(row.kid);
      // Reuse imports of unchanged keys so a rotation elsewhere does not re-import everything.
      const imported = before !== undefined && JSON.stringify(before.jwk) === JSON.stringify(jwk) ? before.imported : new Map();
      organisations.get(row.orgId)?.set(row.kid, { jwk, retired: row.retiredAt !== null, imported });
    }
    snapshot = { generation, organisations };
  }

  function refresh(): Promise<void> {
    inFlight ??= load().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  async function current(): Promise<Snapshot> {
    if (snapshot === undefined) await refresh();
    return snapshot as Snapshot;
  }

  return {
    refresh,
    get generation() {
      return snapshot?.generation;
    },
    async hasOrganisation(org) {
      return (await current()).organisations.has(org);
    },
    async getKey(org, kid, options = {}) {
      const cached = (await current()).organisations.get(org)?.get(kid);
      if (cached === undefined) return undefined;
      if (cached.retired && options.includeRetired !== true) return undefined;
      const alg = options.alg ?? defaultAlgorithmForKey(cached.jwk);
      if (alg === undefined || !algorithmsForKey(cached.jwk).includes(alg)) return undefined;
      let imported = cached.imported.get(alg);
      if (imported === undefined) {
        imported = importJWK(cached.jwk, alg) as Promise<CryptoKey>;
        cached.imported.set(alg, imported);
        // Registration validated the key; should an import still fail, do not cache the failure.
        imported.catch(() => cached.imported.delete(alg));
      }
      return await imported.catch(() => undefined);
    },
  };
}
