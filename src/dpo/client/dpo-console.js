/* The DPO console's script, served by the hub as /dpo/console.js (plain browser JavaScript, no
 * build step). Everything it shows comes from POST /graphql with the DPO's own token; values are
 * only ever set as text, never as markup, and tokens live in this page's memory only. */
/* global document, window, fetch, atob, Blob, URL, TextDecoder */
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const demoPersonas = JSON.parse($('dpo-demo-personas').textContent || '[]');
  /** The operations (validated against the schema by test/dpo/dpo-console.test.ts). */
  const operations = JSON.parse($('dpo-operations').textContent || '{}');
  const jwtPattern = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

  const state = {
    /** Pasted tokens not used yet, oldest first. */
    tokens: [],
    /** The demo persona in use (demo mode), or null for pasted tokens. */
    persona: null,
    events: { cursors: [null], page: 0, rows: [] },
    breakGlass: { after: null, rows: [], filter: null },
    sar: { nhsNumber: null, rows: [] },
  };

  // ---------------------------------------------------------------- small helpers

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function setStatus(id, text, kind) {
    const node = $(id);
    node.textContent = text;
    node.className = `status${kind ? ` ${kind}` : ''}`;
  }

  /** The claims of a JWT, read for display only: the hub is what verifies it. */
  function claimsOf(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const binary = atob(part + '='.repeat((4 - (part.length % 4)) % 4));
      return JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    } catch {
      return undefined;
    }
  }

  const nowSeconds = () => Math.floor(Date.now() / 1000);

  function download(name, type, text) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const link = el('a');
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  /** One CSV cell (RFC 4180); a leading = + - @ is neutralised so a spreadsheet never runs it as a formula. */
  function csvCell(value) {
    let text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  const agreementText = (agreements) => agreements.map((a) => `${a.id} v${a.version}`).join('; ');

  /** The event's columns, then the record's: one CSV row per record, as the operator's export. */
  const csvEventColumns = ['seq', 'at', 'action', 'outcome', 'actorOrg', 'actorUser', 'actorRoles', 'purpose', 'caseRef', 'ownerOrg', 'nhsNumber'];
  const csvRecordColumns = ['recordType', 'recordId', 'fields', 'withheld', 'agreements'];
  const csvTrailingColumns = ['sensitivity', 'operationName', 'requestId', 'details', 'prevHash', 'hash'];

  /** One row per record an event concerns; an event concerning none (agreement, ADMIN) is one row with empty record cells. */
  function toCsv(events) {
    const lines = [[...csvEventColumns, ...csvRecordColumns, ...csvTrailingColumns].join(',')];
    const cell = (value) => csvCell(Array.isArray(value) ? value.join('; ') : value);
    for (const event of events) {
      const records = event.records.length > 0 ? event.records : [null];
      for (const record of records) {
        lines.push(
          [
            ...csvEventColumns.map((column) => cell(event[column])),
            ...csvRecordColumns.map((column) => (record === null ? '' : column === 'agreements' ? csvCell(agreementText(record.agreements)) : cell(record[column]))),
            ...csvTrailingColumns.map((column) => cell(event[column])),
          ].join(','),
        );
      }
    }
    return `${lines.join('\r\n')}\r\n`;
  }

  function isoOrNull(localValue) {
    if (!localValue) return null;
    const date = new Date(localValue);
    return Number.isNaN(date.getTime()) ? null : date.toISOString();
  }

  // ---------------------------------------------------------------- tokens

  function readPastedTokens() {
    const lines = $('tokens')
      .value.split(/\s+/)
      .map((line) => line.trim())
      .filter((line) => line !== '');
    const bad = lines.filter((line) => !jwtPattern.test(line)).length;
    state.tokens = lines.filter((line) => jwtPattern.test(line));
    showTokenStatus(bad);
  }

  function showTokenStatus(bad = 0) {
    if (state.persona !== null) {
      setStatus('token-status', `Demo persona: ${state.persona.label}. A fresh token is minted for every action.`, 'ok');
      return;
    }
    if (state.tokens.length === 0) {
      setStatus('token-status', bad > 0 ? 'That does not look like a token (three base64url parts separated by dots).' : 'No token yet.', bad > 0 ? 'error' : '');
      return;
    }
    const claims = claimsOf(state.tokens[0]) || {};
    const roles = Array.isArray(claims.roles) ? claims.roles : [];
    const left = typeof claims.exp === 'number' ? claims.exp - nowSeconds() : undefined;
    const parts = [`${state.tokens.length} token${state.tokens.length === 1 ? '' : 's'} ready`];
    if (claims.iss) parts.push(`next: ${claims.sub || '?'} of ${claims.iss}, roles ${roles.join(', ') || 'none'}`);
    if (left !== undefined) parts.push(left > 0 ? `expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}` : 'expired');
    let kind = 'ok';
    if (!roles.includes('dpo') && !roles.includes('hub-admin')) {
      parts.push('this token has no dpo role: the audit queries will answer FORBIDDEN');
      kind = 'warn';
    }
    if (bad > 0) parts.push(`${bad} line(s) ignored: not a token`);
    setStatus('token-status', `${parts.join('; ')}.`, kind);
  }

  /** The organisation acting: the persona's, or the next pasted token's `iss`. */
  function currentOrg() {
    if (state.persona !== null) return state.persona.org;
    const claims = state.tokens.length > 0 ? claimsOf(state.tokens[0]) : undefined;
    return claims && typeof claims.iss === 'string' ? claims.iss : null;
  }

  async function nextToken() {
    if (state.persona !== null) {
      const { org, sub, roles, purpose } = state.persona;
      const response = await fetch('/sandbox/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ org, sub, roles, purpose }),
        credentials: 'omit',
        cache: 'no-store',
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok || typeof body.token !== 'string') throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : `could not mint a demo token (HTTP ${response.status})`);
      return body.token;
    }
    // Expired tokens would only be refused: drop them here and say so.
    let dropped = 0;
    while (state.tokens.length > 0) {
      const claims = claimsOf(state.tokens[0]);
      if (claims && typeof claims.exp === 'number' && claims.exp <= nowSeconds()) {
        state.tokens.shift();
        dropped += 1;
      } else break;
    }
    const token = state.tokens.shift();
    $('tokens').value = state.tokens.join('\n');
    showTokenStatus();
    if (token === undefined) {
      throw new Error(`${dropped > 0 ? `${dropped} expired token(s) dropped. ` : ''}No token left: paste a fresh one (the hub accepts each token once).`);
    }
    return token;
  }

  function showCaller(me) {
    if (!me) return;
    $('caller').textContent = `${me.subject} · ${me.organisation.name} (${me.organisation.id}) · roles: ${me.roles.join(', ') || 'none'}`;
  }

  /** Sends one operation with a fresh token; resolves with `data`, rejects with the first error. */
  async function graphql(query, variables) {
    const token = await nextToken();
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query, variables }),
      credentials: 'omit',
      cache: 'no-store',
    });
    let body;
    try {
      body = await response.json();
    } catch {
      throw new Error(`the hub answered HTTP ${response.status} without a GraphQL response`);
    }
    const errors = Array.isArray(body.errors) ? body.errors : [];
    if (errors.length > 0 || !body.data) {
      const first = errors[0] || { message: `HTTP ${response.status}` };
      const code = first.extensions && first.extensions.code ? `${first.extensions.code}: ` : '';
      const retry = response.headers.get('retry-after');
      throw new Error(`${code}${first.message}${retry ? ` (retry after ${retry} s)` : ''}`);
    }
    showCaller(body.data.me);
    return body.data;
  }

  async function guarded(statusId, run) {
    setStatus(statusId, 'Working…');
    try {
      await run();
    } catch (error) {
      setStatus(statusId, error instanceof Error ? error.message : String(error), 'error');
    }
  }

  // ---------------------------------------------------------------- event tables

  /** One line per record the event concerns: what it is, what was released and withheld of it, under which agreements. */
  function recordList(event) {
    if (event.records.length === 0) return '';
    const list = el('ul', undefined, 'records');
    for (const record of event.records) {
      // A DENY entry has no id: it names only the record type the caller asked for.
      const parts = [record.recordId === null ? `${record.recordType} (type asked for)` : `${record.recordType} ${record.recordId}`];
      if (record.fields.length > 0) parts.push(`released: ${record.fields.join(', ')}`);
      if (record.withheld.length > 0) parts.push(`withheld: ${record.withheld.join(', ')}`);
      if (record.agreements.length > 0) parts.push(`under ${agreementText(record.agreements)}`);
      list.append(el('li', parts.join(' · ')));
    }
    return list;
  }

  const columns = [
    ['Seq', (e) => e.seq],
    ['At', (e) => e.at],
    ['Action', (e) => e.action],
    ['Outcome', (e) => e.outcome],
    ['Actor', (e) => [e.actorOrg, e.actorUser].filter(Boolean).join(' / ')],
    ['Purpose', (e) => e.purpose],
    ['Case', (e) => e.caseRef],
    ['Owner', (e) => e.ownerOrg],
    ['NHS number', (e) => e.nhsNumber],
    ['Records', recordList],
  ];

  const breakGlassColumns = [
    ['Seq', (e) => e.seq],
    ['At', (e) => e.at],
    ['Actor', (e) => [e.actorOrg, e.actorUser].filter(Boolean).join(' / ')],
    ['Roles', (e) => e.actorRoles.join(', ')],
    ['Case', (e) => e.caseRef],
    ['Reason', (e) => (e.details && (e.details.breakGlassReason || e.details.reason)) || ''],
    ['Owner', (e) => e.ownerOrg],
    ['NHS number', (e) => e.nhsNumber],
    ['Records', recordList],
  ];

  const recordCount = (events) => events.reduce((n, e) => n + e.records.length, 0);

  /** Fills a table with events; clicking a row shows the whole event (details, hashes) under it. */
  function renderTable(tableId, events, cols) {
    const table = $(tableId);
    table.replaceChildren();
    const head = el('tr');
    for (const [title] of cols) head.append(el('th', title));
    table.append(el('thead'));
    table.tHead.append(head);
    const body = el('tbody');
    for (const event of events) {
      const row = el('tr', undefined, 'event');
      for (const [title, value] of cols) {
        const content = value(event);
        const cell = el('td', content instanceof window.Node ? undefined : content, title === 'Action' ? `action-${event.action}` : '');
        if (content instanceof window.Node) cell.append(content);
        row.append(cell);
      }
      row.addEventListener('click', () => {
        const open = row.nextSibling && row.nextSibling.classList && row.nextSibling.classList.contains('detail');
        if (open) {
          row.nextSibling.remove();
          return;
        }
        const detail = el('tr', undefined, 'detail');
        const cell = el('td');
        cell.colSpan = cols.length;
        cell.append(el('pre', JSON.stringify(event, null, 2)));
        detail.append(cell);
        row.after(detail);
      });
      body.append(row);
    }
    table.append(body);
    table.hidden = events.length === 0;
  }

  // ---------------------------------------------------------------- integrity

  async function checkIntegrity() {
    const data = await graphql(operations.integrity, {});
    const integrity = data.auditIntegrity;
    const list = $('integrity-result');
    list.replaceChildren();
    const fact = (name, value) => {
      list.append(el('dt', name));
      const dd = el('dd');
      if (value instanceof window.Node) dd.append(value);
      else dd.textContent = value === null || value === undefined ? '—' : String(value);
      list.append(dd);
    };
    // `intact` speaks only for the part the hub has recomputed: up to `verifiedUpTo` (0: none yet).
    const verified = Number(integrity.verifiedUpTo);
    const head = Number(integrity.headSeq);
    const verdict = !integrity.intact ? 'NOT INTACT' : verified === 0 && head > 0 ? 'not verified by the hub yet' : `intact up to seq ${integrity.verifiedUpTo}`;
    fact('Verdict', el('span', verdict, `badge ${integrity.intact && (verified > 0 || head === 0) ? 'ok' : 'bad'}`));
    if (integrity.problem) fact('Problem', integrity.problem);
    fact('Chain head', `seq ${integrity.headSeq}`);
    fact('Head hash', integrity.headHash);
    fact('Verified up to', `seq ${integrity.verifiedUpTo}`);
    const checkpoint = integrity.lastCheckpoint;
    fact('Last checkpoint', checkpoint ? `seq ${checkpoint.seq}, signed ${checkpoint.at} with hub key ${checkpoint.kid}` : 'none signed yet');
    if (checkpoint) fact('Checkpoint hash', checkpoint.hash);
    list.hidden = false;
    if (!integrity.intact) {
      setStatus('integrity-status', 'The hub reports a problem with the audit chain: keep this page, and follow "When verification fails" in docs/dpo.md.', 'error');
    } else if (verified < head) {
      setStatus(
        'integrity-status',
        `The hub has recomputed the chain only up to seq ${integrity.verifiedUpTo} of ${integrity.headSeq}: ask the operator for a full npx accord audit verify, and compare the checkpoints your organisation keeps.`,
        'warn',
      );
    } else {
      setStatus('integrity-status', 'The chain is intact as far as the hub has verified it. Compare the checkpoints your organisation keeps (docs/dpo.md).', 'ok');
    }
  }

  // ---------------------------------------------------------------- audit events

  function eventFilter() {
    const filter = {};
    const nhs = $('f-nhs').value.replace(/\s+/g, '');
    if (nhs !== '') {
      if (!/^\d{10}$/.test(nhs)) throw new Error('An NHS number is 10 digits.');
      filter.nhsNumber = nhs;
    }
    const text = (id, key) => {
      const value = $(id).value.trim();
      if (value !== '') filter[key] = value;
    };
    text('f-action', 'action');
    text('f-actor', 'actorOrg');
    text('f-owner', 'ownerOrg');
    text('f-purpose', 'purpose');
    text('f-agreement', 'agreementId');
    text('f-record', 'recordId');
    const from = isoOrNull($('f-from').value);
    const to = isoOrNull($('f-to').value);
    if (from) filter.from = from;
    if (to) filter.to = to;
    return filter;
  }

  async function loadEvents() {
    const { cursors, page } = state.events;
    const variables = { filter: state.events.filter, first: Number($('f-first').value), after: cursors[page] };
    const data = await graphql(operations.auditEvents, variables);
    const connection = data.auditEvents;
    state.events.rows = connection.edges.map((edge) => edge.node);
    state.events.next = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null;
    renderTable('events-table', state.events.rows, columns);
    $('events-prev').disabled = page === 0;
    $('events-next').disabled = state.events.next === null;
    $('events-csv').disabled = state.events.rows.length === 0;
    const count = state.events.rows.length;
    setStatus(
      'events-status',
      count === 0
        ? 'No events match.'
        : `Page ${page + 1}: ${count} event${count === 1 ? '' : 's'} (seq ${state.events.rows[0].seq}–${state.events.rows[count - 1].seq}) concerning ${recordCount(state.events.rows)} record(s).`,
      'ok',
    );
  }

  // ---------------------------------------------------------------- subject access report

  async function runSar() {
    const nhs = $('sar-nhs').value.replace(/\s+/g, '');
    if (!/^\d{10}$/.test(nhs)) throw new Error('An NHS number is 10 digits.');
    const data = await graphql(operations.subjectAccessReport, { nhsNumber: nhs });
    state.sar = { nhsNumber: nhs, rows: data.subjectAccessReport };
    renderTable('sar-table', state.sar.rows, columns);
    $('sar-json').disabled = false;
    $('sar-csv').disabled = false;
    const releases = state.sar.rows.filter((e) => e.action === 'READ' || e.action === 'BREAK_GLASS');
    setStatus(
      'sar-status',
      `${state.sar.rows.length} event(s) about ${nhs}, of which ${releases.length} released ${recordCount(releases)} record(s). This report was itself audited.`,
      'ok',
    );
  }

  // ---------------------------------------------------------------- break-glass

  async function loadBreakGlass(more) {
    if (!more) {
      const filter = { action: 'BREAK_GLASS' };
      if ($('bg-scope').value === 'owner') {
        const org = currentOrg();
        if (org === null) throw new Error('Add a token first: the console needs to know your organisation.');
        filter.ownerOrg = org;
      }
      const from = isoOrNull($('bg-from').value);
      if (from) filter.from = from;
      state.breakGlass = { after: null, rows: [], filter };
    }
    const data = await graphql(operations.auditEvents, { filter: state.breakGlass.filter, first: 100, after: state.breakGlass.after });
    const connection = data.auditEvents;
    state.breakGlass.rows.push(...connection.edges.map((edge) => edge.node));
    state.breakGlass.after = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null;
    renderTable('bg-table', state.breakGlass.rows, breakGlassColumns);
    $('bg-next').disabled = state.breakGlass.after === null;
    const count = state.breakGlass.rows.length;
    setStatus(
      'bg-status',
      count === 0
        ? 'No break-glass releases found.'
        : `${count} break-glass release(s) of ${recordCount(state.breakGlass.rows)} record(s). Review each reason with the caller's organisation.`,
      count === 0 ? 'ok' : 'warn',
    );
  }

  // ---------------------------------------------------------------- wiring

  $('tokens').addEventListener('input', () => readPastedTokens());
  $('integrity-run').addEventListener('click', () => guarded('integrity-status', checkIntegrity));
  $('events-form').addEventListener('submit', (event) => {
    event.preventDefault();
    guarded('events-status', async () => {
      state.events = { cursors: [null], page: 0, rows: [], filter: eventFilter() };
      await loadEvents();
    });
  });
  $('events-next').addEventListener('click', () =>
    guarded('events-status', async () => {
      state.events.cursors[state.events.page + 1] = state.events.next;
      state.events.page += 1;
      await loadEvents();
    }),
  );
  $('events-prev').addEventListener('click', () =>
    guarded('events-status', async () => {
      state.events.page = Math.max(0, state.events.page - 1);
      await loadEvents();
    }),
  );
  $('events-csv').addEventListener('click', () => download(`audit-events-page-${state.events.page + 1}.csv`, 'text/csv', toCsv(state.events.rows)));
  $('sar-form').addEventListener('submit', (event) => {
    event.preventDefault();
    guarded('sar-status', runSar);
  });
  $('sar-json').addEventListener('click', () =>
    download(`subject-access-${state.sar.nhsNumber}.json`, 'application/json', `${JSON.stringify({ nhsNumber: state.sar.nhsNumber, generatedAt: new Date().toISOString(), events: state.sar.rows }, null, 2)}\n`),
  );
  $('sar-csv').addEventListener('click', () => download(`subject-access-${state.sar.nhsNumber}.csv`, 'text/csv', toCsv(state.sar.rows)));
  $('bg-form').addEventListener('submit', (event) => {
    event.preventDefault();
    guarded('bg-status', () => loadBreakGlass(false));
  });
  $('bg-next').addEventListener('click', () => guarded('bg-status', () => loadBreakGlass(true)));

  // Demo mode is when the hub serves /sandbox/token (it answers 405 to anything but POST there;
  // a production hub has no such route and answers 404).
  $('demo-use').addEventListener('click', () => {
    const chosen = demoPersonas.find((p) => p.id === $('demo-persona').value);
    if (!chosen) return;
    state.persona = chosen;
    $('demo-stop').hidden = false;
    $('tokens').disabled = true;
    showTokenStatus();
  });
  $('demo-stop').addEventListener('click', () => {
    state.persona = null;
    $('demo-stop').hidden = true;
    $('tokens').disabled = false;
    readPastedTokens();
  });
  if (demoPersonas.length > 0) {
    fetch('/sandbox/token', { method: 'HEAD', credentials: 'omit', cache: 'no-store' })
      .then((response) => {
        $('demo').hidden = response.status !== 405;
      })
      .catch(() => undefined);
  }
  readPastedTokens();
})();
