import { openAuditStore, type AuditStore } from '../audit/store.js';
import type { ScryptParams } from '../auth/password.js';
import { openRecordedUserStore } from '../auth/recorded-user-store.js';
import type { Config } from '../config.js';
import type { FastifyInstance } from 'fastify';
import { buildWebApp } from './server.js';
import { FileSessionStore } from './session-store.js';
import { isAvailable, type TracingChoice } from './upload/tracing.js';

export interface WebServerOptions {
  config: Readonly<Config>;
  host: string;
  /** 0: any free port. */
  port: number;
  trustProxy: boolean;
  misuseWarning: string;
  passwordParams?: ScryptParams;
  clock?: () => number;
  /**
   * Opens what traces uploaded files, with the server's audit trail (`pds-trace serve`: the queues
   * with REDIS_URL, else this process). Absent: uploads say they cannot be traced.
   */
  openTracing?: (audit: AuditStore) => Promise<TracingChoice>;
  /** Wraps the audit store before anything uses it (serve's metrics count failed appends). */
  instrumentAudit?: (store: AuditStore) => AuditStore;
}

export interface RunningWebServer {
  /** Where it listens, e.g. `http://127.0.0.1:8080/`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Opens the audit trail and the user store as every command opens them (the recorded user store:
 * users.json checked against the trail), builds the app and listens. Sessions long past the idle
 * timeout are swept from the data folder at start and hourly (they die on their next use anyway).
 */
export async function startWebServer(options: WebServerOptions): Promise<RunningWebServer> {
  const { config } = options;
  const opened = await openAuditStore(config);
  const audit = options.instrumentAudit ? options.instrumentAudit(opened) : opened;
  try {
    const users = await openRecordedUserStore(config.dataDir, { sink: audit, trail: audit, origin: config.smsp.auditIdentity.uri });
    const sessions = new FileSessionStore(config.dataDir);
    const sweep = () => sessions.sweep(2 * config.web.idleTimeoutMs).catch(() => 0);
    await sweep();
    const tracing = options.openTracing ? await options.openTracing(audit) : undefined;
    const closeTracing = async () => (tracing && isAvailable(tracing) ? tracing.close() : undefined);
    let app: FastifyInstance | undefined;
    let address: string;
    try {
      app = await buildWebApp({ ...options, users, audit, tracing, live: tracing && isAvailable(tracing) ? tracing.live : undefined });
      address = await app.listen({ host: options.host, port: options.port });
    } catch (err) {
      await app?.close();
      await closeTracing();
      throw err;
    }
    const running = app;
    // Sessions nobody comes back to are removed hourly; unref'd, so the timer never keeps the process up.
    const sweeper = setInterval(sweep, 3_600_000).unref();
    return {
      url: `${address}/`,
      close: async () => {
        clearInterval(sweeper);
        // The app first (it stops following its batches), then the runner, then the trail they write to.
        await running.close();
        await closeTracing();
        await audit.close();
      },
    };
  } catch (err) {
    await audit.close();
    throw err;
  }
}
