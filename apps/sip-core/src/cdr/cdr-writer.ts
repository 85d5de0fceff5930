import { type CdrMediaStats, type Database, Prisma } from '@switchboard/db';
import type { SipCoreMetrics } from '@switchboard/metrics';
import type { Logger } from 'pino';
import { uuidv7 } from '../location/binding-writer.ts';

export type CallDirection = 'internal' | 'outbound' | 'inbound';
export type CallDisposition = 'answered' | 'busy' | 'no_answer' | 'cancelled' | 'failed' | 'rejected';
export type ForwardType = 'cfu' | 'cfb' | 'cft' | 'cfna';

/**
 * Marker in `sip_reason` of an attempt that is still in progress. The row is written when the call
 * starts so that a crash mid-call leaves a trace; `reconcile()` at start-up closes such rows.
 * While the attempt is open its `ended_at` is the heartbeat: the last time this node was known to be
 * running with the call up (see CdrWriter.beat()).
 */
export const IN_PROGRESS = 'in progress';
export const RECONCILED = 'sip-core restarted during the call';

/** How often the open attempts' heartbeat is written: a crashed call is billed at most this much too long. */
export const DEFAULT_HEARTBEAT_MS = 5_000;

/**
 * New attempts and answer times are written together, at most this long after the first of a batch: one
 * statement for all the calls started (or answered) meanwhile instead of one ORM query per call (each cost
 * about as much CPU as a whole REGISTER in the calls bench's profile). Nothing on the call's path waits for
 * these writes. A crash inside the window loses those rows or answers as a crash just before would.
 */
export const CDR_BATCH_MS = 100;

/** A finished attempt's values as the batched final UPDATE writes them. */
interface Ending {
  id: string;
  end: CdrEnd;
  durationMs: number;
  callId: string;
}

/**
 * Every field of CdrEnd has its column in `finalUpdateSql`: a field added to CdrEnd fails to compile here
 * until the UPDATE writes it too.
 */
const UPDATED_FIELDS: { [K in keyof Required<CdrEnd>]: string } = {
  bLegId: 'b_leg_id',
  callerRouted: 'caller_routed',
  calleeRouted: 'callee_routed',
  calleeSubscriberId: 'callee_subscriber_id',
  calleeCustomerId: 'callee_customer_id',
  peerGatewayId: 'peer_gateway_id',
  forwardedFrom: 'forwarded_from',
  forwardType: 'forward_type',
  billedSubscriberId: 'billed_subscriber_id',
  billedCustomerId: 'billed_customer_id',
  answeredAt: 'answered_at',
  endedAt: 'ended_at',
  disposition: 'disposition',
  sipCode: 'sip_code',
  sipReason: 'sip_reason',
  mediaStats: 'media_stats',
  pushWaitMs: 'push_wait_ms',
};

/**
 * One UPDATE completing a batch of finished attempts. A field the end leaves undefined keeps the column's
 * value (COALESCE), as the ORM's `update` skipped undefined fields: an inbound call's gateway, written at
 * the start, stays when the end names none.
 */
