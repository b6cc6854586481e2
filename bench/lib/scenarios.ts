/**
 * The four scenarios of issue 7 as request generators. Every side sends byte-for-byte the same
 * operations for the same subjects; the hub's and the hand-rolled peer's requests also carry a
 * fresh token each (the same kind of token: the peer accepts what the hub accepts).
 */
import { recordTypeList } from '../../src/records/index.js';
import type { TokenPool } from './token-pool.js';

export type ScenarioId = 'a' | 'b' | 'c' | 'd';
/** baseline: bare Apollo; accord: the hub; peer: bare Apollo + jose JWT check + one audit INSERT. */
export type Side = 'baseline' | 'accord' | 'peer';

export interface Scenario {
  readonly id: ScenarioId;
  readonly title: string;
  /** Owner organisations whose records one read involves: the most audit events it may write (issue 11). */
  readonly owners: number;
  /** Which subjects are read. */
  readonly subjects: 'single' | 'rich';
  /** Every n-th request is a publish (0: none). */
  readonly publishEvery: number;
  /** Runs with the 10,000 filler agreements switched in. */
  readonly filler: boolean;
}

export const scenarios: readonly Scenario[] = [
  { id: 'a', title: 'one sensitive record (SocialCareCase, where-condition)', owners: 1, subjects: 'single', publishEvery: 0, filler: false },
  { id: 'b', title: 'subject with 50 records across 6 types', owners: 4, subjects: 'rich', publishEvery: 0, filler: false },
  { id: 'c', title: '(b) reads mixed with 20% publishes (5 records each)', owners: 4, subjects: 'rich', publishEvery: 5, filler: false },
  { id: 'd', title: '(b) with 10,000 active agreements in the store', owners: 4, subjects: 'rich', publishEvery: 0, filler: true },
];

const interfaceSelection = 'id externalId recordType recordedAt owner { id name } sharedUnder { id version }';

function listSelection(listName: string): string {
  const info = recordTypeList.find((t) => t.listName === listName);
  if (info === undefined) throw new TypeError(`no record list ${listName}`);
  return `${listName} { ${interfaceSelection} ${info.fields.map((f) => f.name).join(' ')} }`;
}

export const oneCaseQuery = `query OneCase($nhsNumber: NHSNumber!) { subject(nhsNumber: $nhsNumber) { nhsNumber ${listSelection('socialCareCases')} } }`;
export const fullSubjectQuery = `query FullSubject($nhsNumber: NHSNumber!) { subject(nhsNumber: $nhsNumber) { nhsNumber ${recordTypeList
  .map((t) => listSelection(t.listName))
  .join(' ')} } }`;
export const publishMutation =
  'mutation Publish($input: PublishRecordsInput!) { publishRecords(input: $input) { count byType { recordType created updated } } }';

/** Five new records (fresh external ids, so every publish inserts) about one subject. */
export function publishInput(tag: string, nhsNumber: string): Record<string, unknown> {
  return {
    demographics: [{ externalId: `${tag}-d`, nhsNumber, givenName: 'Alex', familyName: 'Bench', dateOfBirth: '2015-04-01', postcode: 'SW1 1AB' }],
    socialCareCases: [
      { externalId: `${tag}-c1`, nhsNumber, caseRef: `${tag}-c1`, service: 'CHILDREN', status: 'OPEN', category: 'neglect', openedOn: '2025-01-10', leadWorker: 'A. Worker' },
      { externalId: `${tag}-c2`, nhsNumber, caseRef: `${tag}-c2`, service: 'CHILDREN', status: 'CLOSED', category: 'emotional', openedOn: '2024-03-02', closedOn: '2024-09-30' },
    ],
    housingTenancies: [
      { externalId: `${tag}-h1`, nhsNumber, tenancyRef: `${tag}-h1`, addressLine: '1 Bench Street', postcode: 'SW1 1AB', startedOn: '2020-01-01', rentArrears: false },
      { externalId: `${tag}-h2`, nhsNumber, tenancyRef: `${tag}-h2`, addressLine: '2 Bench Street', postcode: 'SW1 1AC', startedOn: '2018-01-01', endedOn: '2019-12-31' },
    ],
  };
}

export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface RequestSourceOptions {
  readonly scenario: Scenario;
  readonly side: Side;
  /** Subjects read, in rotation. */
  readonly readSubjects: readonly string[];
  /** Subjects published about, in rotation. */
  readonly publishSubjects: readonly string[];
  /** Unique per run: part of every published external id. */
  readonly runTag: string;
  readonly readerTokens?: TokenPool;
  readonly publisherTokens?: TokenPool;
  /** Called once when a token pool runs dry (the run must stop: a reused token is refused). */
  readonly onExhausted: () => void;
}

/** How many read and publish requests a run of `total` requests makes. */
export function requestMix(scenario: Scenario, total: number): { reads: number; publishes: number } {
  const publishes = scenario.publishEvery === 0 ? 0 : Math.floor(total / scenario.publishEvery);
  return { reads: total - publishes, publishes };
}

/** autocannon's `setupRequest`: fills in the n-th request of the run. */
export function requestSource(options: RequestSourceOptions): (request: RawRequest) => RawRequest {
  const { scenario, side } = options;
  const query = scenario.subjects === 'single' ? oneCaseQuery : fullSubjectQuery;
  const operationName = scenario.subjects === 'single' ? 'OneCase' : 'FullSubject';
  const readBodies = options.readSubjects.map((nhsNumber) => JSON.stringify({ query, operationName, variables: { nhsNumber } }));
  let n = 0;
  let reads = 0;
  let publishes = 0;
  let exhausted = false;
  return (request) => {
    n += 1;
    const publish = scenario.publishEvery > 0 && n % scenario.publishEvery === 0;
    let body: string;
    if (publish) {
      const nhsNumber = options.publishSubjects[publishes % options.publishSubjects.length] as string;
      body = JSON.stringify({ query: publishMutation, operationName: 'Publish', variables: { input: publishInput(`${options.runTag}-${publishes}`, nhsNumber) } });
      publishes += 1;
    } else {
      body = readBodies[reads % readBodies.length] as string;
      reads += 1;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (side !== 'baseline') {
      const token = (publish ? options.publisherTokens : options.readerTokens)?.next();
      if (token === undefined) {
        if (!exhausted) options.onExhausted();
        exhausted = true;
      } else {
        headers.authorization = `Bearer ${token}`;
      }
    }
    request.method = 'POST';
    request.path = '/graphql';
    request.headers = headers;
    request.body = body;
    return request;
  };
}
