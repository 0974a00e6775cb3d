import type { BatchRunner, RunningBatch } from '../../intake/runners.js';
import type { LiveProgress } from '../../pipeline/live-progress.js';
import type { Provider } from '../../pipeline/provider.js';
import type { SmspCaller } from '../../pipeline/strategy.js';

/** An SMSP caller lent for one piece of work (a retry), given back with `release`. */
export interface LentCaller {
  caller: SmspCaller;
  release(): Promise<void>;
}

/**
 * What traces the batches the web service submits, chosen by `pds-trace serve` as every way in
 * chooses (usesQueues): the BullMQ queues with REDIS_URL, where the deployment's workers trace
 * them; else this process, with the embedded runner, so one analyst's machine needs nothing else.
 */
export interface WebTracing {
  runner: BatchRunner;
  /**
   * The runner for someone taking up a batch another submitted (an operator's resume): embedded,
   * its rows' events are marked with who did it (`actor=`, withActor), as `pds-trace resume` marks
   * them; with the queues, the workers trace it as any batch.
   */
  runnerFor(actor: string): BatchRunner;
  /** The provider batches are bound to (configuredProvider). */
  provider: Provider;
  /** The queues' live row counts, when the queues trace: the batch pages read them on this connection. */
  live?: LiveProgress;
  /**
   * An SMSP caller for `retry` (tracing a finished batch's error rows again in this process):
   * embedded, the runner's own connection under its limit; with the queues, a connection of its
   * own under the deployment's shared Redis limit, as `pds-trace retry` opens, closed on release.
   */
  lendCaller(): Promise<LentCaller>;
  close(): Promise<void>;
}

/** Tracing, or why there is none (no SMSP provider configured): uploads then say so. */
export type TracingChoice = WebTracing | { unavailable: string };

export function isAvailable(choice: TracingChoice): choice is WebTracing {
  return !('unavailable' in choice);
}

/**
 * The batches this server handed to its runner and still follows. Stopping the server stops
 * following them: the queues' workers carry on, and an embedded run stops at its next row with
 * finished chunks kept (`pds-trace resume <batch>` finishes it).
 */
export class HandedOver {
  readonly #abort = new AbortController();
  readonly #running = new Set<Promise<void>>();
  readonly #following = new Set<string>();

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Whether this server is still following the batch (its run has not ended). */
  isFollowing(batchId: string): boolean {
    return this.#following.has(batchId);
  }

  follow(batchId: string, run: RunningBatch): void {
    this.#following.add(batchId);
    const followed = run.finished.then(
      () => undefined,
      (err: Error) => {
        // Typed pipeline errors carry no patient data; a stop we asked for is no failure.
        if (!this.#abort.signal.aborted) process.stderr.write(`pds-trace serve: batch ${batchId} stopped: ${err.name}: ${err.message}\n`);
      },
    );
    this.#running.add(followed);
    void followed.finally(() => {
      this.#running.delete(followed);
      this.#following.delete(batchId);
    });
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.allSettled([...this.#running]);
  }
}
