/**
 * The public SMSP sample messages in `<shared>/smsp/samples/` (provenance in its SOURCES.md), read
 * as they are stored: tests rewrite copies, never the files.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDir } from './shared-dir.js';

function samplesDir(): string {
  return join(sharedDir(), 'smsp', 'samples');
}

/** The text of one sample file, by file name. */
export function readSample(name: string): string {
  return readFileSync(join(samplesDir(), name), 'utf8');
}

/** Sample file names matching the pattern, sorted so generated test cases keep a stable order. */
export function listSamples(pattern: RegExp): string[] {
  // A fresh, non-global copy: a /g pattern's lastIndex would make test() skip alternate matches.
  const matcher = new RegExp(pattern.source, pattern.flags.replace('g', ''));
  return readdirSync(samplesDir())
    .filter((name) => matcher.test(name))
    .sort();
}
