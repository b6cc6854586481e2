/**
 * Writes docs/schema.md from the SDL descriptions in schema/*.graphql.
 *
 *   npx tsx scripts/generate-schema-docs.ts           # write docs/schema.md
 *   npx tsx scripts/generate-schema-docs.ts --check   # exit 1 when docs/schema.md is out of date
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateSchemaDocs, schemaDocsPath } from '../src/graphql/generate-schema-docs.js';

const generated = generateSchemaDocs();
const shown = path.relative(process.cwd(), schemaDocsPath);
if (process.argv.includes('--check')) {
  const current = fs.existsSync(schemaDocsPath) ? fs.readFileSync(schemaDocsPath, 'utf8') : '';
  if (current !== generated) {
    console.error(`${shown} is out of date: run npx tsx scripts/generate-schema-docs.ts`);
    process.exitCode = 1;
  } else {
    console.log(`${shown} is up to date`);
  }
} else {
  fs.writeFileSync(schemaDocsPath, generated);
  console.log(`wrote ${shown} (${generated.length} characters)`);
}
