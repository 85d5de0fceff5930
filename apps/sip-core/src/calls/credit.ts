/**
 * Call-time credit control (docs/billing.md, "Prepaid" and "Fraud limits"). sip-core asks it once per
 * outbound call, before any B leg: a prepaid customer's call gets the seconds its balance pays for
 * (credit reserved for them), a customer or subscriber blocked by a spend limit is refused. The
 * implementation (the billing code's rating index and the reservation) is given to sip-core by whoever
 * starts it; without one, calls are not credit-checked.
 */

import type { CreditControl } from '@switchboard/api';

export type { CreditDecision, CreditRequest, ScreenDecision, ScreenRequest } from '@switchboard/api';

/**
 * What a call asks of the credit control: one authorisation at call start, and the fraud screening
 * before it (high-risk destinations, bursts; unset: not screened).
 */
export type CallCredit = Pick<CreditControl, 'authorise'> & Partial<Pick<CreditControl, 'screen'>>;
