import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { USERS_FILE } from '../auth/users.js';
import { fail, pass, warn, type DoctorCheck } from './check.js';

export const configCheck: DoctorCheck = {
  name: 'config',
  title: 'Configuration',
  needsConfig: false,
  async run({ config, configProblems }) {
    if (!config) return fail(configProblems.join('; '), 'Correct each setting named above (README, "Settings"), in the environment or the PDS_TRACE_CONFIG file.');
    return pass(`valid${process.env.PDS_TRACE_CONFIG ? ` (with ${process.env.PDS_TRACE_CONFIG})` : ''}`);
  },
};

/**
 * Which provider commands will trace against, said loudly when it is a simulator: synthetic
 * answers must never be mistaken for PDS.
 */
export const providerCheck: DoctorCheck = {
  name: 'provider',
  title: 'SMSP provider',
  async run({ config }) {
    const smsp = config!.smsp;
    if (smsp.url && !smsp.urlIsSimulator) return pass(`PDS through SMSP at ${new URL(smsp.url).host}`);
    if (smsp.url) {
      return warn(
        `SIMULATOR at ${new URL(smsp.url).host} (SMSP_URL_IS_SIMULATOR): every result is SYNTHETIC`,
        'For real tracing, set SMSP_URL to the SMSP endpoint and unset SMSP_URL_IS_SIMULATOR.',
      );
    }
    const hasUsers = await access(path.join(config!.dataDir, USERS_FILE), constants.F_OK).then(() => true, () => false);
    if (hasUsers && smsp.simulator !== true) {
      return fail('no SMSP_URL, and users exist: every tracing command will refuse to start', 'Set SMSP_URL (with its certificates), or PDS_TRACE_SIMULATOR=true for the built-in simulator (synthetic data only).');
    }
    return warn('BUILT-IN SIMULATOR: a synthetic population; results are NOT real PDS data', 'For real tracing, set SMSP_URL, SMSP_ASID and the SMSP_TLS_* certificates.');
  },
};
