/**
 * Recomputes the audit chain and checks every signed checkpoint (`accord audit verify`).
 *
 * Events are streamed in seq order with keyset pagination in large pages, the next page being
 * fetched while the current one is hashed, so memory stays constant and the database and the
 * hashing overlap.
 */
import { sql } from 'drizzle-orm';
import { compactVerify, importJWK, type JWK } from 'jose';
import { rowsOf, type Db } from '../db/index.js';
import type { AuditEventBody } from './audit-event.js';
import { canonicalJsonWithAt, GENESIS_HASH, hashCanonical } from './chain.js';
import { checkpointJwsType } from './checkpoints.js';

export type ChainProblemKind = 'hash-mismatch' | 'gap' | 'prev-hash-mismatch' | 'checkpoint-mismatch' | 'checkpoint-signature';

export interface ChainProblem {
  /** The first seq at which the chain is found wrong. */
  readonly seq: number;
  readonly kind: ChainProblemKind;
  readonly message: string;
}

export interface VerifyProgress {
  /** Events checked so far. */
  readonly checked: number;
  /** Seq of the last event checked. */
  readonly lastSeq: number;
  /** The head this verification runs up to. */
  readonly headSeq: number;
}

export interface VerifyChainOptions {
  /** Called after each page. */
  readonly onProgress?: ((progress: VerifyProgress) => void) | undefined;
  /** Start here instead of at seq 1 (checkpoints before it are not checked). */
  readonly fromSeq?: number | undefined;
  /**
   * The hash the event before `fromSeq` is known to have (from an earlier verification). Absent,
   * the stored hash of seq `fromSeq - 1` is trusted.
   */
  readonly expectedPrevHash?: string | undefined;
  /** Events a page (default 10000). */
  readonly pageSize?: number | undefined;
}

export interface VerifyChainResult {
  readonly intact: boolean;
  /** Seq and hash of the newest event when verification started (0 and 64 zeros when empty). */
  readonly headSeq: number;
  readonly headHash: string;
  /** Events checked. */
  readonly checked: number;
  /** Checkpoints whose signature and hash were checked. */
  readonly checkpointsChecked: number;
  /** The last seq found intact, and its hash: where an incremental verification continues. */
  readonly verifiedUpTo: number;
  readonly verifiedHash: string;
  readonly firstBad?: ChainProblem;
}

interface EventRow extends Omit<AuditEventBody, 'at'> {
  readonly seq: number;
  readonly at: string;
  readonly prevHash: string;
  readonly hash: string;
}

interface CheckpointRow {
  readonly seq: number;
  readonly hash: string;
  readonly kid: string;
  readonly jws: string;
}

/**
 * An integer inlined into the SQL text. Bound parameters would let PostgreSQL switch the prepared
 * statement to a generic plan after five pages, and with the bounds unknown that plan can scan
 * far more than one page; inlined, every page is planned as the index range scan it is.
 */
function literal(n: number): ReturnType<typeof sql.raw> {
  if (!Number.isSafeInteger(n)) throw new TypeError('not an integer');
  return sql.raw(String(n));
}

/** One event row as the database sends it: `[seq, [id, at, requestId, ..., prevHash, hash]]`. */
type RawEventRow = { readonly seq: number; readonly r: readonly unknown[] };

/** Events with `afterSeq < seq <= throughSeq`, in seq order. */
async function fetchEvents(db: Db, afterSeq: number, throughSeq: number): Promise<RawEventRow[]> {
  if (afterSeq >= throughSeq) return [];
  // Pages are seq ranges, not LIMITs: seq is meant to be gapless, so a range is one page, and a
  // bounded range is planned as a short scan even on a table never analysed (with an open range
  // and a LIMIT, a planner without statistics may scan and sort the whole table for each page).
  // One JSON array a row: the driver parses it in one JSON.parse instead of 23 column parsers,
  // which is most of the client's cost per event. `at` is formatted by the database exactly as
  // Date#toISOString would, so the row can be hashed as it is.
  return rowsOf<RawEventRow>(
    await db.execute(sql`
      select seq::float8 as seq, json_build_array(id, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        request_id, actor_org, actor_user, actor_roles, purpose, case_ref, action, owner_org, record_type,
        record_id, nhs_number, fields, agreements, outcome, operation_name, query_hash, sensitivity, details,
        prev_hash, hash) as r
      from audit_events where seq > ${literal(afterSeq)} and seq <= ${literal(throughSeq)} order by seq`),
  );
}

function toEventRow(raw: RawEventRow): EventRow {
  const r = raw.r as unknown[];
  return {
    seq: raw.seq,
    id: r[0],
    at: r[1],
    requestId: r[2],
    actorOrg: r[3],
    actorUser: r[4],
    actorRoles: r[5],
    purpose: r[6],
    caseRef: r[7],
    action: r[8],
    ownerOrg: r[9],
    recordType: r[10],
    recordId: r[11],
    nhsNumber: r[12],
    fields: r[13],
    agreements: r[14],
    outcome: r[15],
    operationName: r[16],
    queryHash: r[17],
    sensitivity: r[18],
    details: r[19],
    prevHash: r[20],
    hash: r[21],
  } as EventRow;
}

