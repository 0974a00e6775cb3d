import { access, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmspSettings } from '../../src/config.js';
import type { PatientQuery } from '../../src/domain/demographics.js';
import { INTERACTIONS, type Interaction } from '../../src/domain/interaction.js';
import { createLogger } from '../../src/log.js';
import { createPopulation } from '../../src/simulator/population/population.js';
import type { SyntheticPerson } from '../../src/simulator/population/person.js';
import { startSimulator } from '../../src/simulator/server.js';
import { createSmspClient, type SmspClient } from '../../src/smsp/client.js';
import { createCertificateAuthority, issueCertificate } from '../../src/tls/pki.js';
import { extractElement, validateXml } from '../support/schemas.js';
import {
  fakeDirectory,
  match,
  nhsSampleRequest,
  rawGet,
  rawPost,
  rawRequest,
  responseCodeOf,
  startTestSimulator,
  type TestSimulator,
} from '../support/simulator.js';

const POPULATION = { seed: 'server-test', size: 2000 } as const;

/** Response payload root and schema per interaction (SPEC §5.1). */
const RESPONSE: Record<Interaction, { root: string; schema: string }> = {
  verifyNHSNumber: { root: 'verifyNHSNumberResponse-v1-0', schema: 'Schemas/COMT_MT000013GB01.xsd' },
  getNHSNumber: { root: 'getNHSNumberResponse-v1-0', schema: 'Schemas/COMT_MT000014GB01.xsd' },
  getPatientDetailsByNHSNumber: { root: 'getPatientDetailsResponse-v1-0', schema: 'Schemas/COMT_MT000016GB01.xsd' },
  getPatientDetailsBySearch: { root: 'getPatientDetailsResponse-v1-0', schema: 'Schemas/COMT_MT000016GB01.xsd' },
  getPatientDetails: { root: 'getPatientDetailsResponse-v1-0', schema: 'Schemas/COMT_MT000016GB01.xsd' },
};

/** People of the simulator's own population for each scenario, found from its generator. */
function scenarioPeople() {
  const population = createPopulation(POPULATION);
  const people = [...population.people()].map((person, index) => ({ person, index }));
  const full = (p: SyntheticPerson) => p.dateOfBirth.length === 8;
  const live = people.find(
    ({ person, index }) => person.record === 'live' && full(person) && !person.sensitive && population.structure.twinGroupOf(index) === undefined && person.gpPractice !== undefined,
  )!.person;
  const superseded = people.find(({ person }) => person.record === 'superseded')!.person;
  const invalidated = people.find(({ person }) => person.record === 'invalidated')!.person;
  const twinLeader = people.find(({ index }) => population.structure.twinGroupOf(index)?.members[0] === index)!.person;
  return { live, superseded, invalidated, twinLeader };
}

function searchQuery(person: SyntheticPerson): PatientQuery {
  return { familyName: person.familyName, givenName: person.givenNames[0], dateOfBirth: person.dateOfBirth, sex: person.sex };
}

/** The NHS number in subject/patient/id (or validIdentifier/subject for verify). */
function returnedNhsNumber(body: string): string | undefined {
  return match(body, /<id root="2\.16\.840\.1\.113883\.2\.1\.4\.1" extension="(\d+)"\/>/);
}

