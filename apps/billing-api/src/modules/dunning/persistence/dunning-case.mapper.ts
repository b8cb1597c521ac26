import type { DunningCaseRef } from '../contracts/dunning.events.js';
import type { DunningCaseOrmEntity } from './dunning-case.orm-entity.js';

/** The part of every dunning event that names the case. */
export function caseRef(row: DunningCaseOrmEntity): DunningCaseRef {
  return {
    caseId: row.id,
    accountId: row.accountId,
    subscriptionId: row.subscriptionId,
    stripeInvoiceId: row.stripeInvoiceId,
    amountDue: row.amountDue,
    currency: row.currency,
    hostedInvoiceUrl: row.hostedInvoiceUrl,
  };
}
