import type { RetryOutcome } from '../pipeline/batch-actions.js';

/**
 * The retries this web service is running, one at most per batch: a retry traces in the
 * background (the request answers 202 at once) and the batch page says it is under way. Two at
 * once on one batch would send its error rows twice and race to rewrite its results.
 */

/** What the batch page says about a batch's retry. */
export type RetryState = { kind: 'running'; since: string } | { kind: 'finished'; retried: number; stillErrors: number; at: string } | { kind: 'failed'; message: string; at: string };

export interface RetryClaim {
  start(retry: (signal: AbortSignal) => Promise<RetryOutcome>): void;
  abandon(): void;
}

export class BatchRetries {
  readonly #abort = new AbortController();
  readonly #running = new Map<string, Promise<void>>();
  readonly #last = new Map<string, RetryState>();

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  isRunning(batchId: string): boolean {
    return this.#running.has(batchId);
  }

  /** The batch's retry under way, or the last one this server ran, if any. */
  stateOf(batchId: string): RetryState | undefined {
    return this.#last.get(batchId);
  }

  /**
   * Claims the batch for a retry, at once (so two requests cannot both pass): undefined when one is
   * already running. The claim then either starts the retry in the background or is given up
   * (when recording it failed, say). The retry's end is kept for the page; a failure is reported by
   * name and message only (typed pipeline errors carry no patient data).
   */
  claim(batchId: string, now: () => Date): RetryClaim | undefined {
    if (this.#running.has(batchId)) return undefined;
    let settle!: () => void;
    this.#running.set(batchId, new Promise<void>((resolve) => (settle = resolve)));
    const previous = this.#last.get(batchId);
    this.#last.set(batchId, { kind: 'running', since: now().toISOString() });
    const end = (state: RetryState | undefined) => {
      if (state) this.#last.set(batchId, state);
      else this.#last.delete(batchId);
      this.#running.delete(batchId);
      settle();
    };
    return {
      start: (retry) => {
        void retry(this.#abort.signal).then(
          (outcome) => end({ kind: 'finished', retried: outcome.retried, stillErrors: outcome.stillErrors, at: now().toISOString() }),
          (err: Error) => {
            if (!this.#abort.signal.aborted) process.stderr.write(`pds-trace serve: retry of batch ${batchId} stopped: ${err.name}: ${err.message}\n`);
            end({ kind: 'failed', message: err.message, at: now().toISOString() });
          },
        );
      },
      abandon: () => end(previous),
    };
  }

  /** Stops every retry at its next chunk (rows of an unfinished chunk stay as they were) and waits. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.allSettled([...this.#running.values()]);
  }
}

const RETRIES = new WeakMap<object, BatchRetries>();

/** The one registry of a web app (keyed by its context), shared by its routes and its pages. */
export function retriesOf(app: object): BatchRetries {
  let retries = RETRIES.get(app);
  if (!retries) {
    retries = new BatchRetries();
    RETRIES.set(app, retries);
  }
  return retries;
}
