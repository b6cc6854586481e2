/**
 * Everything a benchmark needs before the servers start: its own database, the partnership
 * (real keys, real signed agreements), the records, and optionally the filler agreements.
 */
import { systemClock } from '../../src/clock.js';
import { createBenchDatabase, type BenchDatabase } from './bench-database.js';
import { createFillerAgreements, type FillerAgreements } from './filler-agreements.js';
import { generateRecords, nhsNumbers, plannedRecordCount, type RecordPlan } from './generate-records.js';
import { buildPartnership, type Partnership } from './partnership.js';
import { log } from './progress.js';

export interface BenchSetup {
  readonly bench: BenchDatabase;
  readonly partnership: Partnership;
  readonly plan: RecordPlan;
  /** Subjects the publishes of scenario c write about (not read by any scenario). */
  readonly publishSubjects: readonly string[];
  readonly records: number;
  readonly filler: FillerAgreements | undefined;
}

export interface SetupOptions {
  readonly databaseUrl: string;
  readonly singleSubjects: number;
  readonly richSubjects: number;
  readonly backgroundSubjects: number;
  readonly backgroundPerSubject: number;
  /** 0: no filler agreements. */
  readonly fillerAgreements: number;
  /** Receives the database as soon as it exists, so Ctrl-C can drop it. */
  readonly onDatabase: (bench: BenchDatabase) => void;
}

export async function setUp(options: SetupOptions): Promise<BenchSetup> {
  const started = performance.now();
  const bench = await createBenchDatabase(options.databaseUrl);
  options.onDatabase(bench);
  log(`database ${bench.name} created and migrated`);
  const partnership = await buildPartnership(bench.database.db, systemClock);
  log('partnership: 7 organisations with Ed25519 keys, 4 agreements signed by every party and submitted');
  const plan: RecordPlan = {
    single: nhsNumbers(options.singleSubjects, 900_000_000),
    rich: nhsNumbers(options.richSubjects, 910_000_000),
    background: nhsNumbers(options.backgroundSubjects, 920_000_000),
    backgroundPerSubject: options.backgroundPerSubject,
  };
  const records = await generateRecords(bench.sql, plan);
  if (records !== plannedRecordCount(plan)) throw new Error(`generated ${records} records, planned ${plannedRecordCount(plan)}`);
  const filler =
    options.fillerAgreements > 0
      ? await createFillerAgreements(bench.database.db, bench.sql, systemClock, options.fillerAgreements, partnership.keys)
      : undefined;
  await bench.sql`analyze`;
  log(`set-up done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { bench, partnership, plan, publishSubjects: nhsNumbers(2_000, 930_000_000), records, filler };
}

/**
 * The data set of the comparison runs (`npm run bench`, `--profile`): 10,000 subjects with one
 * record and 2,000 with fifty, and the filler agreements when a selected scenario needs them.
 */
export function setUpComparison(
  options: { readonly databaseUrl: string; readonly fillerAgreements: number },
  selected: readonly { readonly filler?: boolean | undefined }[],
  onDatabase: SetupOptions['onDatabase'],
): Promise<BenchSetup> {
  return setUp({
    databaseUrl: options.databaseUrl,
    singleSubjects: 10_000,
    richSubjects: 2_000,
    backgroundSubjects: 0,
    backgroundPerSubject: 0,
    fillerAgreements: selected.some((s) => s.filler === true) ? options.fillerAgreements : 0,
    onDatabase,
  });
}
