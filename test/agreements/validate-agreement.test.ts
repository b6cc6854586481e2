import { describe, expect, it } from 'vitest';
import { validateAgreement } from '../../src/agreements/index.js';
import { InputError } from '../../src/errors.js';
import { exampleDocument, isRegisteredOrg } from './fixtures.js';

function problemsOf(doc: unknown): { path: string; reason: string }[] {
  try {
    validateAgreement(doc, { isRegisteredOrg });
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe('INVALID_AGREEMENT');
    return [...(error as InputError).problems];
  }
  throw new Error('expected the document to be refused');
}

const demographicsOnly = [{ recordType: 'Demographics', fields: ['givenName'] }];
const withWhere = (where: unknown, recordType = 'SocialCareCase', fields = ['caseRef']) => ({ scope: [{ recordType, fields, where }] });
const nested = (depth: number): unknown => (depth === 0 ? { field: 'service', op: 'eq', value: 'CHILDREN' } : { not: nested(depth - 1) });

describe('validateAgreement', () => {
  it('accepts the CONTRACT §3 example and returns it typed', () => {
    const doc = validateAgreement(exampleDocument(), { isRegisteredOrg });
    expect(doc.id).toBe('triborough-mash-children');
    expect(doc.scope[1]?.where).toEqual({ field: 'service', op: 'eq', value: 'CHILDREN' });
  });

  it('accepts a minimal personal-data agreement without Art 9/10, breakGlass, reviewBy or governance', () => {
    const doc = exampleDocument({ scope: demographicsOnly, lawfulBasis: { article6: 'consent' } });
    delete doc.breakGlass;
    delete doc.reviewBy;
    delete doc.governance;
    expect(validateAgreement(doc, { isRegisteredOrg }).version).toBe(1);
  });

  it('accepts every comparison operator, combinators, subject.ageYears and Record-interface fields', () => {
    const where = {
      all: [
        { field: 'openedOn', op: 'gte', value: '2020-01-01' },
        { any: [{ field: 'status', op: 'in', value: ['OPEN', 'CLOSED'] }, { not: { field: 'category', op: 'ne', value: 'N1' } }] },
        { field: 'subject.ageYears', op: 'lt', value: 18 },
      ],
    };
    const doc = exampleDocument({ scope: [{ recordType: 'SocialCareCase', fields: ['id', 'caseRef'], where }] });
    expect(validateAgreement(doc, { isRegisteredOrg }).scope[0]?.where).toEqual(where);
  });

  it.each<[string, unknown, string, RegExp]>([
    ['not an object', [], '$', /JSON object/],
    ['wrong type', exampleDocument({ type: 'accord.isa/v2' }), 'type', /accord\.isa\/v1/],
    ['bad id', exampleDocument({ id: 'Tri Borough' }), 'id', /must match/],
    ['version zero', exampleDocument({ version: 0 }), 'version', /positive integer/],
    ['version fractional', exampleDocument({ version: 1.5 }), 'version', /positive integer/],
    ['version as text', exampleDocument({ version: '1' }), 'version', /positive integer/],
    ['empty title', exampleDocument({ title: '  ' }), 'title', /non-empty/],
    ['unregistered provider', exampleDocument({ provider: 'nowhere' }), 'provider', /not registered/],
    ['provider also a recipient', exampleDocument({ recipients: [{ org: 'kensington-chelsea' }] }), 'recipients[0].org', /provider cannot also be a recipient/],
    ['unregistered recipient', exampleDocument({ recipients: [{ org: 'westminster' }, { org: 'nowhere' }] }), 'recipients[1].org', /not registered/],
    ['duplicate recipient', exampleDocument({ recipients: [{ org: 'westminster' }, { org: 'westminster' }] }), 'recipients[1].org', /duplicate/],
    ['no recipients', exampleDocument({ recipients: [] }), 'recipients', /non-empty/],
    ['roles not strings', exampleDocument({ recipients: [{ org: 'westminster', roles: ['ok', 7] }] }), 'recipients[0].roles[1]', /code/],
    ['unknown recipient key', exampleDocument({ recipients: [{ org: 'westminster', role: ['x'] }] }), 'recipients[0].role', /unknown key/],
    ['no purposes', exampleDocument({ purposes: [] }), 'purposes', /non-empty/],
    ['duplicate purpose code', exampleDocument({ purposes: [{ code: 'p' }, { code: 'p' }] }), 'purposes[1].code', /duplicate/],
    ['missing article6', exampleDocument({ lawfulBasis: { article9: 'x', article10: 'y' } }), 'lawfulBasis.article6', /one of consent contract/],
    ['unknown article6', exampleDocument({ lawfulBasis: { article6: 'because', article9: 'x', article10: 'y' } }), 'lawfulBasis.article6', /legitimate-interests/],
    ['special category without article9', exampleDocument({ lawfulBasis: { article6: 'public-task', article10: 'y' } }), 'lawfulBasis.article9', /special-category.*SocialCareCase/],
    ['GP data without article9', exampleDocument({ lawfulBasis: { article6: 'public-task' }, scope: [{ recordType: 'GpRegistration', fields: ['practiceName'] }] }), 'lawfulBasis.article9', /GpRegistration/],
    ['police data without article10', exampleDocument({ lawfulBasis: { article6: 'public-task' }, scope: [{ recordType: 'PoliceNotification', fields: ['kind'] }] }), 'lawfulBasis.article10', /criminal-offence/],
    ['empty data subjects', exampleDocument({ dataSubjects: [] }), 'dataSubjects', /non-empty/],
    ['empty scope', exampleDocument({ scope: [] }), 'scope', /non-empty/],
    ['unknown record type', exampleDocument({ scope: [{ recordType: 'Passport', fields: ['number'] }] }), 'scope[0].recordType', /one of Demographics/],
    ['unknown field', exampleDocument({ scope: [{ recordType: 'Demographics', fields: ['givenName', 'shoeSize'] }] }), 'scope[0].fields[1]', /no field "shoeSize"/],
    ['field of another type', exampleDocument({ scope: [{ recordType: 'Demographics', fields: ['caseRef'] }] }), 'scope[0].fields[0]', /no field/],
    ['empty fields', exampleDocument({ scope: [{ recordType: 'Demographics', fields: [] }] }), 'scope[0].fields', /non-empty/],
    ['misspelt where key', exampleDocument({ scope: [{ recordType: 'Demographics', fields: ['givenName'], wher: {} }] }), 'scope[0].wher', /unknown key/],
    ['where op unknown', exampleDocument(withWhere({ field: 'service', op: 'like', value: 'C%' })), 'scope[0].where.op', /must be one of eq ne lt lte gt gte in/],
    ['where field unknown', exampleDocument(withWhere({ field: 'salary', op: 'eq', value: 1 })), 'scope[0].where.field', /no field "salary"/],
    ['where enum value unknown', exampleDocument(withWhere({ field: 'service', op: 'eq', value: 'PETS' })), 'scope[0].where.value', /one of CHILDREN ADULTS/],
    ['where date malformed', exampleDocument(withWhere({ field: 'openedOn', op: 'gt', value: '2026-02-30' })), 'scope[0].where.value', /YYYY-MM-DD/],
    ['where number as text', exampleDocument(withWhere({ field: 'yearGroup', op: 'gt', value: '7' }, 'SchoolEnrolment', ['schoolName'])), 'scope[0].where.value', /integer/],
    ['where in empty', exampleDocument(withWhere({ field: 'status', op: 'in', value: [] })), 'scope[0].where.value', /non-empty array/],
    ['where in with a bad element', exampleDocument(withWhere({ field: 'status', op: 'in', value: ['OPEN', 'SHUT'] })), 'scope[0].where.value[1]', /OPEN CLOSED/],
    ['where ordering on text', exampleDocument(withWhere({ field: 'category', op: 'lt', value: 'M' })), 'scope[0].where.op', /does not apply to a string field/],
    ['where empty any', exampleDocument(withWhere({ any: [] })), 'scope[0].where.any', /non-empty array/],
    ['where two combinators', exampleDocument(withWhere({ all: [nested(0)], any: [nested(0)] })), 'scope[0].where', /exactly one of all, any, not/],
    ['where code string', exampleDocument(withWhere("service == 'CHILDREN'")), 'scope[0].where', /must be an object/],
    ['where nested too deep', exampleDocument(withWhere(nested(8))), 'scope[0].where.not.not.not.not.not.not.not.not', /at most 8 deep/],
    ['where extra key in comparison', exampleDocument(withWhere({ field: 'service', op: 'eq', value: 'CHILDREN', code: 'x' })), 'scope[0].where.code', /unknown key/],
    ['where age not a number', exampleDocument(withWhere({ field: 'subject.ageYears', op: 'lt', value: 'eighteen' })), 'scope[0].where.value', /integer/],
    ['breakGlass allowed without roles', exampleDocument({ breakGlass: { allowed: true, roles: [] } }), 'breakGlass.roles', /non-empty/],
    ['breakGlass not allowed, with an empty roles list', exampleDocument({ breakGlass: { allowed: false, roles: [] } }), 'breakGlass.roles', /non-empty/],
    // An empty list once meant "any role" and opened the scope to every caller of the recipient.
    ['a recipient with an empty roles list', exampleDocument({ recipients: [{ org: 'westminster', roles: [] }] }), 'recipients[0].roles', /non-empty/],
    ['breakGlass allowed not boolean', exampleDocument({ breakGlass: { allowed: 'yes', roles: ['a'] } }), 'breakGlass.allowed', /true or false/],
    ['validFrom not RFC 3339', exampleDocument({ validFrom: '01/01/2026' }), 'validFrom', /RFC 3339/],
    ['validUntil without offset', exampleDocument({ validUntil: '2027-12-31T23:59:59' }), 'validUntil', /RFC 3339/],
    ['validUntil before validFrom', exampleDocument({ validUntil: '2025-12-31T23:59:59Z' }), 'validUntil', /after validFrom/],
    ['reviewBy not a date', exampleDocument({ reviewBy: '2027-06-31' }), 'reviewBy', /YYYY-MM-DD/],
    ['retention not a duration', exampleDocument({ retention: '2 years' }), 'retention', /ISO 8601 duration/],
    ['retention empty duration', exampleDocument({ retention: 'PT' }), 'retention', /ISO 8601 duration/],
    ['governance not an object', exampleDocument({ governance: 'DPIA-1' }), 'governance', /object/],
    ['unknown top-level key', { ...exampleDocument(), expires: '2030-01-01' }, 'expires', /unknown key "expires"/],
  ])('refuses %s', (_name, doc, path, reason) => {
    const problems = problemsOf(doc);
    const problem = problems.find((p) => p.path === path);
    expect(problem, `problems were ${JSON.stringify(problems)}`).toBeDefined();
    expect(problem?.reason).toMatch(reason);
  });

  it('lists every problem at once, with paths, in the message too', () => {
    const doc = exampleDocument({ version: -1, provider: 'nowhere', retention: 'forever', scope: [{ recordType: 'Demographics', fields: ['nope'] }] });
    const problems = problemsOf(doc);
    expect(problems.map((p) => p.path)).toEqual(expect.arrayContaining(['version', 'provider', 'retention', 'scope[0].fields[0]']));
    try {
      validateAgreement(doc, { isRegisteredOrg });
    } catch (error) {
      expect((error as Error).message).toMatch(/^invalid agreement: .*version: must be a positive integer.*scope\[0\]\.fields\[0\]/);
    }
  });
});
