import { CALL_STATES_CHANNEL, type PrismaClient } from '@switchboard/db';
import type { Logger } from 'pino';
import { chunkBySize, SerialAnnouncer } from '../announcements.ts';
import type { ActiveCallInfo, CallState } from './call-types.ts';

/** A call as it crosses the channel: dates as epoch milliseconds. */
interface WireCall extends Omit<ActiveCallInfo, 'startedAt' | 'answeredAt'> {
  startedAt: number;
  answeredAt?: number | undefined;
}

interface CallStates {
  origin: string;
  /** The announcing process as its CDRs name it (`<node>`, or `<node>/<n>` for worker n). */
  node: string;
  calls: WireCall[];
}

/** A call and the worker or node that handles it. */
export interface NodeCall extends ActiveCallInfo {
  node: string;
}

interface RemoteCall {
  info: NodeCall;
  origin: string;
  seenAt: number;
}

const STATES: ReadonlySet<string> = new Set<CallState>(['trying', 'early', 'answered', 'ended']);

export interface SharedCallsOptions {
  prisma: PrismaClient;
  /** This process, unique among the workers and nodes (its own announcements come back to it). */
  origin: string;
  /** This process as its CDRs name it. */
  node: string;
  /** This process's calls, announced again every `refreshMs`. */
  localCalls: () => ActiveCallInfo[];
  log: Logger;
  /**
   * Every call is announced again this often (default 20 s); a call another process stopped announcing
   * for three times as long (that process died) counts as ended.
   */
  refreshMs?: number;
  /**
   * Milliseconds the changes of this process's calls are gathered before they go out in one
   * notification (default 100): a statement costs some 0.4 ms of CPU, a call changes state three or
   * four times, and a watcher's lamp may well be a tenth of a second late.
   */
  windowMs?: number;
  now?: () => number;
}

/**
 * The calls of the other sip-core workers and nodes, as they announce them on `CALL_STATES_CHANNEL`
 * (PostgreSQL NOTIFY, which every clustered process already listens to), and this process's calls
 * announced to them. A BLF lamp or presence watcher served by one worker sees the call another worker
 * handles, and the live-calls list of any process shows every call.
 *
 * The changes of a short window go out together (a call's latest state only), and the notifications
 * of one process one after the other (`SerialAnnouncer`); a call whose announcement failed is
 * announced again at the next refresh.
 */
export class SharedCalls {
  private readonly remote = new Map<string, RemoteCall>();
  private readonly listeners: Array<(call: ActiveCallInfo) => void> = [];
  private waiting = new Map<string, ActiveCallInfo>();
  private readonly announcer: SerialAnnouncer;
  private readonly refreshMs: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: SharedCallsOptions) {
    this.refreshMs = options.refreshMs ?? 20_000;
    this.windowMs = options.windowMs ?? 100;
    this.now = options.now ?? Date.now;
    this.announcer = new SerialAnnouncer(options.prisma, CALL_STATES_CHANNEL, options.log);
    this.timer = setInterval(() => this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  /** The calls other processes handle now. */
  list(): NodeCall[] {
    return [...this.remote.values()].map((call) => call.info);
  }

  /** Called with every change of another process's call (an ending too: then it is no longer listed). */
  onRemoteChange(listener: (call: ActiveCallInfo) => void): void {
    this.listeners.push(listener);
  }

  /** A call of this process changed: announced with the other changes of the window. */
  localChanged(call: ActiveCallInfo): void {
    if (this.closed) return;
    if (this.waiting.size === 0) setTimeout(() => this.flush(), this.windowMs).unref();
    this.waiting.set(call.callId, call);
  }

  /** A payload heard on the channel. */
  heard(payload: string): void {
    const states = parseCallStates(payload);
    if (!states || states.origin === this.options.origin) return;
    const now = this.now();
    for (const wire of states.calls) {
      const info = fromWire(wire, states.node);
      if (info.state === 'ended') this.remote.delete(info.callId);
      else this.remote.set(info.callId, { info, origin: states.origin, seenAt: now });
      this.report(info);
    }
  }

  /** Stops announcing; what changed in the last window still goes out. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.flush();
  }

  /** Announces every call of this process again, and ends the calls of processes that fell silent. */
  private refresh(): void {
    for (const call of this.options.localCalls()) this.localChanged(call);
    const deadline = this.now() - 3 * this.refreshMs;
    for (const [callId, call] of this.remote) {
      if (call.seenAt >= deadline) continue;
      this.remote.delete(callId);
      this.options.log.info(
        { callId, origin: call.origin },
        'call of a silent worker or node taken as ended',
      );
      this.report({ ...call.info, state: 'ended' });
    }
  }

  private report(call: ActiveCallInfo): void {
    for (const listener of this.listeners) {
      try {
        listener(call);
      } catch (error) {
        this.options.log.error({ err: error, callId: call.callId }, 'shared call listener failed');
      }
    }
  }

  /** The changes of the window, in as many notifications as their size needs. */
  private flush(): void {
    const calls = [...this.waiting.values()].map(toWire);
    this.waiting = new Map();
    const { origin, node } = this.options;
    for (const chunk of chunkBySize(calls, (call) => JSON.stringify(call).length + 1))
      this.announcer.send(JSON.stringify({ origin, node, calls: chunk } satisfies CallStates));
  }
}

function toWire(call: ActiveCallInfo): WireCall {
  return { ...call, startedAt: call.startedAt.getTime(), answeredAt: call.answeredAt?.getTime() };
}

function fromWire(call: WireCall, node: string): NodeCall {
  return {
    ...call,
    node,
    startedAt: new Date(call.startedAt),
    answeredAt: call.answeredAt === undefined ? undefined : new Date(call.answeredAt),
  };
}

/** A channel payload, its calls checked enough to be listed; undefined when it is not one. */
export function parseCallStates(payload: string): CallStates | undefined {
  let value: CallStates;
  try {
    value = JSON.parse(payload) as CallStates;
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || typeof value.origin !== 'string') return undefined;
  if (typeof value.node !== 'string' || !Array.isArray(value.calls)) return undefined;
  return { origin: value.origin, node: value.node, calls: value.calls.filter(isWireCall) };
}

function isWireCall(value: unknown): value is WireCall {
  const call = value as WireCall;
  const optionalString = (v: unknown) => v === undefined || v === null || typeof v === 'string';
  return (
    typeof call === 'object' &&
    call !== null &&
    typeof call.callId === 'string' &&
    STATES.has(call.state) &&
    typeof call.caller === 'string' &&
    typeof call.callee === 'string' &&
    optionalString(call.callerSubscriberId) &&
    optionalString(call.calleeSubscriberId) &&
    typeof call.startedAt === 'number' &&
    (call.answeredAt === undefined || typeof call.answeredAt === 'number') &&
    Array.isArray(call.codecs)
  );
}
