/**
 * Recomputes the audit chain and checks every signed checkpoint (`accord audit verify`).
 *
 * Events are streamed in seq order in pages of seq ranges, the next page being fetched while the
 * current one is hashed, so memory stays constant and the database and the hashing overlap.
 *
 * Events of both shapes verify (chain.ts): those written before events listed their records
 * (`records` NULL) from their one-record columns, the others from `records`.
 *
 * Reading rows is most of a verifier's work, so each page arrives as one text, one line an event,
 * in which PostgreSQL has already written what it can write canonically: the keys in JCS order
 * (taken from the reference object of chain.ts) and each text column as its JSON string, which
 * is its JCS form. Only the jsonb columns (`actorRoles`, `details`, `records`, and the earlier
 * shape's `fields` and `agreements`) are canonicalised here, from their text; a value not of the
 * types the writer stores, or a time outside the years 1 to 9999, sends the event to the
 * reference path (the drizzle row canonicalised by the `canonicalize` package). The hash itself,
 * and every comparison with what is stored, is computed here.
 */
import { isAscii } from 'node:buffer';
import { eq, sql } from 'drizzle-orm';
import { compactVerify, importJWK, type JWK } from 'jose';
import { rowsOf, type Db } from '../db/index.js';
import { auditEvents } from '../db/tables.js';
import { storedEventOfRow, type AuditAgreementRef, type AuditRecordEntry } from './audit-event.js';
import {
  canonicalEventJson,
  GENESIS_HASH,
  hashCanonical,
  hashedObjectWithAt,
  jcs,
  jcsAgreements,
  jcsRecords,
  jcsStringArray,
  type HashedAuditEvent,
} from './chain.js';
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
  /**
   * Events a page (default 20000, about 20 MB of rows). Larger pages cost the client less CPU
   * (fewer full garbage collections for the megabytes received) and both sides more memory.
   */
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
function literal(n: number): string {
  if (!Number.isSafeInteger(n)) throw new TypeError('not an integer');
  return String(n);
}

/**
 * How the verifier reads each hashed key of an event from `audit_events`.
 *
 * - `json`: a text column, read as PostgreSQL's JSON string of it, which is exactly its JCS form:
 *   `escape_json` writes `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other controls as lower-case
 *   `\u00xx` and everything else as it is, as JSON.stringify does (the two differ only on a lone
 *   surrogate, which a stored string cannot hold). NULL is `null`.
 * - `text`: an SQL expression already in JCS form (`seq` in digits; `at` as Date#toISOString
 *   writes it, for the years 1 to 9999: any other time is read by the reference path).
 * - `jsonb`: a jsonb column, whose text is JSON but not canonical (spacing, key order, number
 *   forms): canonicalised here by `canonical`, which returns undefined for a value not of the
 *   types the writer stores (the row is then hashed by the reference path).
 */
type KeySource =
  | { readonly json: string }
  | { readonly text: string }
  | { readonly jsonb: string; readonly canonical: (text: string, memo: Memo) => string | undefined };

/**
 * Canonical forms already computed in one verification, by jsonb text: the same lists recur
 * throughout a trail. Bounded: a full map is emptied.
 */
class Memo {
  readonly strings = new Map<string, string>();
  readonly agreements = new Map<string, string>();
  readonly details = new Map<string, string>();
  /** Templates of `records` (see recordsJcs), by a hash of the lengths of the text around the ids. */
  readonly records = new Map<number, readonly RecordsTemplate[]>();
  templates = 0;
  /** Where the record ids of the `records` text at hand open and close (scratch). */
  readonly opens: number[] = [];
  readonly closes: number[] = [];
}
const memoLimit = 10_000;

interface RecordsTemplate {
  /** The text around the record ids (one piece more than ids). */
  readonly around: readonly string[];
  /** The canonical text around them. */
  readonly parts: readonly string[];
}

/**
 * A copy of a string that does not share the page's memory (a slice would keep the whole page
 * alive as long as the memo holds it).
 */
function detach(value: string): string {
  return JSON.parse(JSON.stringify(value)) as string;
}

function remember(map: Map<string, string>, key: string, value: string): string {
  if (map.size >= memoLimit) map.clear();
  map.set(detach(key), value);
  return value;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isStringArray(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false;
  for (const v of value) if (typeof v !== 'string') return false;
  return true;
}

function isAgreementArray(value: unknown): value is AuditAgreementRef[] {
  if (!Array.isArray(value)) return false;
  for (const a of value as unknown[]) {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) return false;
    const { id, version, payloadHash } = a as Record<string, unknown>;
    if (typeof id !== 'string' || typeof payloadHash !== 'string' || typeof version !== 'number' || !Number.isFinite(version)) return false;
  }
  return true;
}

