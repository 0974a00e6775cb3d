import { ConfigError, loadConfig } from '../config.js';
import { runChecks, type CheckReport, type DoctorCheck, type DoctorContext, type RunChecksOptions } from './check.js';
import { redisCheck, workersCheck } from './redis-checks.js';
import { schedulesCheck } from './schedule-check.js';
import { configCheck, providerCheck } from './setting-checks.js';
import { smspCheck } from './smsp-check.js';
import { auditCheck, dataFolderCheck, usersCheck } from './store-checks.js';
import { tlsCheck } from './tls-check.js';
import { watchFoldersCheck } from './watch-folder-check.js';

export { UnknownCheckError, type CheckReport, type CheckStatus } from './check.js';

/** In the order an operator mends things: settings, then what they point at. */
export const DOCTOR_CHECKS: readonly DoctorCheck[] = [
  configCheck,
  providerCheck,
  tlsCheck,
  smspCheck,
  redisCheck,
  workersCheck,
  schedulesCheck,
  dataFolderCheck,
  watchFoldersCheck,
  auditCheck,
  usersCheck,
];

export function doctorContext(env: Record<string, string | undefined> = process.env, now = new Date()): DoctorContext {
  try {
    return { config: loadConfig(env), configProblems: [], now };
  } catch (err) {
    if (err instanceof ConfigError) return { config: undefined, configProblems: err.problems, now };
    throw err;
  }
}

export function runDoctor(context: DoctorContext, options: RunChecksOptions = {}, checks: readonly DoctorCheck[] = DOCTOR_CHECKS): Promise<CheckReport[]> {
  return runChecks(checks, context, options);
}
