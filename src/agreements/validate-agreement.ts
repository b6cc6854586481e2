import { InputError, type Problem } from '../errors.js';
import { isRecordType, recordInterfaceFields, recordTypes, type RecordType } from '../records/index.js';
import { agreementDocumentType, article6Bases, type AgreementDocument } from './agreement-document.js';
import { agreementIdPattern, codePattern, isIsoDate, isIsoDuration, isRfc3339, orgIdPattern } from './formats.js';
import { validateWhere } from './validate-where.js';

export interface ValidateAgreementOptions {
  /** Whether an organisation id is registered with the hub. */
  isRegisteredOrg(id: string): boolean;
}

const topLevelKeys = new Set([
  'type', 'id', 'version', 'title', 'provider', 'recipients', 'purposes', 'lawfulBasis', 'dataSubjects',
  'scope', 'breakGlass', 'validFrom', 'validUntil', 'reviewBy', 'retention', 'governance',
]);

/** Largest `version` the database column (a 32-bit integer) holds. */
const maxVersion = 2_147_483_647;
const maxTitleLength = 200;
const maxTextLength = 2000;
const interfaceFieldNames: ReadonlySet<string> = new Set(recordInterfaceFields);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function quoteKey(key: string): string {
  return JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key);
}

/**
 * Unknown keys are refused, not ignored, wherever they could change what is shared: a misspelt
 * `wher` would otherwise silently widen a scope clause to every record.
 */
function refuseUnknownKeys(value: Record<string, unknown>, allowed: ReadonlySet<string>, path: string, problems: Problem[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) problems.push({ path: path === '' ? key : `${path}.${key}`, reason: `unknown key ${quoteKey(key)}` });
  }
}

function checkText(value: unknown, path: string, problems: Problem[], maxLength = maxTextLength): value is string {
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push({ path, reason: 'must be a non-empty string' });
    return false;
  }
  if (value.length > maxLength) {
    problems.push({ path, reason: `must be at most ${maxLength} characters` });
    return false;
  }
  return true;
}

function checkCode(value: unknown, path: string, problems: Problem[]): value is string {
  if (typeof value !== 'string' || !codePattern.test(value)) {
    problems.push({ path, reason: `must be a code matching ${codePattern.source}` });
    return false;
  }
  return true;
}

/** A non-empty array of unique codes. */
function checkCodeList(value: unknown, path: string, problems: Problem[], { allowEmpty }: { allowEmpty: boolean }): void {
  if (!Array.isArray(value) || (!allowEmpty && value.length === 0)) {
    problems.push({ path, reason: allowEmpty ? 'must be an array of strings' : 'must be a non-empty array of strings' });
    return;
  }
  const seen = new Set<string>();
  value.forEach((item, index) => {
    if (!checkCode(item, `${path}[${index}]`, problems)) return;
    if (seen.has(item)) problems.push({ path: `${path}[${index}]`, reason: `duplicate ${quoteKey(item)}` });
    seen.add(item);
  });
}

function checkOrg(value: unknown, path: string, problems: Problem[], options: ValidateAgreementOptions): value is string {
  if (typeof value !== 'string' || !orgIdPattern.test(value)) {
    problems.push({ path, reason: `must be an organisation id matching ${orgIdPattern.source}` });
    return false;
  }
  if (!options.isRegisteredOrg(value)) {
    problems.push({ path, reason: `organisation ${value} is not registered` });
    return false;
  }
  return true;
}

/**
 * Checks an `accord.isa/v1` document against every rule of CONTRACT §3 and returns it typed, or
 * throws `InputError('INVALID_AGREEMENT')` listing every problem found (path + reason), so a
 * partnership can fix its draft in one round.
 */
