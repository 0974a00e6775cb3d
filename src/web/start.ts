import { openAuditStore, type AuditStore } from '../audit/store.js';
import type { ScryptParams } from '../auth/password.js';
import { openRecordedUserStore } from '../auth/recorded-user-store.js';
import type { Config } from '../config.js';
import { buildWebApp } from './server.js';
import { FileSessionStore } from './session-store.js';

export interface WebServerOptions {
  config: Readonly<Config>;
  host: string;
  /** 0: any free port. */
  port: number;
  trustProxy: boolean;
  misuseWarning: string;
  passwordParams?: ScryptParams;
  clock?: () => number;
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
    const app = await buildWebApp({ ...options, users, audit });
    const address = await app.listen({ host: options.host, port: options.port });
    // Sessions nobody comes back to are removed hourly; unref'd, so the timer never keeps the process up.
    const sweeper = setInterval(sweep, 3_600_000).unref();
    return {
      url: `${address}/`,
      close: async () => {
        clearInterval(sweeper);
        await app.close();
        await audit.close();
      },
    };
  } catch (err) {
    await audit.close();
    throw err;
  }
}
