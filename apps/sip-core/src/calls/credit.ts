/**
 * Call-time credit control (docs/billing.md, "Prepaid" and "Fraud limits"). sip-core asks it once per
 * outbound call, before any B leg: a prepaid customer's call gets the seconds its balance pays for
 * (credit reserved for them), a customer or subscriber blocked by a spend limit is refused. The
 * implementation (the billing code's rating index and the reservation) is given to sip-core by whoever
 * starts it; without one, calls are not credit-checked.
 */

export interface CreditRequest {
  callId: string;
  customerId: string;
  subscriberId: string;
  /** E.164 digits without `+`. */
  number: string;
  at: Date;
}

export type CreditDecision =
  /** Not limited by credit (a postpaid customer). */
  | { kind: 'unlimited' }
  | { kind: 'refused'; status: number; reason: string; warning?: string | undefined }
  | {
      kind: 'granted';
      /** Seconds of the answered call the reserved credit pays for. */
      seconds: number;
      /**
       * Reserves more credit when the granted seconds run out; resolves with the seconds added
       * (0: the balance is exhausted, the call is cut).
       */
      extend: () => Promise<number>;
    };

export interface CallCredit {
  authorise(request: CreditRequest): Promise<CreditDecision>;
}
