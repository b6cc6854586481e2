import path from 'node:path';

export type Mode = 'demo' | 'production';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Everything the hub and the CLI are configured with (CONTRACT §1). Frozen once loaded. */
export interface Config {
  /** postgres:// URL; `undefined` means the embedded PGlite database under `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly port: number;
  readonly host: string;
  /** The `aud` every caller token must carry. */
  readonly hubId: string;
  readonly mode: Mode;
  readonly logLevel: LogLevel;
  /** Audit checkpoint cadence: sign `{seq, hash, at}` after this many events... */
  readonly checkpointEveryEvents: number;
  /** ...or after this long, whichever comes first. */
  readonly checkpointIntervalMs: number;
  /** Hub signing key (private JWK file) for production; default: generated under dataDir. */
  readonly hubKeyFile: string | undefined;
  /** Default per-organisation request rate across all instances (overridable per organisation). */
  readonly rateLimitPerSecond: number;
  readonly rateLimitBurst: number;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const modes: readonly Mode[] = ['demo', 'production'];
const logLevels: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const hubIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * Reads and validates the environment. The only reader of `process.env` in the project: callers
 * pass `process.env` (or a test's own object). Every problem is reported at once.
 *
 * @param defaults.mode the mode used when ACCORD_MODE is unset (`npm start` passes demo,
 *   `accord serve` production).
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, defaults: { mode?: Mode } = {}): Config {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
      return fallback;
    }
    return raw as T;
  };

  const databaseUrl = text('DATABASE_URL');
  if (databaseUrl !== undefined) {
    let ok = false;
    try {
      const url = new URL(databaseUrl);
      ok = (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
    } catch {
      ok = false;
    }
    // The URL may hold a password, so it is never echoed back.
    if (!ok) problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL with a host, or unset to use the embedded database');
  }

  const hubId = text('ACCORD_HUB_ID') ?? 'accord-hub';
  if (!hubIdPattern.test(hubId)) problems.push(`ACCORD_HUB_ID must be 1-128 letters, digits or . _ : - (got "${hubId}")`);

  const host = text('HOST') ?? '127.0.0.1';
  const config: Config = {
    databaseUrl,
    dataDir: path.resolve(text('ACCORD_DATA_DIR') ?? './.accord'),
    port: integer('PORT', 4000, 0, 65535),
    host,
    hubId,
    mode: oneOf('ACCORD_MODE', modes, defaults.mode ?? 'production'),
    logLevel: oneOf('LOG_LEVEL', logLevels, 'info'),
    checkpointEveryEvents: integer('ACCORD_CHECKPOINT_EVERY_EVENTS', 1000, 1, 10_000_000),
    checkpointIntervalMs: integer('ACCORD_CHECKPOINT_INTERVAL_MS', 60_000, 100, 86_400_000),
    hubKeyFile: text('ACCORD_HUB_KEY_FILE'),
    rateLimitPerSecond: integer('ACCORD_RATE_LIMIT_PER_SECOND', 50, 1, 1_000_000),
    rateLimitBurst: integer('ACCORD_RATE_LIMIT_BURST', 100, 1, 1_000_000),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
