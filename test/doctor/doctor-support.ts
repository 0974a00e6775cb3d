import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { doctorContext, runDoctor } from '../../src/doctor/index.js';

/**
 * A test file's own temporary folder, made before its tests and removed after them (call it at the
 * top of the file), and owner-only folders inside it for settings to name.
 */
export function useTempRoot(prefix: string): { readonly root: string; folder(name: string): Promise<string> } {
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), prefix));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });
  return {
    get root() {
      return root;
    },
    async folder(name) {
      const dir = path.join(root, name);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      return dir;
    },
  };
}

/** One check's report for these settings. */
export async function check(name: string, env: Record<string, string>) {
  const [report] = await runDoctor(doctorContext(env), { only: [name] });
  return report!;
}
