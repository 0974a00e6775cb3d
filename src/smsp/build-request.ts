/**
 * Builds one SMSP request: local checks first, then the SOAP envelope around the interaction's HL7
 * query. Pure: ids, clock and addresses all come in through the EnvelopeContext.
 */

import type { PatientQuery } from '../domain/demographics.js';
import { SmspRequestInputError } from './errors.js';
import { INTERACTION_SPECS, type Interaction } from './interactions.js';
import { checkQuery } from './local-checks.js';
import { renderRequest } from './request-template.js';
import type { EnvelopeContext, SmspRequest } from './types.js';

/**
 * The request for `interaction` asking about `query`. Throws SmspRequestInputError (naming the
 * field and rule, never the value) when the query fails a local check, so nothing unsafe is built.
 */
export function buildRequest(interaction: Interaction, query: PatientQuery, ctx: EnvelopeContext): SmspRequest {
  const problem = checkQuery(interaction, query);
  if (problem) throw new SmspRequestInputError(problem.field, problem.reason, `${problem.field}: ${problem.message}`);

  const spec = INTERACTION_SPECS[interaction];
  const body = renderRequest(interaction, query, ctx);
  return { interaction, soapAction: spec.service, messageId: ctx.messageId, body };
}
