import { randomBytes } from 'node:crypto';
import type { Database } from '@switchboard/db';
import { openTestDatabase } from '@switchboard/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apnsCredentials, fcmCredentials, splitCredentials } from '../src/credentials.ts';
import { seal, sealingContext } from '../src/sealing.ts';
import { PushCredentialStore } from '../src/store.ts';
import { makeApnsKey, makeServiceAccount } from '../src/testing.ts';
import { log } from './support.ts';

/** Credentials read from PostgreSQL and unsealed, cached until the change feed says otherwise. */
let db: Database;
let domainId: string;
const key = randomBytes(32);
const credentials = apnsCredentials({
  teamId: 'ABCDE12345',
  keyId: 'KEY1234567',
  bundleId: 'com.example.phone',
  privateKey: makeApnsKey().privateKey,
});

beforeAll(async () => {
  db = await openTestDatabase('postgres', 'push_store');
  domainId = (await db.prisma.domain.create({ data: { name: 'store.example.test' } })).id;
  const { settings, secret } = splitCredentials(credentials);
  await db.prisma.pushCredential.create({
    data: {
      domainId,
      provider: 'apns',
      settings,
      sealedSecret: seal(key, secret, sealingContext(domainId, 'apns')),
    },
  });
});

afterAll(async () => {
  await db?.close();
});

describe('push credential store', () => {
  it("reads and unseals a domain's credentials by domain name, none for other services", async () => {
    const store = new PushCredentialStore(db.prisma, key, log);
    expect(await store.get('STORE.example.test', 'apns')).toEqual(credentials);
    expect(await store.get('store.example.test', 'fcm')).toBeUndefined();
  });

  it('keeps what it read until forget()', async () => {
    const store = new PushCredentialStore(db.prisma, key, log);
    expect(await store.get('store.example.test', 'fcm')).toBeUndefined();
    const fcm = fcmCredentials(makeServiceAccount('store-project').json);
    const { settings, secret } = splitCredentials(fcm);
    const row = await db.prisma.pushCredential.create({
      data: {
        domainId,
        provider: 'fcm',
        settings,
        sealedSecret: seal(key, secret, sealingContext(domainId, 'fcm')),
      },
    });
    expect(await store.get('store.example.test', 'fcm')).toBeUndefined();
    store.forget();
    expect(await store.get('store.example.test', 'fcm')).toEqual(fcm);
    await db.prisma.pushCredential.delete({ where: { id: row.id } });
  });

  it('treats credentials sealed with another key as absent instead of failing', async () => {
    const store = new PushCredentialStore(db.prisma, randomBytes(32), log);
    expect(await store.get('store.example.test', 'apns')).toBeUndefined();
  });
});
