import type { PriorityClass } from '../src/pipeline/priority.js';

/**
 * A worker's trace slots by priority class (src/pipeline/priority.ts). BullMQ hands a free slot the
 * next job, interactive first, but a slot is only free once its chunk is done: with every slot on a
 * bulk chunk of 500 rows, an analyst's chunk waited seconds for one to end. So while bulk chunks run
 * here and no interactive one does, the worker takes one trace job more than its concurrency (the
 * spare): only `size` bulk chunks trace at once, so a bulk job in the spare waits, ready for the
 * next bulk slot, and gives the spare back to the queue as soon as an interactive job waits (or the
 * worker is stopping), for BullMQ to hand to that job at once. Interactive work alone never uses the
 * spare: `size` chunks at once, as the worker's concurrency says.
 */
export class TraceSlots {
  #bulkFree: number;
  readonly #waiting: Array<() => void> = [];
  readonly #active: Record<PriorityClass, number> = { interactive: 0, bulk: 0 };

  /** `spare` is told whether the spare slot is open: the worker's concurrency is `size` plus that. */
  constructor(
    readonly size: number,
    private readonly spare: (open: boolean) => void,
  ) {
    this.#bulkFree = size;
  }

  /** A job of `priority` has started here: call before the job's first await (BullMQ fetches on). */
  enter(priority: PriorityClass): void {
    this.#active[priority]++;
    this.spare(this.#active.interactive === 0 && this.#active.bulk > 0);
  }

  leave(priority: PriorityClass): void {
    this.#active[priority]--;
    this.spare(this.#active.interactive === 0 && this.#active.bulk > 0);
  }

  /**
   * A bulk slot: true once one is free, or false as soon as `giveWay()` (asked every `pollMs` while
   * waiting) says an interactive job, or a stop, needs the job's BullMQ slot.
   */
  async takeBulk(giveWay: () => Promise<boolean>, pollMs = 100): Promise<boolean> {
    for (;;) {
      if (this.#bulkFree > 0) {
        this.#bulkFree--;
        return true;
      }
      const handedOver = await new Promise<boolean>((resolve) => {
        const waiter = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
          resolve(false);
        }, pollMs);
        this.#waiting.push(waiter);
      });
      // A slot handed over is this job's: it was never counted free.
      if (handedOver) return true;
      if (await giveWay()) return false;
    }
  }

  releaseBulk(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#bulkFree++;
  }
}
