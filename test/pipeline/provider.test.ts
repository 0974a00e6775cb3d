import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchPaths } from '../../src/pipeline/batch.js';
import { batchOutputPaths } from '../../src/pipeline/output-paths.js';
import { describeProvider, providerRefusal, sameProvider, SIMULATOR_PROVIDER, smspProvider } from '../../src/pipeline/provider.js';
import { clearProviderHold, holdNotice, readProviderHold, recordProviderHold } from '../../src/pipeline/provider-hold.js';
import { batchOptions, tempDir } from '../support/pipeline.js';

const SPINE = smspProvider('https://spine.example.nhs.uk/smsp/pds');

describe('a batch is bound to its provider', () => {
  it('treats every simulator as one provider, and one SMSP URL however its host and port are written', () => {
    expect(sameProvider(SIMULATOR_PROVIDER, { kind: 'simulator' })).toBe(true);
    expect(sameProvider(SPINE, smspProvider('https://SPINE.example.nhs.uk:443/smsp/pds'))).toBe(true);
    expect(sameProvider(SPINE, smspProvider('https://spine.example.nhs.uk:8443/smsp/pds'))).toBe(false);
    expect(sameProvider(SPINE, SIMULATOR_PROVIDER)).toBe(false);
    expect(sameProvider(SIMULATOR_PROVIDER, SPINE)).toBe(false);
  });

  it('tells a simulator service at an SMSP URL from PDS at the same URL, and names it as one', () => {
    const service = smspProvider('https://spine.example.nhs.uk/smsp/pds', { simulated: true });
    expect(sameProvider(service, SPINE)).toBe(false);
    expect(sameProvider(service, smspProvider('https://spine.example.nhs.uk/smsp/pds', { simulated: true }))).toBe(true);
    expect(sameProvider(service, SIMULATOR_PROVIDER)).toBe(false);
    expect(describeProvider(service)).toBe('https://spine.example.nhs.uk/smsp/pds (an SMSP simulator, synthetic data)');
    expect(providerRefusal({ id: 'b1', provider: service }, SPINE)!.message).toContain('SMSP_URL_IS_SIMULATOR=true');
  });

  it('refuses a worker on another provider, naming both and the setting that reaches the batch\'s', () => {
    expect(providerRefusal({ id: 'b1', provider: SPINE }, SPINE)).toBeUndefined();
    const refusal = providerRefusal({ id: 'b1', provider: SPINE }, SIMULATOR_PROVIDER)!;
    expect(refusal.message).toContain('https://spine.example.nhs.uk/smsp/pds');
    expect(refusal.message).toContain('built-in simulator');
    expect(refusal.message).toContain('SMSP_URL=https://spine.example.nhs.uk/smsp/pds');
    const back = providerRefusal({ id: 'b1', provider: SIMULATOR_PROVIDER }, SPINE)!;
    expect(back.message).toContain('PDS_TRACE_SIMULATOR=true');
  });

  it('refuses a batch that records no provider on every worker, saying to submit the file again', () => {
    for (const worker of [SPINE, SIMULATOR_PROVIDER]) {
      const refusal = providerRefusal({ id: 'old' }, worker)!;
      expect(refusal.batchProvider).toBeUndefined();
      expect(refusal.message).toMatch(/older pds-trace/);
      expect(refusal.message).toMatch(/submit the file again/);
    }
    expect(describeProvider(undefined)).toBe('no recorded provider');
  });

  it('records a hold once per refusing provider, and a right worker clears it', async () => {
    const dir = await tempDir('hold');
    await mkdir(batchPaths(dir, 'b1').dir, { recursive: true });
    const refusal = providerRefusal({ id: 'b1', provider: SPINE }, SIMULATOR_PROVIDER)!;
    expect(await recordProviderHold(dir, refusal, new Date('2026-01-01T00:00:00Z'))).toBe(true);
    expect(await recordProviderHold(dir, refusal, new Date('2026-01-01T00:05:00Z'))).toBe(false);
    const hold = (await readProviderHold(dir, 'b1'))!;
    expect(hold).toMatchObject({ batchProvider: SPINE, workerProvider: SIMULATOR_PROVIDER, since: '2026-01-01T00:00:00.000Z' });
    expect(hold.message).toBe(refusal.message);
    expect(holdNotice(hold)).toBe(
      'WAITING: it is for https://spine.example.nhs.uk/smsp/pds and a worker on built-in simulator refused it; ' +
        'it waits for a worker with SMSP_URL=https://spine.example.nhs.uk/smsp/pds',
    );
    expect(holdNotice({ workerProvider: SPINE, since: 'then', message: '' })).toMatch(/older pds-trace.*submit the file again/);
    const other = providerRefusal({ id: 'b1', provider: SPINE }, smspProvider('https://other.example/smsp'))!;
    expect(await recordProviderHold(dir, other)).toBe(true);
    await clearProviderHold(dir, 'b1');
    await clearProviderHold(dir, 'b1');
    expect(await readProviderHold(dir, 'b1')).toBeUndefined();
  });
});

describe('output file names', () => {
  it('mark every output of a simulated batch SIMULATED, and leave a real batch\'s names as they were', () => {
    const options = batchOptions('/out');
    const simulated = batchOutputPaths({ name: 'cohort', provider: SIMULATOR_PROVIDER, options });
    for (const file of Object.values(simulated)) expect(path.basename(file)).toMatch(/^cohort\.SIMULATED\./);
    expect(simulated.results).toBe('/out/cohort.SIMULATED.results.csv');
    const real = batchOutputPaths({ name: 'cohort', provider: SPINE, options });
    // A simulator run as its own service (SMSP_URL_IS_SIMULATOR): bound by URL, named SIMULATED.
    const service = smspProvider('https://simulator:8443/smsp/pds', { simulated: true });
    expect(batchOutputPaths({ name: 'cohort', provider: service, options }).results).toBe('/out/cohort.SIMULATED.results.csv');
    expect(real).toEqual({
      results: '/out/cohort.results.csv',
      audit: '/out/cohort.audit.csv',
      summaryJson: '/out/cohort.summary.json',
      summaryHtml: '/out/cohort.summary.html',
      backOffice: '/out/cohort.back-office.csv',
      discrepancies: '/out/cohort.discrepancies.csv',
    });
  });
});
