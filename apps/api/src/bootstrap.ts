import { generateSecret, hashPassword, type PrismaClient } from '@switchboard/db';

export const DEFAULT_OPERATOR_EMAIL = 'admin@switchboard.local';

export interface EnsureOperatorResult {
  email: string;
  /** Set only when the account was created with a generated password, so the launcher can print it once. */
  password?: string;
  created: boolean;
}

/**
 * Creates the first operator account when there is none. Idempotent: once any operator exists nothing changes
 * and no password is returned.
 */
export async function ensureOperator(
  prisma: PrismaClient,
  options: { email?: string; password?: string } = {},
): Promise<EnsureOperatorResult> {
  const existing = await prisma.user.findFirst({
    where: { role: 'operator' },
    orderBy: { createdAt: 'asc' },
  });
  if (existing !== null) return { email: existing.email, created: false };
  const email = (options.email ?? DEFAULT_OPERATOR_EMAIL).toLowerCase();
  const generated = options.password === undefined;
  const password = options.password ?? generateSecret(24);
  const user = await prisma.user.create({
    data: { email, role: 'operator', passwordHash: await hashPassword(password), displayName: 'Operator' },
  });
  await prisma.auditEntry.create({
    data: {
      actor: 'system',
      action: 'create',
      entity: 'users',
      entityId: user.id,
      after: { email, role: 'operator' },
    },
  });
  return generated ? { email, password, created: true } : { email, created: true };
}