export function validateAgreement(doc: unknown, options: ValidateAgreementOptions): AgreementDocument {
  const problems: Problem[] = [];
  if (!isPlainObject(doc)) {
    throw new InputError('INVALID_AGREEMENT', 'invalid agreement', [{ path: '$', reason: 'must be a JSON object' }]);
  }
  refuseUnknownKeys(doc, topLevelKeys, '', problems);

  if (doc.type !== agreementDocumentType) problems.push({ path: 'type', reason: `must be "${agreementDocumentType}"` });
  if (typeof doc.id !== 'string' || !agreementIdPattern.test(doc.id)) {
    problems.push({ path: 'id', reason: `must match ${agreementIdPattern.source}` });
  }
  if (typeof doc.version !== 'number' || !Number.isInteger(doc.version) || doc.version < 1 || doc.version > maxVersion) {
    problems.push({ path: 'version', reason: 'must be a positive integer' });
  }
  checkText(doc.title, 'title', problems, maxTitleLength);

  const provider = checkOrg(doc.provider, 'provider', problems, options) ? doc.provider : undefined;
  checkRecipients(doc.recipients, provider, problems, options);
  checkPurposes(doc.purposes, problems);
  checkCodeList(doc.dataSubjects, 'dataSubjects', problems, { allowEmpty: false });
  const scopedTypes = checkScope(doc.scope, problems);
  checkLawfulBasis(doc.lawfulBasis, scopedTypes, problems);
  checkBreakGlass(doc.breakGlass, problems);
  checkValidity(doc, problems);

  if (!isIsoDuration(doc.retention)) problems.push({ path: 'retention', reason: 'must be an ISO 8601 duration such as P2Y or P6M' });
  if ('governance' in doc && !isPlainObject(doc.governance)) problems.push({ path: 'governance', reason: 'must be an object' });

  if (problems.length > 0) throw new InputError('INVALID_AGREEMENT', 'invalid agreement', problems);
  return doc as unknown as AgreementDocument;
}

function checkRecipients(value: unknown, provider: string | undefined, problems: Problem[], options: ValidateAgreementOptions): void {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push({ path: 'recipients', reason: 'must be a non-empty array' });
    return;
  }
  const seen = new Set<string>();
  value.forEach((recipient, index) => {
    const path = `recipients[${index}]`;
    if (!isPlainObject(recipient)) {
      problems.push({ path, reason: 'must be an object {org, roles}' });
      return;
    }
    refuseUnknownKeys(recipient, new Set(['org', 'roles']), path, problems);
    if (checkOrg(recipient.org, `${path}.org`, problems, options)) {
      if (recipient.org === provider) problems.push({ path: `${path}.org`, reason: 'the provider cannot also be a recipient' });
      if (seen.has(recipient.org)) problems.push({ path: `${path}.org`, reason: `duplicate recipient ${recipient.org}` });
      seen.add(recipient.org);
    }
    // A list that is given is a restriction: `[]` was once read as "any role", which opened the
    // scope to every caller of the recipient. Absent means any role; an empty list is refused.
    if ('roles' in recipient) checkCodeList(recipient.roles, `${path}.roles`, problems, { allowEmpty: false });
  });
}

function checkPurposes(value: unknown, problems: Problem[]): void {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push({ path: 'purposes', reason: 'must be a non-empty array' });
    return;
  }
  const seen = new Set<string>();
  value.forEach((purpose, index) => {
    const path = `purposes[${index}]`;
    if (!isPlainObject(purpose)) {
      problems.push({ path, reason: 'must be an object {code, description}' });
      return;
    }
    refuseUnknownKeys(purpose, new Set(['code', 'description']), path, problems);
    if (checkCode(purpose.code, `${path}.code`, problems)) {
      if (seen.has(purpose.code)) problems.push({ path: `${path}.code`, reason: `duplicate purpose code ${purpose.code}` });
      seen.add(purpose.code);
    }
    if ('description' in purpose) checkText(purpose.description, `${path}.description`, problems);
  });
}

/** Returns the record types the scope names, for the Art 9 / Art 10 checks. */
function checkScope(value: unknown, problems: Problem[]): Set<RecordType> {
  const types = new Set<RecordType>();
  if (!Array.isArray(value) || value.length === 0) {
    problems.push({ path: 'scope', reason: 'must be a non-empty array' });
    return types;
  }
  value.forEach((entry, index) => {
    const path = `scope[${index}]`;
    if (!isPlainObject(entry)) {
      problems.push({ path, reason: 'must be an object {recordType, fields, where}' });
      return;
    }
    refuseUnknownKeys(entry, new Set(['recordType', 'fields', 'where']), path, problems);
    const recordType = entry.recordType;
    if (!isRecordType(recordType)) {
      problems.push({ path: `${path}.recordType`, reason: `must be one of ${Object.keys(recordTypes).join(' ')}` });
    } else {
      types.add(recordType);
    }
    const fields = entry.fields;
    if (!Array.isArray(fields) || fields.length === 0) {
      problems.push({ path: `${path}.fields`, reason: 'must be a non-empty array of field names' });
    } else {
      const seen = new Set<string>();
      fields.forEach((field, fieldIndex) => {
        const fieldPath = `${path}.fields[${fieldIndex}]`;
        if (typeof field !== 'string') {
          problems.push({ path: fieldPath, reason: 'must be a field name' });
          return;
        }
        if (seen.has(field)) problems.push({ path: fieldPath, reason: `duplicate field ${quoteKey(field)}` });
        seen.add(field);
        // Record-interface fields are shown on every visible record; listing them is harmless.
        if (isRecordType(recordType) && !interfaceFieldNames.has(field) && !recordTypes[recordType].fields.some((f) => f.name === field)) {
          problems.push({ path: fieldPath, reason: `${recordType} has no field ${quoteKey(field)}` });
        }
      });
    }
    if ('where' in entry && isRecordType(recordType)) validateWhere(entry.where, recordType, `${path}.where`, problems);
  });
  return types;
}