function isRecordArray(value: unknown): value is AuditRecordEntry[] {
  if (!Array.isArray(value)) return false;
  for (const r of value as unknown[]) {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) return false;
    const { recordType, recordId, fields, withheld, agreements } = r as Record<string, unknown>;
    if (typeof recordType !== 'string' || (recordId !== null && typeof recordId !== 'string')) return false;
    if (!isStringArray(fields) || !isStringArray(withheld) || !isAgreementArray(agreements)) return false;
  }
  return true;
}

/** A canonicaliser of jsonb text that remembers its answers in `mapOf(memo)`. */
function memoised(mapOf: (memo: Memo) => Map<string, string>, compute: (value: unknown) => string | undefined) {
  return (text: string, memo: Memo): string | undefined => {
    const map = mapOf(memo);
    const known = map.get(text);
    if (known !== undefined) return known;
    const jcsText = compute(parse(text));
    return jcsText === undefined ? undefined : remember(map, text, jcsText);
  };
}

const stringArrayMemo = memoised((memo) => memo.strings, (value) => (isStringArray(value) ? jcsStringArray(value) : undefined));

/**
 * A jsonb array of strings. Empty, or one string and no comma anywhere, its text is already
 * canonical (jsonb writes `["x"]` as JSON.stringify does); otherwise jsonb's ", " separators
 * make it differ.
 */
function stringArrayJcs(text: string, memo: Memo): string | undefined {
  if (text === '[]' || (text.charCodeAt(0) === 91 && text.charCodeAt(1) === 34 && text.endsWith('"]') && !text.includes(','))) return text;
  return stringArrayMemo(text, memo);
}

const agreementsJcs = memoised((memo) => memo.agreements, (value) => (isAgreementArray(value) ? jcsAgreements(value) : undefined));
const detailsMemo = memoised((memo) => memo.details, (value) => {
  try {
    return value === undefined ? undefined : jcs(value);
  } catch {
    // A number beyond double range: not JSON the writer could have hashed.
    return undefined;
  }
});
const detailsJcs = (text: string, memo: Memo) => (text === 'null' ? text : detailsMemo(text, memo));

/**
 * `records`. They recur too except for their record ids, so their canonical form is remembered
 * as a template: the text around the ids, and the canonical text around them, the ids going
 * back in between. The ids are found as jsonb writes them, `"recordId": "<id>"`: that sequence
 * of unescaped quotes can only be a key and its string value. A template is made only when the
 * ids found are, in order, exactly the non-null record ids parsed from the text, and none of them
 * holds a backslash (so it needs no escaping: its JSON text is its canonical text).
 */
const recordIdKey = '"recordId": "';
const idSentinel = (k: number) => `\u0000${k}`; // NUL: no stored string holds one.

function recordsJcs(text: string, memo: Memo): string | undefined {
  const { opens, closes } = memo;
  const anySlash = text.includes('\\');
  let count = 0;
  let from = 0;
  let bucket = 0;
  for (let at = text.indexOf(recordIdKey); at !== -1; at = text.indexOf(recordIdKey, from)) {
    const open = at + recordIdKey.length - 1;
    const close = text.indexOf('"', open + 1);
    if (close === -1) return recordsOf(parse(text));
    if (anySlash) {
      const slash = text.indexOf('\\', open + 1);
      if (slash !== -1 && slash < close) return recordsOf(parse(text));
    }
    opens[count] = open;
    closes[count] = close;
    count += 1;
    bucket = (Math.imul(bucket, 31) + open - from) | 0;
    from = close + 1;
  }
  bucket = (Math.imul(bucket, 31) + text.length - from) | 0;
  const candidates = memo.records.get(bucket);
  if (candidates !== undefined) {
    for (const template of candidates) if (templateFits(template, text, opens, closes, count)) return fillTemplate(template, text, opens, closes, count);
  }

  const value = parse(text);
  if (!isRecordArray(value)) return undefined;
  const withSentinels: AuditRecordEntry[] = [];
  let k = 0;
  for (const r of value) {
    if (r.recordId === null) {
      withSentinels.push(r);
      continue;
    }
    if (k >= count || JSON.stringify(r.recordId) !== text.slice(opens[k], (closes[k] as number) + 1)) return jcsRecords(value);
    withSentinels.push({ ...r, recordId: idSentinel(k) });
    k += 1;
  }
  if (k !== count) return jcsRecords(value);
  const canonical = jcsRecords(withSentinels);
  const parts: string[] = [];
  const around: string[] = [];
  let start = 0;
  for (let i = 0; i <= count; i += 1) {
    const sentinel = i < count ? JSON.stringify(idSentinel(i)) : '';
    const at = i < count ? canonical.indexOf(sentinel, start) : canonical.length;
    if (at === -1) return jcsRecords(value);
    parts.push(canonical.slice(start, at));
    start = at + sentinel.length;
    around.push(detach(text.slice(i === 0 ? 0 : (closes[i - 1] as number) + 1, i < count ? opens[i] : text.length)));
  }
  const template: RecordsTemplate = { around, parts };
  if (memo.templates >= memoLimit) {
    memo.records.clear();
    memo.templates = 0;
  }
  memo.records.set(bucket, [...(candidates ?? []), template]);
  memo.templates += 1;
  return fillTemplate(template, text, opens, closes, count);
}

