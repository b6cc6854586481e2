import fs from 'node:fs/promises';
import { CommanderError } from 'commander';
import { ConfigError, loadConfig, type Config, type Mode } from '../config.js';
import { DataDirLockedError, databaseErrorOf, openDatabase, type Database } from '../db/index.js';
import { AccordError } from '../errors.js';

/** Exit codes of every `accord` command. Scripts branch on them. */
export const exitCodes = Object.freeze({ ok: 0, failure: 1, usage: 2 });

/** Where a command writes. Results go to stdout (so `$(npx accord token ...)` works); messages to stderr. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** A failure a command reports itself: one line, no stack trace. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = exitCodes.failure) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** What every command group is given. */
export interface CliContext {
  readonly io: CliIo;
  /** Loads the hub's configuration (CONTRACT §1) from the environment the CLI was started with. */
  config(defaults?: { mode?: Mode }): Config;
  /**
   * Opens the configured database for one command, then closes it. On PGlite this takes the
   * data-directory lock as `accord <command>`, so a command never opens files a running hub owns
   * (it fails with the lock's message instead). Migrations are applied first unless `migrate` is
   * false: they are idempotent, and an operator's first `org add` should not need a separate step.
   */
  withDatabase<T>(command: string, run: (database: Database, config: Config) => Promise<T>, options?: { migrate?: boolean }): Promise<T>;
  /** Reads and parses a JSON file, failing with a one-line reason that names the file. */
  readJsonFile(file: string, what: string): Promise<unknown>;
  /** Writes a line to stdout. */
  print(line: string): void;
  /** Writes a value as pretty JSON to stdout (`--json`). */
  printJson(value: unknown): void;
}

export function createCliContext(env: Readonly<Record<string, string | undefined>>, io: CliIo): CliContext {
  const config = (defaults: { mode?: Mode } = {}) => loadConfig(env, defaults);
  return {
    io,
    config,
    async withDatabase(command, run, options = {}) {
      const loaded = config();
      const database = await openDatabase({
        databaseUrl: loaded.databaseUrl,
        dataDir: loaded.dataDir,
        lockOwner: `accord ${command}`,
        maxConnections: 2,
        onStaleLock: (stale) => io.stderr(`note: recovered the data directory lock left by process ${stale.pid} (${stale.command}), which is no longer running\n`),
      });
      try {
        if (options.migrate ?? true) await database.migrate();
        return await run(database, loaded);
      } finally {
        await database.close();
      }
    },
    async readJsonFile(file, what) {
      let text: string;
      try {
        text = await fs.readFile(file, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : 'it cannot be read';
        throw new CliError(`cannot read the ${what} ${file}: ${reason}`);
      }
      try {
        return JSON.parse(text) as unknown;
      } catch {
        // The parser's message can quote the file's content, which may be a private key.
        throw new CliError(`the ${what} ${file} is not valid JSON`);
      }
    },
    print(line) {
      io.stdout(`${line}\n`);
    },
    printJson(value) {
      io.stdout(`${JSON.stringify(value, null, 2)}\n`);
    },
  };
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();

/**
 * The one place a failed command becomes a message and an exit code. Never prints a stack:
 * operators get what went wrong and what to do; usage errors exit 2, everything else 1.
 */
export function describeFailure(error: unknown): { readonly message: string | undefined; readonly exitCode: number } {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help that was asked for).
    const asked = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0;
    return { message: undefined, exitCode: asked ? exitCodes.ok : exitCodes.usage };
  }
  if (error instanceof ConfigError) return { message: `invalid configuration: ${error.problems.join('; ')}`, exitCode: exitCodes.failure };
  if (error instanceof CliError) return { message: oneLine(error.message), exitCode: error.exitCode };
  if (error instanceof DataDirLockedError || error instanceof AccordError) return { message: oneLine(error.message), exitCode: exitCodes.failure };
  // drizzle's own message is the failed SQL with its parameters; the server's reason is what helps.
  const fromDatabase = databaseErrorOf(error);
  if (fromDatabase !== undefined) return { message: `database error: ${oneLine(fromDatabase.message)}`, exitCode: exitCodes.failure };
  if (error instanceof Error) return { message: oneLine(error.message) || error.name, exitCode: exitCodes.failure };
  return { message: oneLine(String(error)), exitCode: exitCodes.failure };
}
