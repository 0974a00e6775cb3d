import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, SIMULATOR_ASID } from '../src/config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, '/tmp');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  it('defaults to the built-in simulator with documented limits', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config.smsp.url).toBeUndefined();
    expect(config.smsp).toMatchObject({ timeoutMs: 10_000, maxInFlight: 8, maxRatePerSecond: 20, auditIdentity: { type: 'asid', uri: SIMULATOR_ASID } });
    expect(config.dataDir).toBe('/srv/app/.pds-trace');
    expect(Object.isFrozen(config.smsp.retry)).toBe(true);
  });

  it('reads every documented variable', () => {
    const config = loadConfig(
      {
        SMSP_URL: 'https://smsp.example.nhs.uk/smsp/pds',
        SMSP_TLS_CERT: 'c.pem', SMSP_TLS_KEY: 'k.pem', SMSP_TLS_CA: 'ca.pem',
        SMSP_ASID: '200000000123', SMSP_USERNAME: 'trace-service', SMSP_FROM_ADDRESS: 'urn:example:from',
        SMSP_TIMEOUT_MS: '5000', SMSP_MAX_IN_FLIGHT: '32', SMSP_MAX_RATE: '50',
        REDIS_URL: 'redis://127.0.0.1:6379', PDS_TRACE_DATA_DIR: '/var/lib/pds-trace',
      },
      '/etc/pds-trace',
    );
    expect(config.smsp).toMatchObject({
      url: 'https://smsp.example.nhs.uk/smsp/pds',
      tls: { certPath: '/etc/pds-trace/c.pem', keyPath: '/etc/pds-trace/k.pem', caPath: '/etc/pds-trace/ca.pem' },
      auditIdentity: { type: 'asid', uri: '200000000123' },
      username: 'trace-service',
      fromAddress: 'urn:example:from',
      timeoutMs: 5000,
      maxInFlight: 32,
      maxRatePerSecond: 50,
    });
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.dataDir).toBe('/var/lib/pds-trace');
  });

  it('keeps work files 168 hours by default, takes 0 (remove once finished), refuses a negative or fractional period', () => {
    expect(loadConfig({}).workRetentionHours).toBe(168);
    expect(loadConfig({ PDS_TRACE_WORK_RETENTION_HOURS: '0' }).workRetentionHours).toBe(0);
    expect(problemsOf({ PDS_TRACE_WORK_RETENTION_HOURS: '-1' }).join('\n')).toMatch(/^PDS_TRACE_WORK_RETENTION_HOURS/);
    expect(problemsOf({ PDS_TRACE_WORK_RETENTION_HOURS: '1.5' }).join('\n')).toMatch(/^PDS_TRACE_WORK_RETENTION_HOURS/);
  });

  it('names each bad setting in one error', () => {
    const problems = problemsOf({ SMSP_MAX_IN_FLIGHT: '0', SMSP_TIMEOUT_MS: 'soon', SMSP_URL: 'http://plain.example' });
    expect(problems.join('\n')).toMatch(/SMSP_MAX_IN_FLIGHT/);
    expect(problems.join('\n')).toMatch(/SMSP_TIMEOUT_MS/);
    expect(problems.join('\n')).toMatch(/SMSP_URL/);
  });

  it('requires an ASID and a client certificate for a real SMSP', () => {
    const problems = problemsOf({ SMSP_URL: 'https://smsp.example.nhs.uk/smsp/pds' });
    expect(problems.some((p) => p.startsWith('SMSP_ASID'))).toBe(true);
    expect(problems.some((p) => p.includes('SMSP_TLS_CERT'))).toBe(true);
  });

  it('accepts a PKCS#12 file instead of PEM files, but not both', () => {
    expect(problemsOf({ SMSP_URL: 'https://x.example/smsp/pds', SMSP_ASID: '1', SMSP_TLS_PFX: 'e.p12', SMSP_TLS_PASSPHRASE: 'p' })).toEqual([]);
    expect(problemsOf({ SMSP_TLS_PFX: 'e.p12', SMSP_TLS_CERT: 'c.pem', SMSP_TLS_KEY: 'k.pem' })[0]).toMatch(/SMSP_TLS_PFX/);
  });

  it('reads a JSON config file named by PDS_TRACE_CONFIG, with the environment taking precedence', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pds-trace-config-'));
    const file = path.join(dir, 'settings.json');
    writeFileSync(file, JSON.stringify({ SMSP_MAX_RATE: 5, SMSP_MAX_IN_FLIGHT: 2 }));
    const config = loadConfig({ PDS_TRACE_CONFIG: file, SMSP_MAX_RATE: '7' }, dir);
    expect(config.smsp.maxRatePerSecond).toBe(7);
    expect(config.smsp.maxInFlight).toBe(2);
    writeFileSync(file, JSON.stringify({ SMSP_MAX_RAET: 5 }));
    expect(problemsOf({ PDS_TRACE_CONFIG: file })[0]).toMatch(/SMSP_MAX_RAET: unknown setting/);
  });

  it('reads PDS_TRACE_SIMULATOR as true, false or unset, and refuses it together with SMSP_URL', () => {
    expect(loadConfig({}).smsp.simulator).toBeUndefined();
    expect(loadConfig({ PDS_TRACE_SIMULATOR: 'true' }).smsp.simulator).toBe(true);
    expect(loadConfig({ PDS_TRACE_SIMULATOR: 'false' }).smsp.simulator).toBe(false);
    expect(problemsOf({ PDS_TRACE_SIMULATOR: 'sometimes' })).toEqual([expect.stringMatching(/^PDS_TRACE_SIMULATOR: /)]);
    expect(problemsOf({ SMSP_URL_IS_SIMULATOR: 'true' })).toEqual([expect.stringMatching(/^SMSP_URL_IS_SIMULATOR: .*SMSP_URL must be set/)]);
    const service = loadConfig({ SMSP_URL: 'https://simulator:8443/smsp/pds', SMSP_URL_IS_SIMULATOR: 'true', SMSP_ASID: '999000000001', SMSP_TLS_CERT: 'c.pem', SMSP_TLS_KEY: 'k.pem' });
    expect(service.smsp.urlIsSimulator).toBe(true);
    expect(loadConfig({}).smsp.urlIsSimulator).toBe(false);
    const both = problemsOf({ PDS_TRACE_SIMULATOR: 'true', SMSP_URL: 'https://smsp.example.nhs.uk/smsp/pds', SMSP_ASID: '200000000123', SMSP_TLS_CERT: 'c.pem', SMSP_TLS_KEY: 'k.pem' });
    expect(both).toEqual([expect.stringMatching(/^PDS_TRACE_SIMULATOR: .*SMSP_URL must be unset/)]);
    expect(loadConfig({}).jobs.providerHoldMs).toBe(30_000);
  });

  it('treats an empty variable as unset, so it cannot override the config file (e.g. the audit store)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pds-trace-config-'));
    const file = path.join(dir, 'settings.json');
    writeFileSync(file, JSON.stringify({ AUDIT_DATABASE_URL: 'postgres://pds_trace_app@db.example:5432/audit', SMSP_MAX_RATE: 5 }));
    const config = loadConfig({ PDS_TRACE_CONFIG: file, AUDIT_DATABASE_URL: '', SMSP_MAX_RATE: '  ' }, dir);
    expect(config.auditDatabaseUrl).toBe('postgres://pds_trace_app@db.example:5432/audit');
    expect(config.smsp.maxRatePerSecond).toBe(5);
    expect(loadConfig({ AUDIT_DATABASE_URL: '' }, dir).auditDatabaseUrl).toBeUndefined();
  });
});
