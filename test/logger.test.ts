import { Writable } from 'node:stream';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { describe, expect, it } from 'vitest';
import { createLogger, requestLogLine } from '../src/logger.js';

const token = 'eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJpc3MiOiJ3ZXN0bWluc3RlciJ9.c2lnbmF0dXJl';
const recordValue = 'Amelia Example, 1 Acacia Avenue';

function capture(level: 'info' | 'debug' = 'info'): { logger: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[]; raw: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ level, destination });
  const raw = (): string => chunks.join('');
  return { logger, raw, lines: () => raw().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logger', () => {
  it('writes one JSON line per request with exactly the request fields', () => {
    const { logger, lines } = capture();
    logger.info(requestLogLine({ requestId: 'req-1', org: 'westminster', operationName: 'FullSubject', durationMs: 12.34567, outcome: 'OK', status: 200 }));
    logger.info(requestLogLine({ requestId: 'req-2', org: undefined, operationName: undefined, durationMs: 0.5, outcome: 'unauthenticated', status: 401 }));
    const [first, second] = lines();
    expect(first).toMatchObject({ level: 30, msg: 'request', service: 'accord', requestId: 'req-1', org: 'westminster', operationName: 'FullSubject', durationMs: 12.346, outcome: 'OK', status: 200 });
    expect(Object.keys(first ?? {}).sort()).toEqual(['durationMs', 'level', 'msg', 'operationName', 'org', 'outcome', 'pid', 'hostname', 'requestId', 'service', 'status', 'time'].sort());
    expect(second).toMatchObject({ org: null, operationName: null, outcome: 'unauthenticated', status: 401 });
  });

  it.each([
    ['authorization', { authorization: `Bearer ${token}` }],
    ['token', { token }],
    ['*.token', { caller: { token } }],
    ['req.headers.authorization', { req: { headers: { authorization: `Bearer ${token}` } } }],
    ['headers.authorization', { headers: { authorization: `Bearer ${token}` } }],
    ['cookies', { req: { headers: { cookie: `session=${token}` } } }],
    ['set-cookie', { res: { headers: { 'set-cookie': `session=${token}` } } }],
    ['GraphQL variables', { requestId: 'r', variables: { input: { demographics: [{ givenName: recordValue }] } } }],
    ['a request body', { request: { body: { query: '{ me { subject } }', variables: { name: recordValue } } } }],
  ])('redacts %s', (_name, fields) => {
    const { logger, raw } = capture();
    logger.warn(fields, 'something');
    expect(raw()).not.toContain(token);
    expect(raw()).not.toContain(recordValue);
    expect(raw()).toContain('[redacted]');
  });

  it("keeps an error's type, message, code, stack and cause, but not the record values a driver error quotes", () => {
    const { logger, lines } = capture();
    const driverError = Object.assign(new Error('duplicate key value violates unique constraint "demographics_owner_external_id"'), {
      code: '23505',
      detail: `Key (given_name)=(${recordValue}) already exists.`,
    });
    const wrapped = new DrizzleQueryError('insert into demographics (given_name) values ($1)', [recordValue], driverError);
    logger.error({ requestId: 'req-3', err: wrapped }, 'unexpected error');
    const [line] = lines();
    expect(JSON.stringify(line)).not.toContain(recordValue);
    expect(line).toMatchObject({
      requestId: 'req-3',
      err: {
        type: 'DrizzleQueryError',
        message: 'Failed query: insert into demographics (given_name) values ($1)\nparams: [redacted]',
        cause: { type: 'Error', code: '23505', message: 'duplicate key value violates unique constraint "demographics_owner_external_id"' },
      },
    });
    expect((line?.err as { stack: string }).stack).toMatch(/^Error: Failed query: insert into demographics[\s\S]*params: \[redacted\]\n\s+at /);
  });

  it('respects the level', () => {
    const { logger, raw } = capture('info');
    logger.debug('hidden');
    expect(raw()).toBe('');
  });
});
