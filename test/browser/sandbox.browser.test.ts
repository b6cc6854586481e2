/**
 * The sandbox in a real browser: headless Chromium (the one from npm, or `CHROMIUM_PATH`; see
 * test/helpers/browser.ts), driven by playwright-core, against a real hub in demo mode on a fresh
 * embedded database, seeded with the demo partnership. Picks a persona, runs the safeguarding
 * lookup, reads the result pane, and checks that no request left this machine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { demoPartnership } from '../../src/sandbox/index.js';
import { launchTestBrowser } from '../helpers/browser.js';

let app: App;
let hubUrl: string;
let dataDir: string;
let profileDir: string;
let context: BrowserContext;
let page: Page;
/** Every URL the browser asked for (pages, scripts, workers, fetches). */
const requested: string[] = [];
/** Requests to anywhere but the hub: aborted, and a failure of the test. */
const leftTheMachine: string[] = [];
const consoleErrors: string[] = [];

/** Text of the GraphiQL response editor; Monaco renders spaces as U+00A0. */
async function resultPane(): Promise<string> {
  return (await page.getByTestId('graphiql').locator('.result-window').innerText()).replace(/\u00a0/g, ' ');
}

beforeAll(async () => {
  // The browser first: a missing or broken one fails the run before the hub is seeded.
  // A fresh profile each run: no cached assets, no GraphiQL tabs from an earlier session.
  profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accord-chromium-profile-'));
  context = await launchTestBrowser(profileDir, { viewport: { width: 1400, height: 2400 } });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accord-browser-'));
  app = await createApp(loadConfig({ ACCORD_MODE: 'demo', ACCORD_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }));
  hubUrl = (await app.start({ port: 0, host: '127.0.0.1' })).url;

  const hubHost = new URL(hubUrl).host;
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    requested.push(url);
    if (url.startsWith('data:') || url.startsWith('blob:') || new URL(url).host === hubHost) {
      await route.continue();
      return;
    }
    leftTheMachine.push(url);
    await route.abort('blockedbyclient');
  });
  context.on('request', (request) => {
    if (!requested.includes(request.url())) requested.push(request.url());
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
}, 180_000);

afterAll(async () => {
  await context?.close();
  await app?.stop();
  for (const dir of [dataDir, profileDir]) if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the sandbox in headless Chromium', { timeout: 120_000 }, () => {
  it('runs the safeguarding lookup as a chosen persona and shows released and withheld fields', async () => {
    const demo = demoPartnership({ referenceYear: new Date().getUTCFullYear() });
    const child = demo.featured.child;
    await page.goto(`${hubUrl}/sandbox`);
    const status = page.getByTestId('persona-status');
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 30_000 }).toBe('ok');

    // Choose a persona: first another one, then the social worker, so the choice really applies.
    await page.getByTestId('persona-preset').selectOption('met-police-mash-officer');
    await page.getByTestId('persona-apply').click();
    await expect.poll(() => status.textContent(), { timeout: 10_000 }).toContain('met-police');
    await page.getByTestId('persona-preset').selectOption('westminster-social-worker');
    await expect(page.getByTestId('persona-org').inputValue()).resolves.toBe('westminster');
    await page.getByTestId('persona-apply').click();
    await expect.poll(() => status.textContent(), { timeout: 10_000 }).toContain('sam.social-worker@westminster.example at westminster');
    expect(await status.getAttribute('data-state')).toBe('ok');

    // The first tab is the safeguarding lookup; run it.
    const editor = page.locator('.graphiql-query-editor');
    await expect.poll(() => editor.innerText().then((t) => t.replace(/\u00a0/g, ' ')), { timeout: 30_000 }).toContain('query SafeguardingLookup');
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(resultPane, { timeout: 30_000 }).toContain('"subject"');
    const result = await resultPane();

    // Released: Kensington and Chelsea's demographics and children's case and the police
    // notification's in-scope fields, each under its agreement.
    expect(result).toContain(`"nhsNumber": "${child.nhsNumber}"`);
    expect(result).toContain(`"givenName": "${child.givenName}"`);
    expect(result).toContain(`"familyName": "${child.familyName}"`);
    expect(result).toContain('"id": "triborough-mash-children"');
    expect(result).toContain('"service": "CHILDREN"');
    expect(result).toContain('"kind": "DOMESTIC_ABUSE"');
    expect(result).toContain('"riskLevel": "HIGH"');
    // Withheld: the police summary is outside the police agreement's scope.
    expect(result).toContain('"summary": null');
    expect(result).toContain('"code": "NOT_SHARED"');
    expect(result).toMatch(/"path": \[\s*"subject",\s*"policeNotifications",\s*0,\s*"summary"\s*\]/);
    // GP registrations go to safeguarding leads only: the list is empty, not an error.
    expect(result).toContain('"gpRegistrations": []');
    expect(result).not.toContain('Synthetic demo notification');
  });

  it('sent every request to the hub itself, and nothing broke the page or its CSP', () => {
    expect(requested.some((url) => url.includes('/sandbox/assets/'))).toBe(true);
    expect(requested.some((url) => url.endsWith('/graphql'))).toBe(true);
    expect(requested.some((url) => url.endsWith('/sandbox/token'))).toBe(true);
    expect(leftTheMachine).toEqual([]);
    for (const url of requested) {
      if (url.startsWith('data:') || url.startsWith('blob:')) continue;
      expect(new URL(url).hostname, url).toBe('127.0.0.1');
    }
    expect(consoleErrors).toEqual([]);
  });
});
