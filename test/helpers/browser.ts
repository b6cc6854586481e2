/**
 * The browser for browser tests, found and launched in one place.
 *
 * By default the Chromium that ships inside the `@sparticuz/chromium` devDependency (a
 * brotli-compressed headless shell, unpacked into the OS temp directory on first use), so
 * `npm ci` is all a machine needs and CI runs the same browser as a fresh checkout. Set
 * `CHROMIUM_PATH` to use another Chromium (a system one, or on a machine that is not Linux x64).
 * A browser that cannot be found or started fails the test with a message saying which browser
 * and why: never a skip.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type BrowserContext } from 'playwright-core';

export interface TestBrowser {
  readonly executablePath: string;
  readonly args: readonly string[];
  /** Which browser this is and where it came from, for error messages. */
  readonly description: string;
}

export type TestBrowserOptions = Omit<
  NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>,
  'executablePath' | 'args' | 'headless'
>;

/** The tests run on a closed network: nothing in the browser may try to reach the internet. */
const baseArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Flags from `@sparticuz/chromium`'s recommended list that the tests leave out. They suit AWS
 * Lambda, not a test of what a user's browser does: the security ones would stop the test seeing
 * same-origin, mixed-content and site-isolation rules; the GL ones contradict `--disable-gpu`;
 * `--single-process` is Chromium's unsupported debugging mode; and Playwright passes `--headless`
 * itself (the package's spelling carries literal quotes).
 */
const excludedPackageArgs = [
  /^--disable-web-security$/,
  /^--allow-running-insecure-content$/,
  /^--disable-site-isolation-trials$/,
  /^--disable-features=/,
  /^--enable-features=/,
  /^--(use-gl|use-angle|enable-unsafe-swiftshader|ignore-gpu-blocklist|in-process-gpu|disable-webgl)\b/,
  /^--single-process$/,
  /^--headless\b/,
];

/** The browser `CHROMIUM_PATH` names, else the one inside `@sparticuz/chromium`, unpacked. */
export async function findTestBrowser(env: NodeJS.ProcessEnv = process.env): Promise<TestBrowser> {
  const chromiumPath = env.CHROMIUM_PATH;
  if (chromiumPath !== undefined && chromiumPath !== '') {
    if (!fs.existsSync(chromiumPath)) throw new Error(`CHROMIUM_PATH=${chromiumPath} names no file: point it at a Chromium, or unset it to use the one from npm`);
    return { executablePath: chromiumPath, args: baseArgs, description: `the Chromium at CHROMIUM_PATH=${chromiumPath}` };
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`@sparticuz/chromium ships a Linux x64 Chromium only; on ${process.platform}-${process.arch} set CHROMIUM_PATH to a Chromium`);
  }
  const { default: packaged } = await import('@sparticuz/chromium');
  const require = createRequire(import.meta.url);
  const { version } = require(path.join(path.dirname(require.resolve('@sparticuz/chromium')), '..', 'package.json')) as { version: string };
  const executablePath = await packaged.executablePath();
  const description = `the Chromium from @sparticuz/chromium ${version}, unpacked at ${executablePath}`;
  // The package reuses whatever is already at that path: an interrupted unpack, or another
  // project's version. Either would make this test run a browser nobody chose.
  const { stdout } = await promisify(execFile)(executablePath, ['--version']).catch((error: unknown) => {
    throw new Error(`${description} does not run: a system library missing (it needs libnss3 and libnspr4), or an interrupted unpack (delete it and retry)`, { cause: error });
  });
  const major = version.split('.')[0];
  if (!stdout.startsWith(`Chromium ${major}.`)) {
    throw new Error(`${description} is ${stdout.trim()}, not Chromium ${major}: another version's unpack; delete it and retry`);
  }
  const args = packaged.args.filter((arg) => !excludedPackageArgs.some((pattern) => pattern.test(arg)));
  return { executablePath, args: [...new Set([...baseArgs, ...args])], description };
}

/** Launches the test browser headless with a persistent profile in `profileDir`. */
export async function launchTestBrowser(profileDir: string, options: TestBrowserOptions = {}): Promise<BrowserContext> {
  const browser = await findTestBrowser();
  try {
    return await chromium.launchPersistentContext(profileDir, {
      ...options,
      executablePath: browser.executablePath,
      args: [...browser.args],
      headless: true,
    });
  } catch (error) {
    throw new Error(`could not launch ${browser.description}`, { cause: error });
  }
}