describe('the simulator over mutual TLS with its generated population (raw requests)', () => {
  let simulator: TestSimulator;
  const people = scenarioPeople();
  beforeAll(async () => {
    simulator = await startTestSimulator({ ...POPULATION });
  });
  afterAll(async () => {
    await simulator.close();
  });

  const send = (interaction: Interaction, query: PatientQuery) => rawPost(simulator, rawRequest(interaction, query));

  it('answers SMSP-0000 for each interaction when the person is there, valid against the COMT and DE schemas', async () => {
    const { live } = people;
    const byNumber = { nhsNumber: live.nhsNumber, dateOfBirth: live.dateOfBirth, familyName: live.familyName };
    const queries: Record<Interaction, PatientQuery> = {
      verifyNHSNumber: byNumber,
      getNHSNumber: searchQuery(live),
      getPatientDetailsByNHSNumber: byNumber,
      getPatientDetailsBySearch: searchQuery(live),
      getPatientDetails: byNumber,
    };
    for (const interaction of INTERACTIONS) {
      const response = await send(interaction, queries[interaction]);
      expect(response.status, interaction).toBe(200);
      expect(responseCodeOf(response.body), interaction).toBe('SMSP-0000');
      expect(returnedNhsNumber(response.body), interaction).toBe(live.nhsNumber);
      const payload = await validateXml(extractElement(response.body, RESPONSE[interaction].root), RESPONSE[interaction].schema);
      expect(payload.errors, interaction).toEqual([]);
      const envelope = await validateXml(extractElement(response.body, 'DistributionEnvelope'), 'Schemas/distributionEnvelope-v2-0.xsd');
      expect(envelope.errors, interaction).toEqual([]);
    }
    const details = await send('getPatientDetailsBySearch', searchQuery(live));
    expect(details.body).toContain(`<birthTime value="${live.dateOfBirth}"/>`);
    expect(details.body).toContain(`extension="${live.gpPractice!.odsCode}"`);
    const verify = await send('verifyNHSNumber', queries.verifyNHSNumber);
    expect(verify.body).toContain('<value value="true"/>');
  });

  it('echoes the local identifier for getNHSNumber', async () => {
    const response = await send('getNHSNumber', { ...searchQuery(people.live), localId: 'ROW-0042' });
    expect(response.body).toContain('<id root="2.16.840.1.113883.2.1.3.2.4.18.24" extension="ROW-0042"/>');
  });

  it('answers DEMOG-0001 when nobody matches', async () => {
    const response = await send('getNHSNumber', { ...searchQuery(people.live), familyName: 'NOBODYBYTHISNAME' });
    expect(responseCodeOf(response.body)).toBe('DEMOG-0001');
    expect(response.body).not.toContain('<subject');
  });

  it('answers DEMOG-0007 for a search that matches near-twins', async () => {
    const response = await send('getPatientDetailsBySearch', { ...searchQuery(people.twinLeader), givenName: undefined });
    expect(responseCodeOf(response.body)).toBe('DEMOG-0007');
  });

  it('answers DEMOG-0017 with the replacement number for a superseded number', async () => {
    const { superseded } = people;
    const response = await send('getPatientDetailsByNHSNumber', { nhsNumber: superseded.nhsNumber, dateOfBirth: superseded.dateOfBirth });
    expect(responseCodeOf(response.body)).toBe('DEMOG-0017');
    expect(returnedNhsNumber(response.body)).toBe(superseded.supersededBy);
  });

  it('answers DEMOG-0022 for an invalidated number', async () => {
    const { invalidated } = people;
    const response = await send('verifyNHSNumber', { nhsNumber: invalidated.nhsNumber, dateOfBirth: invalidated.dateOfBirth });
    expect(responseCodeOf(response.body)).toBe('DEMOG-0022');
  });

  it('answers DEMOG-0040 when the date of birth does not fit the number', async () => {
    const { live } = people;
    const wrongYear = String(Number(live.dateOfBirth.slice(0, 4)) - 1) + live.dateOfBirth.slice(4);
    const response = await send('verifyNHSNumber', { nhsNumber: live.nhsNumber, dateOfBirth: wrongYear });
    expect(responseCodeOf(response.body)).toBe('DEMOG-0040');
  });

  it('answers DEMOG-0042 for a number that is not a new-style NHS number', async () => {
    const { live } = people;
    const badCheckDigit = live.nhsNumber.slice(0, 9) + String((Number(live.nhsNumber[9]) + 1) % 10);
    const response = await send('getPatientDetailsByNHSNumber', { nhsNumber: badCheckDigit, dateOfBirth: live.dateOfBirth });
    expect(responseCodeOf(response.body)).toBe('DEMOG-0042');
  });

  it('answers SMSP-0001 for a payload that breaks its schema', async () => {
    const response = await rawPost(simulator, nhsSampleRequest().replace(/<Person\.Gender>[\s\S]*?<\/Person\.Gender>/, ''));
    expect(response.status).toBe(200);
    expect(responseCodeOf(response.body)).toBe('SMSP-0001');
  });

  it('serves POST on / as well as /smsp/pds, and refuses other paths and methods', async () => {
    expect((await rawPost(simulator, rawRequest('getNHSNumber', searchQuery(people.live)), { path: '/' })).status).toBe(200);
    expect((await rawGet(simulator, '/smsp/pds')).status).toBe(405);
    expect((await rawGet(simulator, '/nothing')).status).toBe(404);
  });
});

