import { pino } from 'pino';
import type { ApnsCredentials, FcmCredentials, PushCredentials } from '../src/credentials.ts';
import { apnsCredentials, fcmCredentials } from '../src/credentials.ts';
import type { CredentialSource } from '../src/store.ts';
import { FakeApns, FakeFcm, makeApnsKey, makeServiceAccount, makeTestCertificate } from '../src/testing.ts';

export const log = pino({ level: process.env.PUSH_TEST_LOG ?? 'silent' });
export const TEAM = 'ABCDE12345';
export const KEY_ID = 'KEY1234567';
export const BUNDLE = 'com.example.phone';
export const PROJECT = 'switchboard-test';
/** A 64-hex-digit APNs device token. */
export const deviceToken = (n: number): string => n.toString(16).padStart(64, '0');

export interface Services {
  certificate: ReturnType<typeof makeTestCertificate>;
  apns: FakeApns;
  fcm: FakeFcm;
  apnsCredentials: ApnsCredentials;
  fcmCredentials: FcmCredentials;
  close(): Promise<void>;
}

/** Fake APNs and FCM with throwaway keys, and the credentials that work with them. */
export async function startServices(): Promise<Services> {
  const certificate = makeTestCertificate();
  const apnsKey = makeApnsKey();
  const account = makeServiceAccount(PROJECT);
  const apns = await new FakeApns(certificate, {
    publicKey: apnsKey.publicKey,
    teamId: TEAM,
    keyId: KEY_ID,
    topic: `${BUNDLE}.voip`,
  }).listen();
  const fcm = await new FakeFcm(certificate, {
    publicKey: account.publicKey,
    clientEmail: account.clientEmail,
    projectId: PROJECT,
  }).listen();
  return {
    certificate,
    apns,
    fcm,
    apnsCredentials: apnsCredentials({
      teamId: TEAM,
      keyId: KEY_ID,
      bundleId: BUNDLE,
      privateKey: apnsKey.privateKey,
    }),
    fcmCredentials: fcmCredentials(account.json),
    close: async () => {
      await Promise.all([apns.close(), fcm.close()]);
    },
  };
}

/** Credentials of one domain, from memory. */
export function staticCredentials(domain: string, credentials: PushCredentials[]): CredentialSource {
  return {
    get: async (name, provider) =>
      name === domain ? credentials.find((c) => c.provider === provider) : undefined,
  };
}
