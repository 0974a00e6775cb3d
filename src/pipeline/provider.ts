/**
 * Which SMSP a batch is traced against, and the rule that binds the batch to it (ARCHITECTURE
 * property 9). A worker started without SMSP_URL once traced a real batch against the built-in
 * simulator and 18 of 20 rows came back `no_match` with nothing saying so: an answer from the wrong
 * provider is not an error the row can show, so the batch records its provider when it is made and
 * any process on another provider refuses to trace it.
 *
 * The simulator listens on an ephemeral port, so its URL names no provider: every simulator is the
 * same provider (synthetic population), and a simulator batch may be traced by any simulator worker.
 */
export type Provider =
  /**
   * An SMSP endpoint. `simulated`: the endpoint is a pds-trace simulator run as its own service
   * (SMSP_URL_IS_SIMULATOR, as docker-compose.yml runs it): bound by URL like any endpoint, and its
   * outputs say SIMULATED, since pds-trace cannot tell synthetic answers from PDS's by looking.
   */
  | { kind: 'smsp'; url: string; simulated?: true }
  | { kind: 'simulator' };

export const SIMULATOR_PROVIDER: Provider = Object.freeze({ kind: 'simulator' });

/** A real SMSP endpoint, its URL normalised (host case, default port) so one endpoint is one provider. */
export function smspProvider(url: string, options: { simulated?: boolean } = {}): Provider {
  return { kind: 'smsp', url: new URL(url).href, ...(options.simulated ? { simulated: true as const } : {}) };
}

export function sameProvider(a: Provider, b: Provider): boolean {
  if (a.kind === 'simulator' || b.kind === 'simulator') return a.kind === b.kind;
  return new URL(a.url).href === new URL(b.url).href && Boolean(a.simulated) === Boolean(b.simulated);
}

export function isSimulated(provider: Provider | undefined): boolean {
  return provider?.kind === 'simulator' || (provider?.kind === 'smsp' && provider.simulated === true);
}

/** The provider in words, for messages and outputs: its URL, or "built-in simulator". */
export function describeProvider(provider: Provider | undefined): string {
  if (!provider) return 'no recorded provider';
  if (provider.kind === 'simulator') return 'built-in simulator';
  return provider.simulated ? `${provider.url} (an SMSP simulator, synthetic data)` : provider.url;
}

/** The settings that point a process at `provider`, so a refusal can say what to change. */
export function settingsFor(provider: Provider): string {
  if (provider.kind === 'simulator') return 'PDS_TRACE_SIMULATOR=true and no SMSP_URL';
  return provider.simulated ? `SMSP_URL=${provider.url} and SMSP_URL_IS_SIMULATOR=true` : `SMSP_URL=${provider.url}`;
}

/**
 * A process on one provider was asked to trace a batch for another (or for none recorded: a batch
 * made by a pds-trace older than this rule). Nothing was traced.
 */
export class ProviderMismatchError extends Error {
  override readonly name = 'ProviderMismatchError';
  constructor(
    readonly batchId: string,
    /** What the batch is for; undefined for a batch made before batches recorded it. */
    readonly batchProvider: Provider | undefined,
    readonly workerProvider: Provider,
  ) {
    super(mismatchMessage(batchId, batchProvider, workerProvider));
  }
}

function mismatchMessage(batchId: string, batchProvider: Provider | undefined, workerProvider: Provider): string {
  if (!batchProvider) {
    return (
      `batch ${batchId} records no SMSP provider (it was made by an older pds-trace), so it is not traced against ` +
      `the ${describeProvider(workerProvider)}: submit the file again as a new batch`
    );
  }
  return (
    `batch ${batchId} is for ${describeProvider(batchProvider)} but this process is on ${describeProvider(workerProvider)}: ` +
    `nothing was traced; run it where ${settingsFor(batchProvider)}`
  );
}

/** Why `worker` may not trace the batch, or undefined when it may. */
export function providerRefusal(batch: { id: string; provider?: Provider }, worker: Provider): ProviderMismatchError | undefined {
  if (batch.provider && sameProvider(batch.provider, worker)) return undefined;
  return new ProviderMismatchError(batch.id, batch.provider, worker);
}
