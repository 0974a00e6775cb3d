import packageJson from '../../../package.json' with { type: 'json' };

/**
 * Where a batch's answers came from and how it was asked, written into its summary so a file
 * found months later says it without anyone reading logs: the provider (SIMULATED when it was the
 * simulator), the pds-trace version, and every option that changes what the outputs say.
 */

/** The running pds-trace's version, from package.json (one source for it). */
export const PDS_TRACE_VERSION: string = packageJson.version;

/** The batch options that change the outputs, as the summary records them. */
export interface ProvenanceOptions {
  format: string;
  /** `--minimal`: number-only interactions, so no PDS details to compare or echo. */
  minimal: boolean;
  /** Fallbacks asked for, in order (src/pipeline/strategy.ts FALLBACKS). */
  fallbacks: readonly string[];
  /** The mapping file's name when columns were mapped by one; absent when headers were recognised. */
  mappingFile?: string;
  dayFirst: boolean;
  bom: boolean;
}

export interface Provenance {
  /** The SMSP provider in words: its URL, or "built-in simulator". */
  provider: string;
  /** True when the answers are synthetic (the built-in simulator or one run as a service). */
  simulated: boolean;
  pdsTraceVersion: string;
  options: ProvenanceOptions;
}