function finalUpdateSql(rows: Ending[]): Prisma.Sql {
  void UPDATED_FIELDS; // kept for its compile-time check of the columns
  const values = rows.map(({ id, end: e, durationMs }) => {
    const stats = e.mediaStats ? JSON.stringify(e.mediaStats) : null;
    return Prisma.sql`(${id}::uuid, ${e.bLegId ?? null}::text, ${e.callerRouted ?? null}::text,
      ${e.calleeRouted ?? null}::text, ${e.calleeSubscriberId ?? null}::uuid, ${e.calleeCustomerId ?? null}::uuid,
      ${e.peerGatewayId ?? null}::uuid, ${e.forwardedFrom ?? null}::text,
      CAST(${e.forwardType ?? null}::text AS "call_forward_type"), ${e.billedSubscriberId ?? null}::uuid,
      ${e.billedCustomerId ?? null}::uuid, ${e.answeredAt?.toISOString() ?? null}::timestamptz, ${e.endedAt.toISOString()}::timestamptz,
      CAST(${e.disposition}::text AS "call_disposition"), ${e.sipCode}::int, ${e.sipReason}::text,
      ${stats}::jsonb, ${e.pushWaitMs ?? null}::int, ${durationMs}::int)`;
  });
  return Prisma.sql`
    UPDATE cdrs SET
      b_leg_id = COALESCE(f.b_leg_id, cdrs.b_leg_id),
      caller_routed = COALESCE(f.caller_routed, cdrs.caller_routed),
      callee_routed = COALESCE(f.callee_routed, cdrs.callee_routed),
      callee_subscriber_id = COALESCE(f.callee_subscriber_id, cdrs.callee_subscriber_id),
      callee_customer_id = COALESCE(f.callee_customer_id, cdrs.callee_customer_id),
      peer_gateway_id = COALESCE(f.peer_gateway_id, cdrs.peer_gateway_id),
      forwarded_from = COALESCE(f.forwarded_from, cdrs.forwarded_from),
      forward_type = COALESCE(f.forward_type, cdrs.forward_type),
      billed_subscriber_id = COALESCE(f.billed_subscriber_id, cdrs.billed_subscriber_id),
      billed_customer_id = COALESCE(f.billed_customer_id, cdrs.billed_customer_id),
      answered_at = COALESCE(f.answered_at, cdrs.answered_at),
      ended_at = f.ended_at,
      disposition = f.disposition,
      sip_code = f.sip_code,
      sip_reason = f.sip_reason,
      media_stats = COALESCE(f.media_stats, cdrs.media_stats),
      push_wait_ms = COALESCE(f.push_wait_ms, cdrs.push_wait_ms),
      duration_ms = f.duration_ms
    FROM (VALUES ${Prisma.join(values)}) AS f(id, b_leg_id, caller_routed, callee_routed, callee_subscriber_id,
      callee_customer_id, peer_gateway_id, forwarded_from, forward_type, billed_subscriber_id, billed_customer_id,
      answered_at, ended_at, disposition, sip_code, sip_reason, media_stats, push_wait_ms, duration_ms)
    WHERE cdrs.id = f.id`;
}

export interface CdrStart {
  callId: string;
  aLegId: string;
  direction: CallDirection;
  callerDialled: string;
  calleeDialled: string;
  startedAt: Date;
  sourceAddress: string;
  callerSubscriberId?: string | undefined;
  callerCustomerId?: string | undefined;
  /** The peer gateway an inbound call came from (an outbound call's is set when a gateway answers). */
  peerGatewayId?: string | undefined;
  /**
   * The callee is shown an anonymous caller (CLIR, a peer's Privacy header, no caller number). The
   * caller fields stay real; the API masks them for those who see the call from the callee's side.
   */
  callerWithheld?: boolean | undefined;
}

export interface CdrEnd {
  bLegId?: string | undefined;
  callerRouted?: string | undefined;
  calleeRouted?: string | undefined;
  calleeSubscriberId?: string | undefined;
  calleeCustomerId?: string | undefined;
  peerGatewayId?: string | undefined;
  /** AOR of the subscriber whose call forward reached the final destination, and its type. */
  forwardedFrom?: string | undefined;
  forwardType?: ForwardType | undefined;
  /**
   * Who pays instead of the caller: the subscriber whose call forward sent the call to the phone
   * network, and its customer (docs/billing.md, "Forwarded calls").
   */
  billedSubscriberId?: string | undefined;
  billedCustomerId?: string | undefined;
  answeredAt?: Date | undefined;
  endedAt: Date;
  disposition: CallDisposition;
  sipCode: number;
  sipReason: string;
  mediaStats?: CdrMediaStats | undefined;
  /** Milliseconds the call waited for a device woken by push (RFC 8599); unset: none was woken. */
  pushWaitMs?: number | undefined;
}

/** A row as `start` inserts it. */
interface NewAttempt extends CdrStart {
  id: string;
  endedAt: Date;
  disposition: 'failed';
  sipReason: string;
  node: string;
}

