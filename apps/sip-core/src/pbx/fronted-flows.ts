import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import type { Binding, BindingTransport } from '../location/binding.ts';

/** What a flow token carries: where the phone registered from, and its own Contact. */
export interface PhoneFlow {
  aor: string;
  contactUri: string;
  transport: BindingTransport;
  address: string;
  port: number;
}

const TRANSPORTS: ReadonlySet<string> = new Set(['udp', 'tcp', 'tls', 'ws', 'wss']);
const PREFIX = 'fl';
/** A token in a Route or Request-URI user part: the prefix, then base64url. */
export const FLOW_TOKEN = /^fl[A-Za-z0-9_-]{40,}$/;

/**
 * Flow tokens of fronted phones (docs/sbc.md, "Fronting a PBX"; RFC 5626 §5.2): the phone's flow and
 * Contact, encrypted and authenticated (AES-256-GCM) under a key derived from the platform's sealing
 * key, go into the Path and the Contact the upstream PBX stores, and come back in the Route of the
 * PBX's calls for the phone. Nothing is kept per phone: every worker, every node and every restart
 * with the same sealing key (`PUSH_CREDENTIALS_KEY`, else the key file generated in `$DATA_DIR`)
 * reads the token, nobody without the key can make or read one, and the PBX learns nothing of the
 * phone's address from it. The IV is derived from the plaintext, so one flow always gets one token
 * (the PBX sees the same contact on every refresh; a new flow is a new contact).
 */
export class FlowTokens {
  private keys: { key: Buffer; ivKey: Buffer } | undefined;

  /**
   * `secret`: the sealing key, read (a file may be generated) on first use, so a node that fronts no
   * PBX never touches it; a string in tests.
   */
  constructor(private readonly secret: string | (() => Buffer)) {}

  private get key(): Buffer {
    return this.derived().key;
  }

  private get ivKey(): Buffer {
    return this.derived().ivKey;
  }

  private derived(): { key: Buffer; ivKey: Buffer } {
    if (!this.keys) {
      const secret = typeof this.secret === 'string' ? this.secret : this.secret();
      this.keys = {
        key: createHmac('sha256', secret).update('flow-token key').digest(),
        ivKey: createHmac('sha256', secret).update('flow-token iv').digest(),
      };
    }
    return this.keys;
  }

  tokenFor(flow: PhoneFlow): string {
    const plain = Buffer.from(
      [flow.transport, flow.address, String(flow.port), flow.aor, flow.contactUri].join('\n'),
    );
    const iv = createHmac('sha256', this.ivKey).update(plain).digest().subarray(0, 12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
  }

  /** The flow of a token we made; undefined for anything else (forged, altered, another secret). */
  open(token: string): PhoneFlow | undefined {
    if (!FLOW_TOKEN.test(token)) return undefined;
    const raw = Buffer.from(token.slice(PREFIX.length), 'base64url');
    if (raw.length < 29) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString();
      const [transport, address, port, aor, contactUri] = plain.split('\n');
      if (!transport || !TRANSPORTS.has(transport) || !address || !aor || !contactUri) return undefined;
      return { transport: transport as BindingTransport, address, port: Number(port), aor, contactUri };
    } catch {
      return undefined;
    }
  }

  /** The Call-ID the PBX sees for a phone's Call-ID: stable across refreshes, not the phone's own. */
  callIdFor(callId: string): string {
    return `${createHmac('sha256', this.ivKey).update(`call-id\n${callId}`).digest('hex').slice(0, 32)}@sbc`;
  }
}

/** A flow as the call code rings a device: a binding that is only the flow (no subscriber of ours). */
export function flowBinding(flow: PhoneFlow, nodeName: string): Binding {
  return {
    aor: flow.aor,
    bindingKey: flow.contactUri,
    subscriberId: '',
    contactUri: flow.contactUri,
    receivedAddress: flow.address,
    receivedPort: flow.port,
    transport: flow.transport,
    localSocket: null,
    path: [],
    expiresAt: Number.MAX_SAFE_INTEGER,
    userAgent: null,
    instanceId: null,
    regId: null,
    q: null,
    callId: '',
    cseq: 0,
    pnProvider: null,
    pnPrid: null,
    pnParam: null,
    node: nodeName,
  };
}

/** Where requests to an upstream PBX are sent: its gateway's host, port and transport. */
export function pbxProxy(pbx: { host: string; port: number; transport: string }): string {
  return `sip:${uriHost(pbx.host)}:${pbx.port};transport=${pbx.transport}`;
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
