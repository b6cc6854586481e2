import { defineConfig } from 'drizzle-kit';

// drizzle-kit only reads the table definitions to write SQL migrations into drizzle/;
// it never connects, so no credentials are needed here.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/tables.ts',
  out: './drizzle',
});
