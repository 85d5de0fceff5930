import { createHmac } from 'node:crypto';
import type { Binding, BindingTransport } from '../location/binding.ts';

/**
 * The phones of fronted domains (docs/sbc.md, "Fronting a PBX"): the upstream PBX holds their
 * registrations, this node the flow each one registered over, so that a call the PBX routes back
 * through our Path entry reaches the phone over its NAT binding or connection. One record per
 * phone contact, named by a flow token (RFC 5626 §5.2: something only the edge proxy can map back
 * to the flow) that goes into the Path and the Contact the PBX stores. The token is an HMAC of the
 * AOR and the phone's Contact under the node's secret: the same phone keeps its token across
 * refreshes, nobody can forge one for another phone, and it reveals no address of the phone.
 */
export class FrontedFlows {
  private readonly byToken = new Map<string, Binding>();

  constructor(
    private readonly secret: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The flow token of a phone's contact (letters and digits only: a valid SIP user part). */
  tokenFor(aor: string, contactUri: string): string {
    return `fl${createHmac('sha256', this.secret).update(`${aor}\n${contactUri}`).digest('hex').slice(0, 24)}`;
  }

  /** The Call-ID the PBX sees for a phone's Call-ID: stable across refreshes, not the phone's own. */
  callIdFor(callId: string): string {
    return `${createHmac('sha256', this.secret).update(`call-id\n${callId}`).digest('hex').slice(0, 32)}@sbc`;
  }

  /** The PBX accepted the phone's contact (its 200 OK) until `expiresAt`. */
  remember(token: string, binding: Binding): void {
    if (this.byToken.size > 0 && this.byToken.size % 1024 === 0) this.sweep();
    this.byToken.set(token, binding);
  }

  forget(token: string): void {
    this.byToken.delete(token);
  }

  /** The phone's flow for a token, while the PBX's registration of it lasts. */
  get(token: string): Binding | undefined {
    const binding = this.byToken.get(token);
    if (binding && binding.expiresAt <= this.now()) {
      this.byToken.delete(token);
      return undefined;
    }
    return binding;
  }

  /**
   * The live flow of `aor` a request came over (same transport, address and port as its REGISTER):
   * a phone's call is only relayed to its PBX from where the PBX accepted its registration.
   */
  findByFlow(aor: string, transport: BindingTransport, address: string, port: number): Binding | undefined {
    const now = this.now();
    for (const binding of this.byToken.values())
      if (
        binding.aor === aor &&
        binding.transport === transport &&
        binding.receivedAddress === address &&
        binding.receivedPort === port &&
        binding.expiresAt > now
      )
        return binding;
    return undefined;
  }

  get size(): number {
    return this.byToken.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [token, binding] of this.byToken) if (binding.expiresAt <= now) this.byToken.delete(token);
  }
}

/** A bracketed host for a URI. */
export function uriHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** The engine's listeners as drachtio's connect reports them (`udp/127.0.0.1:5060,tcp/...`). */
export class EngineAddresses {
  private listeners: Array<{ transport: string; hostport: string }> = [];

  /** From the hostport string of the engine's authenticate reply. */
  set(hostports: string): void {
    this.listeners = hostports
      .split(',')
      .map((entry) => /^(\w+)\/(.+)$/.exec(entry.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ transport: m[1]!.toLowerCase(), hostport: m[2]! }));
  }

  /** `host:port` of the listener for `transport`, else the first one; undefined before connect. */
  hostport(transport: string): string | undefined {
    return (this.listeners.find((l) => l.transport === transport) ?? this.listeners[0])?.hostport;
  }
}
