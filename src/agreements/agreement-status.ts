import { assertNever } from '../errors.js';
import { endOfDayUtcMs } from './formats.js';

/** Where an agreement version is in its life (CONTRACT §3); never stored, always computed. */
export type AgreementStatus = 'PENDING' | 'ACTIVE' | 'EXPIRED' | 'SUSPENDED' | 'REVOKED' | 'SUPERSEDED';

export const agreementStatuses: readonly AgreementStatus[] = ['PENDING', 'ACTIVE', 'EXPIRED', 'SUSPENDED', 'REVOKED', 'SUPERSEDED'];

export function isAgreementStatus(value: unknown): value is AgreementStatus {
  return typeof value === 'string' && (agreementStatuses as readonly string[]).includes(value);
}

/** What status depends on: the validity window, the review date and revocation. */
export interface StatusInputs {
  readonly validFrom: Date | string;
  readonly validUntil: Date | string;
  /** YYYY-MM-DD, or null/undefined when the agreement has no review date. */
  readonly reviewBy?: string | null | undefined;
  readonly revokedAt?: Date | string | null | undefined;
}

function ms(value: Date | string): number {
  return value instanceof Date ? value.getTime() : Date.parse(value);
}

/**
 * The status of one agreement version at `now`. Precedence: REVOKED; SUPERSEDED (a higher
 * version of the same id has taken effect, see `statusesOfVersions`); PENDING (before
 * validFrom); EXPIRED (after validUntil); SUSPENDED (after the end of the reviewBy day, UTC);
 * else ACTIVE. A newer version that is only pending does not keep an old one alive past its
 * review date: sharing stops at the review date unless the agreed new version is in force by
 * then (the safe direction).
 */
export function agreementStatus(row: StatusInputs, options: { readonly now: Date; readonly superseded: boolean }): AgreementStatus {
  const now = options.now.getTime();
  if (row.revokedAt !== null && row.revokedAt !== undefined) return 'REVOKED';
  if (options.superseded) return 'SUPERSEDED';
  if (now < ms(row.validFrom)) return 'PENDING';
  // Both bounds are inclusive: an agreement "valid until 23:59:59Z" still holds at that second.
  if (now > ms(row.validUntil)) return 'EXPIRED';
  if (row.reviewBy !== null && row.reviewBy !== undefined && now >= endOfDayUtcMs(row.reviewBy)) return 'SUSPENDED';
  return 'ACTIVE';
}

/**
 * Whether a version has taken effect by `now`: its validFrom has passed and it was not revoked
 * before then. Once one has, every lower version is SUPERSEDED for good, even if this one is
 * later revoked, expires or is suspended: the parties replaced the old terms, and revoking the
 * new ones must stop the sharing, not bring back broader terms they had moved away from. To share
 * again they sign a new version.
 */
function tookEffect(row: StatusInputs, now: number): boolean {
  const from = ms(row.validFrom);
  if (now < from) return false;
  return row.revokedAt === null || row.revokedAt === undefined || ms(row.revokedAt) > from;
}

/** Statuses of every version of one agreement id at `now`, highest version first considered. */
export function statusesOfVersions<T extends StatusInputs & { readonly version: number }>(versions: readonly T[], now: Date): Map<number, AgreementStatus> {
  const result = new Map<number, AgreementStatus>();
  let superseded = false;
  for (const row of [...versions].sort((a, b) => b.version - a.version)) {
    result.set(row.version, agreementStatus(row, { now, superseded }));
    if (tookEffect(row, now.getTime())) superseded = true;
  }
  return result;
}

/** Whether an agreement in this status decides what is shared. */
export function isInForce(status: AgreementStatus): boolean {
  switch (status) {
    case 'ACTIVE':
      return true;
    case 'PENDING':
    case 'EXPIRED':
    case 'SUSPENDED':
    case 'REVOKED':
    case 'SUPERSEDED':
      return false;
    default:
      return assertNever(status, 'agreement status');
  }
}
