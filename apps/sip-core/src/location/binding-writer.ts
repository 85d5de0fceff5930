import { randomBytes } from 'node:crypto';
import { Prisma, type PrismaClient } from '@switchboard/db';
import type { Binding } from './binding.ts';

interface PendingWrite {
  binding: Binding;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit of bindings: writes queued while a statement is in flight go together into the next
 * one, a single `INSERT ... ON CONFLICT DO UPDATE` with many rows. Each caller's promise resolves
 * once its row is committed, so a REGISTER is still answered only after its binding is durable; under
 * load the database sees one statement per batch instead of one per REGISTER.
 */
export class BindingWriter {
  private queue: PendingWrite[] = [];
  private flushing = false;

  constructor(
    private readonly prisma: PrismaClient,
    /** Called after each commit with the AORs it contained. */
    private readonly onCommitted: (aors: string[]) => void,
    private readonly maxBatch = 500,
  ) {}

  write(bindings: Binding[]): Promise<void> {
    const done = bindings.map(
      (binding) => new Promise<void>((resolve, reject) => this.queue.push({ binding, resolve, reject })),
    );
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => void this.flush());
    }
    return Promise.all(done).then(() => undefined);
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      // The same binding twice in one statement is an error for ON CONFLICT: the last write wins.
      const rows = new Map<string, Binding>();
      for (const { binding } of batch) rows.set(`${binding.aor}\u0000${binding.bindingKey}`, binding);
      try {
        await this.prisma.$executeRaw(upsertSql([...rows.values()]));
        for (const write of batch) write.resolve();
        this.onCommitted([...new Set(batch.map((write) => write.binding.aor))]);
      } catch (error) {
        for (const write of batch) write.reject(error);
      }
    }
    this.flushing = false;
  }
}

function upsertSql(bindings: Binding[]): Prisma.Sql {
  const values = bindings.map(
    (b) => Prisma.sql`(${uuidv7()}::uuid, ${b.subscriberId}::uuid, ${b.aor}, ${b.bindingKey}, ${b.contactUri},
      ${b.receivedAddress}, ${b.receivedPort}, CAST(${b.transport} AS "transport"), ${b.localSocket},
      ${b.path}::text[], ${new Date(b.expiresAt)}, ${b.userAgent}, ${b.instanceId}, ${b.regId}, ${b.q},
      ${b.callId}, ${b.cseq}, ${b.pnProvider}, ${b.pnPrid}, ${b.pnParam}, ${b.node}, now())`,
  );
  return Prisma.sql`
    INSERT INTO registrations (id, subscriber_id, aor, binding_key, contact_uri, received_address,
      received_port, transport, local_socket, path, expires_at, user_agent, instance_id, reg_id, q,
      call_id, cseq, pn_provider, pn_prid, pn_param, node, updated_at)
    VALUES ${Prisma.join(values)}
    ON CONFLICT (aor, binding_key) DO UPDATE SET
      subscriber_id = EXCLUDED.subscriber_id, contact_uri = EXCLUDED.contact_uri,
      received_address = EXCLUDED.received_address, received_port = EXCLUDED.received_port,
      transport = EXCLUDED.transport, local_socket = EXCLUDED.local_socket, path = EXCLUDED.path,
      expires_at = EXCLUDED.expires_at, user_agent = EXCLUDED.user_agent,
      instance_id = EXCLUDED.instance_id, reg_id = EXCLUDED.reg_id, q = EXCLUDED.q,
      call_id = EXCLUDED.call_id, cseq = EXCLUDED.cseq, pn_provider = EXCLUDED.pn_provider,
      pn_prid = EXCLUDED.pn_prid, pn_param = EXCLUDED.pn_param, node = EXCLUDED.node,
      updated_at = now()`;
}

/** A time-ordered UUID (RFC 9562 version 7), like the schema's other primary keys. */
export function uuidv7(): string {
  const bytes = randomBytes(16);
  const ms = BigInt(Date.now());
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
