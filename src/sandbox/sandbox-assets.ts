/**
 * The sandbox's browser bundle: GraphiQL, React and the persona picker, built from node_modules
 * with esbuild into `src/sandbox/assets/` so the hub serves every byte itself (no CDN, no fonts or
 * scripts from anywhere else). Built at install time (`npm run build:sandbox`, run by `prepare`)
 * and on demand by the sandbox routes when the directory is missing.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);

/** Where the built assets live (gitignored). */
export const sandboxAssetsDir = fileURLToPath(new URL('./assets/', import.meta.url));
const clientDir = fileURLToPath(new URL('./client/', import.meta.url));
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const manifestName = 'manifest.json';

/** Bumped whenever the build's own settings change, so an old bundle is rebuilt. */
const buildFormat = 3;

/** Hashed file names of one build, as the page and the Monaco worker loader refer to them. */
export interface SandboxManifest {
  readonly fingerprint: string;
  readonly script: string;
  readonly stylesheet: string;
  readonly workers: { readonly editor: string; readonly json: string; readonly graphql: string };
  /** Every file served, with its sizes in bytes (raw, gzip, brotli). */
  readonly files: Readonly<Record<string, { readonly raw: number; readonly gzip: number; readonly brotli: number }>>;
}

export interface BuildSandboxOptions {
  readonly outDir?: string;
  /** Rebuild even when the fingerprint matches. */
  readonly force?: boolean;
  readonly log?: (line: string) => void;
}

/** Packages whose versions change the bundle. */
const bundledPackages = ['graphiql', '@graphiql/react', 'monaco-editor', 'monaco-graphql', 'react', 'react-dom', 'graphql', 'esbuild'];

/**
 * A hash of everything the bundle is made from (package versions, the client sources, this
 * build's settings), so a second `npm ci` or `npm start` skips a build that would change nothing.
 */
async function inputFingerprint(): Promise<string> {
  const hash = createHash('sha256').update(`format ${buildFormat}\n`);
  const require = createRequire(path.join(projectRoot, 'package.json'));
  for (const name of bundledPackages) {
    const manifest = JSON.parse(await fs.readFile(require.resolve(`${name}/package.json`), 'utf8')) as { version: string };
    hash.update(`${name}@${manifest.version}\n`);
  }
  for (const file of (await fs.readdir(clientDir)).sort()) {
    hash.update(`${file}\n`).update(await fs.readFile(path.join(clientDir, file)));
  }
  return hash.digest('hex');
}

/** The manifest of a complete build in `dir`, or `undefined` when there is none (or a file is missing). */
export async function readSandboxManifest(dir: string = sandboxAssetsDir): Promise<SandboxManifest | undefined> {
  let manifest: SandboxManifest;
  try {
    manifest = JSON.parse(await fs.readFile(path.join(dir, manifestName), 'utf8')) as SandboxManifest;
  } catch {
    return undefined;
  }
  for (const file of Object.keys(manifest.files ?? {})) {
    for (const suffix of ['', '.gz', '.br']) {
      const present = await fs.stat(path.join(dir, file + suffix)).then(() => true, () => false);
      if (!present) return undefined;
    }
  }
  return manifest;
}

/**
 * Resolves `monaco-graphql/esm/utils`-style imports (no extension) that @graphiql/react makes
 * and that the package's `exports` map only serves with `.js`, and swaps the full Monaco
 * (every language and its worker: TypeScript, CSS, HTML) for the editor core plus JSON, which is
 * all GraphiQL uses; this keeps several MB out of the bundle.
 */
const resolvePlugin = {
  name: 'accord-sandbox-resolve',
  setup(build: import('esbuild').PluginBuild) {
    build.onResolve({ filter: /^monaco-graphql\/esm\/[\w/-]+$/ }, (args) =>
      build.resolve(`${args.path}.js`, { kind: args.kind, resolveDir: args.resolveDir }),
    );
    build.onResolve({ filter: /^monaco-editor$/ }, () => ({ path: path.join(clientDir, 'monaco-editor-lite.js') }));
  },
};

