import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.js';

/**
 * The settings pds-trace reads, found as test/readme-settings.test.ts finds them (the README's
 * table, the configuration's reads, the names read elsewhere in src/), so the deployment files
 * (test/deploy/) are checked against the same set.
 */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The names in the first cell of each row of the README's "Settings" table. */
export function documentedSettings(): Set<string> {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const section = readme.split(/^## Settings$/m)[1]!.split(/^## /m)[0]!;
  const names = section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!));
  return new Set(names);
}

/** Every name the configuration reads from the environment, observed by handing it a recording one. */
export function readByConfiguration(): Set<string> {
  const read = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get: (_target, key) => {
      if (typeof key === 'string') read.add(key);
      return undefined;
    },
  });
  loadConfig(env);
  return read;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(path.join(dir, entry.name)) : entry.name.endsWith('.ts') ? [path.join(dir, entry.name)] : [],
  );
}

/**
 * Names read outside the configuration, found in the sources: `env.NAME`, `env['NAME']`, and the
 * names held in `…_ENV` constants (`CREDENTIAL_ENV`, `NEW_PASSWORD_ENV`), through which the
 * sign-in code reads its variables.
 */
export function readInSources(): Set<string> {
  const names = new Set<string>();
  for (const file of sourceFiles(path.join(REPO, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\benv(?:\.|\[\s*['"`])([A-Z][A-Z0-9_]+)/g)) names.add(m[1]!);
    for (const m of text.matchAll(/\b[A-Z][A-Z0-9_]*_ENV\b\s*=\s*(\{[^}]*\}|'[^']*'|"[^"]*")/g)) {
      for (const quoted of m[1]!.matchAll(/['"]([A-Z][A-Z0-9_]+)['"]/g)) names.add(quoted[1]!);
    }
  }
  return names;
}

/** Every variable pds-trace reads: what a deployment may set for it. */
export function knownSettings(): Set<string> {
  return new Set([...readByConfiguration(), ...readInSources()]);
}
