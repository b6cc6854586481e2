/**
 * The HTML of `GET /sandbox`: the persona picker and a mount point for GraphiQL. No inline
 * script or style: the page's data travels as JSON in a non-executed script element, so the
 * Content-Security-Policy can forbid inline script outright.
 */
import type { SandboxManifest } from './sandbox-assets.js';
import type { SandboxConfig } from './client/sandbox-config.js';

const htmlEscapes: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => htmlEscapes[ch] ?? ch);
}

/**
 * JSON safe inside `<script type="application/json">`: `<` is escaped so no value can close the
 * element (`</script>`) or open a comment, and U+2028/2029 for old parsers.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export interface SandboxPageOptions {
  readonly manifest: SandboxManifest;
  /** URL path the assets are served under, ending in `/`. */
  readonly assetsPath: string;
  readonly config: SandboxConfig;
  readonly purposes: readonly string[];
}

export function renderSandboxPage(options: SandboxPageOptions): string {
  const { manifest, assetsPath, config } = options;
  const first = config.personas[0];
  const option = (value: string, label: string, selected: boolean) =>
    `<option value="${escapeHtml(value)}"${selected ? ' selected' : ''}>${escapeHtml(label)}</option>`;
  const presetOptions = config.personas.map((p) => option(p.id, p.label, p === first)).join('');
  const orgOptions = config.organisations.map((o) => option(o.id, `${o.name} (${o.id})`, o.id === first?.org)).join('');
  const purposeOptions = options.purposes.map((code) => `<option value="${escapeHtml(code)}"></option>`).join('');
  const value = (text: string | undefined) => escapeHtml(text ?? '');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Accord sandbox</title>
<link rel="stylesheet" href="${escapeHtml(assetsPath + manifest.stylesheet)}">
<script type="application/json" id="sandbox-config">${jsonForScript(config)}</script>
<script defer src="${escapeHtml(assetsPath + manifest.script)}"></script>
</head>
<body>
<header class="accord-bar" data-testid="persona-picker">
<h1>Accord sandbox</h1>
<form id="persona-form" data-testid="persona-form" autocomplete="off">
<label>Persona<select id="persona-preset" data-testid="persona-preset">${presetOptions}</select></label>
<label>Organisation<select id="persona-org" name="org" data-testid="persona-org">${orgOptions}</select></label>
<label>User (sub)<input id="persona-sub" name="sub" data-testid="persona-sub" required maxlength="200" value="${value(first?.sub)}"></label>
<label>Roles (comma-separated)<input id="persona-roles" name="roles" data-testid="persona-roles" maxlength="500" value="${value(first?.roles.join(', '))}"></label>
<label>Purpose<input id="persona-purpose" name="purpose" data-testid="persona-purpose" list="persona-purposes" required maxlength="100" value="${value(first?.purpose)}"></label>
<datalist id="persona-purposes">${purposeOptions}</datalist>
<label>Case reference (optional)<input id="persona-case-ref" name="caseRef" data-testid="persona-case-ref" maxlength="200" value="${value(first?.caseRef)}"></label>
<label>Break-glass reason (optional, 20+ characters)<input class="wide" id="persona-break-glass" name="breakGlassReason" data-testid="persona-break-glass" maxlength="500" value="${value(first?.breakGlassReason)}"></label>
<button type="submit" data-testid="persona-apply">Use this persona</button>
</form>
<p class="accord-status" id="persona-status" data-testid="persona-status" role="status" aria-live="polite">Loading…</p>
<p class="accord-note">Demo mode: every person here is synthetic. Each request is sent with a fresh token for the persona above, minted by the hub with the demo organisation's key, and audited.</p>
</header>
<main id="graphiql" data-testid="graphiql"></main>
</body>
</html>
`;
}
