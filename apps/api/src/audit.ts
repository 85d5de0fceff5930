import type { PrismaClient } from '@switchboard/db';
import type { FastifyRequest } from 'fastify';
import { redactForAudit } from './audit-redact.ts';

/** What an interactive transaction hands its callback: the client without connection and transaction control. */
export type Tx = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

export interface AuditRecord {
  action: string;
  /** The REST resource name, e.g. `subscribers`. */
  entity: string;
  entityId?: string | null;
  before?: unknown;
  after?: unknown;
}

export interface AuditActor {
  userId: string | null;
  apiKeyId: string | null;
  label: string;
}

export function actorOf(request: FastifyRequest): AuditActor {
  const p = request.principal;
  if (p === null) return { userId: null, apiKeyId: null, label: 'anonymous' };
  return { userId: p.userId, apiKeyId: p.apiKeyId, label: p.apiKeyId ? `${p.email} (api key)` : p.email };
}

/** The row of one audit entry. Secrets and hashes are stripped from `before`/`after`. */
function entryData(request: FastifyRequest, record: AuditRecord, actor: AuditActor) {
  const before = record.before === undefined ? undefined : redactForAudit(record.before);
  const after = record.after === undefined ? undefined : redactForAudit(record.after);
  return {
    actor: actor.label,
    actorUserId: actor.userId,
    actorApiKeyId: actor.apiKeyId,
    action: record.action,
    entity: record.entity,
    entityId: record.entityId ?? null,
    // Prisma's JSON input type is narrower than `unknown`; redactForAudit only returns JSON values.
    ...(before === undefined || before === null ? {} : { before: before as object }),
    ...(after === undefined || after === null ? {} : { after: after as object }),
    sourceIp: request.ip,
  };
}

/**
 * Writes one audit entry, normally in the same transaction as the change so that a change is never without
 * its record.
 */
export async function writeAudit(
  db: Tx,
  request: FastifyRequest,
  record: AuditRecord,
  actor: AuditActor = actorOf(request),
): Promise<void> {
  await db.auditEntry.create({ data: entryData(request, record, actor) });
}

/** Writes one audit entry per record in one statement (a forced delete's removed dependants). */
export async function writeAuditMany(
  db: Tx,
  request: FastifyRequest,
  records: readonly AuditRecord[],
  actor: AuditActor = actorOf(request),
): Promise<void> {
  if (records.length === 0) return;
  await db.auditEntry.createMany({ data: records.map((r) => entryData(request, r, actor)) });
}