/** Whether `text`, with `count` ids at `opens`/`closes`, is `template`'s text around other ids. */
function templateFits(template: RecordsTemplate, text: string, opens: readonly number[], closes: readonly number[], count: number): boolean {
  const around = template.around;
  if (around.length !== count + 1) return false;
  for (let i = 0; i <= count; i += 1) {
    const start = i === 0 ? 0 : (closes[i - 1] as number) + 1;
    const end = i < count ? (opens[i] as number) : text.length;
    const piece = around[i] as string;
    if (piece.length !== end - start || text.slice(start, end) !== piece) return false;
  }
  return true;
}

function fillTemplate(template: RecordsTemplate, text: string, opens: readonly number[], closes: readonly number[], count: number): string {
  const parts = template.parts;
  let out = parts[0] as string;
  for (let i = 0; i < count; i += 1) out += text.slice(opens[i], (closes[i] as number) + 1) + (parts[i + 1] as string);
  return out;
}

function recordsOf(value: unknown): string | undefined {
  return isRecordArray(value) ? jcsRecords(value) : undefined;
}

/**
 * The canonicalisers of jsonb text, for tests: each takes a jsonb column's text as PostgreSQL
 * writes it and returns the JCS of its value, or undefined when it is not of the writer's types.
 */
export const jsonbCanonicalisers = {
  stringArray: stringArrayJcs,
  agreements: agreementsJcs,
  details: detailsJcs,
  records: recordsJcs,
  memo: (): Memo => new Memo(),
};

const json = (column: string): KeySource => ({ json: column });
const keySources: Readonly<Record<string, KeySource>> = {
  seq: { text: 'seq::text' },
  id: json('id'),
  at: { text: `'"' || to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"'` },
  requestId: json('request_id'),
  actorOrg: json('actor_org'),
  actorUser: json('actor_user'),
  actorRoles: { jsonb: 'actor_roles', canonical: stringArrayJcs },
  purpose: json('purpose'),
  caseRef: json('case_ref'),
  action: json('action'),
  ownerOrg: json('owner_org'),
  nhsNumber: json('nhs_number'),
  outcome: json('outcome'),
  operationName: json('operation_name'),
  queryHash: json('query_hash'),
  sensitivity: json('sensitivity'),
  details: { jsonb: 'details', canonical: detailsJcs },
  records: { jsonb: 'records', canonical: recordsJcs },
  // The earlier shape's record columns.
  recordType: json('record_type'),
  recordId: json('record_id'),
  fields: { jsonb: 'fields', canonical: stringArrayJcs },
  agreements: { jsonb: 'agreements', canonical: agreementsJcs },
};

/**
 * One event shape as the verifier reads it: the canonical JSON of its rows is
 * `segments[0] + canonical[0](jsonb 0) + segments[1] + ... + segments[n]`, where the database
 * writes the segments (the keys, in JCS order, and the values it can write canonically) and the
 * jsonb values between them are canonicalised here.
 */
interface Shape {
  /** The SQL of the row text after the shape's tag, seq, prevHash and hash: segments and jsonb values, tab-separated. */
  readonly sql: string;
  readonly canonical: readonly ((text: string, memo: Memo) => string | undefined)[];
}