async function fetchCheckpoints(db: Db, afterSeq: number, limit: number): Promise<CheckpointRow[]> {
  return rowsOf<CheckpointRow>(
    await db.execute(sql`select seq::float8 as seq, hash, kid, jws from audit_checkpoints where seq > ${afterSeq} order by seq limit ${limit}`),
  );
}

/** Public hub keys by kid, for checkpoint signatures. */
async function loadHubKeys(db: Db): Promise<Map<string, CryptoKey>> {
  const rows = rowsOf<{ kid: string; public_jwk: JWK }>(await db.execute(sql`select kid, public_jwk from hub_keys`));
  const keys = new Map<string, CryptoKey>();
  for (const row of rows) {
    const jwk = typeof row.public_jwk === 'string' ? (JSON.parse(row.public_jwk) as JWK) : row.public_jwk;
    keys.set(row.kid, (await importJWK({ ...jwk, alg: 'EdDSA' }, 'EdDSA')) as CryptoKey);
  }
  return keys;
}

/**
 * Checks one checkpoint: signed by a published hub key, its signed payload equal to its stored
 * columns, and its signed hash equal to the recomputed chain hash at its seq.
 */
async function checkCheckpoint(
  checkpoint: CheckpointRow,
  chainHash: string,
  keys: Map<string, CryptoKey>,
  previousGood: number,
): Promise<ChainProblem | undefined> {
  const seq = checkpoint.seq;
  const key = keys.get(checkpoint.kid);
  if (key === undefined) return { seq, kind: 'checkpoint-signature', message: `the checkpoint at seq ${seq} names key ${checkpoint.kid}, which is not a published hub key` };
  let payload: { seq?: unknown; hash?: unknown; at?: unknown };
  try {
    const verified = await compactVerify(checkpoint.jws, key, { algorithms: ['EdDSA'] });
    if (verified.protectedHeader.kid !== checkpoint.kid || verified.protectedHeader.typ !== checkpointJwsType) throw new Error('header');
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as typeof payload;
  } catch {
    return { seq, kind: 'checkpoint-signature', message: `the signature of the checkpoint at seq ${seq} does not verify with hub key ${checkpoint.kid}` };
  }
  if (payload.seq !== seq || payload.hash !== checkpoint.hash) {
    return { seq, kind: 'checkpoint-mismatch', message: `the stored checkpoint at seq ${seq} differs from what its signature covers` };
  }
  if (payload.hash !== chainHash) {
    return {
      seq,
      kind: 'checkpoint-mismatch',
      message:
        `the chain hash at seq ${seq} differs from the hash the hub signed for it: ` +
        `history between seq ${previousGood + 1} and ${seq} was rewritten after it was checkpointed`,
    };
  }
  return undefined;
}

/**
 * Verifies the chain from `fromSeq` (default 1) to the head as it was when verification
 * started: gapless seqs, each prevHash equal to the previous hash, each hash recomputed, and
 * every checkpoint (see {@link checkCheckpoint}). Stops at, and names, the first bad seq.
 */
