import { access, constants, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describeRedisError, redactedRedisUrl, withOneShotRedis } from '../pipeline/redis-connection-errors.js';
import { withinTime } from '../pipeline/within-time.js';

/**
 * `GET /readyz`: whether this process can do its work right now (Redis answers, the audit store
 * answers, the data folder takes a write, a worker is consuming), each with what failed, for an
 * orchestrator's readiness check. Cheap by design (no chain verify: that is `pds-trace doctor`).
 */

export interface ReadinessProbe {
  name: string;
  /** Resolves when ready; rejects with what is wrong, in words without secrets. */
  check(): Promise<void>;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Array<{ name: string; ok: boolean; detail?: string }>;
}

const PROBE_TIMEOUT_MS = 3_000;

export async function checkReadiness(probes: readonly ReadinessProbe[]): Promise<ReadinessReport> {
  const checks = await Promise.all(
    probes.map(async (probe) => {
      try {
        await withinTime(probe.check(), PROBE_TIMEOUT_MS, `no answer within ${PROBE_TIMEOUT_MS / 1000} s`);
        return { name: probe.name, ok: true };
      } catch (err) {
        return { name: probe.name, ok: false, detail: (err as Error).message };
      }
    }),
  );
  return { ready: checks.every((c) => c.ok), checks };
}

/**
 * Redis at `url`, asked on a connection of its own for each probe (one attempt, no retries): a
 * process whose own connections wait out an outage must still say at once that Redis is gone.
 */
export function redisUrlProbe(url: string): ReadinessProbe {
  return {
    name: 'redis',
    check: async () => {
      try {
        await withOneShotRedis(url, PROBE_TIMEOUT_MS - 500, (redis) => redis.ping());
      } catch (err) {
        throw new Error(`Redis at REDIS_URL ${redactedRedisUrl(url)} does not answer (${describeRedisError(err as Error)})`);
      }
    },
  };
}

export function auditStoreProbe(store: { currentHead(): Promise<unknown> }): ReadinessProbe {
  return { name: 'audit', check: async () => void (await store.currentHead()) };
}

export function dataFolderProbe(dataDir: string): ReadinessProbe {
  return {
    name: 'data-folder',
    check: async () => {
      const probe = path.join(dataDir, `.ready-${process.pid}`);
      try {
        await writeFile(probe, '', { mode: 0o600 });
        await rm(probe, { force: true });
      } catch (err) {
        throw new Error(`${dataDir} does not take a write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    },
  };
}

/** Each watched folder's inbox/ and processing/ exist and this process may write to them. */
export function watchFoldersProbe(folders: ReadonlyArray<{ inbox: string; processing: string }>): ReadinessProbe {
  return {
    name: 'watched-folders',
    check: async () => {
      const missing: string[] = [];
      for (const dir of folders.flatMap((f) => [f.inbox, f.processing])) {
        await access(dir, constants.W_OK).catch((err: NodeJS.ErrnoException) => missing.push(`${dir} (${err.code ?? err.message})`));
      }
      if (missing.length > 0) throw new Error(`cannot write to ${missing.join(', ')}`);
    },
  };
}

/** A BullMQ worker (or several) that should be taking jobs. */
export function consumingProbe(workers: ReadonlyArray<{ name: string; isRunning(): boolean; isPaused(): boolean }>): ReadinessProbe {
  return {
    name: 'consuming',
    check: async () => {
      const idle = workers.filter((w) => !w.isRunning() || w.isPaused()).map((w) => w.name);
      if (idle.length > 0) throw new Error(`not consuming: ${idle.join(', ')}`);
    },
  };
}
