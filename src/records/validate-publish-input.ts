/**
 * Checks a whole publish request against the catalogue before anything is written. Every problem
 * is collected (not just the first), so a partner can fix a rejected batch in one go; reasons
 * say what the rule is and never repeat the offending value, which is personal data.
 */
import { InputError, type Problem } from '../errors.js';
import { recordTypeList, type FieldKind, type RecordTypeInfo } from './catalogue.js';
import { isValidDate } from './dates.js';
import { isValidNhsNumber } from './nhs-number.js';

/** Names of the lists of `PublishRecordsInput`, one per record type (the catalogue's `listName`). */
export type RecordListName =
  | 'demographics'
  | 'socialCareCases'
  | 'schoolEnrolments'
  | 'housingTenancies'
  | 'policeNotifications'
  | 'gpRegistrations';

/** One record as GraphQL hands it over: dates as `YYYY-MM-DD` strings, enums as their names. */
export interface PublishItem {
  readonly externalId: string;
  readonly nhsNumber: string;
  readonly [field: string]: unknown;
}

/** `PublishRecordsInput`: one optional list per record type. */
export type PublishInput = { readonly [L in RecordListName]?: readonly PublishItem[] | null | undefined };

export type FieldValue = string | number | boolean | null;

/** A record that passed every check, with every field of its type present (omitted ones as null). */
export interface ValidRecord {
  readonly externalId: string;
  readonly nhsNumber: string;
  readonly fields: Readonly<Record<string, FieldValue>>;
}

export interface ValidBatch {
  readonly type: RecordTypeInfo;
  readonly records: readonly ValidRecord[];
}

/** CONTRACT §5: at most 1000 items a call, whatever lists they are in. */
export const maxPublishItems = 1000;
export const maxExternalIdLength = 200;

const typeByList = new Map<string, RecordTypeInfo>(recordTypeList.map((type) => [type.listName, type]));
const listNames: readonly RecordListName[] = [
  'demographics',
  'socialCareCases',
  'schoolEnrolments',
  'housingTenancies',
  'policeNotifications',
  'gpRegistrations',
];
if (listNames.length !== typeByList.size || listNames.some((name) => !typeByList.has(name))) {
  throw new TypeError('RecordListName is out of step with the catalogue');
}

// Control characters, lone surrogates and line/paragraph separators: an externalId is an
// identifier partners print, log and compare, and these would make two ids look alike.
const unprintable = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}]/u;
const loneSurrogate = /\p{Cs}/u;

/** Why `value` is not a valid externalId, or undefined when it is. */
export function externalIdProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  const length = [...value].length;
  if (length < 1 || length > maxExternalIdLength || unprintable.test(value)) {
    return `must be 1 to ${maxExternalIdLength} printable characters`;
  }
  return undefined;
}

const nhsNumberReason = 'is not a valid NHS number (10 digits with a modulus-11 check digit)';