export async function verifyChain(db: Db, options: VerifyChainOptions = {}): Promise<VerifyChainResult> {
  const pageSize = options.pageSize ?? 10_000;
  const fromSeq = options.fromSeq ?? 1;
  if (!Number.isSafeInteger(fromSeq) || fromSeq < 1) throw new TypeError('fromSeq must be a positive integer');

  const [head] = rowsOf<{ seq: number; hash: string }>(
    await db.execute(sql`select seq::float8 as seq, hash from audit_events order by seq desc limit 1`),
  );
  const headSeq = head?.seq ?? 0;
  const headHash = head?.hash ?? GENESIS_HASH;
  const keys = await loadHubKeys(db);

  let expectedSeq = fromSeq;
  let prevHash = options.expectedPrevHash ?? GENESIS_HASH;
  let checked = 0;
  let checkpointsChecked = 0;
  let lastGoodCheckpoint = fromSeq - 1;
  let lastGoodCheckpointHash = prevHash;
  const result = (firstBad?: ChainProblem): VerifyChainResult => ({
    intact: firstBad === undefined,
    headSeq,
    headHash,
    checked,
    checkpointsChecked,
    verifiedUpTo: expectedSeq - 1,
    verifiedHash: prevHash,
    ...(firstBad === undefined ? {} : { firstBad }),
  });

  if (fromSeq > 1 && options.expectedPrevHash === undefined) {
    const [before] = rowsOf<{ hash: string }>(await db.execute(sql`select hash from audit_events where seq = ${fromSeq - 1}`));
    if (before === undefined) return result({ seq: fromSeq - 1, kind: 'gap', message: `event ${fromSeq - 1} is missing` });
    prevHash = before.hash;
    lastGoodCheckpointHash = prevHash;
  }

  let checkpoints = await fetchCheckpoints(db, fromSeq - 1, 1000);
  let checkpointIndex = 0;
  const pageEnd = (after: number) => Math.min(after + pageSize, headSeq);
  let pageAfter = fromSeq - 1;
  let next = fetchEvents(db, pageAfter, pageEnd(pageAfter));
  while (pageAfter < headSeq) {
    const rows = await next;
    const lastInPage = pageEnd(pageAfter);
    // Fetch the next page while this one is hashed.
    next = fetchEvents(db, lastInPage, pageEnd(lastInPage));
    pageAfter = lastInPage;
    for (const raw of rows) {
      const row = toEventRow(raw);
      if (row.seq !== expectedSeq) {
        void next.catch(() => undefined);
        return result({ seq: expectedSeq, kind: 'gap', message: `event ${expectedSeq} is missing (the next stored event is ${row.seq})` });
      }
      if (row.prevHash !== prevHash) {
        void next.catch(() => undefined);
        return result({ seq: row.seq, kind: 'prev-hash-mismatch', message: `event ${row.seq} does not link to event ${row.seq - 1}: its prevHash is not that event's hash` });
      }
      const hash = hashCanonical(prevHash, canonicalJsonWithAt(row, row.at));
      if (hash !== row.hash) {
        void next.catch(() => undefined);
        return result({ seq: row.seq, kind: 'hash-mismatch', message: `event ${row.seq} was altered: its content no longer matches its hash` });
      }
      prevHash = hash;
      expectedSeq += 1;
      checked += 1;

      if (checkpointIndex >= checkpoints.length && checkpoints.length === 1000) {
        checkpoints = await fetchCheckpoints(db, (checkpoints[checkpoints.length - 1] as CheckpointRow).seq, 1000);
        checkpointIndex = 0;
      }
      const checkpoint = checkpoints[checkpointIndex];
      if (checkpoint !== undefined && checkpoint.seq === row.seq) {
        checkpointIndex += 1;
        const problem = await checkCheckpoint(checkpoint, hash, keys, lastGoodCheckpoint);
        if (problem !== undefined) {
          void next.catch(() => undefined);
          // The events up to the checkpoint hashed consistently, but they are not what was signed.
          expectedSeq = lastGoodCheckpoint + 1;
          prevHash = lastGoodCheckpointHash;
          return result(problem);
        }
        lastGoodCheckpoint = row.seq;
        lastGoodCheckpointHash = hash;
        checkpointsChecked += 1;
      }
    }
    if (expectedSeq - 1 < lastInPage) {
      void next.catch(() => undefined);
      return result({ seq: expectedSeq, kind: 'gap', message: `event ${expectedSeq} is missing` });
    }
    options.onProgress?.({ checked, lastSeq: lastInPage, headSeq });
  }

  // A checkpoint beyond the head means signed events have been removed from the end. Only
  // checkpoints signed before verification began count: a newer one may cover newer events.
  const beyond = checkpoints[checkpointIndex] ?? (await fetchCheckpoints(db, headSeq, 1))[0];
  if (beyond !== undefined && beyond.seq > headSeq) {
    const stillBeyond = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from audit_events where seq >= ${beyond.seq}`));
    if ((stillBeyond[0]?.n ?? 0) === 0) {
      return result({
        seq: headSeq + 1,
        kind: 'gap',
        message: `events from seq ${headSeq + 1} are missing: a signed checkpoint covers seq ${beyond.seq}, but the chain ends at ${headSeq}`,
      });
    }
  }
  return result();
}

export interface IncrementalVerifier {
  /**
   * Verifies the events appended since the last call (all of them the first time), continuing
   * from the hash it verified itself rather than trusting the stored one. Once a problem is
   * found it is reported on every later call: the hub does not forget a broken chain.
   */
  verify(options?: Pick<VerifyChainOptions, 'onProgress'>): Promise<VerifyChainResult>;
  /** The latest result, if any verification finished. */
  latest(): VerifyChainResult | undefined;
}

/** A verifier for the hub to run in the background and cache (see `auditIntegrity`). */
export function createIncrementalVerifier(db: Db, options: Pick<VerifyChainOptions, 'pageSize'> = {}): IncrementalVerifier {
  let latest: VerifyChainResult | undefined;
  let running: Promise<VerifyChainResult> | undefined;
  async function run(onProgress: VerifyChainOptions['onProgress']): Promise<VerifyChainResult> {
    if (latest?.firstBad !== undefined) return latest;
    const result = await verifyChain(db, {
      pageSize: options.pageSize,
      onProgress,
      ...(latest === undefined ? {} : { fromSeq: latest.verifiedUpTo + 1, expectedPrevHash: latest.verifiedHash }),
    });
    latest = { ...result, checked: (latest?.checked ?? 0) + result.checked, checkpointsChecked: (latest?.checkpointsChecked ?? 0) + result.checkpointsChecked };
    return latest;
  }
  return {
    verify(more = {}) {
      running ??= run(more.onProgress).finally(() => {
        running = undefined;
      });
      return running;
    },
    latest: () => latest,
  };
}
