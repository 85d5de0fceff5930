// What other packages import from @switchboard/db: checked at type level by `tsc` (this file is
// part of the typecheck) and at run time below.
import { describe, expect, it } from 'vitest';
import {
  AccountStatus,
  applyMigrations,
  CallDirection,
  CallDisposition,
  CallForwardType,
  type Cdr,
  type CdrMediaStats,
  CHANGES_CHANNEL,
  type Database,
  generateSecret,
  hashPassword,
  openDatabase,
  Prisma,
  PrismaClient,
  parseTableChange,
  type Registration,
  RewriteDirection,
  type Subscriber,
  seedDemo,
  sipHa1,
  Transport,
  UserRole,
  verifyPassword,
} from '../src/index.ts';

describe('public surface', () => {
  it('exports the factory, helpers and the Prisma client class', () => {
    const functions = {
      openDatabase,
      seedDemo,
      sipHa1,
      hashPassword,
      verifyPassword,
      generateSecret,
      applyMigrations,
      parseTableChange,
    };
    for (const [name, value] of Object.entries(functions)) expect(typeof value, name).toBe('function');
    expect(typeof PrismaClient).toBe('function');
    expect(Prisma.ModelName.PhoneNumber).toBe('PhoneNumber');
    expect(CHANGES_CHANNEL).toBe('switchboard_changes');
  });

  it('exports the enums with the values the API shows', () => {
    expect(Object.values(AccountStatus)).toEqual(['active', 'locked', 'terminated']);
    expect(Object.values(CallForwardType)).toEqual(['cfu', 'cfb', 'cft', 'cfna']);
    expect(Object.values(CallDisposition)).toEqual([
      'answered',
      'busy',
      'no_answer',
      'cancelled',
      'failed',
      'rejected',
    ]);
    expect(Object.values(CallDirection)).toEqual(['internal', 'outbound', 'inbound']);
    expect(Object.values(RewriteDirection)).toEqual([
      'inbound_from_peer',
      'outbound_to_peer',
      'from_subscriber',
      'to_subscriber',
    ]);
    expect(Object.values(Transport)).toEqual(['udp', 'tcp', 'tls', 'ws', 'wss']);
    expect(Object.values(UserRole)).toEqual(['operator', 'reseller', 'customer']);
  });

  it('types model rows as plain objects', () => {
    const stats: CdrMediaStats = { a: { packetsReceived: 100, packetsLost: 1, jitterMs: 3.5, mos: 4.3 } };
    const cdr: Pick<Cdr, 'disposition' | 'mediaStats' | 'sipCode'> = {
      disposition: CallDisposition.busy,
      mediaStats: stats as Prisma.JsonObject,
      sipCode: 486,
    };
    const binding: Pick<Registration, 'transport' | 'path'> = { transport: Transport.tls, path: [] };
    const subscriber: Pick<Subscriber, 'status' | 'clir'> = { status: AccountStatus.locked, clir: true };
    const kind: Database['kind'] = 'pglite';
    expect([cdr.sipCode, binding.transport, subscriber.status, kind]).toEqual([
      486,
      'tls',
      'locked',
      'pglite',
    ]);
  });
});
