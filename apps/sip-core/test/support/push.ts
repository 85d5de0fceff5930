import { type PushCredentials, seal, sealingContext, splitCredentials } from '@switchboard/push';
import { type FakePushServices, startFakePushServices } from '@switchboard/push/testing';
import type { TestDatabase, TestTenant } from './database.ts';

/** The app the suites' fake phones run: its APNs team and bundle, and the pn-param its bindings carry. */
export const TEAM = 'ABCDE12345';
export const BUNDLE = 'com.example.phone';
export const APNS_PARAM = `${TEAM}.${BUNDLE}.voip`;

/** Fake APNs and FCM for that app; each suite names its own FCM project. */
export function startPushServices(projectId: string): Promise<FakePushServices> {
  return startFakePushServices({ teamId: TEAM, keyId: 'KEY1234567', bundleId: BUNDLE, projectId });
}

/** Stores a domain's push credentials as the API does: the settings in clear, the secret sealed with `key`. */
export async function storePushCredentials(
  db: TestDatabase,
  tenant: TestTenant,
  key: Buffer,
  credentials: PushCredentials,
): Promise<void> {
  const { settings, secret } = splitCredentials(credentials);
  await db.db.prisma.pushCredential.create({
    data: {
      domainId: tenant.domainId,
      provider: credentials.provider,
      settings,
      sealedSecret: seal(key, secret, sealingContext(tenant.domainId, credentials.provider)),
    },
  });
}
