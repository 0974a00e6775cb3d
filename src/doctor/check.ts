import type { Config } from '../config.js';

/**
 * The shape of `pds-trace doctor`: independent checks, each answering PASS / WARN / FAIL / SKIP
 * with one line of what it found and, when not PASS, the fix in words (as `flutter doctor` and
 * `brew doctor` do). A check that hangs or crashes is a FAIL of that check, never of the doctor:
 * the operator still sees every other answer.
 */

export type CheckStatus = 'PASS' | 'WARN' | 'FAIL' | 'SKIP';

export interface CheckOutcome {
  status: CheckStatus;
  /** What was found, in one line. Never a secret, a patient detail or a full connection string. */
  summary: string;
  /** What to do about it, for anything but PASS. */
  fix?: string;
}

export interface DoctorContext {
  /** The configuration, or why it could not be built (every other check then SKIPs). */
  config: Readonly<Config> | undefined;
  configProblems: readonly string[];
  now: Date;
}

export interface DoctorCheck {
  /** Short name for `--only` and the JSON. */
  name: string;
  title: string;
  /** Longer for checks that read a whole store (the audit chain). */
  timeoutMs?: number;
  /** Checks that need nothing but the configuration answer SKIP without it; this says so. */
  needsConfig?: boolean;
  run(context: DoctorContext, signal: AbortSignal): Promise<CheckOutcome>;
}

export interface CheckReport extends CheckOutcome {
  name: string;
  title: string;
  /** Time the check took, in milliseconds. */
  ms: number;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;

export function pass(summary: string): CheckOutcome {
  return { status: 'PASS', summary };
}
export function warn(summary: string, fix: string): CheckOutcome {
  return { status: 'WARN', summary, fix };
}
export function fail(summary: string, fix: string): CheckOutcome {
  return { status: 'FAIL', summary, fix };
}
export function skip(summary: string, fix?: string): CheckOutcome {
  return fix === undefined ? { status: 'SKIP', summary } : { status: 'SKIP', summary, fix };
}

/** One answer from several findings of a check (a certificate and its CA): the worst, with its lines. */
export function worstOf(outcomes: readonly CheckOutcome[]): CheckOutcome {
  const order: CheckStatus[] = ['FAIL', 'WARN', 'PASS', 'SKIP'];
  const worst = order.find((s) => outcomes.some((o) => o.status === s)) ?? 'SKIP';
  // A warning's line names what is wrong, not the four things that are fine beside it.
  const shown = worst === 'PASS' ? outcomes : outcomes.filter((o) => o.status === worst);
  const fixes = shown.map((o) => o.fix).filter((f): f is string => f !== undefined);
  return {
    status: worst,
    summary: shown.map((o) => o.summary).join('; '),
    ...(fixes.length > 0 ? { fix: fixes.join(' ') } : {}),
  };
}

async function runOne(check: DoctorCheck, context: DoctorContext, defaultTimeoutMs: number): Promise<CheckOutcome> {
  if (check.needsConfig !== false && context.config === undefined) {
    return skip('not checked: the configuration is not valid', 'Mend the configuration first (see the Configuration check).');
  }
  const timeoutMs = check.timeoutMs ?? defaultTimeoutMs;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<CheckOutcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve(fail(`did not finish within ${Math.round(timeoutMs / 1000)} s`, 'Something it talks to is not answering; the line above or the service log says which.'));
    }, timeoutMs);
  });
  try {
    return await Promise.race([check.run(context, controller.signal), timedOut]);
  } catch (err) {
    return fail(`the check itself failed: ${(err as Error).message}`, 'Report this with the output of `pds-trace doctor --json`.');
  } finally {
    clearTimeout(timer);
  }
}

export interface RunChecksOptions {
  /** Only these checks, by name. */
  only?: readonly string[];
  defaultTimeoutMs?: number;
}

export class UnknownCheckError extends Error {
  override readonly name = 'UnknownCheckError';
  constructor(
    readonly unknown: readonly string[],
    readonly known: readonly string[],
  ) {
    super(`no such check: ${unknown.join(', ')} (checks: ${known.join(', ')})`);
  }
}

/** Runs the checks one after another (their lines then read in a fixed order) and reports each. */
export async function runChecks(checks: readonly DoctorCheck[], context: DoctorContext, options: RunChecksOptions = {}): Promise<CheckReport[]> {
  const names = checks.map((c) => c.name);
  const unknown = (options.only ?? []).filter((n) => !names.includes(n));
  if (unknown.length > 0) throw new UnknownCheckError(unknown, names);
  const chosen = options.only && options.only.length > 0 ? checks.filter((c) => options.only!.includes(c.name)) : checks;
  const reports: CheckReport[] = [];
  for (const check of chosen) {
    const started = performance.now();
    const outcome = await runOne(check, context, options.defaultTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS);
    reports.push({ name: check.name, title: check.title, ...outcome, ms: Math.round(performance.now() - started) });
  }
  return reports;
}
