import { accountableIdentity } from '../auth/accountable-identity.js';
import type { Principal } from '../auth/authorise.js';
import { ConfigError, type Config } from '../config.js';
import type { Logger } from '../log.js';
import { createLocalLimiter, type RequestLimiter } from '../pipeline/limiter.js';
import { providerRefusal, SIMULATOR_PROVIDER, smspProvider, type Provider } from '../pipeline/provider.js';
import type { BatchMeta } from '../pipeline/batch.js';
import { CliError, EXIT } from './errors.js';
import { createSmspClient, type SmspClient } from '../smsp/client.js';
import { probeProvider } from '../smsp/provider-probe.js';
import { loadTlsMaterial, TlsMaterialError, type TlsMaterial } from '../smsp/transport.js';
import { startSimulator } from '../simulator/index.js';
import { DEFAULT_POPULATION } from '../simulator/defaults.js';

export interface SmspConnection {
  client: SmspClient;
  /** The provider this connection reaches (the one it was asked for). */
  provider: Provider;
  /** True when the answers come from the built-in simulator, not from PDS. */
  simulated: boolean;
  url: string;
  close(): Promise<void>;
}

export const SIMULATOR_NOTICE =
  '*** No SMSP_URL: tracing against the BUILT-IN SIMULATOR with a synthetic population.        ***\n' +
  '*** These results are NOT real PDS data and must never be used for patient care.           ***';

/**
 * The provider this process traces against, from configuration alone (no connection is made), so
 * that a batch records it at submission even when this process traces nothing (`trace
 * --no-worker`), and workers, `resume` and `retry` compare it with the batch's. The one place that
 * decides: SMSP_URL; else the simulator when asked for (PDS_TRACE_SIMULATOR=true) or in simulator
 * mode (`simulatorMode`: no users yet, src/cli/session.ts). A deployment with users and neither
 * setting is a ConfigError, never a silent simulator.
 */
export function configuredProvider(config: Pick<Config, 'smsp'>, simulatorMode: boolean): Provider {
  if (config.smsp.url) return smspProvider(config.smsp.url, { simulated: config.smsp.urlIsSimulator === true });
  if (config.smsp.simulator === true || (config.smsp.simulator === undefined && simulatorMode)) return SIMULATOR_PROVIDER;
  throw new ConfigError([
    config.smsp.simulator === false
      ? 'SMSP_URL: required, because PDS_TRACE_SIMULATOR=false forbids the built-in simulator'
      : 'SMSP_URL: required once users exist; set it to the SMSP endpoint, or set PDS_TRACE_SIMULATOR=true to trace against the built-in simulator (synthetic data only)',
  ]);
}

/**
 * This process's provider, for a command about to trace `batch` in-process (`resume`, `retry`):
 * a batch for another provider, or for none recorded, ends the command before anything is traced,
 * as a configuration error naming both providers and the setting to change.
 */
export function providerForBatch(batch: Pick<BatchMeta, 'id' | 'provider'>, config: Pick<Config, 'smsp'>, simulatorMode: boolean): Provider {
  const provider = configuredProvider(config, simulatorMode);
  const refusal = providerRefusal(batch, provider);
  if (refusal) throw new CliError(refusal.message, EXIT.config);
  return provider;
}

/**
 * The SMSP client the commands use, for `provider` (from {@link configuredProvider}): the
 * configured SMSP, or the built-in simulator started in this process over mutual TLS with
 * throwaway certificates.
 */
/** This process's own SMSP limit (no Redis): what a connection uses unless given the deployment's shared one. */
export function localLimiter(config: Config): RequestLimiter {
  return createLocalLimiter({
    maxInFlight: config.smsp.maxInFlight,
    maxRatePerSecond: config.smsp.maxRatePerSecond,
    windowSlackMs: config.smsp.rateSlackMs,
  });
}

export async function connectSmsp(
  config: Config,
  provider: Provider,
  logger: Logger,
  limiter?: RequestLimiter,
  principal?: Pick<Principal, 'userId' | 'kind'>,
): Promise<SmspConnection> {
  // SMSP is told who is accountable (MSCA-AUD-04): the signed-in user where the provider takes it.
  const smsp = principal ? { ...config.smsp, ...accountableIdentity(config.smsp, principal) } : config.smsp;
  const gate = limiter ?? localLimiter(config);
  if (provider.kind === 'smsp') {
    const client = await createSmspClient({ ...smsp, url: provider.url }, { limiter: gate, tls: await tlsFromSettings(config) });
    return { client, provider, simulated: false, url: provider.url, close: async () => client.close?.() };
  }
  const simulator = await startSimulator({ ...DEFAULT_POPULATION, logger });
  const client = await createSmspClient({ ...smsp, url: simulator.url }, { limiter: gate, tls: simulator.clientTls });
  return {
    client,
    provider,
    simulated: true,
    url: simulator.url,
    close: async () => {
      client.close?.();
      await simulator.close();
    },
  };
}

/**
 * Before a batch is made or any request sent, for a process about to trace against `provider`: the
 * TLS files the settings name can be read and used (exit 3, naming the setting), and SMSP accepts
 * a mutual-TLS connection with them (exit 5, naming SMSP_URL). The built-in simulator needs neither.
 */
export async function checkSmspAnswers(config: Pick<Config, 'smsp'>, provider: Provider): Promise<void> {
  if (provider.kind !== 'smsp') return;
  const failure = await probeProvider(provider.url, await tlsFromSettings(config), config.smsp.timeoutMs);
  if (!failure) return;
  const check =
    failure.kind === 'tls'
      ? 'the mutual-TLS handshake failed: check SMSP_TLS_CERT and SMSP_TLS_KEY (or SMSP_TLS_PFX) and SMSP_TLS_CA'
      : 'check SMSP_URL and that the provider can be reached from this machine';
  throw new CliError(`SMSP does not answer at SMSP_URL ${provider.url} (${failure.code}): ${check}. Nothing was submitted or sent.`, EXIT.smspUnreachable);
}

/** The client certificate material the settings name; a file that cannot be read or used is exit 3. */
async function tlsFromSettings(config: Pick<Config, 'smsp'>): Promise<TlsMaterial> {
  try {
    return await loadTlsMaterial(config.smsp.tls);
  } catch (err) {
    if (err instanceof TlsMaterialError) throw new CliError(`${err.message}: check the setting`, EXIT.config);
    throw err;
  }
}