/**
 * Every field of CdrStart has its column in `insertSql`: a field added to CdrStart fails to compile here
 * until the INSERT writes it too.
 */
const INSERTED_FIELDS: { [K in keyof Required<CdrStart>]: string } = {
  callId: 'call_id',
  aLegId: 'a_leg_id',
  direction: 'direction',
  callerDialled: 'caller_dialled',
  calleeDialled: 'callee_dialled',
  startedAt: 'started_at',
  sourceAddress: 'source_address',
  callerSubscriberId: 'caller_subscriber_id',
  callerCustomerId: 'caller_customer_id',
  peerGatewayId: 'peer_gateway_id',
  callerWithheld: 'caller_withheld',
};

/**
 * One INSERT for a batch of new attempts. Raw SQL rather than `createMany`: the ORM compiles a query plan
 * per batch size, which showed in the calls bench's profile (its WebAssembly compiler).
 */
function insertSql(rows: NewAttempt[]): Prisma.Sql {
  void INSERTED_FIELDS; // kept for its compile-time check of the columns
  const values = rows.map(
    (r) => Prisma.sql`(${r.id}::uuid, ${r.callId}, ${r.aLegId}, CAST(${r.direction} AS "call_direction"),
      ${r.callerDialled}, ${r.calleeDialled}, ${r.callerWithheld ?? false}, ${r.startedAt.toISOString()}::timestamptz,
      ${r.endedAt.toISOString()}::timestamptz,
      CAST(${r.disposition} AS "call_disposition"), ${r.sipReason}, ${r.sourceAddress}, ${r.node},
      ${r.callerSubscriberId ?? null}::uuid, ${r.callerCustomerId ?? null}::uuid, ${r.peerGatewayId ?? null}::uuid)`,
  );
  return Prisma.sql`
    INSERT INTO cdrs (id, call_id, a_leg_id, direction, caller_dialled, callee_dialled, caller_withheld,
      started_at, ended_at, disposition, sip_reason, source_address, node, caller_subscriber_id,
      caller_customer_id, peer_gateway_id)
    VALUES ${Prisma.join(values)}`;
}

/**
 * One `cdrs` row per call attempt: inserted when the attempt starts (disposition `failed`, reason
 * "in progress"), completed when it ends. Writes never throw into call handling: a failure is logged.
 * Every call's start, answer and end pass here, so this is also where they are logged and counted.
 */
export class CdrWriter {
  /** Open attempts by row id: the rows the heartbeat touches, and the answer's log line and counter. */
  private readonly open = new Map<string, { callId: string; direction: CallDirection }>();
  private heartbeat: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  /** Attempts not inserted yet, with the callers waiting for their row id. */
  private inserts: Array<{
    id: string;
    row: NewAttempt;
    direction: CallDirection;
    written: (id: string | undefined) => void;
  }> = [];
  private insertTimer: NodeJS.Timeout | undefined;
  /** Answer times not written yet, by row id, and the write that will carry them. */
  private answers = new Map<string, Date>();
  private answerBatch: { timer: NodeJS.Timeout; written: Promise<void>; release: () => void } | undefined;
  /** Finished attempts not completed in the table yet, and the write that will carry them. */
  private endings: Ending[] = [];
  private endBatch: { timer: NodeJS.Timeout; written: Promise<void>; release: () => void } | undefined;

  constructor(
    private readonly db: Pick<Database, 'prisma' | 'sql'>,
    private readonly node: string,
    private readonly log: Logger,
    private readonly metrics?: SipCoreMetrics,
    private readonly heartbeatMs = DEFAULT_HEARTBEAT_MS,
  ) {}

  /** One of the batched statements, built with Prisma's SQL template and run by the driver itself. */
  private async write(statement: Prisma.Sql): Promise<void> {
    await this.db.sql.query(statement.text, statement.values);
  }