/** Text served anywhere in the bundle that would make the browser leave the machine. */
const forbiddenReferences: readonly RegExp[] = [
  /@import\s+url\(\s*['"]?https?:/i,
  /url\(\s*['"]?https?:\/\//i,
  /fonts\.(googleapis|gstatic)\.com/i,
  /(unpkg\.com|cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com|esm\.sh)/i,
];

/**
 * Builds the bundle into `outDir` (default `src/sandbox/assets/`) unless an identical build is
 * already there. Writes each file with its `.gz` and `.br` twins, then the manifest last, so a
 * manifest on disk always describes a complete build.
 */
export async function buildSandboxAssets(options: BuildSandboxOptions = {}): Promise<SandboxManifest> {
  const outDir = options.outDir ?? sandboxAssetsDir;
  const log = options.log ?? (() => undefined);
  const fingerprint = await inputFingerprint();
  const existing = await readSandboxManifest(outDir);
  if (existing !== undefined && existing.fingerprint === fingerprint && options.force !== true) {
    log(`sandbox assets are up to date in ${path.relative(process.cwd(), outDir) || outDir}`);
    return existing;
  }

  const started = Date.now();
  // esbuild is a dev dependency: imported here only, so the hub never loads it unless it builds.
  const esbuild = await import('esbuild');
  const staging = `${outDir.replace(/\/$/, '')}.tmp-${process.pid}`;
  await fs.rm(staging, { recursive: true, force: true });

  async function bundleInto(staging: string): Promise<SandboxManifest> {
    const result = await esbuild.build({
      absWorkingDir: projectRoot,
      entryPoints: {
        sandbox: path.join(clientDir, 'sandbox-client.ts'),
        'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
        'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
        'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
      },
      outdir: staging,
      entryNames: '[name]-[hash]',
      assetNames: '[name]-[hash]',
      bundle: true,
      minify: true,
      // Classic scripts and classic workers: every browser that runs GraphiQL runs these.
      format: 'iife',
      target: ['es2022'],
      platform: 'browser',
      legalComments: 'none',
      // Fonts the CSS names (Monaco's codicons) become files served from the hub, never a URL elsewhere.
      loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file', '.png': 'file' },
      define: { 'process.env.NODE_ENV': '"production"', 'import.meta.url': '"/sandbox/assets/"' },
      plugins: [resolvePlugin],
      metafile: true,
      logLevel: 'error',
    });

    const outputs = Object.entries(result.metafile.outputs);
    const nameOf = (file: string) => path.basename(file);
    const entry = (name: string) => {
      const found = outputs.find(([file, output]) => output.entryPoint !== undefined && nameOf(file).startsWith(`${name}-`) && file.endsWith('.js'));
      if (found === undefined) throw new Error(`esbuild produced no ${name} bundle`);
      return found;
    };
    const [scriptFile, scriptOutput] = entry('sandbox');
    if (scriptOutput.cssBundle === undefined) throw new Error('esbuild produced no stylesheet for the sandbox');

    const files: Record<string, { raw: number; gzip: number; brotli: number }> = {};
    await Promise.all(
      outputs
        .filter(([file]) => !file.endsWith('.map'))
        .map(async ([file]) => {
          const name = nameOf(file);
          const raw = await fs.readFile(path.join(projectRoot, file));
          if (/\.(js|css)$/.test(name)) {
            const text = raw.toString('utf8');
            const bad = forbiddenReferences.find((pattern) => pattern.test(text));
            if (bad !== undefined) throw new Error(`${name} refers to a remote resource (${bad.source}); the sandbox must work offline`);
          }
          const [gz, br] = await Promise.all([
            gzip(raw, { level: 9 }),
            brotli(raw, {
              params: {
                [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
                [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
                [zlib.constants.BROTLI_PARAM_MODE]: name.endsWith('.ttf') ? zlib.constants.BROTLI_MODE_FONT : zlib.constants.BROTLI_MODE_TEXT,
              },
            }),
          ]);
          await fs.writeFile(path.join(staging, `${name}.gz`), gz);
          await fs.writeFile(path.join(staging, `${name}.br`), br);
          files[name] = { raw: raw.length, gzip: gz.length, brotli: br.length };
        }),
    );

    return {
      fingerprint,
      script: nameOf(scriptFile),
      stylesheet: nameOf(scriptOutput.cssBundle),
      workers: {
        editor: nameOf(entry('editor.worker')[0]),
        json: nameOf(entry('json.worker')[0]),
        graphql: nameOf(entry('graphql.worker')[0]),
      },
      files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b))),
    };
  }

  let manifest: SandboxManifest;
  try {
    manifest = await bundleInto(staging);
  } catch (error) {
    // A failed build leaves nothing behind next to the served directory.
    await fs.rm(staging, { recursive: true, force: true });
    throw error;
  }
  await fs.writeFile(path.join(staging, manifestName), `${JSON.stringify(manifest, null, 2)}\n`);
  // Swap the finished build in whole: a hub reading the old directory never sees half a build.
  const previous = `${outDir.replace(/\/$/, '')}.old-${process.pid}`;
  await fs.rm(previous, { recursive: true, force: true });
  await fs.rename(outDir, previous).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await fs.rename(staging, outDir);
  await fs.rm(previous, { recursive: true, force: true });
  log(`built the sandbox assets in ${Date.now() - started} ms: ${describeSizes(manifest)}`);
  return manifest;
}

/** "raw X MB, gzip Y MB, brotli Z MB" over every file of a build. */
export function describeSizes(manifest: SandboxManifest): string {
  const total = { raw: 0, gzip: 0, brotli: 0 };
  for (const sizes of Object.values(manifest.files)) {
    total.raw += sizes.raw;
    total.gzip += sizes.gzip;
    total.brotli += sizes.brotli;
  }
  const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(2)} MB`;
  return `${Object.keys(manifest.files).length} files, raw ${mb(total.raw)}, gzip ${mb(total.gzip)}, brotli ${mb(total.brotli)}`;
}

let building: Promise<SandboxManifest> | undefined;

/**
 * The current build, building it first when it is missing (a clone where `prepare` did not run).
 * Concurrent callers share one build.
 */
export async function ensureSandboxAssets(log?: (line: string) => void): Promise<SandboxManifest> {
  const existing = await readSandboxManifest();
  if (existing !== undefined) return existing;
  building ??= buildSandboxAssets(log === undefined ? {} : { log }).finally(() => {
    building = undefined;
  });
  return await building;
}
