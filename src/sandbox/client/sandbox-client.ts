/**
 * The sandbox page's script (bundled by sandbox-assets.ts, run in the browser): wires the persona
 * picker and mounts GraphiQL with a fetcher that mints a fresh persona token for every operation,
 * since the hub accepts each token id (`jti`) once.
 */
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import './sandbox.css';
import type { Persona, PersonaTokenResponse, SandboxConfig } from './sandbox-config.js';

type GraphQLParams = { query: string; operationName?: string | null; variables?: unknown };
type FetcherOptions = { headers?: Record<string, unknown> };

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the sandbox page has no #${id}`);
  return found as T;
}

const config = JSON.parse(element('sandbox-config').textContent ?? '{}') as SandboxConfig;

// Monaco runs its language services in workers; they are served by the hub like the rest.
(globalThis as { MonacoEnvironment?: unknown }).MonacoEnvironment = {
  getWorker(_workerId: string, label: string) {
    const url = label === 'json' ? config.workers.json : label === 'graphql' ? config.workers.graphql : config.workers.editor;
    return new Worker(url, { name: label });
  },
};

const form = element<HTMLFormElement>('persona-form');
const preset = element<HTMLSelectElement>('persona-preset');
const field = {
  org: element<HTMLSelectElement>('persona-org'),
  sub: element<HTMLInputElement>('persona-sub'),
  roles: element<HTMLInputElement>('persona-roles'),
  purpose: element<HTMLInputElement>('persona-purpose'),
  caseRef: element<HTMLInputElement>('persona-case-ref'),
  breakGlassReason: element<HTMLInputElement>('persona-break-glass'),
};
const status = element<HTMLElement>('persona-status');

let active: Persona | undefined;
/** The persona check in flight; the fetcher waits for it so no query runs as the previous persona. */
let pending: Promise<void> = Promise.resolve();

function personaFromForm(): Persona {
  const caseRef = field.caseRef.value.trim();
  const breakGlassReason = field.breakGlassReason.value.trim();
  return {
    org: field.org.value,
    sub: field.sub.value.trim(),
    roles: field.roles.value
      .split(',')
      .map((role) => role.trim())
      .filter((role) => role !== ''),
    purpose: field.purpose.value.trim(),
    ...(caseRef === '' ? {} : { caseRef }),
    ...(breakGlassReason === '' ? {} : { breakGlassReason }),
  };
}

function fillForm(persona: Persona): void {
  field.org.value = persona.org;
  field.sub.value = persona.sub;
  field.roles.value = persona.roles.join(', ');
  field.purpose.value = persona.purpose;
  field.caseRef.value = persona.caseRef ?? '';
  field.breakGlassReason.value = persona.breakGlassReason ?? '';
}

async function mintToken(persona: Persona): Promise<string> {
  const response = await fetch(config.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(persona),
    credentials: 'same-origin',
  });
  const body = (await response.json().catch(() => ({}))) as Partial<PersonaTokenResponse> & { error?: { message?: string } };
  if (!response.ok || typeof body.token !== 'string') {
    throw new Error(body.error?.message ?? `the hub refused the persona (HTTP ${response.status})`);
  }
  return body.token;
}

function describe(persona: Persona): string {
  const parts = [`${persona.sub} at ${persona.org}`, `roles: ${persona.roles.join(', ') || 'none'}`, `purpose: ${persona.purpose}`];
  if (persona.caseRef !== undefined) parts.push(`case: ${persona.caseRef}`);
  if (persona.breakGlassReason !== undefined) parts.push('BREAK-GLASS');
  return `Acting as ${parts.join(' · ')}`;
}

function showStatus(text: string, state: 'ok' | 'error' | 'busy'): void {
  status.textContent = text;
  status.dataset.state = state;
}

function usePersona(persona: Persona): Promise<void> {
  showStatus('Checking the persona…', 'busy');
  pending = (async () => {
    try {
      // Minting once up front tells the user now, not at their first query, if the hub refuses it.
      await mintToken(persona);
      active = persona;
      status.dataset.org = persona.org;
      showStatus(describe(persona), 'ok');
    } catch (error) {
      showStatus((error as Error).message, 'error');
    }
  })();
  return pending;
}

preset.addEventListener('change', () => {
  const chosen = config.personas.find((p) => p.id === preset.value);
  if (chosen !== undefined) fillForm(chosen);
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void usePersona(personaFromForm());
});

/** GraphiQL's fetcher: a new token for every request (tokens are single-use), then POST /graphql. */
async function fetcher(params: GraphQLParams, options?: FetcherOptions): Promise<unknown> {
  await pending;
  if (active === undefined) return { errors: [{ message: 'Choose a persona and press "Use this persona" first.' }] };
  let token: string;
  try {
    token = await mintToken(active);
  } catch (error) {
    return { errors: [{ message: (error as Error).message }] };
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options?.headers ?? {})) {
    // The persona's token is the only credential the sandbox sends.
    if (name.toLowerCase() !== 'authorization' && typeof value === 'string') headers[name] = value;
  }
  const response = await fetch(config.graphqlUrl, {
    method: 'POST',
    headers: {
      ...headers,
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify(params),
    credentials: 'omit',
  });
  return await response.json().catch(() => ({ errors: [{ message: `the hub answered HTTP ${response.status} without a JSON body` }] }));
}

const first = config.personas[0];
if (first !== undefined) {
  fillForm(first);
  preset.value = first.id;
}
void usePersona(personaFromForm());

createRoot(element('graphiql')).render(
  createElement(GraphiQL, {
    fetcher,
    defaultTabs: config.examples.map((example) => ({ query: example.query, ...(example.variables === undefined ? {} : { variables: example.variables }) })),
    defaultEditorToolsVisibility: false,
    isHeadersEditorEnabled: false,
    shouldPersistHeaders: false,
  }),
);
