import type { Principal, Role } from './types.ts';

/**
 * Tenant isolation in one place. Each function returns the Prisma `where` condition that limits a model to
 * what the principal may see: everything for an operator, the reseller's own customers and what hangs off
 * them for a reseller, the customer's own records for a customer. Routes AND this condition into every
 * query, so a record outside it simply is not found (404), exactly like a record that does not exist.
 *
 * `null` means the role has no access to the model at all; routes declare their roles so that case is a
 * 403 before any query runs.
 */
export type Where = Record<string, unknown>;

/**
 * The roles that provide service to a customer. Fields that are the provider's policy (service status, limits,
 * routing) are theirs to set; a customer reads them but may not change them, whoever set them last.
 */
export const PROVIDER_ROLES: readonly Role[] = ['operator', 'reseller'];

/** A user of the wrong kind reaching a scope function is a programming error, not a client error. */
function need<T>(value: T | null, what: string): T {
  if (value === null) throw new Error(`principal has no ${what}`);
  return value;
}

export const scopes = {
  reseller(p: Principal): Where {
    if (p.role === 'operator') return {};
    return { id: need(p.resellerId, 'reseller') };
  },

  customer(p: Principal): Where {
    if (p.role === 'operator') return {};
    if (p.role === 'reseller') return { resellerId: need(p.resellerId, 'reseller') };
    return { id: need(p.customerId, 'customer') };
  },

  /**
   * Domains belong to a reseller (or to the operator when resellerId is NULL). A customer sees the domains of
   * whoever contracts it, since those are the domains it may create subscribers in, plus any domain where it
   * already has subscribers.
   */
  domain(p: Principal): Where {
    if (p.role === 'operator') return {};
    if (p.role === 'reseller') return { resellerId: need(p.resellerId, 'reseller') };
    return {
      OR: [
        { resellerId: p.resellerId },
        { subscribers: { some: { customerId: need(p.customerId, 'customer') } } },
      ],
    };
  },

  /** Domains a principal may place new subscribers in (narrower than what it may read). */
  domainForNewSubscribers(p: Principal): Where {
    if (p.role === 'operator') return {};
    return { resellerId: p.resellerId };
  },

  subscriber(p: Principal): Where {
    if (p.role === 'operator') return {};
    if (p.role === 'reseller') return { customer: { resellerId: need(p.resellerId, 'reseller') } };
    return { customerId: need(p.customerId, 'customer') };
  },

  /** Numbers, registrations and call forwards hang off a subscriber. */
  viaSubscriber(p: Principal): Where {
    if (p.role === 'operator') return {};
    return { subscriber: scopes.subscriber(p) };
  },

  /** A number rings a subscriber, a hunt group or an auto-attendant; each carries the customer it belongs to. */
  number(p: Principal): Where {
    if (p.role === 'operator') return {};
    return {
      OR: [
        { subscriber: scopes.subscriber(p) },
        { huntGroup: scopes.subscriber(p) },
        { autoAttendant: scopes.subscriber(p) },
      ],
    };
  },

  /** Rule sets with resellerId NULL are the operator's, usable (readable) by every reseller. */
  rewriteRuleSetRead(p: Principal): Where {
    if (p.role === 'operator') return {};
    return { OR: [{ resellerId: need(p.resellerId, 'reseller') }, { resellerId: null }] };
  },

  rewriteRuleSetWrite(p: Principal): Where {
    if (p.role === 'operator') return {};
    return { resellerId: need(p.resellerId, 'reseller') };
  },

  /** A call belongs to both ends' customers. */
  cdr(p: Principal): Where {
    if (p.role === 'operator') return {};
    if (p.role === 'reseller') {
      const resellerId = need(p.resellerId, 'reseller');
      return { OR: [{ callerCustomer: { resellerId } }, { calleeCustomer: { resellerId } }] };
    }
    const customerId = need(p.customerId, 'customer');
    return { OR: [{ callerCustomerId: customerId }, { calleeCustomerId: customerId }] };
  },

  /** An instant message belongs to both its sender's and its recipient's customer. */
  message(p: Principal): Where {
    if (p.role === 'operator') return {};
    if (p.role === 'reseller') {
      const resellerId = need(p.resellerId, 'reseller');
      return { OR: [{ senderCustomer: { resellerId } }, { recipientCustomer: { resellerId } }] };
    }
    const customerId = need(p.customerId, 'customer');
    return { OR: [{ senderCustomerId: customerId }, { recipientCustomerId: customerId }] };
  },

  /**
   * CDRs where the principal is on the caller's side: its own customer's calls, or a reseller's
   * customers' calls. Seeing a call only as its callee's side is not enough to see a withheld caller.
   */
  cdrCallerSide(p: Principal): Where {
    if (p.role === 'operator') return {};
    if (p.role === 'reseller') return { callerCustomer: { resellerId: need(p.resellerId, 'reseller') } };
    return { callerCustomerId: need(p.customerId, 'customer') };
  },

  /**
   * CDRs whose caller the principal may see, for conditions on the caller columns: a query that looks
   * at the caller (search by caller number, subscriber or customer) must not match a withheld caller
   * seen from the callee's side, or the match itself would reveal who called.
   */
  cdrCallerVisible(p: Principal): Where {
    if (p.role === 'operator') return {};
    return { OR: [{ callerWithheld: false }, scopes.cdrCallerSide(p)] };
  },

  /** Audit entries are visible to the tenant whose users made them. */
  auditEntry(p: Principal): Where {
    if (p.role === 'operator') return {};
    if (p.role === 'reseller') {
      const resellerId = need(p.resellerId, 'reseller');
      return { actorUser: { OR: [{ resellerId }, { customer: { resellerId } }] } };
    }
    return { actorUser: { customerId: need(p.customerId, 'customer') } };
  },

  user(p: Principal): Where {
    if (p.role === 'operator') return {};
    if (p.role === 'reseller') {
      const resellerId = need(p.resellerId, 'reseller');
      return { OR: [{ resellerId }, { customer: { resellerId } }] };
    }
    return { customerId: need(p.customerId, 'customer') };
  },
} as const;

/** ANDs a tenant scope with a condition without letting the condition widen it. */
export function within(scope: Where, condition: Where): Where {
  if (Object.keys(scope).length === 0) return condition;
  if (Object.keys(condition).length === 0) return scope;
  return { AND: [scope, condition] };
}
