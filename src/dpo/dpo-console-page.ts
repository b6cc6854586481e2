/**
 * The HTML of `GET /dpo`, the data-protection officer's console. It holds no audit data: the
 * browser fetches everything with the DPO's own token. No inline script (the code is
 * `/dpo/console.js`) and one inline stylesheet, allowed by its hash in the CSP.
 */

import { dpoConsoleOperations } from './dpo-console-operations.js';

/** A demo DPO persona the page offers when the hub runs in demo mode. */
export interface DpoPersona {
  readonly id: string;
  readonly label: string;
  readonly org: string;
  readonly sub: string;
  readonly roles: readonly string[];
  readonly purpose: string;
}

const htmlEscapes: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => htmlEscapes[ch] ?? ch);
}

/** JSON that cannot close its `<script type="application/json">` element. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** The console's only stylesheet; the CSP names its SHA-256, so it must be served byte for byte. */
export const dpoConsoleStyle = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5a6275; --line: #d5d9e2; --bg: #f5f6f8; --card: #fff; --accent: #1f5fbf; --ok: #1c7c3a; --bad: #b3261e; --warn: #8a5a00; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header { background: #15233f; color: #fff; padding: 14px 24px; display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px 24px; }
header h1 { font-size: 20px; margin: 0; }
header nav a { color: #cfe0ff; margin-right: 14px; text-decoration: none; }
header nav a:hover { text-decoration: underline; }
main { max-width: 1280px; margin: 0 auto; padding: 16px 24px 48px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 16px 0; }
h2 { font-size: 17px; margin: 0 0 8px; }
p.hint { color: var(--muted); margin: 4px 0 12px; font-size: 14px; }
label { display: inline-flex; flex-direction: column; gap: 2px; font-size: 13px; color: var(--muted); margin: 0 12px 10px 0; vertical-align: top; }
input, select, textarea, button { font: inherit; color: var(--ink); }
input, select, textarea { border: 1px solid var(--line); border-radius: 4px; padding: 5px 8px; background: #fff; }
textarea { width: 100%; min-height: 70px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
button { border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 4px; padding: 6px 14px; cursor: pointer; margin: 0 8px 8px 0; }
button.secondary { background: #fff; color: var(--accent); }
button:disabled { opacity: .5; cursor: default; }
.row { display: flex; flex-wrap: wrap; align-items: flex-end; }
.status { font-size: 14px; margin: 6px 0; min-height: 1.4em; }
.status.error { color: var(--bad); }
.status.ok { color: var(--ok); }
.status.warn { color: var(--warn); }
.badge { display: inline-block; border-radius: 10px; padding: 1px 10px; font-weight: 600; font-size: 13px; }
.badge.ok { background: #dff3e4; color: var(--ok); }
.badge.bad { background: #fbe2e0; color: var(--bad); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 8px 0; font-size: 14px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-all; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f6; position: sticky; top: 0; }
tr.event { cursor: pointer; }
tr.event:hover { background: #f4f7fc; }
tr.detail td { background: #fafbfd; }
tr.detail pre { margin: 0; white-space: pre-wrap; word-break: break-all; font-size: 12px; }
td.action-BREAK_GLASS { color: var(--bad); font-weight: 600; }
td.action-DENY { color: var(--warn); }
ul.records { margin: 0; padding-left: 16px; }
ul.records li { margin: 0 0 2px; }
.demo { border-left: 4px solid var(--warn); padding-left: 12px; margin-top: 12px; }
[hidden] { display: none !important; }
`;

/**
 * Renders the console page. The GraphQL operations and `demoPersonas` travel as JSON in
 * non-executed script elements; the script offers the personas only when the hub answers as a
 * demo hub (`/sandbox/token` exists).
 */
export function renderDpoConsolePage(options: { readonly scriptPath: string; readonly demoPersonas: readonly DpoPersona[] }): string {
  const actions = ['READ', 'BREAK_GLASS', 'DENY', 'PUBLISH', 'RETRACT', 'AGREEMENT_SUBMIT', 'AGREEMENT_REVOKE', 'ADMIN'];
  const actionOptions = actions.map((a) => `<option value="${a}">${a}</option>`).join('');
  const personaOptions = options.demoPersonas.map((p) => `<option value="${escapeHtml(p.id)}">${escapeHtml(p.label)}</option>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Accord DPO console</title>
<style>${dpoConsoleStyle}</style>
<script type="application/json" id="dpo-demo-personas">${jsonForScript(options.demoPersonas)}</script>
<script type="application/json" id="dpo-operations">${jsonForScript(dpoConsoleOperations)}</script>
<script defer src="${escapeHtml(options.scriptPath)}"></script>
</head>
<body>
<header>
<h1>Accord DPO console</h1>
<nav><a href="#token">Token</a><a href="#integrity">Integrity</a><a href="#events">Audit events</a><a href="#sar">Subject access</a><a href="#break-glass">Break-glass</a></nav>
<span id="caller" data-testid="caller"></span>
</header>
<main>
<noscript><p>The DPO console needs JavaScript (served by this hub from /dpo/console.js; nothing is loaded from anywhere else).</p></noscript>

<section id="token">
<h2>Your token</h2>
<p class="hint">Paste caller tokens signed by your organisation with the role <code>dpo</code>, one per line, e.g. from
<code>npx accord token --org ORG --key KEY --sub you@org --purpose data-protection-oversight --roles dpo</code>.
The hub accepts each token once (a replayed <code>jti</code> is refused), so every action below uses the next token; tokens live at most 5 minutes.
Tokens stay in this page's memory only and are sent to this hub only.</p>
<textarea id="tokens" data-testid="tokens" spellcheck="false" autocomplete="off" placeholder="eyJhbGciOi..."></textarea>
<p class="status" id="token-status" data-testid="token-status" role="status" aria-live="polite">No token yet.</p>
<div class="demo" id="demo" data-testid="demo" hidden>
<p class="hint">Demo mode: act as a demo organisation's data-protection officer. The hub mints a fresh two-minute token for every action.</p>
<div class="row">
<label>Demo DPO<select id="demo-persona" data-testid="demo-persona">${personaOptions}</select></label>
<button type="button" id="demo-use" data-testid="demo-use">Use this persona</button>
<button type="button" class="secondary" id="demo-stop" data-testid="demo-stop" hidden>Use pasted tokens instead</button>
</div>
</div>
</section>

<section id="integrity">
<h2>Audit integrity</h2>
<p class="hint">The chain head, the last checkpoint signed by the hub, and how far the hub has recomputed the chain. For a full check run <code>npx accord audit verify</code>.</p>
<button type="button" id="integrity-run" data-testid="integrity-run">Check integrity</button>
<p class="status" id="integrity-status" role="status" aria-live="polite"></p>
<dl class="facts" id="integrity-result" data-testid="integrity-result" hidden></dl>
</section>

<section id="events">
<h2>Audit events</h2>
<p class="hint">Events where your organisation is the actor or the owner of the records (all events for the hub operator), in sequence order. An event is one action by one caller in one request on one person's records held by one organisation, and lists each record with the fields released and withheld and the agreements that allowed it. Click a row for its details and hashes.</p>
<form id="events-form" class="row" autocomplete="off">
<label>NHS number<input id="f-nhs" name="nhsNumber" inputmode="numeric" pattern="[0-9]{10}" maxlength="10" size="12"></label>
<label>Action<select id="f-action" name="action"><option value="">any</option>${actionOptions}</select></label>
<label>From<input id="f-from" name="from" type="datetime-local"></label>
<label>To (before)<input id="f-to" name="to" type="datetime-local"></label>
<label>Actor organisation<input id="f-actor" name="actorOrg" maxlength="63" size="16"></label>
<label>Owner organisation<input id="f-owner" name="ownerOrg" maxlength="63" size="16"></label>
<label>Purpose<input id="f-purpose" name="purpose" maxlength="100" size="16"></label>
<label>Agreement id<input id="f-agreement" name="agreementId" maxlength="200" size="16"></label>
<label>Record id<input id="f-record" name="recordId" maxlength="200" size="16"></label>
<label>Page size<select id="f-first" name="first"><option>20</option><option selected>50</option><option>100</option><option>500</option></select></label>
<button type="submit" data-testid="events-run">Search</button>
</form>
<div class="row">
<button type="button" class="secondary" id="events-prev" disabled>Previous page</button>
<button type="button" class="secondary" id="events-next" disabled>Next page</button>
<button type="button" class="secondary" id="events-csv" disabled>Download this page (CSV)</button>
</div>
<p class="status" id="events-status" role="status" aria-live="polite"></p>
<div class="table-wrap"><table id="events-table" data-testid="events-table" hidden></table></div>
</section>

<section id="sar">
<h2>Subject access report</h2>
<p class="hint">Every event about one person that involves your organisation: who saw which of their records, which fields, when, why and under which agreement (UK GDPR Art 15). Running it is itself audited.</p>
<form id="sar-form" class="row" autocomplete="off">
<label>NHS number<input id="sar-nhs" name="nhsNumber" inputmode="numeric" pattern="[0-9]{10}" maxlength="10" size="12" required></label>
<button type="submit" data-testid="sar-run">Run report</button>
<button type="button" class="secondary" id="sar-json" disabled>Download (JSON)</button>
<button type="button" class="secondary" id="sar-csv" disabled>Download (CSV)</button>
</form>
<p class="status" id="sar-status" role="status" aria-live="polite"></p>
<div class="table-wrap"><table id="sar-table" data-testid="sar-table" hidden></table></div>
</section>

<section id="break-glass">
<h2>Break-glass releases</h2>
<p class="hint">Records released under break-glass: outside the agreed purpose and conditions, on a stated reason. Review each one with the caller's organisation.</p>
<form id="bg-form" class="row" autocomplete="off">
<label>Whose records<select id="bg-scope" name="scope"><option value="owner">my organisation's records</option><option value="any">any I may see</option></select></label>
<label>From<input id="bg-from" name="from" type="datetime-local"></label>
<button type="submit" data-testid="bg-run">List break-glass releases</button>
<button type="button" class="secondary" id="bg-next" disabled>More</button>
</form>
<p class="status" id="bg-status" role="status" aria-live="polite"></p>
<div class="table-wrap"><table id="bg-table" data-testid="bg-table" hidden></table></div>
</section>
</main>
</body>
</html>
`;
}
