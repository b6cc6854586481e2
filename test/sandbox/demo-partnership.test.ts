import { buildSchema, parse, validate } from 'graphql';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateAgreement } from '../../src/agreements/index.js';
import { recordTypeList } from '../../src/records/index.js';
import { demoOrganisationIds, demoPartnership, isDemoOrganisation } from '../../src/sandbox/index.js';

const demo = demoPartnership({ referenceYear: 2026 });

/** Independent of src/records: the NHS Data Dictionary's modulus-11 rule written out again. */
function modulus11Valid(nhsNumber: string): boolean {
  if (!/^\d{10}$/.test(nhsNumber)) return false;
  const digits = [...nhsNumber].map(Number);
  const sum = digits.slice(0, 9).reduce((total, digit, i) => total + digit * (10 - i), 0);
  const check = (11 - (sum % 11)) % 11;
  return check !== 10 && check === digits[9];
}

describe('demoPartnership', () => {
  it('is deterministic: the same year gives the same partnership, byte for byte', () => {
    expect(JSON.stringify(demoPartnership({ referenceYear: 2026 }))).toBe(JSON.stringify(demo));
    expect(JSON.stringify(demoPartnership({ referenceYear: 2027 }))).not.toBe(JSON.stringify(demo));
  });

  it('has about 200 people with distinct NHS numbers, valid and in the 999 test range', () => {
    expect(demo.people.length).toBe(200);
    const numbers = demo.people.map((p) => p.nhsNumber);
    expect(new Set(numbers).size).toBe(numbers.length);
    for (const nhsNumber of numbers) {
      expect(nhsNumber).toMatch(/^999\d{7}$/);
      expect(modulus11Valid(nhsNumber), nhsNumber).toBe(true);
    }
    const recordNumbers = demo.records.flatMap((set) => Object.values(set.input).flatMap((list) => (list ?? []).map((item) => item.nhsNumber)));
    expect(recordNumbers.every((n) => numbers.includes(n))).toBe(true);
  });

  it('has records of all six types, each owned by the organisation that would hold them', () => {
    const owners = new Map<string, Set<string>>();
    for (const set of demo.records) {
      for (const [list, items] of Object.entries(set.input)) {
        if ((items ?? []).length > 0) owners.set(list, (owners.get(list) ?? new Set()).add(set.owner));
      }
    }
    expect([...owners.keys()].sort()).toEqual(recordTypeList.map((t) => t.listName).sort());
    expect(owners.get('policeNotifications')).toEqual(new Set(['met-police']));
    expect(owners.get('schoolEnrolments')).toEqual(new Set(['triborough-schools']));
    expect(owners.get('gpRegistrations')).toEqual(new Set(['imperial-nhs']));
    expect(owners.get('socialCareCases')).toEqual(new Set(['westminster', 'kensington-chelsea', 'hammersmith-fulham']));
    expect(owners.get('demographics')?.size).toBeGreaterThanOrEqual(4);
  });

  it('has the seven organisations of the brief, the hub operator among them', () => {
    expect(demoOrganisationIds).toEqual(['westminster', 'kensington-chelsea', 'hammersmith-fulham', 'met-police', 'imperial-nhs', 'triborough-schools', 'hub']);
    expect(demo.organisations.map((o) => o.kind).sort()).toEqual(['COUNCIL', 'COUNCIL', 'COUNCIL', 'NHS_TRUST', 'OTHER', 'POLICE', 'SCHOOL']);
    expect(isDemoOrganisation('westminster')).toBe(true);
    expect(isDemoOrganisation('my-council')).toBe(false);
  });

  it('every agreement passes the hub validator', () => {
    for (const { document } of demo.agreements) {
      expect(() => validateAgreement(document, { isRegisteredOrg: isDemoOrganisation }), document.id).not.toThrow();
    }
  });

  it('agreements cover every record type, a where condition, break-glass, and each fate', () => {
    const documents = demo.agreements.map((a) => a.document);
    const covered = new Set(documents.flatMap((d) => d.scope.map((s) => s.recordType)));
    expect([...covered].sort()).toEqual(recordTypeList.map((t) => t.name).sort());
    expect(documents.some((d) => d.scope.some((s) => s.recordType === 'SocialCareCase' && JSON.stringify(s.where) === JSON.stringify({ field: 'service', op: 'eq', value: 'CHILDREN' })))).toBe(true);
    expect(documents.some((d) => d.breakGlass?.allowed === true)).toBe(true);
    expect(demo.agreements.map((a) => a.fate).sort()).toEqual(['active', 'active', 'active', 'active', 'active', 'expired', 'revoked', 'superseded']);
    const superseded = demo.agreements.find((a) => a.fate === 'superseded')?.document;
    expect(documents.some((d) => d.id === superseded?.id && d.version === (superseded?.version ?? 0) + 1)).toBe(true);
    const expired = demo.agreements.find((a) => a.fate === 'expired')?.document;
    expect(Date.parse(expired?.validUntil ?? '')).toBeLessThan(Date.parse('2026-01-01T00:00:00Z'));
    const revoked = demo.agreements.find((a) => a.fate === 'revoked');
    expect(revoked?.revocation?.by).toBe(revoked?.document.provider);
  });

  it('offers personas for the examples: a social worker, a MASH officer, break-glass, a DPO per organisation, the hub admin', () => {
    const ids = demo.personas.map((p) => p.id);
    expect(ids).toEqual(expect.arrayContaining(['westminster-social-worker', 'met-police-mash-officer', 'westminster-safeguarding-lead-break-glass']));
    for (const org of demoOrganisationIds) {
      expect(demo.personas.some((p) => p.org === org && p.roles.includes('dpo')), org).toBe(true);
    }
    expect(demo.personas.some((p) => p.org === 'hub' && p.roles.includes('hub-admin'))).toBe(true);
    const breakGlass = demo.personas.find((p) => p.id === 'westminster-safeguarding-lead-break-glass');
    expect(breakGlass?.breakGlassReason?.length).toBeGreaterThanOrEqual(20);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('example operations are valid against the schema and name the featured people', () => {
    const sdl = fs
      .readdirSync('schema')
      .filter((f) => f.endsWith('.graphql'))
      .map((f) => fs.readFileSync(path.join('schema', f), 'utf8'))
      .join('\n');
    const schema = buildSchema(sdl);
    expect(demo.examples.map((e) => e.title)).toEqual(['Safeguarding lookup', 'A withheld field', 'Break-glass lookup', "DPO's subject access report", 'Audit integrity']);
    for (const example of demo.examples) {
      expect(validate(schema, parse(example.query)).map((e) => e.message), example.title).toEqual([]);
    }
    expect(demo.examples[0]?.query).toContain(demo.featured.child.nhsNumber);
    expect(demo.examples[2]?.query).toContain(demo.featured.adult.nhsNumber);
  });

  it.each([1999, 9001, 2026.5, Number.NaN])('refuses a reference year of %s', (year) => {
    expect(() => demoPartnership({ referenceYear: year })).toThrow(TypeError);
  });
});
