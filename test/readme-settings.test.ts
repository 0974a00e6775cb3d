import { describe, expect, it } from 'vitest';
import { documentedSettings, readByConfiguration, readInSources } from './support/settings.js';

/**
 * Every environment variable pds-trace reads is a setting someone may need to put in a script,
 * so each has a row in the README's settings table. Found two ways, so neither a new setting in
 * the configuration schema nor a variable read elsewhere (credentials) can slip past.
 */

describe("the README's settings table", () => {
  it('documents every setting the configuration reads', () => {
    const read = readByConfiguration();
    expect([...read]).toEqual(expect.arrayContaining(['SMSP_URL', 'AUDIT_DATABASE_URL', 'PDS_TRACE_CONFIG', 'LOG_LEVEL']));
    const documented = documentedSettings();
    expect([...read].filter((name) => !documented.has(name))).toEqual([]);
  });

  it('documents every variable read anywhere else in src/, credentials included', () => {
    const read = readInSources();
    expect([...read]).toEqual(
      expect.arrayContaining(['PDS_TRACE_USER', 'PDS_TRACE_PASSWORD', 'PDS_TRACE_SERVICE_ACCOUNT', 'PDS_TRACE_SERVICE_TOKEN', 'PDS_TRACE_NEW_PASSWORD', 'PDS_TRACE_CONFIG']),
    );
    const documented = documentedSettings();
    expect([...read].filter((name) => !documented.has(name))).toEqual([]);
  });
});