function shapeOf(legacy: boolean): Shape {
  // The hashed keys are those of the reference object (chain.ts), in JCS order (UTF-16 code
  // units, which is how Array#sort compares strings).
  const sample: Omit<HashedAuditEvent, 'at'> = {
    seq: 1, id: '', requestId: '', actorOrg: null, actorUser: null, actorRoles: [], purpose: null, caseRef: null, action: 'READ',
    ownerOrg: null, nhsNumber: null, records: [], outcome: 'SUCCESS', operationName: null, queryHash: null, sensitivity: null, details: null,
    legacy: legacy ? { recordType: null, recordId: null, fields: [], agreements: [] } : undefined,
  };
  const keys = Object.keys(hashedObjectWithAt(sample, '')).sort();
  const pieces: string[] = [];
  const canonical: Shape['canonical'][number][] = [];
  keys.forEach((key, i) => {
    const source = keySources[key];
    if (source === undefined) throw new Error(`the verifier does not know how to read the hashed key ${key}`);
    pieces.push(sqlString(`${i === 0 ? '{' : ','}${JSON.stringify(key)}:`));
    if ('jsonb' in source) {
      pieces.push(`E'\\t'`, `coalesce(${source.jsonb}::text, 'null')`, `E'\\t'`);
      canonical.push(source.canonical);
    } else {
      pieces.push('json' in source ? `coalesce(to_json(${source.json})::text, 'null')` : source.text);
    }
  });
  pieces.push(sqlString('}'));
  return { sql: pieces.join(', '), canonical };
}

function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

const currentShape = shapeOf(false);
const legacyShape = shapeOf(true);
const tab = 9;
const newline = 10;
const quote = 34;
const hexHash = /^[0-9a-f]{64}$/;

/**
 * One text per event: a tag (`c` current shape, `l` earlier shape, `x` read by the reference
 * path), seq, the JSON strings of prevHash and hash, then the shape's segments and jsonb values.
 * Nothing in it holds a tab or a newline (JSON strings escape them; jsonb text has no whitespace
 * but spaces), so fields are tab-separated and rows newline-separated.
 */
const rowSql =
  `case when not (at >= '0001-01-01T00:00:00Z' and at < '10000-01-01T00:00:00Z') ` +
  `then concat('x', E'\\t', seq, E'\\t', to_json(prev_hash), E'\\t', to_json(hash)) ` +
  `when records is null then concat('l', E'\\t', seq, E'\\t', to_json(prev_hash), E'\\t', to_json(hash), E'\\t', ${legacyShape.sql}) ` +
  `else concat('c', E'\\t', seq, E'\\t', to_json(prev_hash), E'\\t', to_json(hash), E'\\t', ${currentShape.sql}) end`;

/** Events with `afterSeq < seq <= throughSeq`, in seq order, as one text. */
function pageQuery(afterSeq: number, throughSeq: number): string {
  // Pages are seq ranges, not LIMITs: seq is meant to be gapless, so a range is one page, and a
  // bounded range is planned as a short scan even on a table never analysed. One text a page
  // rather than a row a row: the client decodes one value instead of two dozen per event, which
  // was most of its cost.
  return `select string_agg(${rowSql}, E'\\n' order by seq) as page from audit_events where seq > ${literal(afterSeq)} and seq <= ${literal(throughSeq)}`;
}

/** A page as it arrives: bytes (postgres.js, decoded a row at a time) or a text (PGlite). */
type Page = { readonly bytes: Buffer; readonly encoding: 'latin1' | 'utf8' } | { readonly text: string };
type PageFetcher = (afterSeq: number, throughSeq: number) => Promise<Page>;
const emptyPage: Page = { text: '' };

interface PostgresJsClient {
  unsafe(query: string, parameters: never[], options: { prepare: boolean }): { raw(): Promise<(Buffer | null)[][]> };
}

function isPostgresJs(client: unknown): client is PostgresJsClient {
  return typeof client === 'function' && typeof (client as { unsafe?: unknown }).unsafe === 'function';
}

/**
 * Reads pages through the driver's raw mode where there is one (postgres.js: the page arrives as
 * bytes and each row is decoded as it is read: short-lived strings rather than one of megabytes
 * a page, which cost a full garbage collection each; ASCII, the usual case, decodes several
 * times faster than UTF-8), otherwise through drizzle (PGlite), with the same query.
 */