  /** Writes the heartbeat every heartbeatMs until stop(). */
  startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => void this.beat(), this.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Stops the heartbeat after writing a last one: calls still open end no later than now. */
  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await this.flushInserts();
    await this.flushAnswers();
    await this.flushEndings();
    await this.beating;
    await this.beat();
  }

  /**
   * Moves `ended_at` of this node's open attempts to now (one statement, by primary key). Only rows still
   * in progress: an attempt finished meanwhile keeps its real end.
   */
  beat(now = new Date()): Promise<void> {
    if (this.beating) return this.beating;
    if (this.open.size === 0) return Promise.resolve();
    const ids = [...this.open.keys()];
    this.beating = this.db.prisma.cdr
      .updateMany({ where: { id: { in: ids }, sipReason: IN_PROGRESS }, data: { endedAt: now } })
      .then(
        () => undefined,
        (error: unknown) => this.log.error({ err: error }, 'writing the CDR heartbeat failed'),
      )
      .finally(() => {
        this.beating = undefined;
      });
    return this.beating;
  }

  /**
   * Inserts the attempt with the next batch (CDR_BATCH_MS); resolves to its id once written, or undefined
   * when the database refused it.
   */
  async start(attempt: CdrStart): Promise<string | undefined> {
    this.metrics?.callAttempts.inc({ direction: attempt.direction });
    this.log.info(
      {
        callId: attempt.callId,
        direction: attempt.direction,
        caller: attempt.callerDialled,
        callee: attempt.calleeDialled,
        source: attempt.sourceAddress,
      },
      'call started',
    );
    const id = uuidv7();
    const row: NewAttempt = {
      ...attempt,
      id,
      endedAt: attempt.startedAt,
      disposition: 'failed',
      sipReason: IN_PROGRESS,
      node: this.node,
    };
    return new Promise((written) => {
      this.inserts.push({ id, row, direction: attempt.direction, written });
      this.insertTimer ??= setTimeout(() => void this.flushInserts(), CDR_BATCH_MS);
    });
  }

  /** Inserts the pending attempts in one statement; each waiting `start` gets its id (undefined on failure). */
  async flushInserts(): Promise<void> {
    clearTimeout(this.insertTimer);
    this.insertTimer = undefined;
    const batch = this.inserts;
    this.inserts = [];
    if (batch.length === 0) return;
    try {
      await this.write(insertSql(batch.map((insert) => insert.row)));
    } catch (error) {
      const callIds = batch.map((insert) => insert.row.callId);
      this.log.error({ err: error, callIds }, 'writing the CDRs of new calls failed');
      for (const insert of batch) insert.written(undefined);
      return;
    }
    for (const { id, row, direction, written } of batch) {
      this.open.set(id, { callId: row.callId, direction });
      written(id);
    }
  }

  async finish(id: string | undefined, start: CdrStart, end: CdrEnd): Promise<void> {
    const durationMs = end.answeredAt ? Math.max(0, end.endedAt.getTime() - end.answeredAt.getTime()) : 0;
    if (id) this.open.delete(id);
    this.metrics?.callsEnded.inc({ direction: start.direction, disposition: end.disposition });
    if (end.answeredAt) this.metrics?.callDuration.observe({ direction: start.direction }, durationMs / 1000);
    this.log.info(
      {
        callId: start.callId,
        direction: start.direction,
        disposition: end.disposition,
        sipCode: end.sipCode,
        durationMs,
      },
      'call ended',
    );
    if (id) {
      this.open.delete(id);
      this.answers.delete(id); // the final update carries the answer time itself
      return this.completeInBatch({ id, end, durationMs, callId: start.callId });
    }
    const data = {
      ...end,
      durationMs,
      mediaStats: end.mediaStats ? (end.mediaStats as object) : undefined,
    };
    try {
      await this.db.prisma.cdr.create({ data: { ...start, ...data, node: this.node } });
    } catch (error) {
      this.log.error({ err: error, callId: start.callId }, 'completing the CDR failed');
    }
  }

  /**
   * Completes the row with the next batch (CDR_BATCH_MS), as the answers are: one statement for the calls
   * ended meanwhile instead of one ORM query per call (the largest database cost left per call in the calls
   * bench's profile). Resolves once written; never throws.
   */
  private completeInBatch(ending: Ending): Promise<void> {
    this.endings.push(ending);
    if (this.endBatch) return this.endBatch.written;
    let release = (): void => {};
    const written = new Promise<void>((resolve) => {
      release = resolve;
    });
    const timer = setTimeout(() => void this.flushEndings(), CDR_BATCH_MS);
    this.endBatch = { timer, written, release };
    return written;
  }

  /** Writes the pending final updates in one statement. Never throws: a failure is logged. */
  async flushEndings(): Promise<void> {
    const batch = this.endBatch;
    if (!batch) return;
    this.endBatch = undefined;
    clearTimeout(batch.timer);
    const endings = this.endings;
    this.endings = [];
    try {
      if (endings.length > 0) await this.write(finalUpdateSql(endings));
    } catch (error) {
      const callIds = endings.map((ending) => ending.callId);
      this.log.error({ err: error, callIds }, 'completing the CDRs failed');
    } finally {
      batch.release();
    }
  }

  /**
   * Closes the attempts this node left open when it stopped without ending them, at the last moment it
   * was known to be running with them: their heartbeat (or the answer, when that came later). Answered
   * ones count as answered up to then, the rest as failed. Returns how many rows were closed.
   */
  async reconcile(): Promise<number> {
    const open = await this.db.prisma.cdr.findMany({
      where: { node: this.node, sipReason: IN_PROGRESS },
      select: { id: true, answeredAt: true, endedAt: true },
    });
    for (const row of open) {
      const lastAlive = new Date(Math.max(row.endedAt.getTime(), row.answeredAt?.getTime() ?? 0));
      await this.db.prisma.cdr.update({
        where: { id: row.id },
        data: {
          endedAt: lastAlive,
          durationMs: row.answeredAt ? Math.max(0, lastAlive.getTime() - row.answeredAt.getTime()) : 0,
          disposition: row.answeredAt ? 'answered' : 'failed',
          sipCode: row.answeredAt ? 200 : 500,
          sipReason: RECONCILED,
        },
      });
    }
    if (open.length > 0) this.log.warn({ rows: open.length }, 'closed CDRs left open by a previous run');
    return open.length;
  }

  /** Records the answer time on the open row, so a restart after answer is billed up to the restart. */
  async answered(id: string | undefined, at: Date): Promise<void> {
    if (!id) return;
    const call = this.open.get(id);
    if (call) {
      this.metrics?.callAnswers.inc({ direction: call.direction });
      this.log.info({ callId: call.callId, direction: call.direction }, 'call answered');
    }
    this.answers.set(id, at);
    if (this.answerBatch) return this.answerBatch.written;
    let release = (): void => {};
    const written = new Promise<void>((resolve) => {
      release = resolve;
    });
    const timer = setTimeout(() => void this.flushAnswers(), CDR_BATCH_MS);
    this.answerBatch = { timer, written, release };
    return written;
  }

  /**
   * Writes the pending answer times in one statement, only on rows still in progress (a call that ended
   * meanwhile had its answer written by `finish`). Never throws: a failure is logged.
   */
  async flushAnswers(): Promise<void> {
    const batch = this.answerBatch;
    if (!batch) return;
    this.answerBatch = undefined;
    clearTimeout(batch.timer);
    const answers = this.answers;
    this.answers = new Map();
    try {
      if (answers.size > 0) {
        const ids = [...answers.keys()];
        const times = [...answers.values()].map((at) => at.toISOString());
        await this.write(Prisma.sql`
          UPDATE cdrs SET answered_at = answer.at
          FROM unnest(${ids}::uuid[], ${times}::timestamptz[]) AS answer(id, at)
          WHERE cdrs.id = answer.id AND cdrs.sip_reason = ${IN_PROGRESS}`);
      }
    } catch (error) {
      this.log.error({ err: error, calls: answers.size }, 'recording the answer times failed');
    } finally {
      batch.release();
    }
  }
}