function checkLawfulBasis(value: unknown, scopedTypes: ReadonlySet<RecordType>, problems: Problem[]): void {
  if (!isPlainObject(value)) {
    problems.push({ path: 'lawfulBasis', reason: 'must be an object {article6, article9, article10, legislation}' });
    return;
  }
  refuseUnknownKeys(value, new Set(['article6', 'article9', 'article10', 'legislation']), 'lawfulBasis', problems);
  if (typeof value.article6 !== 'string' || !(article6Bases as readonly string[]).includes(value.article6)) {
    problems.push({ path: 'lawfulBasis.article6', reason: `must be one of ${article6Bases.join(' ')}` });
  }
  const special = [...scopedTypes].filter((type) => recordTypes[type].sensitivity === 'special-category');
  const criminal = [...scopedTypes].filter((type) => recordTypes[type].sensitivity === 'criminal-offence');
  // UK GDPR Art 9(1) forbids processing special-category data, and Art 10 criminal-offence data,
  // unless a further condition (Art 9(2) / DPA 2018 Sch 1) applies as well as an Art 6 basis.
  if ('article9' in value || special.length > 0) {
    if (value.article9 === undefined) problems.push({ path: 'lawfulBasis.article9', reason: `is required: the scope includes special-category data (${special.join(', ')})` });
    else checkText(value.article9, 'lawfulBasis.article9', problems);
  }
  if ('article10' in value || criminal.length > 0) {
    if (value.article10 === undefined) problems.push({ path: 'lawfulBasis.article10', reason: `is required: the scope includes criminal-offence data (${criminal.join(', ')})` });
    else checkText(value.article10, 'lawfulBasis.article10', problems);
  }
  if ('legislation' in value) {
    if (!Array.isArray(value.legislation)) problems.push({ path: 'lawfulBasis.legislation', reason: 'must be an array of strings' });
    else value.legislation.forEach((item, index) => checkText(item, `lawfulBasis.legislation[${index}]`, problems));
  }
}

function checkBreakGlass(value: unknown, problems: Problem[]): void {
  if (value === undefined) return;
  if (!isPlainObject(value)) {
    problems.push({ path: 'breakGlass', reason: 'must be an object {allowed, roles}' });
    return;
  }
  refuseUnknownKeys(value, new Set(['allowed', 'roles']), 'breakGlass', problems);
  if (typeof value.allowed !== 'boolean') problems.push({ path: 'breakGlass.allowed', reason: 'must be true or false' });
  // An empty list would mean "nobody" to one reader and "everybody" to another: refused whenever
  // it is given (CONTRACT §3), and required when break-glass is allowed.
  if (value.allowed === true || 'roles' in value) checkCodeList(value.roles, 'breakGlass.roles', problems, { allowEmpty: false });
}

function checkValidity(doc: Record<string, unknown>, problems: Problem[]): void {
  const fromOk = isRfc3339(doc.validFrom);
  const untilOk = isRfc3339(doc.validUntil);
  if (!fromOk) problems.push({ path: 'validFrom', reason: 'must be an RFC 3339 date-time such as 2026-01-01T00:00:00Z' });
  if (!untilOk) problems.push({ path: 'validUntil', reason: 'must be an RFC 3339 date-time such as 2027-12-31T23:59:59Z' });
  if (fromOk && untilOk && Date.parse(doc.validUntil as string) <= Date.parse(doc.validFrom as string)) {
    problems.push({ path: 'validUntil', reason: 'must be after validFrom' });
  }
  if ('reviewBy' in doc && !isIsoDate(doc.reviewBy)) problems.push({ path: 'reviewBy', reason: 'must be a date YYYY-MM-DD' });
}
