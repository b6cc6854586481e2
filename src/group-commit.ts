/**
 * The drain loop shared by the group-committing writers (the audit writer, the replay guard):
 * work queued by concurrent requests is processed in batches, one batch at a time, so a busy hub
 * pays one database round trip per batch rather than per request.
 */
export interface Drainer {
  /** Starts draining unless a drain is already running (which will pick the new work up). */
  start(): void;
  /** Resolves once no drain is running: everything queued before the call has been processed. */
  idle(): Promise<void>;
}

/**
 * `step` processes one batch taken from the caller's queue; it runs while `pending()` is true.
 * The first step waits one turn of the event loop (`setImmediate`), so work queued in the same
 * turn (e.g. every resolver of one request settling together) joins the first batch.
 */
export function createDrainer(step: () => Promise<void>, pending: () => boolean): Drainer {
  let running: Promise<void> | undefined;

  async function drain(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (pending()) await step();
  }

  function start(): void {
    if (running !== undefined) return;
    running = drain().finally(() => {
      running = undefined;
      // Work queued between the loop's last check and this callback.
      if (pending()) start();
    });
  }

  return {
    start,
    async idle() {
      while (running !== undefined) await running;
    },
  };
}
