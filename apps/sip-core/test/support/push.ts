import { type PushCredentials, seal, sealingContext, splitCredentials } from '@switchboard/push';
import type { TestDatabase, TestTenant } from './database.ts';

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
