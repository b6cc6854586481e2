/**
 * The `accord.isa/v1` agreement document (CONTRACT §3) as TypeScript types. A value of these
 * types has passed `validateAgreement`; anything read from outside is `unknown` until then.
 */
import type { RecordType } from '../records/index.js';

export const agreementDocumentType = 'accord.isa/v1';

/** UK GDPR Art 6(1)(a)–(f): the lawful basis for processing. */
export const article6Bases = [
  'consent',
  'contract',
  'legal-obligation',
  'vital-interests',
  'public-task',
  'legitimate-interests',
] as const;
export type Article6Basis = (typeof article6Bases)[number];

/** Comparison operators of the `where` language. */
export const comparisonOps = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in'] as const;
export type ComparisonOp = (typeof comparisonOps)[number];

/** A value a condition compares with: strings (also dates as YYYY-MM-DD and enum values), numbers, booleans. */
export type WhereValue = string | number | boolean;

/** The one field outside a record's own fields that a condition may test (CONTRACT §3). */
export const subjectAgeField = 'subject.ageYears';

/**
 * A `where` condition: data, never code. Leaves compare one field with a constant; `all`, `any`
 * and `not` combine them.
 */
export type WhereCondition =
  | { readonly field: string; readonly op: Exclude<ComparisonOp, 'in'>; readonly value: WhereValue }
  | { readonly field: string; readonly op: 'in'; readonly value: readonly WhereValue[] }
  | { readonly all: readonly WhereCondition[] }
  | { readonly any: readonly WhereCondition[] }
  | { readonly not: WhereCondition };

export interface AgreementRecipient {
  readonly org: string;
  /**
   * Roles a caller must hold (any one of them); absent: any role. Never empty when submitted
   * (refused); an empty list stored before that rule matches no role (decision-index.ts).
   */
  readonly roles?: readonly string[];
}

export interface AgreementPurpose {
  readonly code: string;
  readonly description?: string;
}

export interface LawfulBasis {
  readonly article6: Article6Basis;
  /** Art 9(2) condition: required when the scope includes special-category data. */
  readonly article9?: string;
  /** Art 10 / DPA 2018 Sch 1 condition: required when the scope includes criminal-offence data. */
  readonly article10?: string;
  readonly legislation?: readonly string[];
}

export interface ScopeEntry {
  readonly recordType: RecordType;
  readonly fields: readonly string[];
  readonly where?: WhereCondition;
}

export interface BreakGlassClause {
  readonly allowed: boolean;
  /** Roles whose holders may break glass; non-empty when `allowed`. */
  readonly roles?: readonly string[];
}

export interface AgreementDocument {
  readonly type: typeof agreementDocumentType;
  readonly id: string;
  readonly version: number;
  readonly title: string;
  readonly provider: string;
  readonly recipients: readonly AgreementRecipient[];
  readonly purposes: readonly AgreementPurpose[];
  readonly lawfulBasis: LawfulBasis;
  readonly dataSubjects: readonly string[];
  readonly scope: readonly ScopeEntry[];
  readonly breakGlass?: BreakGlassClause;
  /** RFC 3339. */
  readonly validFrom: string;
  /** RFC 3339, after validFrom. */
  readonly validUntil: string;
  /** YYYY-MM-DD: sharing is suspended after the end of this day (UTC) unless reviewed. */
  readonly reviewBy?: string;
  /** ISO 8601 duration recipients may keep what they receive. */
  readonly retention: string;
  readonly governance?: Readonly<Record<string, unknown>>;
}

/** An agreement version as audit events and `sharedUnder` cite it. */
export interface AgreementRef {
  readonly id: string;
  readonly version: number;
  readonly payloadHash: string;
}
