/**
 * Persona tokens: the sandbox asks the hub to sign a short-lived caller token for a demo
 * organisation, with that organisation's demo key. They are ordinary caller tokens, verified and
 * audited like any other; only who holds the key differs.
 */
import type { Clock } from '../clock.js';
import type { Db } from '../db/index.js';
import { AccordError, InputError, type Problem } from '../errors.js';
import { activeKeys, breakGlassMinReasonLength, getOrganisation, signCallerToken } from '../auth/index.js';
import { readDemoKey } from './demo-keys.js';
import { isDemoOrganisation } from './demo-partnership.js';
import type { PersonaTokenResponse } from './client/sandbox-config.js';

/**
 * Persona tokens live two minutes: the sandbox mints one per operation and uses it at once, so
 * a copied token is of little use for long.
 */
export const personaTokenTtlSeconds = 120;

const maxText = 200;
const maxRoles = 20;
const codePattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

export interface PersonaRequest {
  readonly org: string;
  readonly sub: string;
  readonly roles: readonly string[];
  readonly purpose: string;
  readonly caseRef: string | undefined;
  readonly breakGlassReason: string | undefined;
}

/** Checks the JSON body of `POST /sandbox/token`, reporting every problem at once. */
export function parsePersonaRequest(body: unknown): PersonaRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InputError('BAD_USER_INPUT', 'invalid persona', [{ path: '', reason: 'must be a JSON object' }]);
  }
  const input = body as Record<string, unknown>;
  const problems: Problem[] = [];
  const known = new Set(['org', 'sub', 'roles', 'purpose', 'caseRef', 'breakGlassReason']);
  for (const key of Object.keys(input)) if (!known.has(key)) problems.push({ path: key, reason: 'is not a persona field' });
  const text = (name: string, required: boolean, max = maxText): string | undefined => {
    const value = input[name];
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '' && !required)) {
      if (required) problems.push({ path: name, reason: 'is required' });
      return undefined;
    }
    if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
      problems.push({ path: name, reason: `must be a non-empty string of at most ${max} characters` });
      return undefined;
    }
    return value.trim();
  };
  const org = text('org', true);
  const sub = text('sub', true);
  const purpose = text('purpose', true);
  if (purpose !== undefined && !codePattern.test(purpose)) problems.push({ path: 'purpose', reason: 'must be a code: letters, digits and . _ : - only' });
  const caseRef = text('caseRef', false);
  const breakGlassReason = text('breakGlassReason', false, 1000);
  if (breakGlassReason !== undefined && breakGlassReason.length < breakGlassMinReasonLength) {
    problems.push({ path: 'breakGlassReason', reason: `must be at least ${breakGlassMinReasonLength} characters` });
  }
  const roles: string[] = [];
  if (input.roles !== undefined) {
    if (!Array.isArray(input.roles) || input.roles.length > maxRoles) {
      problems.push({ path: 'roles', reason: `must be a list of at most ${maxRoles} role codes` });
    } else {
      input.roles.forEach((role, index) => {
        if (typeof role !== 'string' || !codePattern.test(role)) problems.push({ path: `roles[${index}]`, reason: 'must be a role code: letters, digits and . _ : - only' });
        else roles.push(role);
      });
    }
  }
  if (problems.length > 0 || org === undefined || sub === undefined || purpose === undefined) throw new InputError('BAD_USER_INPUT', 'invalid persona', problems);
  return { org, sub, roles, purpose, caseRef, breakGlassReason };
}

export interface MintPersonaTokenOptions {
  readonly dataDir: string;
  readonly db: Db;
  readonly hubId: string;
  readonly clock: Clock;
}

/**
 * Signs a caller token for a persona of a demo organisation. Refuses (FORBIDDEN) any organisation
 * that is not one of the demo partnership's, or whose demo key is not in the data directory or no
 * longer registered: the hub must never speak for an organisation that holds its own keys.
 */
export async function mintPersonaToken(persona: PersonaRequest, options: MintPersonaTokenOptions): Promise<PersonaTokenResponse> {
  const refused = new AccordError('FORBIDDEN', `persona tokens are only minted for the demo organisations, and "${persona.org}" is not one of them here`);
  if (!isDemoOrganisation(persona.org)) throw refused;
  const privateJwk = await readDemoKey(options.dataDir, persona.org);
  if (privateJwk === undefined) throw refused;
  const organisation = await getOrganisation(options.db, persona.org);
  if (organisation === undefined || !activeKeys(organisation).some((key) => key.kid === privateJwk.kid)) throw refused;

  const token = await signCallerToken({
    org: persona.org,
    privateJwk,
    sub: persona.sub,
    purpose: persona.purpose,
    roles: persona.roles,
    ttlSeconds: personaTokenTtlSeconds,
    caseRef: persona.caseRef,
    breakGlass: persona.breakGlassReason,
    hubId: options.hubId,
    clock: options.clock,
  });
  const issuedAtSeconds = Math.floor(options.clock().getTime() / 1000);
  return { token, expiresAt: new Date((issuedAtSeconds + personaTokenTtlSeconds) * 1000).toISOString() };
}
