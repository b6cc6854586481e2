/**
 * CPU profiling of a measurement window from inside the process (node:inspector), so the
 * profile holds the steady state only: no start-up, no module compilation, no warm-up.
 */
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';

export interface WindowProfile {
  stop(file: string): Promise<void>;
}

export async function startWindowProfile(intervalMicros = 250): Promise<WindowProfile> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalMicros });
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      fs.writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}
