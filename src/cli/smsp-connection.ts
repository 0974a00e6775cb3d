import { accountableIdentity } from '../auth/accountable-identity.js';
import type { Principal } from '../auth/authorise.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { createLocalLimiter, type RequestLimiter } from '../pipeline/limiter.js';
import { createSmspClient, type SmspClient } from '../smsp/client.js';
import { startSimulator } from '../simulator/index.js';
import { DEFAULT_POPULATION } from '../simulator/defaults.js';

export interface SmspConnection {
  client: SmspClient;
  /** True when the answers come from the built-in simulator, not from PDS. */
  simulated: boolean;
  url: string;
  close(): Promise<void>;
}

export const SIMULATOR_NOTICE =
  '*** SMSP_URL is not set: tracing against the BUILT-IN SIMULATOR with a synthetic population. ***\n' +
  '*** These results are NOT real PDS data and must never be used for patient care.           ***';

/**
 * The SMSP client the commands use: the configured provider, or, with no SMSP_URL, the built-in
 * simulator started in this process over mutual TLS with throwaway certificates.
 */
export async function connectSmsp(config: Config, logger: Logger, limiter?: RequestLimiter, principal?: Pick<Principal, 'userId' | 'kind'>): Promise<SmspConnection> {
  // SMSP is told who is accountable (MSCA-AUD-04): the signed-in user where the provider takes it.
  const smsp = principal ? { ...config.smsp, ...accountableIdentity(config.smsp, principal) } : config.smsp;
  const gate =
    limiter ??
    createLocalLimiter({
      maxInFlight: config.smsp.maxInFlight,
      maxRatePerSecond: config.smsp.maxRatePerSecond,
      windowSlackMs: config.smsp.rateSlackMs,
    });
  if (config.smsp.url) {
    const client = await createSmspClient(smsp, { limiter: gate });
    return { client, simulated: false, url: config.smsp.url, close: async () => client.close?.() };
  }
  const simulator = await startSimulator({ ...DEFAULT_POPULATION, logger });
  const client = await createSmspClient({ ...smsp, url: simulator.url }, { limiter: gate, tls: simulator.clientTls });
  return {
    client,
    simulated: true,
    url: simulator.url,
    close: async () => {
      client.close?.();
      await simulator.close();
    },
  };
}
