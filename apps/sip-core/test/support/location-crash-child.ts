/**
 * A sip-core location service in its own process, for the crash test of the write-behind rule:
 * commits binding 'a' (cseq 1), then answers a refresh of 'a' (cseq 2) and a new binding 'b' that
 * wait in a ten-minute window, prints `answered` and waits to be killed.
 * Env: CRASH_DATABASE_URL, CRASH_SUBSCRIBER_ID.
 */
import { openDatabase } from '@switchboard/db';
import { pino } from 'pino';
import { LocationService } from '../../src/location/location-service.ts';
import { makeBinding } from './bindings.ts';

const log = pino({ level: 'silent' });
const AOR = 'sip:alice@example.test';
const subscriberId = process.env.CRASH_SUBSCRIBER_ID ?? '';
const db = await openDatabase({ databaseUrl: process.env.CRASH_DATABASE_URL, dataDir: '.', log });
const location = new LocationService(db, { nodeName: 'crash', log, writeBehindMs: 600_000 });
await location.load();
await location.update(AOR, () => ({
  upserts: [makeBinding({ aor: AOR, subscriberId, bindingKey: 'a', cseq: 1 })],
  removals: [],
}));
await location.flush();
await location.update(AOR, () => ({
  upserts: [
    makeBinding({ aor: AOR, subscriberId, bindingKey: 'a', cseq: 2 }),
    makeBinding({ aor: AOR, subscriberId, bindingKey: 'b' }),
  ],
  removals: [],
}));
process.stdout.write(`answered ${location.lookup(AOR).length}\n`);
// Bounded: the test kills it long before this.
setTimeout(() => process.exit(3), 60_000);
