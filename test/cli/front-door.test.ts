import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * The README's first command is `npx pds-trace trace …` on a fresh clone. npm links a package's own
 * bin before `prepare` builds it, so the built file must be made executable by the build itself:
 * without that, npx answered "pds-trace: Permission denied" (exit 127) on a clean `npm ci`.
 */
describe('the front door', () => {
  it('runs as `npx pds-trace` from a checkout built by npm', async () => {
    const { stdout } = await promisify(execFile)('npx', ['--no-install', 'pds-trace', '--version'], { timeout: 60_000 });
    expect(stdout.trim()).toBe('0.1.0');
  }, 90_000);
});
