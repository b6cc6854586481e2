#!/usr/bin/env node
// The `accord` operator CLI (CONTRACT §8). Plain JavaScript so that `npx accord` needs no build
// step: tsx's loader is registered first, then the TypeScript sources are imported as they are.
import process from 'node:process';
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/index.ts');
const code = await runCli(process.argv);
// A command may have set a failure itself (e.g. `serve` when shutdown failed): never overwrite it with 0.
if (code !== 0 || process.exitCode === undefined) process.exitCode = code;