describe("the simulator driven by the project's own SMSP client", () => {
  let simulator: TestSimulator;
  let client: SmspClient;
  const people = scenarioPeople();

  beforeAll(async () => {
    simulator = await startTestSimulator({ ...POPULATION });
    const settings: SmspSettings = {
      url: simulator.url,
      tls: {},
      auditIdentity: { type: 'asid', uri: '999000000001' },
      username: 'simulator-test',
      fromAddress: 'https://pds-trace.test/',
      timeoutMs: 5000,
      maxInFlight: 4,
      maxRatePerSecond: 100,
      rateSlackMs: 50,
      retry: { attempts: 3, baseDelayMs: 10 },
    };
    client = await createSmspClient(settings, { tls: simulator.clientTls });
  });
  afterAll(async () => {
    client.close();
    await simulator.close();
  });

  it.each(INTERACTIONS.map((i) => [i]))('traces with %s, and its requests break no protocol rule', async (interaction) => {
    const { live } = people;
    const byNumber = { nhsNumber: live.nhsNumber, dateOfBirth: live.dateOfBirth };
    const query = interaction === 'getNHSNumber' || interaction === 'getPatientDetailsBySearch' ? searchQuery(live) : byNumber;
    const outcome = await client.call(interaction, query);
    expect(outcome).toMatchObject({ responseCode: 'SMSP-0000', nhsNumber: live.nhsNumber });
    expect(outcome.status).toBe(query === byNumber ? 'verified' : 'matched');
    expect(simulator.metrics().violations).toEqual({});
  });

  it('reads a superseded number as the replacement', async () => {
    const { superseded } = people;
    const outcome = await client.call('getPatientDetailsByNHSNumber', { nhsNumber: superseded.nhsNumber, dateOfBirth: superseded.dateOfBirth });
    expect(outcome).toMatchObject({ status: 'superseded', responseCode: 'DEMOG-0017', nhsNumber: superseded.supersededBy });
  });

  it('retries a retryable ITK 2100 fault with a fresh MessageID per attempt, then gives up as an error', async () => {
    simulator.resetMetrics();
    const outcome = await client.call('getNHSNumber', { ...searchQuery(people.live), familyName: 'FAULT-2100' });
    expect(outcome).toMatchObject({ status: 'error', responseCode: 'ITK-2100', retryable: true });
    expect(outcome.exchanges).toHaveLength(3);
    expect(new Set(outcome.exchanges.map((e) => e.messageId)).size).toBe(3);
    expect(simulator.metrics().faults).toEqual({ fault2100: 3 });
    expect(simulator.metrics().violations).toEqual({});
  });

  it('reads SMSP-9999 and SMSP-0004 triggers as provider errors, not as no match', async () => {
    for (const [familyName, code] of [['FAULT-9999', 'SMSP-9999'], ['FAULT-0004', 'SMSP-0004']] as const) {
      const outcome = await client.call('getNHSNumber', { ...searchQuery(people.live), familyName });
      expect(outcome).toMatchObject({ status: 'error', responseCode: code });
    }
  });
});

