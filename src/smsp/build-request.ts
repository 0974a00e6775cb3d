/**
 * Builds one SMSP request: local checks first, then the SOAP envelope around the interaction's HL7
 * query. Pure: ids, clock and addresses all come in through the EnvelopeContext.
 */

import type { PatientQuery } from '../domain/demographics.js';
import { SmspRequestInputError } from './errors.js';
import { appendQueryPayload } from './hl7-query.js';
import { INTERACTION_SPECS, OID, type Interaction } from './interactions.js';
import { checkQuery } from './local-checks.js';
import { buildSoapEnvelope } from './soap-envelope.js';
import type { EnvelopeContext, SmspRequest } from './types.js';

/**
 * The request for `interaction` asking about `query`. Throws SmspRequestInputError (naming the
 * field and rule, never the value) when the query fails a local check, so nothing unsafe is built.
 */
export function buildRequest(interaction: Interaction, query: PatientQuery, ctx: EnvelopeContext): SmspRequest {
  const problem = checkQuery(interaction, query);
  if (problem) throw new SmspRequestInputError(problem.field, problem.reason, `${problem.field}: ${problem.message}`);

  const spec = INTERACTION_SPECS[interaction];
  const body = buildSoapEnvelope(ctx, {
    service: spec.service,
    profileId: spec.requestProfileId,
    writePayload: (payload) =>
      appendQueryPayload(payload, interaction, query, {
        payloadId: ctx.payloadId,
        localIdentifierRoot: ctx.localIdentifierRoot ?? OID.localIdentifier,
      }),
  });
  return { interaction, soapAction: spec.service, messageId: ctx.messageId, body };
}