/** Why `value` does not fit `kind`, or undefined when it does (null always fits: every field is optional). */
function fieldProblem(kind: FieldKind, value: unknown): string | undefined {
  if (value === null) return undefined;
  switch (kind.type) {
    case 'string': {
      if (typeof value !== 'string') return 'must be a string';
      // PostgreSQL text cannot hold U+0000; refusing it here keeps the write from failing later.
      if (value.includes('\u0000')) return 'must not contain NUL characters';
      // A lone surrogate cannot be encoded as UTF-8: the driver would store U+FFFD instead and the
      // owner's text would come back altered without any error.
      if (loneSurrogate.test(value)) return 'must be valid Unicode text (it contains a lone surrogate)';
      const length = value.length > kind.maxLength ? [...value].length : value.length;
      return length > kind.maxLength ? `must be at most ${kind.maxLength} characters (is ${length})` : undefined;
    }
    case 'date':
      return typeof value === 'string' && isValidDate(value) ? undefined : 'must be a calendar date written YYYY-MM-DD';
    case 'int':
      return Number.isInteger(value) && (value as number) >= kind.min && (value as number) <= kind.max
        ? undefined
        : `must be a whole number from ${kind.min} to ${kind.max}`;
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) && value >= kind.min && value <= kind.max
        ? undefined
        : `must be a number from ${kind.min} to ${kind.max}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'enum':
      return typeof value === 'string' && kind.values.includes(value) ? undefined : `must be one of ${kind.values.join(', ')}`;
  }
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validateItem(type: RecordTypeInfo, item: unknown, path: string, problems: Problem[]): ValidRecord | undefined {
  if (!isObject(item)) {
    problems.push({ path, reason: 'must be an object' });
    return undefined;
  }
  const before = problems.length;
  const externalId = item.externalId;
  const idProblem = externalIdProblem(externalId);
  if (idProblem !== undefined) problems.push({ path: `${path}.externalId`, reason: idProblem });
  const nhsNumber = item.nhsNumber;
  if (typeof nhsNumber !== 'string' || !isValidNhsNumber(nhsNumber)) {
    problems.push({ path: `${path}.nhsNumber`, reason: nhsNumberReason });
  }
  for (const key of Object.keys(item)) {
    if (key !== 'externalId' && key !== 'nhsNumber' && !type.fields.some((field) => field.name === key)) {
      problems.push({ path: `${path}.${key}`, reason: `is not a field of ${type.name}` });
    }
  }
  const fields: Record<string, FieldValue> = {};
  for (const field of type.fields) {
    const value = item[field.name] ?? null;
    const problem = fieldProblem(field.kind, value);
    if (problem === undefined) fields[field.name] = value as FieldValue;
    else problems.push({ path: `${path}.${field.name}`, reason: problem });
  }
  if (problems.length > before) return undefined;
  return { externalId: externalId as string, nhsNumber: nhsNumber as string, fields };
}

/**
 * Validates a publish request in full and returns it as batches in catalogue order (lists that
 * are absent or empty are left out). Throws `InputError('BAD_USER_INPUT', ...)` listing every
 * problem, located as `socialCareCases[3].openedOn`, when anything at all is wrong.
 */
export function validatePublishInput(input: unknown): ValidBatch[] {
  if (!isObject(input)) throw new InputError('BAD_USER_INPUT', 'invalid records', [{ path: 'input', reason: 'must be an object' }]);
  const problems: Problem[] = [];
  const lists: { type: RecordTypeInfo; items: readonly unknown[] }[] = [];
  for (const [key, value] of Object.entries(input)) {
    const type = typeByList.get(key);
    if (type === undefined) problems.push({ path: key, reason: `is not a list of records; expected one of ${listNames.join(', ')}` });
    else if (value === null || value === undefined) continue;
    else if (!Array.isArray(value)) problems.push({ path: key, reason: 'must be a list' });
    else lists.push({ type, items: value });
  }
  if (problems.length > 0) throw new InputError('BAD_USER_INPUT', 'invalid records', problems);

  const total = lists.reduce((sum, list) => sum + list.items.length, 0);
  if (total > maxPublishItems) {
    throw new InputError('BAD_USER_INPUT', 'too many records', [
      { path: 'input', reason: `at most ${maxPublishItems} records may be published in one call (got ${total})` },
    ]);
  }

  lists.sort((a, b) => recordTypeList.indexOf(a.type) - recordTypeList.indexOf(b.type));
  const batches: ValidBatch[] = [];
  for (const { type, items } of lists) {
    const records: ValidRecord[] = [];
    // The upsert key is (owner, externalId): two items with one id in a call would be ambiguous.
    const firstIndexOf = new Map<string, number>();
    items.forEach((item, index) => {
      const path = `${type.listName}[${index}]`;
      const record = validateItem(type, item, path, problems);
      const externalId = isObject(item) ? item.externalId : undefined;
      if (typeof externalId === 'string') {
        const first = firstIndexOf.get(externalId);
        if (first === undefined) firstIndexOf.set(externalId, index);
        else problems.push({ path: `${path}.externalId`, reason: `repeats the externalId of ${type.listName}[${first}]` });
      }
      if (record !== undefined) records.push(record);
    });
    if (records.length > 0) batches.push({ type, records });
  }
  if (problems.length > 0) throw new InputError('BAD_USER_INPUT', 'invalid records', problems);
  return batches;
}
