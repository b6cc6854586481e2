/**
 * For the PostgreSQL project: one migrated template database per test run; each test file
 * copies it (CREATE DATABASE ... TEMPLATE is a file copy, far faster than migrating again), and
 * every database of the run is dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresRun: { adminUrl: string; template: string; prefix: string };
  }
}

export function databaseUrlFor(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

export default async function setup(project: TestProject) {
  const base = process.env.DATABASE_URL;
  if (base === undefined) throw new Error('DATABASE_URL is required for the postgres test project');
  const prefix = `accord_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const template = `${prefix}_tpl`;
  const adminUrl = databaseUrlFor(base, 'postgres');
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database "${template}"`);
  const tpl = await openDatabase({ databaseUrl: databaseUrlFor(base, template), dataDir: '', maxConnections: 1 });
  await tpl.migrate();
  await tpl.close();
  project.provide('postgresRun', { adminUrl, template, prefix });

  return async () => {
    const dbs = await admin<{ datname: string }[]>`select datname from pg_database where datname like ${prefix + '%'}`;
    for (const { datname } of dbs) {
      await admin.unsafe(`drop database if exists "${datname}" with (force)`);
    }
    await admin.end({ timeout: 5 });
  };
}
