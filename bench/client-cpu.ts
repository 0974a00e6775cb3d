import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildRequest } from '../src/smsp/build-request.js';
import { newEnvelopeIds } from '../src/smsp/ids.js';
import { parseResponse } from '../src/smsp/parse-response.js';
import { outcomeForResponse } from '../src/smsp/to-outcome.js';
import type { PatientQuery } from '../src/domain/demographics.js';
import { sharedDir } from '../test/support/shared-dir.js';

/**
 * CPU the SMSP client spends per request, network excluded: building the SOAP/ITK/HL7 request and
 * parsing a full getPatientDetails response into a typed outcome. Measured with process.cpuUsage
 * (user + system) so other load on the machine inflates it less than wall time would.
 */
export function benchClientCpu(iterations = 5000): { buildUs: number; parseUs: number; totalUs: number } {
  const response = readFileSync(
    path.join(sharedDir(), 'smsp/samples/sample-tkw-ITK_SMS_PDS-getPatientDetailsByNHSNumberResponse_SMSP-0000.xml'),
    'utf8',
  );
  const query: PatientQuery = { nhsNumber: '9449310580', dateOfBirth: '19800101', familyName: "O'Brien-Smith", givenName: 'Zoë' };
  const ctx = {
    ...newEnvelopeIds(),
    created: new Date(),
    expiresInSeconds: 600,
    to: 'https://127.0.0.1:8443/smsp/pds',
    from: 'urn:pds-trace:bench',
    username: 'bench',
    auditIdentity: { type: '1.2.826.0.1285.0.2.0.107', uri: '999000000001' },
  };
  const measure = (fn: () => void) => {
    for (let i = 0; i < 200; i++) fn(); // warm-up: let the JIT settle
    const start = process.cpuUsage();
    for (let i = 0; i < iterations; i++) fn();
    const used = process.cpuUsage(start);
    return (used.user + used.system) / iterations;
  };
  const buildUs = measure(() => buildRequest('getPatientDetailsByNHSNumber', query, ctx));
  const answerContext = { request: { messageId: ctx.messageId, payloadId: ctx.payloadId }, httpStatus: 200, replayed: false };
  const parseUs = measure(() => outcomeForResponse('getPatientDetailsByNHSNumber', query, parseResponse(response), answerContext));
  return { buildUs, parseUs, totalUs: buildUs + parseUs };
}
