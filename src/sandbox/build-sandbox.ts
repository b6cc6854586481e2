/**
 * `npm run build:sandbox`: bundles the sandbox's GraphiQL page into src/sandbox/assets/. Skips
 * the work when an identical build is already there; `--force` rebuilds anyway.
 */
import { buildSandboxAssets, describeSizes } from './sandbox-assets.js';

const manifest = await buildSandboxAssets({ force: process.argv.includes('--force'), log: (line) => console.log(line) });
console.log(`sandbox bundle: ${describeSizes(manifest)}`);