describe('mutual TLS and lifecycle', () => {
  it('refuses a client without a certificate and one whose certificate another CA signed', async () => {
    const simulator = await startTestSimulator({ directory: fakeDirectory(() => ({ responseCode: 'DEMOG-0001' })) });
    try {
      const noCert = new https.Agent({ ca: simulator.clientTls.ca });
      await expect(rawPost(simulator, nhsSampleRequest(), { agent: noCert })).rejects.toThrow();
      const stranger = await createCertificateAuthority('stranger CA');
      const strangerClient = await issueCertificate(stranger, { commonName: 'stranger', usage: 'client' });
      const wrongCa = new https.Agent({ ca: simulator.clientTls.ca, ...strangerClient });
      await expect(rawPost(simulator, nhsSampleRequest(), { agent: wrongCa })).rejects.toThrow();
      expect(simulator.metrics().requestsTotal).toBe(0);
      expect((await rawPost(simulator, nhsSampleRequest())).status).toBe(200);
    } finally {
      await simulator.close();
    }
  });

  it('writes throwaway certificates into a temporary folder (keys 0600) and removes it on close', async () => {
    const simulator = await startSimulator({ directory: fakeDirectory(() => ({ responseCode: 'DEMOG-0001' })) });
    const paths = simulator.clientTlsPaths!;
    expect(path.dirname(paths.cert)).toBe(simulator.certDir);
    expect(await readFile(paths.cert, 'utf8')).toBe(simulator.clientTls.cert);
    expect(await readFile(paths.ca, 'utf8')).toBe(simulator.clientTls.ca);
    expect((await stat(paths.key)).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(simulator.certDir!, 'server-key.pem'))).mode & 0o777).toBe(0o600);
    await simulator.close();
    await expect(access(simulator.certDir!)).rejects.toThrow();
  });

  it('reuses the certificates in a named --cert-dir across restarts and leaves the folder in place', async () => {
    const certDir = path.join(await mkdtemp(path.join(tmpdir(), 'pds-trace-sim-test-')), 'certs');
    try {
      const first = await startSimulator({ certDir, directory: fakeDirectory(() => ({ responseCode: 'DEMOG-0001' })) });
      const ca = first.clientTls.ca;
      await first.close();
      const second = await startSimulator({ certDir, directory: fakeDirectory(() => ({ responseCode: 'DEMOG-0001' })) });
      expect(second.clientTls.ca).toBe(ca);
      await second.close();
      await access(path.join(certDir, 'client.pem'));
    } finally {
      await rm(path.dirname(certDir), { recursive: true, force: true });
    }
  });

  it('closes promptly with a kept-alive connection open', async () => {
    const simulator = await startTestSimulator({ directory: fakeDirectory(() => ({ responseCode: 'DEMOG-0001' })) });
    expect((await rawPost(simulator, nhsSampleRequest())).status).toBe(200);
    const started = Date.now();
    await simulator.close();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('answers a body over the size cap with 413', async () => {
    const simulator = await startTestSimulator({ directory: fakeDirectory(() => ({ responseCode: 'DEMOG-0001' })), maxBodyBytes: 1024 });
    try {
      const response = await rawPost(simulator, nhsSampleRequest());
      expect(response.status).toBe(413);
      expect(simulator.metrics().requests).toEqual({ unknown: { 'HTTP-413': 1 } });
    } finally {
      await simulator.close();
    }
  });

  it('logs broken rules by id and never the patient data in the request', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const simulator = await startTestSimulator({ directory: fakeDirectory(() => ({ responseCode: 'DEMOG-0001' })), logger: createLogger({ stream, level: 'debug' }) });
    try {
      await rawPost(simulator, nhsSampleRequest().replace('<value code="2"', '<value code="8"'));
      await rawPost(simulator, nhsSampleRequest());
    } finally {
      await simulator.close();
    }
    const log = lines.join('');
    expect(log).toContain('SCHEMA-VALID');
    expect(log).toContain('SMSP-0001');
    expect(log).toContain('DEMOG-0001');
    for (const value of ['LAWALI', 'LILITH', '19770705', 'SK8 5HS']) expect(log).not.toContain(value);
  });
});
