import { startRater } from '@switchboard/api';
import type { Database } from '@switchboard/db';
import type { Logger } from 'pino';
import type { Component } from '../component.ts';

/**
 * The rater (docs/billing.md): prices every CDR with the customer's, the reseller's and the carrier's
 * billing profile within seconds of the call's end. Safe to run on several nodes at once.
 */
export function billingComponent(logger: Logger, database: () => Database): Component {
  return {
    name: 'billing',
    async start() {
      const rater = await startRater(database(), logger.child({ component: 'billing' }));
      return {
        health: () => ({ status: 'up', detail: `${rater.rated} CDRs rated since start` }),
        stop: () => rater.stop(),
      };
    },
  };
}
