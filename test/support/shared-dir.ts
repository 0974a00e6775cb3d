/**
 * Where the reference material (`shared/`: SPEC, samples, schemas) lives. CI clones the repository
 * with `shared/` beside it; `PDS_TRACE_SHARED_DIR` overrides that for other layouts.
 */

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest folder at or above `start` holding a package.json: the repository root. */
function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
}

let cached: string | undefined;

/** Absolute path of the shared reference folder. */
export function sharedDir(): string {
  if (cached === undefined) {
    const fromEnv = process.env.PDS_TRACE_SHARED_DIR;
    cached =
      fromEnv !== undefined && fromEnv !== ''
        ? resolve(fromEnv)
        : resolve(findRepoRoot(dirname(fileURLToPath(import.meta.url))), '..', 'shared');
  }
  return cached;
}