function pageFetcher(db: Db): PageFetcher {
  const client = (db as { $client?: unknown }).$client;
  if (isPostgresJs(client)) {
    return async (afterSeq, throughSeq) => {
      if (afterSeq >= throughSeq) return emptyPage;
      // Unnamed statements: each page's text differs, and a prepared one would be kept per page.
      const rows = await client.unsafe(pageQuery(afterSeq, throughSeq), [], { prepare: false }).raw();
      const bytes = rows[0]?.[0];
      if (bytes === null || bytes === undefined) return emptyPage;
      // A newline byte never falls inside a UTF-8 sequence, so rows decode one by one.
      return { bytes, encoding: isAscii(bytes) ? 'latin1' : 'utf8' };
    };
  }
  return async (afterSeq, throughSeq) => {
    if (afterSeq >= throughSeq) return emptyPage;
    const [row] = rowsOf<{ page: string | null }>(await db.execute(sql.raw(pageQuery(afterSeq, throughSeq))));
    return { text: row?.page ?? '' };
  };
}

function malformed(): Error {
  return new Error('audit verification read a malformed page of events');
}

/**
 * Reads the events of one page in order, a row at a time. Seq is read in place; prevHash and
 * hash are compared in place; the canonical JSON is a handful of slices of the row with the
 * canonical forms of its jsonb values between them.
 */
class PageReader {
  /** Where the next row starts in the page. */
  private next = 0;
  private readonly length: number;
  /** The current row. */
  private text = '';
  /** Seq of the current row. */
  seq = 0;
  /** Shape tag of the current row (`c`, `l` or `x`). */
  tag = 0;
  private prevStart = 0;
  private prevEnd = 0;
  private hashStart = 0;
  private hashEnd = 0;
  private bodyStart = 0;
  private rowEnd = 0;

  constructor(private readonly page: Page) {
    this.length = 'bytes' in page ? page.bytes.length : page.text.length;
  }

  /** Moves to the next row; false at the end of the page. */
  nextRow(): boolean {
    const start = this.next;
    if (start >= this.length) return false;
    const page = this.page;
    let end: number;
    if ('bytes' in page) {
      end = page.bytes.indexOf(newline, start);
      if (end === -1) end = this.length;
      this.text = page.bytes.toString(page.encoding, start, end);
    } else {
      end = page.text.indexOf('\n', start);
      if (end === -1) end = this.length;
      this.text = page.text.slice(start, end);
    }
    this.next = end + 1;
    const text = this.text;
    this.rowEnd = text.length;
    this.tag = text.charCodeAt(0);
    if (text.charCodeAt(1) !== tab) throw malformed();
    let pos = 2;
    let seq = 0;
    for (let c = text.charCodeAt(pos); c !== tab; c = text.charCodeAt(++pos)) {
      if (!(c >= 48 && c <= 57)) throw malformed();
      seq = seq * 10 + (c - 48);
    }
    this.seq = seq;
    this.prevStart = pos + 1;
    this.prevEnd = text.indexOf('\t', this.prevStart);
    if (this.prevEnd === -1) throw malformed();
    this.hashStart = this.prevEnd + 1;
    const hashEnd = text.indexOf('\t', this.hashStart);
    // A row read by the reference path (tag `x`) ends with its hash.
    this.hashEnd = hashEnd === -1 ? this.rowEnd : hashEnd;
    this.bodyStart = this.hashEnd + 1;
    return true;
  }

  /**
   * Whether the current row's stored prevHash is `hash`; `hex` says `hash` is known to be 64
   * hex digits (one this verification computed), so that it is compared without slicing.
   */
  prevHashIs(hash: string, hex: boolean): boolean {
    return this.fieldIs(this.prevStart, this.prevEnd, hash, hex);
  }

  /** Whether the current row's stored hash is `hash`, a hash this verification computed. */
  hashIs(hash: string): boolean {
    return this.fieldIs(this.hashStart, this.hashEnd, hash, true);
  }

  /** Whether the JSON string at `start..end` is that of `value`. */
  private fieldIs(start: number, end: number, value: string, hex: boolean): boolean {
    if (!hex) return this.text.slice(start, end) === JSON.stringify(value);
    return end - start === 66 && this.text.charCodeAt(start) === quote && this.text.slice(start + 1, end - 1) === value;
  }

