import { pino } from 'pino';
import type { PushCredentials } from '../src/credentials.ts';
import type { CredentialSource } from '../src/store.ts';
import { type FakePushServices, startFakePushServices } from '../src/testing.ts';

export const log = pino({ level: process.env.PUSH_TEST_LOG ?? 'silent' });
export const TEAM = 'ABCDE12345';
export const KEY_ID = 'KEY1234567';
export const BUNDLE = 'com.example.phone';
export const PROJECT = 'switchboard-test';
/** A 64-hex-digit APNs device token. */
export const deviceToken = (n: number): string => n.toString(16).padStart(64, '0');

export type Services = FakePushServices;

/** Fake APNs and FCM with throwaway keys, and the credentials that work with them. */
export function startServices(): Promise<Services> {
  return startFakePushServices({ teamId: TEAM, keyId: KEY_ID, bundleId: BUNDLE, projectId: PROJECT });
}

/** Credentials of one domain, from memory. */
export function staticCredentials(domain: string, credentials: PushCredentials[]): CredentialSource {
  return {
    get: async (name, provider) =>
      name === domain ? credentials.find((c) => c.provider === provider) : undefined,
  };
}
