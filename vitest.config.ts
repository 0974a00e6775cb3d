import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Two groups. Files that stay in their own process run first. Files that touch a shared real part
 * (Redis, PostgreSQL, local ports, child processes, the simulator over TLS, a browser) run after,
 * two at a time, like the first: each keeps to its own Redis prefix, temporary folders and free
 * ports, so two never meet, and on two cores a file waiting on a child process or a simulated
 * latency leaves the other core to the second. Apart, a file that kills a Redis or reads the
 * machine's load could not disturb the in-process ones. The rule reads the file, so a new test
 * lands in the right group by what it uses, not by where someone filed it.
 */
const SHARED_PARTS =
  /support\/(built-cli|mtls-server|pipeline|ports|private-redis|redis|simulator|worker-process)|node:child_process|playwright|from 'pg'|\.listen\(|REDIS_URL|127\.0\.0\.1/;

const ALL = readdirSync('test', { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.test.ts'))
  .map((name) => path.join('test', name));
const SERIAL = ALL.filter((file) => SHARED_PARTS.test(readFileSync(file, 'utf8')));
const PARALLEL = ALL.filter((file) => !SERIAL.includes(file));

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'in-process', include: PARALLEL, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'real-parts', include: SERIAL, maxWorkers: 2, sequence: { groupOrder: 1 } } },
    ],
  },
});
