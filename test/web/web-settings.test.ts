import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('settings of pds-trace serve', () => {
  it('default to plain HTTP, a 15-minute idle timeout, 10 sign-in attempts a minute and uploads up to 512 MiB', () => {
    const { web } = loadConfig({}, '/srv');
    expect(web).toEqual({ tls: undefined, idleTimeoutMs: 15 * 60_000, signInPerMinute: 10, uploadMaxBytes: 512 * 1024 * 1024, lowMatch: { minRows: 50, percent: 50 } });
  });

  it('take the low-match warning threshold as a percentage and its sample as a count of rows', () => {
    expect(loadConfig({ PDS_TRACE_WEB_LOW_MATCH_PERCENT: '70', PDS_TRACE_WEB_LOW_MATCH_ROWS: '200' }).web.lowMatch).toEqual({ minRows: 200, percent: 70 });
    expect(loadConfig({ PDS_TRACE_WEB_LOW_MATCH_PERCENT: '0' }).web.lowMatch.percent).toBe(0);
    expect(() => loadConfig({ PDS_TRACE_WEB_LOW_MATCH_PERCENT: '101' })).toThrow(/PDS_TRACE_WEB_LOW_MATCH_PERCENT/);
    expect(() => loadConfig({ PDS_TRACE_WEB_LOW_MATCH_ROWS: '0' })).toThrow(/PDS_TRACE_WEB_LOW_MATCH_ROWS/);
  });

  it('take a certificate and key together, resolved from the working folder', () => {
    const { web } = loadConfig({ PDS_TRACE_WEB_TLS_CERT: 'certs/web.crt', PDS_TRACE_WEB_TLS_KEY: '/etc/web.key', PDS_TRACE_WEB_IDLE_MINUTES: '30' }, '/srv');
    expect(web.tls).toEqual({ certPath: '/srv/certs/web.crt', keyPath: '/etc/web.key' });
    expect(web.idleTimeoutMs).toBe(30 * 60_000);
  });

  it('refuse a certificate without its key, and an idle timeout of zero, naming the setting', () => {
    expect(() => loadConfig({ PDS_TRACE_WEB_TLS_KEY: 'web.key' })).toThrow(/PDS_TRACE_WEB_TLS_CERT \/ PDS_TRACE_WEB_TLS_KEY: set both/);
    expect(() => loadConfig({ PDS_TRACE_WEB_IDLE_MINUTES: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: 'lots' })).toThrow(/PDS_TRACE_WEB_SIGN_IN_PER_MINUTE/);
    expect(() => loadConfig({ PDS_TRACE_WEB_UPLOAD_MAX_MB: '0' })).toThrow(/PDS_TRACE_WEB_UPLOAD_MAX_MB/);
    expect(loadConfig({ PDS_TRACE_WEB_UPLOAD_MAX_MB: '2' }).web.uploadMaxBytes).toBe(2 * 1024 * 1024);
  });
});
