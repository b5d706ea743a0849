// The last step of every finding, wherever it was made (the capture's pipeline, a fleet worker):
// where its destination is, who is behind the host, then the rules. One function for both, so a
// finding made by a worker reads the same as one made at home.

import { EntityLookup, isFirstParty } from './entity/entity-lookup.js';
import { DestinationLookup } from './destination-lookup.js';
import { applyRules, type Rule } from './rules.js';
import type { Finding } from '../model/finding.js';
import { withFields } from '../util/with-fields.js';

/**
 * A finding made complete: the destination's country and network, the company behind its host and
 * whether that is the app's own vendor (offline databases), then the rules.
 */
export function locateAndRule(finding: Finding, rules: readonly Rule[]): Finding | undefined {
  const where = DestinationLookup.locate(finding.destination.ip);
  const company = EntityLookup.of(finding.host);
  const entity = company ? { entity: company.entity, purpose: company.purpose, ...(isFirstParty(finding.app?.id, company) ? { firstParty: true } : {}) } : {};
  return applyRules(withFields(finding, { destination: withFields(withFields(finding.destination, where), entity) }), rules) ?? undefined;
}
