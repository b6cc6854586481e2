/**
 * Before anything is measured: every server must give the same answer to each scenario's
 * requests (the same records, the same fields, no errors), so the sides do the same work.
 * Only `sharedUnder` differs between the hub and the others (the baseline and the peer have no
 * agreements). The peer must also refuse a request without a token, and answer exactly as the
 * baseline does to one with a token.
 */
import { isDeepStrictEqual } from 'node:util';
import { systemClock } from '../../src/clock.js';
import type { Scenario } from './scenarios.js';
import { fullSubjectQuery, oneCaseQuery, publishInput, publishMutation } from './scenarios.js';
import type { ServerHandle } from './servers.js';
import type { BenchSetup } from './setup.js';
import { mintTokens } from './token-pool.js';
import { richSubjectRecords } from './generate-records.js';
import { log } from './progress.js';

interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: unknown[];
}

async function post(url: string, token: string | undefined, body: unknown): Promise<{ status: number; body: GraphQLBody }> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as GraphQLBody };
}

function withoutSharedUnder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSharedUnder);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'sharedUnder').map(([key, v]) => [key, withoutSharedUnder(v)]));
  }
  return value;
}

function recordCount(data: unknown): number {
  const subject = (data as { subject?: Record<string, unknown> } | null)?.subject ?? {};
  return Object.values(subject).reduce<number>((sum, list) => sum + (Array.isArray(list) ? list.length : 0), 0);
}

export async function checkSameAnswers(
  setup: BenchSetup,
  servers: { baseline: ServerHandle; accord: ServerHandle; peer?: ServerHandle },
  selected: readonly Scenario[],
  options: { hubId: string },
): Promise<void> {
  const tokens = await mintTokens(setup.partnership.reader, 10, { hubId: options.hubId, clock: systemClock });
  const publisher = await mintTokens(setup.partnership.publisher, 4, { hubId: options.hubId, clock: systemClock });
  const peer = servers.peer;
  const perRich = Object.values(richSubjectRecords).reduce((sum, r) => sum + r.count, 0);
  for (const kind of new Set(selected.map((s) => s.subjects))) {
    const nhsNumber = (kind === 'single' ? setup.plan.single[0] : setup.plan.rich[0]) as string;
    const query = kind === 'single' ? oneCaseQuery : fullSubjectQuery;
    const body = { query, variables: { nhsNumber } };
    const baseline = await post(servers.baseline.url, undefined, body);
    const accord = await post(servers.accord.url, tokens.next(), body);
    const expected = kind === 'single' ? 1 : perRich;
    for (const [side, answer] of [['baseline', baseline], ['accord', accord]] as const) {
      if (answer.status !== 200 || answer.body.errors !== undefined) throw new Error(`${side} answered ${answer.status} ${JSON.stringify(answer.body.errors)}`);
      if (recordCount(answer.body.data) !== expected) throw new Error(`${side} returned ${recordCount(answer.body.data)} records, expected ${expected}`);
    }
    if (!isDeepStrictEqual(withoutSharedUnder(baseline.body.data), withoutSharedUnder(accord.body.data))) {
      throw new Error(`the baseline and the hub answer the ${kind} query differently`);
    }
    if (peer !== undefined) {
      const refused = await post(peer.url, undefined, body);
      if (refused.status !== 401) throw new Error(`the peer answered ${refused.status} to a request without a token, expected 401`);
      const answer = await post(peer.url, tokens.next(), body);
      if (answer.status !== 200 || answer.body.errors !== undefined) throw new Error(`peer answered ${answer.status} ${JSON.stringify(answer.body.errors)}`);
      if (!isDeepStrictEqual(baseline.body.data, answer.body.data)) throw new Error(`the baseline and the peer answer the ${kind} query differently`);
    }
    log(`check: ${peer === undefined ? 'both sides' : 'all three sides'} return the same ${expected} record(s) for the ${kind === 'single' ? 'one-case' : 'full-subject'} query`);
  }
  if (selected.some((s) => s.publishEvery > 0)) {
    const nhsNumber = setup.publishSubjects[0] as string;
    const baseline = await post(servers.baseline.url, undefined, { query: publishMutation, variables: { input: publishInput('check-baseline', nhsNumber) } });
    const accord = await post(servers.accord.url, publisher.next(), { query: publishMutation, variables: { input: publishInput('check-accord', nhsNumber) } });
    const answers: [string, Awaited<ReturnType<typeof post>>][] = [
      ['baseline', baseline],
      ['accord', accord],
    ];
    if (peer !== undefined) {
      answers.push(['peer', await post(peer.url, publisher.next(), { query: publishMutation, variables: { input: publishInput('check-peer', nhsNumber) } })]);
    }
    for (const [side, answer] of answers) {
      const count = (answer.body.data as { publishRecords?: { count?: number } } | null)?.publishRecords?.count;
      if (answer.status !== 200 || answer.body.errors !== undefined || count !== 5) throw new Error(`${side} publish answered ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    log(`check: ${peer === undefined ? 'both sides' : 'all three sides'} publish 5 records per mutation`);
  }
}
