/**
 * `work`, or a rejection with `message` once `ms` have passed, whichever comes first. BullMQ waits
 * for its connection to come back before it sends a command, and a probe, a scrape or a page must
 * answer within seconds instead of waiting out an outage with it. `work` itself is not stopped: it
 * settles on its own when the connection answers or gives up.
 */
export class TimedOutError extends Error {
  override readonly name = 'TimedOutError';
}

export async function withinTime<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimedOutError(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
