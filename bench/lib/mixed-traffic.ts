/**
 * The mixed traffic of --soak and of the load-balancer check (bench/lb): subject reads (one
 * record or fifty), publishes of five records (`publishPercent` of the requests), and now and
 * then an agreement change, each with a fresh real token and its response checked.
 *
 * Agreement changes cycle one agreement of their own, `bench-churn` (Hammersmith & Fulham to
 * Westminster, for the reader's purpose), through the real lifecycle: submit version n signed by
 * both parties, then revoke it with a revocation signed by the provider, then submit n + 1...
 * Each bumps the agreements generation, so every hub instance rebuilds its decision index at its
 * next request, while the reads' answers stay the same (Hammersmith & Fulham owns none of the
 * subjects read).
 */
import type { JWK } from 'jose';
import { signRevocation, type AgreementDocument } from '../../src/agreements/index.js';
import type { Clock } from '../../src/clock.js';
import type { PacedRequest } from './paced-load.js';
import { readerPurpose, signByEveryParty } from './partnership.js';
import { fullSubjectQuery, oneCaseQuery, publishInput, publishMutation } from './scenarios.js';
import type { TokenSigner } from './token-pool.js';

export const churnAgreementId = 'bench-churn';
const churnProvider = 'hammersmith-fulham';

export interface MixedTrafficOptions {
  /** Subjects with one record, and with fifty: reads alternate between the two. */
  readonly singleSubjects: readonly string[];
  readonly richSubjects: readonly string[];
  readonly publishSubjects: readonly string[];
  /** Share of requests that publish, in percent (whole requests out of every 20). */
  readonly publishPercent: number;
  /** One agreement change every this many requests (0: none). */
  readonly agreementChangeEvery: number;
  /** Unique per run: part of every published external id. */
  readonly runTag: string;
  readonly reader: TokenSigner;
  readonly publisher: TokenSigner;
  /** The hub operator's admin (submits and revokes the churn agreement). */
  readonly admin: TokenSigner;
  /** Private keys of the partnership's organisations (sign the agreement and its revocation). */
  readonly keys: ReadonlyMap<string, JWK>;
  readonly clock: Clock;
}

export interface MixedTraffic {
  nextRequest(n: number): Promise<PacedRequest>;
  /** Agreement changes that succeeded so far. */
  readonly agreementChanges: number;
}

interface GraphQLBody {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly { readonly message?: string; readonly extensions?: { readonly code?: string } }[];
}

/** The problem with a GraphQL response, or undefined when it is a 200 with `data.<field>` and no errors. */
export function graphqlProblem(status: number, body: string, field: string): string | undefined {
  let parsed: GraphQLBody;
  try {
    parsed = JSON.parse(body) as GraphQLBody;
  } catch {
    return `HTTP ${status}, body not JSON`;
  }
  const firstError = parsed.errors?.[0];
  if (status !== 200 || firstError !== undefined) return `HTTP ${status} ${firstError?.extensions?.code ?? 'no-code'}`;
  if (parsed.data?.[field] === undefined || parsed.data[field] === null) return `HTTP 200 without data.${field}`;
  return undefined;
}

function churnDocument(version: number, now: Date): AgreementDocument {
  const year = 365 * 24 * 3600 * 1000;
  return {
    type: 'accord.isa/v1',
    id: churnAgreementId,
    version,
    title: `Benchmark churn agreement, version ${version}`,
    provider: churnProvider,
    recipients: [{ org: 'westminster', roles: ['social-worker'] }],
    purposes: [{ code: readerPurpose, description: 'Assess and act on risk of significant harm to a child' }],
    lawfulBasis: { article6: 'public-task', legislation: ['Children Act 2004 s11'] },
    dataSubjects: ['children'],
    scope: [{ recordType: 'Demographics', fields: ['givenName', 'familyName', 'dateOfBirth'] }],
    validFrom: new Date(now.getTime() - year).toISOString(),
    validUntil: new Date(now.getTime() + year).toISOString(),
    reviewBy: new Date(now.getTime() + year / 2).toISOString().slice(0, 10),
    retention: 'P1Y',
  };
}

const json = (token: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${token}` });

export function mixedTraffic(options: MixedTrafficOptions): MixedTraffic {
  const publishSlots = Math.round((options.publishPercent / 100) * 20);
  // Spread the publishes over each block of 20 requests rather than bunching them.
  const isPublish = (n: number) => publishSlots > 0 && Math.floor(((n % 20) + 1) * publishSlots / 20) > Math.floor((n % 20) * publishSlots / 20);
  const readBody = (query: string, operationName: string, nhsNumber: string) => JSON.stringify({ query, operationName, variables: { nhsNumber } });
  let reads = 0;
  let publishes = 0;
  // The churn agreement's state: the highest version submitted, and whether it is live (not revoked).
  let version = 0;
  let live = false;
  let changing = false;
  let changes = 0;

  async function agreementChange(): Promise<PacedRequest> {
    changing = true;
    const done = (problem: string | undefined, onSuccess: () => void) => {
      changing = false;
      if (problem === undefined) {
        onSuccess();
        changes += 1;
      }
      return problem;
    };
    const token = await options.admin();
    if (live) {
      const revocation = await signRevocation({
        agreement: churnAgreementId,
        version,
        reason: 'benchmark churn',
        at: options.clock(),
        org: churnProvider,
        privateJwk: options.keys.get(churnProvider) as JWK,
      });
      return {
        kind: 'agreement',
        headers: json(token),
        body: JSON.stringify({ query: 'mutation Revoke($r: String!) { revokeAgreement(revocation: $r) { id version status } }', operationName: 'Revoke', variables: { r: revocation } }),
        check: (status, body) => done(graphqlProblem(status, body, 'revokeAgreement'), () => (live = false)),
      };
    }
    const nextVersion = version + 1;
    const envelope = await signByEveryParty(churnDocument(nextVersion, options.clock()), options.keys);
    return {
      kind: 'agreement',
      headers: json(token),
      body: JSON.stringify({ query: 'mutation Submit($e: JSON!) { submitAgreement(envelope: $e) { id version status } }', operationName: 'Submit', variables: { e: envelope } }),
      check: (status, body) =>
        done(graphqlProblem(status, body, 'submitAgreement'), () => {
          version = nextVersion;
          live = true;
        }),
    };
  }

  return {
    get agreementChanges() {
      return changes;
    },
    async nextRequest(n) {
      // One change at a time: a revocation must follow the submission it revokes.
      if (options.agreementChangeEvery > 0 && n % options.agreementChangeEvery === options.agreementChangeEvery - 1 && !changing) {
        return await agreementChange();
      }
      if (isPublish(n)) {
        const nhsNumber = options.publishSubjects[publishes % options.publishSubjects.length] as string;
        const body = JSON.stringify({ query: publishMutation, operationName: 'Publish', variables: { input: publishInput(`${options.runTag}-${publishes}`, nhsNumber) } });
        publishes += 1;
        return { kind: 'publish', headers: json(await options.publisher()), body, check: (status, text) => graphqlProblem(status, text, 'publishRecords') };
      }
      reads += 1;
      const rich = reads % 2 === 0;
      const subjects = rich ? options.richSubjects : options.singleSubjects;
      const nhsNumber = subjects[Math.floor(reads / 2) % subjects.length] as string;
      const body = rich ? readBody(fullSubjectQuery, 'FullSubject', nhsNumber) : readBody(oneCaseQuery, 'OneCase', nhsNumber);
      return { kind: 'read', headers: json(await options.reader()), body, check: (status, text) => graphqlProblem(status, text, 'subject') };
    },
  };
}
