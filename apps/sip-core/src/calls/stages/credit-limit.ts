import type { Middleware } from '../../sip/request.ts';
import { type InviteDeps, planOf, refuse } from './deps.ts';

/**
 * Postpaid credit limit (docs/billing.md): a call to the phone network of a customer whose rated
 * spending this month has reached its credit limit is refused with 402 Payment Required (RFC 3261
 * §21.4.3), before LCR runs. The spending is an in-memory running total (wholesale/spend.ts); calls
 * still unrated are not in it yet, so a customer can exceed the limit by its calls in progress.
 */
export function creditLimit(deps: Pick<InviteDeps, 'cdr' | 'wholesale' | 'log'>): Middleware {
  return async (req, res, next) => {
    const plan = planOf(req);
    const wholesale = deps.wholesale;
    if (!wholesale || plan.kind !== 'outbound' || !plan.caller) return next();
    const customerId = plan.caller.customerId;
    const over = wholesale.overCreditLimit(customerId);
    if (!over) return next();
    deps.log.info({ customer: customerId, ...over }, 'call refused: credit limit reached');
    plan.cdr.callerCustomerId = customerId;
    return refuse(deps, res, plan, 402, 'Payment Required', {
      headers: { Warning: '399 switchboard "Credit limit reached"' },
    });
  };
}
