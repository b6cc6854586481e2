import type { Problem } from '../errors.js';
import { fieldOf, type FieldKind, type RecordType } from '../records/index.js';
import { comparisonOps, subjectAgeField, type ComparisonOp } from './agreement-document.js';
import { isIsoDate } from './formats.js';

/** Nesting limit of `all`/`any`/`not`, so a condition stays readable and its SQL stays small. */
export const maxWhereDepth = 8;
/** Most values an `in` list may hold. */
export const maxInValues = 1000;

const subjectAgeKind: FieldKind = { type: 'int', min: 0, max: 200 };

/** The kind of a field a condition on `recordType` may test: one of its own fields, or `subject.ageYears`. */
export function whereFieldKind(recordType: RecordType, field: string): FieldKind | undefined {
  if (field === subjectAgeField) return subjectAgeKind;
  return fieldOf(recordType, field)?.kind;
}

/**
 * Operators each kind of field supports. Ordering is refused on text and enums: PostgreSQL
 * orders text by collation and JavaScript by code unit, so `lt` on text could decide differently
 * in SQL and in code, and an order of enum values means nothing.
 */
function opsFor(kind: FieldKind): readonly ComparisonOp[] {
  switch (kind.type) {
    case 'string':
    case 'enum':
      return ['eq', 'ne', 'in'];
    case 'boolean':
      return ['eq', 'ne'];
    case 'date':
    case 'int':
    case 'float':
      return comparisonOps;
  }
}

function valueProblem(kind: FieldKind, value: unknown): string | undefined {
  switch (kind.type) {
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      return value.length > kind.maxLength ? `must be at most ${kind.maxLength} characters` : undefined;
    case 'enum':
      return typeof value === 'string' && kind.values.includes(value) ? undefined : `must be one of ${kind.values.join(' ')}`;
    case 'date':
      return isIsoDate(value) ? undefined : 'must be a date YYYY-MM-DD';
    case 'int':
      return typeof value === 'number' && Number.isSafeInteger(value) ? undefined : 'must be an integer';
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'must be a number';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function quoteKey(key: string): string {
  return JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key);
}

/**
 * Checks a `where` condition for `recordType`, pushing every problem found (path + reason) onto
 * `problems`. Conditions are data: nothing here or anywhere else evaluates them as code.
 */
export function validateWhere(value: unknown, recordType: RecordType, path: string, problems: Problem[], depth = 1): void {
  if (depth > maxWhereDepth) {
    problems.push({ path, reason: `conditions may be nested at most ${maxWhereDepth} deep` });
    return;
  }
  if (!isPlainObject(value)) {
    problems.push({ path, reason: 'must be an object: {field, op, value}, {all: [...]}, {any: [...]} or {not: ...}' });
    return;
  }
  const keys = Object.keys(value);
  if ('field' in value || 'op' in value || 'value' in value) {
    for (const key of keys) {
      if (key !== 'field' && key !== 'op' && key !== 'value') problems.push({ path: `${path}.${key}`, reason: `unknown key ${quoteKey(key)} in a comparison` });
    }
    validateComparison(value, recordType, path, problems);
    return;
  }
  const combinator = keys.find((key) => key === 'all' || key === 'any' || key === 'not');
  if (combinator === undefined || keys.length !== 1) {
    problems.push({ path, reason: 'must have exactly one of all, any, not (or be a comparison {field, op, value})' });
    return;
  }
  const inner = value[combinator];
  if (combinator === 'not') {
    validateWhere(inner, recordType, `${path}.not`, problems, depth + 1);
    return;
  }
  if (!Array.isArray(inner) || inner.length === 0) {
    problems.push({ path: `${path}.${combinator}`, reason: 'must be a non-empty array of conditions' });
    return;
  }
  inner.forEach((item, index) => validateWhere(item, recordType, `${path}.${combinator}[${index}]`, problems, depth + 1));
}

function validateComparison(value: Record<string, unknown>, recordType: RecordType, path: string, problems: Problem[]): void {
  const { field, op } = value;
  let kind: FieldKind | undefined;
  if (typeof field !== 'string') {
    problems.push({ path: `${path}.field`, reason: 'must be a string naming a field' });
  } else {
    kind = whereFieldKind(recordType, field);
    if (kind === undefined) problems.push({ path: `${path}.field`, reason: `${recordType} has no field ${quoteKey(field)} (use one of its own fields or ${subjectAgeField})` });
  }
  if (typeof op !== 'string' || !(comparisonOps as readonly string[]).includes(op)) {
    problems.push({ path: `${path}.op`, reason: `must be one of ${comparisonOps.join(' ')}` });
    return;
  }
  if (!('value' in value)) {
    problems.push({ path: `${path}.value`, reason: 'is required' });
    return;
  }
  if (kind === undefined) return;
  const allowed = opsFor(kind);
  if (!allowed.includes(op as ComparisonOp)) {
    problems.push({ path: `${path}.op`, reason: `${op} does not apply to a ${kind.type} field (use one of ${allowed.join(' ')})` });
    return;
  }
  if (op === 'in') {
    const list = value.value;
    if (!Array.isArray(list) || list.length === 0) {
      problems.push({ path: `${path}.value`, reason: 'in takes a non-empty array of values' });
      return;
    }
    if (list.length > maxInValues) {
      problems.push({ path: `${path}.value`, reason: `in takes at most ${maxInValues} values` });
      return;
    }
    list.forEach((item, index) => {
      const reason = valueProblem(kind, item);
      if (reason !== undefined) problems.push({ path: `${path}.value[${index}]`, reason });
    });
    return;
  }
  const reason = valueProblem(kind, value.value);
  if (reason !== undefined) problems.push({ path: `${path}.value`, reason });
}
