import path from 'node:path';
import type { BatchMeta, BatchOutputs } from './batch.js';
import { isSimulated } from './provider.js';

/**
 * The word every output file of a simulated batch carries in its name: `<name>.SIMULATED.results.csv`.
 *
 * Why the file name, for the results CSV above all: it is the one place both a person and a
 * machine see without opening the file, in every layout. A person sees it in a folder listing, a
 * mail attachment and Excel's title bar; a loader sees it in the path it is given. The formats
 * themselves have no room that is safe to use: the PDS MESH response is a fixed 29-column record
 * after a control line that loaders check (batch-formats.md §3.2–3.3), so a column or a changed
 * control line would break real readers; and a column added to the native layout would sit at the
 * far right where nobody looks. Real (non-simulated) batches keep their names unchanged. The
 * summary JSON and HTML say it inside as well (`simulated`, and a banner beside the NHS marking).
 */
const SIMULATED_MARK = 'SIMULATED';

/** The files assemble writes for the batch, beside each other in its output folder. */
export function batchOutputPaths(meta: Pick<BatchMeta, 'name' | 'provider' | 'options'>): BatchOutputs {
  return outputPaths(meta.options.outDir, meta.name, isSimulated(meta.provider));
}

/** The six output files for an input named `name` (its base name without extension). */
export function outputPaths(outDir: string, name: string, simulated: boolean): BatchOutputs {
  const stem = path.join(outDir, simulated ? `${name}.${SIMULATED_MARK}` : name);
  return {
    results: `${stem}.results.csv`,
    audit: `${stem}.audit.csv`,
    summaryJson: `${stem}.summary.json`,
    summaryHtml: `${stem}.summary.html`,
    backOffice: `${stem}.back-office.csv`,
    discrepancies: `${stem}.discrepancies.csv`,
  };
}
