import { asc } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { tables } from '../db/index.js';
import type { OrganisationKeyStore } from './key-store.js';
import type { OrganisationKind } from './organisations.js';

/** What the GraphQL `Organisation` type shows: no keys. */
export interface OrganisationSummary {
  readonly id: string;
  readonly name: string;
  readonly kind: OrganisationKind;
}

/** Names and kinds of the registered organisations, for `organisations` and every record's `owner`. */
/** An organisation's own request rate, when the operator set one (`accord org limits`). */
export interface OrganisationRateLimit {
  readonly perSecond?: number;
  readonly burst?: number;
}

export interface OrganisationDirectory {
  get(id: string): Promise<OrganisationSummary | undefined>;
  /**
   * The organisation's own rate limit as of the last load (synchronous: the rate limiter asks on
   * every request); undefined means the hub's defaults.
   */
  rateLimitOf(id: string): OrganisationRateLimit | undefined;
  /** Ordered by id. */
  list(): Promise<readonly OrganisationSummary[]>;
}

/**
 * A directory cached alongside the key store: it reloads only when the key store's
 * `organisations` generation (refreshed once per request by the pipeline) has moved, so resolving
 * the owner of a thousand records costs no query.
 */
export function createOrganisationDirectory(db: Db, keys: Pick<OrganisationKeyStore, 'generation'>): OrganisationDirectory {
  let cached:
    | {
        generation: number | undefined;
        list: readonly OrganisationSummary[];
        byId: ReadonlyMap<string, OrganisationSummary>;
        rateLimits: ReadonlyMap<string, OrganisationRateLimit>;
      }
    | undefined;
  let inFlight: Promise<NonNullable<typeof cached>> | undefined;

  async function load(generation: number | undefined) {
    const rows = await db
      .select({
        id: tables.organisations.id,
        name: tables.organisations.name,
        kind: tables.organisations.kind,
        perSecond: tables.organisations.rateLimitPerSecond,
        burst: tables.organisations.rateLimitBurst,
      })
      .from(tables.organisations)
      .orderBy(asc(tables.organisations.id));
    const list = Object.freeze(rows.map((row) => Object.freeze({ id: row.id, name: row.name, kind: row.kind as OrganisationKind })));
    const rateLimits = new Map<string, OrganisationRateLimit>();
    for (const row of rows) {
      if (row.perSecond !== null || row.burst !== null) {
        rateLimits.set(row.id, { ...(row.perSecond === null ? {} : { perSecond: row.perSecond }), ...(row.burst === null ? {} : { burst: row.burst }) });
      }
    }
    return { generation, list, byId: new Map(list.map((org) => [org.id, org])), rateLimits };
  }

  async function current() {
    const generation = keys.generation;
    // Before the key store's first load there is no generation to trust: always read.
    if (cached !== undefined && generation !== undefined && cached.generation === generation) return cached;
    inFlight ??= load(generation).finally(() => {
      inFlight = undefined;
    });
    cached = await inFlight;
    return cached;
  }

  return {
    async get(id) {
      return (await current()).byId.get(id);
    },
    async list() {
      return (await current()).list;
    },
    rateLimitOf(id) {
      return cached?.rateLimits.get(id);
    },
  };
}
