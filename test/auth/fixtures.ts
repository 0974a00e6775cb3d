import type { NewAuditEvent } from '../../src/audit/event.js';
import type { ScryptParams } from '../../src/auth/password.js';

/** Cheap scrypt parameters so tests hash in milliseconds; stored hashes carry them, so verify agrees. */
export const FAST_SCRYPT: ScryptParams = { cost: 2 ** 10, blockSize: 8, parallelism: 1 };

export const GOOD_PASSWORD = 'correct horse battery';

/** An audit sink that keeps what it is given. */
export class RecordingAudit {
  readonly events: NewAuditEvent[] = [];
  async append(events: readonly NewAuditEvent[]): Promise<never[]> {
    this.events.push(...events);
    return [];
  }
  kinds(): string[] {
    return this.events.map((e) => e.kind);
  }
}

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(private time: number = Date.parse('2025-01-01T09:00:00Z')) {}
  now = (): Date => new Date(this.time);
  advance(ms: number): void {
    this.time += ms;
  }
}
