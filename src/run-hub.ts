import { createApp } from './app.js';
import type { Config } from './config.js';
import { markDataDirsStopping } from './db/index.js';

/**
 * Under `npx accord serve` the hub is a grandchild of npm (npm → sh → node). `kill` on npm's pid
 * (e.g. `kill %1` in a shell) ends npm and sh, but the signal never reaches node, which would
 * go on holding the port and the data directory with nobody left to stop it. So when npm
 * started us and our parent goes away, we shut down as on SIGTERM. Not done otherwise: a hub
 * started by `nohup` or a supervisor is meant to outlive its parent.
 */
function stopWhenOrphanedUnderNpm(stop: () => void): void {
  if (process.env.npm_command === undefined) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    stop();
  }, 200);
  timer.unref();
}

/**
 * Runs the hub until SIGINT or SIGTERM, then shuts down cleanly: stop accepting connections,
 * let in-flight requests finish (their audit events commit), flush the audit writer, close the
 * database and release the data directory. A second signal exits at once.
 */
/** Signals this close to the first one are the same request to stop, delivered twice. */
const duplicateSignalMs = 1000;

export async function runHub(config: Config): Promise<void> {
  const app = await createApp(config);
  const { url } = await app.start();
  app.printBanner(url);
  await new Promise<void>((resolve) => {
    let stopping = false;
    let stoppingSince = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        // Ctrl-C reaches every process of the terminal's group, and a launcher (tsx under
        // `npm start`) relays it as well: the same press arrives twice within milliseconds. Only
        // a signal sent a second or more after the first means "exit now".
        if (Date.now() - stoppingSince < duplicateSignalMs) return;
        app.services.logger.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      stoppingSince = Date.now();
      markDataDirsStopping();
      app.services.logger.info({ signal }, 'shutting down');
      const started = performance.now();
      app.stop().then(
        () => {
          app.services.logger.info({ durationMs: Math.round(performance.now() - started) }, 'stopped: requests drained, audit flushed, database closed');
          resolve();
        },
        (error: unknown) => {
          app.services.logger.error({ err: error }, 'error during shutdown');
          process.exitCode = 1;
          resolve();
        },
      );
    };
    // `on`, not `once`: a second signal must reach the handler to force the exit.
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    stopWhenOrphanedUnderNpm(() => onSignal('SIGTERM'));
  });
  // Everything the hub started is stopped, so the event loop should now empty and the process
  // exit by itself. Should a library leave a handle open, exit anyway rather than linger holding
  // the port: the timer is unref'd, so it never delays a process that exits on its own.
  setTimeout(() => {
    app.services.logger.warn('a handle outlived the shutdown: exiting');
    process.exit();
  }, lingerMs).unref();
}

/** How long after a completed shutdown the process may take to exit by itself. */
const lingerMs = 1_000;
