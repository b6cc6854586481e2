/**
 * What the sandbox page hands its script, as JSON in a `<script type="application/json">`
 * element (data, never executed, so the page needs no inline script under its CSP).
 */

/** Who the sandbox acts as: the claims of the tokens `POST /sandbox/token` mints. */
export interface Persona {
  readonly org: string;
  readonly sub: string;
  readonly roles: readonly string[];
  readonly purpose: string;
  readonly caseRef?: string;
  readonly breakGlassReason?: string;
}

/** A ready-made persona offered by the picker. */
export interface PersonaPreset extends Persona {
  /** Stable id, e.g. `westminster-social-worker`. */
  readonly id: string;
  /** What the picker shows, e.g. "Westminster: children's social worker". */
  readonly label: string;
}

/** An operation preloaded as a GraphiQL tab. */
export interface ExampleOperation {
  readonly title: string;
  readonly query: string;
  readonly variables?: string;
}

export interface SandboxConfig {
  readonly graphqlUrl: string;
  readonly tokenUrl: string;
  /** URLs of the Monaco workers (same origin: the CSP allows workers from 'self' only). */
  readonly workers: { readonly editor: string; readonly json: string; readonly graphql: string };
  readonly personas: readonly PersonaPreset[];
  readonly organisations: readonly { readonly id: string; readonly name: string }[];
  readonly examples: readonly ExampleOperation[];
}

/** The response of `POST /sandbox/token`. */
export interface PersonaTokenResponse {
  readonly token: string;
  readonly expiresAt: string;
}
