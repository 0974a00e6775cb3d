import { writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../../src/audit/store.js';
import type { PatientQuery } from '../../src/domain/demographics.js';
import type { Interaction } from '../../src/domain/interaction.js';
import type { ReasonCode } from '../../src/domain/reasons.js';
import { createBatch } from '../../src/pipeline/batch.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import { runBatchEmbedded } from '../../src/pipeline/run-embedded.js';
import { writeFault } from '../../src/simulator/response-writer.js';
import { SmspClient } from '../../src/smsp/client.js';
import { createHttpsTransport } from '../../src/smsp/transport.js';
import type { SmspOutcome } from '../../src/smsp/types.js';
import { freshResponseIds, honestAnswer, patientFor, readSent, tamper, type SentRequest } from '../support/hostile-answers.js';
import { createMtlsFixtures, readSample, soapEnvelope, startMtlsServer, type MtlsFixtures, type MtlsServer } from '../support/mtls-server.js';
import { batchOptions, openTestAudit, readCsv, tempDir } from '../support/pipeline.js';

/**
 * A provider that lies, over real mutual TLS to the real client and transport (ARCHITECTURE
 * property 8): every way an answer can fail to belong to its request ends as `error` with its own
 * reason, and no outcome ever carries an NHS number the provider did not validly give for that
 * request. The same server's honest answers still trace.
 */

// Synthetic numbers from the never-issued 999 range, valid check digits; 9999345201 fails (SPEC §9).
const SUPPLIED = '9990000018';
const OTHER = '9990000026';
const REPLACEMENT = '9990000034';
const BAD_CHECK_DIGIT = '9999345201';

const BY_NUMBER: PatientQuery = { nhsNumber: SUPPLIED, dateOfBirth: '19700101', familyName: 'SYNTHETIC' };
const SEARCH: PatientQuery = { familyName: 'SYNTHETIC', givenName: 'TEST', dateOfBirth: '19700101', sex: '2', postcode: 'LS1 6AE', localId: 'LOCAL-0001' };
const PARTIAL_SEARCH: PatientQuery = { ...SEARCH, dateOfBirth: '197001' };

/** What the test provider sends back for one request. */
type Answer = (sent: SentRequest) => { status?: number; body: string };

let pki: MtlsFixtures;
let server: MtlsServer;
let answer: Answer = (sent) => ({ body: honestAnswer(sent) });
const clients: SmspClient[] = [];

beforeAll(async () => {
  pki = await createMtlsFixtures();
  server = await startMtlsServer({
    server: pki.server,
    clientCa: pki.ca.cert,
    handler: (request, res) => {
      const { status = 200, body } = answer(readSent(request));
      res.writeHead(status, { 'Content-Type': 'text/xml; charset=UTF-8' }).end(body);
    },
  });
});

afterAll(async () => {
  await server.close();
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  server.requests.length = 0;
});

function client(): SmspClient {
  const created = new SmspClient({
    transport: createHttpsTransport({ url: server.url, tls: { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert }, timeoutMs: 5_000 }),
    url: server.url,
    fromAddress: 'urn:pds-trace:test',
    username: 'test-system',
    auditIdentity: { type: 'asid', uri: '999000000001' },
    retry: { attempts: 3, baseDelayMs: 1 },
  });
  clients.push(created);
  return created;
}

/** An outcome of a refused answer: error, its reason, not retried, and no person attached. */
function expectRefused(outcome: SmspOutcome, reason: ReasonCode): void {
  expect(outcome).toMatchObject({ status: 'error', reason, retryable: false });
  expect(outcome).not.toHaveProperty('nhsNumber');
  expect(outcome).not.toHaveProperty('patient');
  expect(outcome.exchanges).toHaveLength(1);
  // The detail names the check, never the values (property 6).
  expect(outcome.detail ?? '').not.toMatch(/\d{10}|SYNTHETIC|1970/);
}

const details = (sent: SentRequest, nhsNumber: string) => ({ patient: patientFor(sent.query, nhsNumber) });

describe('honest answers from the test provider still trace', () => {
  it.each<[Interaction, PatientQuery, string]>([
    ['verifyNHSNumber', BY_NUMBER, 'verified'],
    ['getPatientDetailsByNHSNumber', BY_NUMBER, 'verified'],
    ['getPatientDetails', BY_NUMBER, 'verified'],
    ['getNHSNumber', SEARCH, 'matched'],
    ['getPatientDetailsBySearch', SEARCH, 'matched'],
    ['getPatientDetailsBySearch', PARTIAL_SEARCH, 'matched'],
    ['getPatientDetails', SEARCH, 'matched'],
  ])('%s (%o) gives %s with the number the provider gave, and both message ids recorded', async (interaction, query, status) => {
    const nhsNumber = query.nhsNumber ?? OTHER;
    answer = (sent) => ({ body: honestAnswer(sent, { nhsNumber, ...(sent.interaction.startsWith('getPatientDetails') ? details(sent, nhsNumber) : {}) }) });
    const outcome = await client().call(interaction, query);
    expect(outcome).toMatchObject({ status, reason: 'ok', nhsNumber });
    const [exchange] = outcome.exchanges;
    expect(exchange?.messageId).toBe(outcome.messageId);
    expect(exchange?.responseMessageId).toMatch(/^[0-9A-F-]{36}$/);
    expect(exchange?.responseMessageId).not.toBe(exchange?.messageId);
  });

  it('accepts a RelatesTo naming the request, in lower case with a uuid: prefix, and records it', async () => {
    answer = (sent) => ({ body: tamper.relatesTo(honestAnswer(sent), `uuid:${sent.messageId.toLowerCase()}`) });
    const outcome = await client().call('verifyNHSNumber', BY_NUMBER);
    expect(outcome).toMatchObject({ status: 'verified', nhsNumber: SUPPLIED });
    expect(outcome.exchanges[0]?.relatesTo).toBe(`uuid:${outcome.messageId!.toLowerCase()}`);
  });

  it.each(['messageId', 'payloadId'] as const)('accepts an acknowledgement naming the request %s', async (which) => {
    answer = (sent) => ({ body: tamper.acknowledgement(honestAnswer(sent), sent[which]) });
    expect(await client().call('verifyNHSNumber', BY_NUMBER)).toMatchObject({ status: 'verified', nhsNumber: SUPPLIED });
  });

  it('accepts the same NHS number given twice, and unknown sex (0, 9) beside a searched sex', async () => {
    answer = (sent) => ({ body: tamper.extraNhsNumber(honestAnswer(sent, { nhsNumber: OTHER, patient: { ...patientFor(sent.query, OTHER), sex: '9' } }), OTHER) });
    expect(await client().call('getPatientDetailsBySearch', SEARCH)).toMatchObject({ status: 'matched', nhsNumber: OTHER });
  });

  it('reports DEMOG-0017 with a valid, different replacement as superseded', async () => {
    answer = (sent) => ({ body: honestAnswer(sent, { responseCode: 'DEMOG-0017', nhsNumber: REPLACEMENT }) });
    expect(await client().call('verifyNHSNumber', BY_NUMBER)).toMatchObject({ status: 'superseded', nhsNumber: REPLACEMENT, supersededNhsNumber: SUPPLIED });
  });

  it('keeps a SOAP fault on HTTP 500 the fault error it is', async () => {
    answer = () => ({ status: 500, body: soapEnvelope(readSample('sample-tkw-itk-soapfault-Server-2200.xml')) });
    expect(await client().call('verifyNHSNumber', BY_NUMBER)).toMatchObject({ status: 'error', reason: 'itk_processing_error', responseCode: 'ITK-2200' });
  });

  it('records a fault\'s own message id beside the request\'s', async () => {
    const faultId = freshResponseIds().messageId;
    answer = () => ({ status: 500, body: writeFault({ faultCode: 'Server', itkCode: '2200', errorText: 'synthetic fault', errorId: freshResponseIds().messageId }, faultId) });
    const outcome = await client().call('verifyNHSNumber', BY_NUMBER);
    expect(outcome).toMatchObject({ status: 'error', reason: 'itk_processing_error' });
    expect(outcome.exchanges[0]).toMatchObject({ messageId: outcome.messageId, responseMessageId: faultId });
  });
});

describe('answers that do not belong to their request are errors, never matches', () => {
  const cases: Array<[string, Interaction, PatientQuery, Answer, ReasonCode]> = [
    ['a verification answered with a number failing Modulus 11', 'verifyNHSNumber', BY_NUMBER,
      (sent) => ({ body: honestAnswer(sent, { nhsNumber: BAD_CHECK_DIGIT }) }), 'invalid_returned_nhs_number'],
    ['a search answered with a number that is not a number', 'getNHSNumber', SEARCH,
      (sent) => ({ body: honestAnswer(sent, { nhsNumber: 'NOTANUMBER' }) }), 'invalid_returned_nhs_number'],
    ['a search answered with a number failing Modulus 11', 'getPatientDetailsBySearch', SEARCH,
      (sent) => ({ body: honestAnswer(sent, { nhsNumber: BAD_CHECK_DIGIT, ...details(sent, BAD_CHECK_DIGIT) }) }), 'invalid_returned_nhs_number'],
    ['a verification answered with another valid number', 'verifyNHSNumber', BY_NUMBER,
      (sent) => ({ body: honestAnswer(sent, { nhsNumber: OTHER }) }), 'returned_nhs_number_differs'],
    ['a retrieval by number answered with another person', 'getPatientDetailsByNHSNumber', BY_NUMBER,
      (sent) => ({ body: honestAnswer(sent, { nhsNumber: OTHER, ...details(sent, OTHER) }) }), 'returned_nhs_number_differs'],
    ['getPatientDetails by number answered with another person', 'getPatientDetails', BY_NUMBER,
      (sent) => ({ body: honestAnswer(sent, { nhsNumber: OTHER, ...details(sent, OTHER) }) }), 'returned_nhs_number_differs'],
    ['a verification answered with two different numbers, ours first', 'verifyNHSNumber', BY_NUMBER,
      (sent) => ({ body: tamper.extraNhsNumber(honestAnswer(sent), OTHER) }), 'multiple_nhs_numbers'],
    ['a search answered with two different numbers', 'getNHSNumber', SEARCH,
      (sent) => ({ body: tamper.extraNhsNumber(honestAnswer(sent, { nhsNumber: OTHER }), REPLACEMENT) }), 'multiple_nhs_numbers'],
    ['DEMOG-0017 whose replacement is the number supplied', 'verifyNHSNumber', BY_NUMBER,
      (sent) => ({ body: honestAnswer(sent, { responseCode: 'DEMOG-0017', nhsNumber: SUPPLIED }) }), 'replacement_nhs_number_unchanged'],
    ['DEMOG-0017 whose replacement fails Modulus 11', 'getPatientDetailsByNHSNumber', BY_NUMBER,
      (sent) => ({ body: honestAnswer(sent, { responseCode: 'DEMOG-0017', nhsNumber: BAD_CHECK_DIGIT, ...details(sent, BAD_CHECK_DIGIT) }) }), 'invalid_returned_nhs_number'],
    ['a search answered with another birth date', 'getPatientDetailsBySearch', SEARCH,
      (sent) => ({ body: honestAnswer(sent, { nhsNumber: OTHER, patient: { ...patientFor(sent.query, OTHER), dateOfBirth: '19700102' } }) }), 'response_contradicts_search'],
    ['a partial-date search answered with a birth date in another month', 'getPatientDetailsBySearch', PARTIAL_SEARCH,
      (sent) => ({ body: honestAnswer(sent, { nhsNumber: OTHER, patient: { ...patientFor(sent.query, OTHER), dateOfBirth: '19700201' } }) }), 'response_contradicts_search'],
    ['a search for a woman answered with a man', 'getPatientDetails', SEARCH,
      (sent) => ({ body: honestAnswer(sent, { nhsNumber: OTHER, patient: { ...patientFor(sent.query, OTHER), sex: '1' } }) }), 'response_contradicts_search'],
    ['a success payload on HTTP 500', 'verifyNHSNumber', BY_NUMBER,
      (sent) => ({ status: 500, body: honestAnswer(sent) }), 'payload_on_http_error'],
    ['a no-match payload on HTTP 500', 'getNHSNumber', SEARCH,
      (sent) => ({ status: 500, body: honestAnswer(sent, { responseCode: 'DEMOG-0001' }) }), 'payload_on_http_error'],
    ['a RelatesTo naming another request', 'verifyNHSNumber', BY_NUMBER,
      (sent) => ({ body: tamper.relatesTo(honestAnswer(sent), freshResponseIds().messageId) }), 'response_mismatch'],
    ['a no-match whose RelatesTo names another request', 'getNHSNumber', SEARCH,
      (sent) => ({ body: tamper.relatesTo(honestAnswer(sent, { responseCode: 'DEMOG-0001' }), freshResponseIds().messageId) }), 'response_mismatch'],
    ['an acknowledgement naming another message', 'getNHSNumber', SEARCH,
      (sent) => ({ body: tamper.acknowledgement(honestAnswer(sent, { nhsNumber: OTHER }), freshResponseIds().messageId) }), 'response_mismatch'],
    ['a search echoing another local identifier', 'getNHSNumber', SEARCH,
      (sent) => ({ body: honestAnswer(sent, { nhsNumber: OTHER, localIdentifier: { root: sent.localIdentifierRoot ?? '', extension: 'LOCAL-0002' } }) }), 'local_id_mismatch'],
  ];

  it.each(cases)('%s', async (_name, interaction, query, hostile, reason) => {
    answer = hostile;
    expectRefused(await client().call(interaction, query), reason);
    expect(server.requests).toHaveLength(1);
  });

  it('refuses an answer replayed with the message id of an earlier one, on the same client', async () => {
    const ids = freshResponseIds();
    answer = (sent) => ({ body: honestAnswer(sent, { nhsNumber: OTHER }, ids) });
    const smsp = client();
    expect(await smsp.call('getNHSNumber', SEARCH)).toMatchObject({ status: 'matched', nhsNumber: OTHER });
    expectRefused(await smsp.call('getNHSNumber', SEARCH), 'response_replayed');
    // Told apart only by its case: still the same id.
    answer = (sent) => ({ body: tamper.messageId(honestAnswer(sent, { nhsNumber: OTHER }), ids.messageId.toLowerCase()) });
    expectRefused(await smsp.call('getNHSNumber', SEARCH), 'response_replayed');
  });
});

describe('a batch against a provider that replays one patient\'s answer for every request', () => {
  let dir: string;
  let audit: AuditStore;

  beforeAll(async () => {
    dir = await tempDir('hostile-replay');
    audit = await openTestAudit(dir);
  });
  afterAll(async () => {
    await audit?.close();
  });

  it('gives no row that patient\'s number except possibly the first, and verifies none wrongly', async () => {
    // One captured answer: the first request's, about OTHER, replayed byte for byte ever after.
    let captured: string | undefined;
    answer = (sent) => {
      captured ??= honestAnswer(sent, { nhsNumber: OTHER, ...details(sent, OTHER) });
      return { body: captured };
    };
    const rows = [
      'local_id,nhs_number,family_name,given_name,date_of_birth,sex,postcode',
      'R1,,SYNTHETIC,TEST,1970-01-01,2,LS1 6AE',
      'R2,9990000042,SYNTHETIC,TEST,1970-01-01,2,',
      'R3,,OTHERNAME,ANNA,1970-01-01,2,',
      'R4,9990000050,SYNTHETIC,TEST,1970-01-01,2,',
      'R5,,SYNTHETIC,TEST,1981-06-15,1,',
      `R6,${SUPPLIED},SYNTHETIC,TEST,1970-01-01,2,`,
      'R7,,SYNTHETIC,TEST,1970-01-01,2,LS1 6AE',
      'R8,,JONES,MARY,1955-12-31,2,',
    ];
    const file = `${dir}/cohort.csv`;
    await writeFile(file, `${rows.join('\n')}\n`);
    const batch = await createBatch(`${dir}/data`, file, batchOptions(`${dir}/out`, { chunkSize: 4 }), smspProvider(server.url));
    const run = await runBatchEmbedded(`${dir}/data`, batch, { caller: client(), audit, maxInFlight: 1 });

    expect(run.meta.state).toBe('assembled');
    const results = readCsv(run.meta.outputs!.results);
    expect(results).toHaveLength(8);
    const withNumber = results.filter((row) => row.trace_nhs_number === OTHER);
    // Only the answer the provider gave first (to whichever row asked first) may carry the number.
    expect(withNumber.length).toBeLessThanOrEqual(1);
    expect(results.filter((row) => row.trace_status === 'verified')).toEqual([]);
    expect(results.filter((row) => row.trace_status === 'matched').length).toBeLessThanOrEqual(1);
    for (const row of results.filter((r) => r.trace_nhs_number !== OTHER)) {
      expect(row.trace_status).toBe('error');
      expect(['response_replayed', 'returned_nhs_number_differs', 'local_id_mismatch', 'response_contradicts_search']).toContain(row.trace_reason);
    }
    expect(server.requests).toHaveLength(8);
  });
});
