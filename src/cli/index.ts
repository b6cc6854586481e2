import fs from 'node:fs';
import { buildProgram } from './program.js';
import { createCliContext, describeFailure, exitCodes, type CliIo } from './context.js';

export { exitCodes, CliError, type CliContext, type CliIo } from './context.js';

const defaultIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

function packageVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * Runs the `accord` CLI with `process.argv`-style arguments and resolves with the exit code
 * (0 ok, 1 failure or invalid input, 2 usage error). Never throws and never exits the process:
 * bin/accord.js sets `process.exitCode`.
 *
 * @param env the environment configuration is read from (default `process.env`).
 */
export async function runCli(
  argv: readonly string[],
  options: { readonly env?: Readonly<Record<string, string | undefined>>; readonly io?: CliIo } = {},
): Promise<number> {
  const io = options.io ?? defaultIo;
  const context = createCliContext(options.env ?? process.env, io);
  try {
    await buildProgram(context, packageVersion()).parseAsync([...argv]);
    return exitCodes.ok;
  } catch (error) {
    const { message, exitCode } = describeFailure(error);
    if (message !== undefined) io.stderr(`error: ${message}\n`);
    return exitCode;
  }
}