  /**
   * The canonical JSON of the current row, or undefined when it must be read by the reference
   * path (tag `x`, or a jsonb value not of the types the writer stores).
   */
  canonicalJson(memo: Memo): string | undefined {
    const shape = this.tag === 99 ? currentShape : this.tag === 108 ? legacyShape : undefined; // 'c', 'l'
    if (shape === undefined) return undefined;
    const text = this.text;
    let pos = this.bodyStart;
    let out = '';
    for (const canonical of shape.canonical) {
      const segmentEnd = text.indexOf('\t', pos);
      const valueEnd = segmentEnd === -1 ? -1 : text.indexOf('\t', segmentEnd + 1);
      if (valueEnd === -1) throw malformed();
      const value = canonical(text.slice(segmentEnd + 1, valueEnd), memo);
      if (value === undefined) return undefined;
      out += text.slice(pos, segmentEnd) + value;
      pos = valueEnd + 1;
    }
    return out + text.slice(pos, this.rowEnd);
  }
}

/**
 * The canonical JSON of the event at `seq` exactly as the reference says: the drizzle row, as
 * {@link storedEventOfRow} reads it, canonicalised by the `canonicalize` package. For the rare
 * row the fast path does not read; undefined when even that fails (the row cannot be the
 * canonical form of any event, so it does not verify).
 */
async function referenceCanonicalJson(db: Db, seq: number): Promise<string | undefined> {
  const [row] = await db.select().from(auditEvents).where(eq(auditEvents.seq, seq));
  if (row === undefined) return undefined;
  try {
    return canonicalEventJson(storedEventOfRow(row));
  } catch {
    return undefined;
  }
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
  const pageSize = options.pageSize ?? 20_000;
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
  const fetchPage = pageFetcher(db);
  const memo = new Memo();
  let next = fetchPage(pageAfter, pageEnd(pageAfter));
  while (pageAfter < headSeq) {
    const page = new PageReader(await next);
    const lastInPage = pageEnd(pageAfter);
    // Fetch the next page while this one is hashed.
    next = fetchPage(lastInPage, pageEnd(lastInPage));
    pageAfter = lastInPage;
    while (page.nextRow()) {
      const seq = page.seq;
      if (seq !== expectedSeq) {
        void next.catch(() => undefined);
        return result({ seq: expectedSeq, kind: 'gap', message: `event ${expectedSeq} is missing (the next stored event is ${seq})` });
      }
      if (!page.prevHashIs(prevHash, checked > 0 || hexHash.test(prevHash))) {
        void next.catch(() => undefined);
        return result({ seq, kind: 'prev-hash-mismatch', message: `event ${seq} does not link to event ${seq - 1}: its prevHash is not that event's hash` });
      }
      const canonical = page.canonicalJson(memo) ?? (await referenceCanonicalJson(db, seq));
      const hash = canonical === undefined ? undefined : hashCanonical(prevHash, canonical);
      if (hash === undefined || !page.hashIs(hash)) {
        void next.catch(() => undefined);
        return result({ seq, kind: 'hash-mismatch', message: `event ${seq} was altered: its content no longer matches its hash` });
      }
      prevHash = hash;
      expectedSeq += 1;
      checked += 1;

      if (checkpointIndex >= checkpoints.length && checkpoints.length === 1000) {
        checkpoints = await fetchCheckpoints(db, (checkpoints[checkpoints.length - 1] as CheckpointRow).seq, 1000);
        checkpointIndex = 0;
      }
      const checkpoint = checkpoints[checkpointIndex];
      if (checkpoint !== undefined && checkpoint.seq === seq) {
        checkpointIndex += 1;
        const problem = await checkCheckpoint(checkpoint, hash, keys, lastGoodCheckpoint);
        if (problem !== undefined) {
          void next.catch(() => undefined);
          // The events up to the checkpoint hashed consistently, but they are not what was signed.
          expectedSeq = lastGoodCheckpoint + 1;
          prevHash = lastGoodCheckpointHash;
          return result(problem);
        }
        lastGoodCheckpoint = seq;
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

/**
 * A verifier for the hub to run in the background and cache (see `auditIntegrity`). Its pages
 * are smaller by default (5000 events) than a one-off verification's: it runs inside the serving
 * hub, where memory matters more than the verifier's speed.
 */
export function createIncrementalVerifier(db: Db, options: Pick<VerifyChainOptions, 'pageSize'> = {}): IncrementalVerifier {
  const pageSize = options.pageSize ?? 5000;
  let latest: VerifyChainResult | undefined;
  let running: Promise<VerifyChainResult> | undefined;
  async function run(onProgress: VerifyChainOptions['onProgress']): Promise<VerifyChainResult> {
    if (latest?.firstBad !== undefined) return latest;
    const result = await verifyChain(db, {
      pageSize,
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
