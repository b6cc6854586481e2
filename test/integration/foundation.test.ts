import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeOrg, type TestOrg } from '../helpers/keys.js';
import { validNhsNumbers } from '../helpers/nhs-numbers.js';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';

const [alice, bob] = validNhsNumbers(2);

const subjectQuery = `query Person($n: NHSNumber!) {
  subject(nhsNumber: $n) {
    nhsNumber
    demographics { id externalId owner { id name kind } recordType sharedUnder { id version } givenName familyName dateOfBirth }
    socialCareCases { externalId caseRef service status summary }
  }
}`;

describe('the hub over HTTP: publish and read your own records, deny by default', () => {
  let hub: TestHub;
  let council: TestOrg;
  let police: TestOrg;

  beforeAll(async () => {
    hub = await startTestHub();
    council = await makeOrg(hub.database.db, 'westminster', { kind: 'COUNCIL' });
    police = await makeOrg(hub.database.db, 'met-police', { kind: 'POLICE' });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('answers /healthz and /readyz', async () => {
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${hub.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('tells the caller who it is', async () => {
    const response = await hub.gql(await council.token({ roles: ['social-worker', 'dpo'], case_ref: 'CASE-1' }), '{ me { organisation { id kind } subject roles purpose caseRef breakGlass } }');
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({
      me: {
        organisation: { id: 'westminster', kind: 'COUNCIL' },
        subject: 'user@westminster',
        roles: ['social-worker', 'dpo'],
        purpose: 'safeguarding-children',
        caseRef: 'CASE-1',
        breakGlass: false,
      },
    });
  });

  it('publishes atomically and the owner reads its own records back', async () => {
    const publish = await hub.gql(
      await council.token(),
      `mutation P($input: PublishRecordsInput!) { publishRecords(input: $input) { count byType { recordType created updated } } }`,
      {
        input: {
          demographics: [{ externalId: 'd-1', nhsNumber: alice, givenName: 'Alice', familyName: 'Example', dateOfBirth: '2015-04-01' }],
          socialCareCases: [{ externalId: 'c-1', nhsNumber: alice, caseRef: 'WCC-1', service: 'CHILDREN', status: 'OPEN', summary: 'synthetic' }],
        },
      },
    );
    expect(publish.body.errors).toBeUndefined();
    expect(publish.body.data).toEqual({
      publishRecords: {
        count: 2,
        byType: expect.arrayContaining([
          { recordType: 'Demographics', created: 1, updated: 0 },
          { recordType: 'SocialCareCase', created: 1, updated: 0 },
        ]),
      },
    });

    const read = await hub.gql(await council.token(), subjectQuery, { n: alice });
    expect(read.body.errors).toBeUndefined();
    const subject = read.body.data?.subject as Record<string, Record<string, unknown>[]>;
    expect(subject.demographics).toEqual([
      expect.objectContaining({
        externalId: 'd-1',
        owner: { id: 'westminster', name: 'Organisation westminster', kind: 'COUNCIL' },
        recordType: 'Demographics',
        sharedUnder: [],
        givenName: 'Alice',
        dateOfBirth: '2015-04-01',
      }),
    ]);
    expect(subject.socialCareCases).toEqual([{ externalId: 'c-1', caseRef: 'WCC-1', service: 'CHILDREN', status: 'OPEN', summary: 'synthetic' }]);
  });

  it('shows another organisation nothing without an agreement, in the same shape', async () => {
    const read = await hub.gql(await police.token({ roles: ['mash-officer'] }), subjectQuery, { n: alice });
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ data: { subject: { nhsNumber: alice, demographics: [], socialCareCases: [] } } });
    const unknown = await hub.gql(await police.token({ roles: ['mash-officer'] }), subjectQuery, { n: bob });
    expect(unknown.body).toEqual({ data: { subject: { nhsNumber: bob, demographics: [], socialCareCases: [] } } });
    expect(read.text).not.toContain('Alice');
  });

  it.each([
    [
      'values the schema refuses (bad dates, unknown enum values), every one located',
      {
        demographics: [
          { externalId: 'd-2', nhsNumber: bob, givenName: 'Bob' },
          { externalId: 'd-3', nhsNumber: bob, dateOfBirth: '2015-02-30' },
        ],
        socialCareCases: [{ externalId: 'c-9', nhsNumber: bob, service: 'PETS' }],
      },
      400,
      ['demographics[1].dateOfBirth', 'socialCareCases[0].service'],
    ],
    [
      'values the validator refuses (ranges, duplicates), every one located',
      {
        demographics: [{ externalId: 'd-2', nhsNumber: bob, givenName: 'Bob' }, { externalId: 'd-2', nhsNumber: bob }],
        schoolEnrolments: [{ externalId: 's-1', nhsNumber: bob, attendancePercent: 140 }],
      },
      200,
      ['demographics[1].externalId', 'schoolEnrolments[0].attendancePercent'],
    ],
  ])('refuses a publish with %s, writing nothing', async (_name, input, status, paths) => {
    const response = await hub.gql(await council.token(), `mutation P($input: PublishRecordsInput!) { publishRecords(input: $input) { count } }`, { input });
    expect(response.status).toBe(status);
    expect(response.body.data ?? null).toBeNull();
    expect(response.body.errors).toHaveLength(1);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const problems = response.body.errors?.[0]?.extensions?.problems as { path: string }[];
    expect(problems.map((p) => p.path).sort()).toEqual(paths);
    const read = await hub.gql(await council.token(), subjectQuery, { n: bob });
    expect(read.body.data).toEqual({ subject: { nhsNumber: bob, demographics: [], socialCareCases: [] } });
  });

  it('rejects a bad NHS number variable without echoing it', async () => {
    const response = await hub.gql(await council.token(), subjectQuery, { n: '1234567890' });
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.text).not.toContain('1234567890');
  });

  it.each([
    ['no Authorization header', undefined, /Authorization: Bearer/],
    ['a malformed token', 'not-a-jwt', /./],
  ])('answers 401 UNAUTHENTICATED for %s', async (_name, token, message) => {
    const response = await hub.gql(token, '{ me { subject } }');
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(response.body.errors?.[0]?.message).toMatch(message);
    expect(response.body.data).toBeUndefined();
  });

  it('refuses a replayed token with 401', async () => {
    const token = await council.token();
    expect((await hub.gql(token, '{ me { subject } }')).status).toBe(200);
    const replay = await hub.gql(token, '{ me { subject } }');
    expect(replay.status).toBe(401);
    expect(replay.body.errors?.[0]?.message).toMatch(/already been used|replay/i);
  });

  it('answers malformed JSON with 400 and a GraphQL error', async () => {
    const response = await fetch(`${hub.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await council.token()}` },
      body: '{"query": ',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('answers a GraphQL syntax error with 400', async () => {
    const response = await hub.gql(await council.token(), '{ me { ');
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
