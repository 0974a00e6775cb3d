import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { CliError, EXIT } from '../../src/cli/errors.js';
import { configuredProvider, providerForBatch } from '../../src/cli/smsp-connection.js';
import { SIMULATOR_PROVIDER, smspProvider } from '../../src/pipeline/provider.js';

const REAL = { SMSP_URL: 'https://smsp.example.nhs.uk/smsp/pds', SMSP_ASID: '200000000123', SMSP_TLS_CERT: 'c.pem', SMSP_TLS_KEY: 'k.pem' };

describe('the provider a process is configured for', () => {
  it('is the SMSP at SMSP_URL, whether or not users exist', () => {
    for (const simulatorMode of [true, false]) {
      expect(configuredProvider(loadConfig(REAL), simulatorMode)).toEqual(smspProvider(REAL.SMSP_URL));
    }
  });

  it('is the simulator in simulator mode (no SMSP_URL, no users), as the quick start needs', () => {
    expect(configuredProvider(loadConfig({}), true)).toEqual(SIMULATOR_PROVIDER);
  });

  it('is the simulator where users exist only when PDS_TRACE_SIMULATOR=true asks for it', () => {
    expect(configuredProvider(loadConfig({ PDS_TRACE_SIMULATOR: 'true' }), false)).toEqual(SIMULATOR_PROVIDER);
  });

  it('is a ConfigError naming SMSP_URL and PDS_TRACE_SIMULATOR where users exist and neither is set', () => {
    const error = (() => {
      try {
        configuredProvider(loadConfig({}), false);
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('SMSP_URL');
    expect((error as ConfigError).message).toContain('PDS_TRACE_SIMULATOR=true');
  });

  it('never is the simulator with PDS_TRACE_SIMULATOR=false, even in simulator mode', () => {
    expect(() => configuredProvider(loadConfig({ PDS_TRACE_SIMULATOR: 'false' }), true)).toThrow(ConfigError);
  });

  it('refuses, as a configuration error (exit 3), to trace a batch for another provider here', () => {
    const batch = { id: 'b1', provider: smspProvider(REAL.SMSP_URL) };
    expect(providerForBatch(batch, loadConfig(REAL), false)).toEqual(batch.provider);
    const refused = (() => {
      try {
        providerForBatch(batch, loadConfig({}), true);
      } catch (err) {
        return err;
      }
    })() as CliError;
    expect(refused).toBeInstanceOf(CliError);
    expect(refused.exitCode).toBe(EXIT.config);
    expect(refused.message).toContain('built-in simulator');
    expect(refused.message).toContain(`SMSP_URL=${REAL.SMSP_URL}`);
  });
});
