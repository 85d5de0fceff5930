/// <reference path="./rtpengine-client.d.ts" />

import type { Logger } from 'pino';
import rtpengineClient, { type BencodeDictionary, type Client, type NgMessageCodec } from 'rtpengine-client';
import { type BencodeValue, decodeBencode, encodeBencode } from './bencode.ts';
import { codeForErrorReason, MediaError } from './errors.ts';
import type {
  NgAnswerParams,
  NgBlockParams,
  NgCallInfo,
  NgCallRef,
  NgDeleteParams,
  NgListParams,
  NgOfferParams,
  NgPlayDtmfParams,
  NgPlayMediaParams,
  NgRecordingParams,
} from './ng-types.ts';

/** The library's method names for the NG commands we use. */
type CommandName =
  | 'ping'
  | 'offer'
  | 'answer'
  | 'delete'
  | 'query'
  | 'list'
  | 'playMedia'
  | 'stopMedia'
  | 'playDTMF'
  | 'blockMedia'
  | 'unblockMedia'
  | 'blockDTMF'
  | 'unblockDTMF'
  | 'startRecording'
  | 'stopRecording';

export interface NgClientOptions {
  host: string;
  port: number;
  /** Per-request timeout in milliseconds (default 1000). */
  timeoutMs?: number;
  /** Local address of the NG socket; defaults to 127.0.0.1 when the instance is on loopback. */
  localAddress?: string;
  logger: Logger;
}

/**
 * A typed NG protocol client for one rtpengine instance. Every `result: error` reply becomes a
 * MediaError with a stable code; every request ends within the timeout (the library enforces it and
 * forgets the cookie, so late replies are logged and dropped).
 */
export class NgClient {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  private readonly client: Client;
  private readonly logger: Logger;
  private closed = false;

  constructor(options: NgClientOptions) {
    if (options.host.includes(':')) {
      // rtpengine-client only opens a udp4 socket.
      throw new MediaError('invalid-config', `IPv6 NG address ${options.host} is not supported; use IPv4`);
    }
    this.host = options.host;
    this.port = options.port;
    this.address = `${options.host}:${options.port}`;
    this.logger = options.logger.child({ rtpengine: this.address });
    const localAddress = options.localAddress ?? (options.host.startsWith('127.') ? '127.0.0.1' : undefined);
    this.client = new rtpengineClient.Client({
      timeout: options.timeoutMs ?? 1000,
      codec: ngMessageCodec,
      ...(localAddress === undefined ? {} : { localAddress }),
    });
    // Replies that arrive after their timeout, or cannot be decoded, surface as 'error' events.
    this.client.on('error', (err: unknown) => {
      this.logger.debug({ err }, 'rtpengine NG socket: uncorrelated or malformed reply dropped');
    });
  }

  /** Resolves when the instance answers `pong`. */
  async ping(): Promise<void> {
    const reply = await this.send('ping', {});
    if (reply.result !== 'pong') {
      throw new MediaError(
        'rtpengine',
        `rtpengine ${this.address} answered ping with ${String(reply.result)}`,
        {
          instance: this.address,
        },
      );
    }
  }

  async offer(params: NgOfferParams): Promise<{ sdp: string }> {
    return { sdp: sdpOf(await this.send('offer', params), this.address) };
  }

  async answer(params: NgAnswerParams): Promise<{ sdp: string }> {
    return { sdp: sdpOf(await this.send('answer', params), this.address) };
  }

  /** Deletes the call (or one leg of it). The reply carries statistics on some rtpengine set-ups. */
  async delete(params: NgDeleteParams): Promise<NgCallInfo> {
    return (await this.send('delete', params)) as NgCallInfo;
  }

  async query(params: NgCallRef): Promise<NgCallInfo> {
    return (await this.send('query', params)) as NgCallInfo;
  }

  /** The call-ids the instance holds. */
  async list(params: NgListParams = {}): Promise<string[]> {
    const reply = await this.send('list', params);
    const calls = reply.calls;
    if (!Array.isArray(calls)) return [];
    return calls.filter((c): c is string => typeof c === 'string');
  }

  /** Plays a file into the call towards the leg(s) named; resolves with the duration in ms when known. */
  async playMedia(params: NgPlayMediaParams): Promise<{ durationMs: number | undefined }> {
    const reply = await this.send('playMedia', params);
    return { durationMs: typeof reply.duration === 'number' ? reply.duration : undefined };
  }

  async stopMedia(params: NgCallRef): Promise<void> {
    await this.send('stopMedia', params);
  }

  async playDtmf(params: NgPlayDtmfParams): Promise<void> {
    await this.send('playDTMF', params);
  }

  async blockMedia(params: NgBlockParams): Promise<void> {
    await this.send('blockMedia', params);
  }

  async unblockMedia(params: NgBlockParams): Promise<void> {
    await this.send('unblockMedia', params);
  }

  async blockDtmf(params: NgBlockParams): Promise<void> {
    await this.send('blockDTMF', params);
  }

  async unblockDtmf(params: NgBlockParams): Promise<void> {
    await this.send('unblockDTMF', params);
  }

  async startRecording(params: NgRecordingParams): Promise<void> {
    await this.send('startRecording', params);
  }

  async stopRecording(params: NgRecordingParams): Promise<void> {
    await this.send('stopRecording', params);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.client.close();
    } catch (err) {
      this.logger.debug({ err }, 'closing NG socket failed');
    }
  }

  private async send(command: CommandName, params: object): Promise<BencodeDictionary> {
    if (this.closed) {
      throw new MediaError('transport', `NG client for ${this.address} is closed`, {
        instance: this.address,
      });
    }
    let reply: BencodeDictionary;
    try {
      reply = await this.client[command]({ host: this.host, port: this.port }, params as BencodeDictionary);
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      if (text.includes('timeout')) {
        throw new MediaError('timeout', `rtpengine ${this.address} did not answer ${command} in time`, {
          instance: this.address,
          cause: err,
        });
      }
      throw new MediaError('transport', `NG ${command} to ${this.address} failed: ${text}`, {
        instance: this.address,
        cause: err,
      });
    }
    if (reply.result === 'error') {
      const reason = typeof reply['error-reason'] === 'string' ? reply['error-reason'] : 'no reason given';
      throw new MediaError(
        codeForErrorReason(reason),
        `rtpengine ${this.address} rejected ${command}: ${reason}`,
        {
          reason,
          instance: this.address,
        },
      );
    }
    if (reply.result === 'load limit') {
      throw new MediaError('overloaded', `rtpengine ${this.address} refused ${command}: load limit`, {
        instance: this.address,
      });
    }
    if (typeof reply.warning === 'string') {
      this.logger.warn({ command, warning: reply.warning }, 'rtpengine warning');
    }
    return reply;
  }
}

function sdpOf(reply: BencodeDictionary, address: string): string {
  if (typeof reply.sdp !== 'string') {
    throw new MediaError('rtpengine', `rtpengine ${address} answered without SDP`, { instance: address });
  }
  return reply.sdp;
}

const SPACE = 0x20;
/** rtpengine-client's cookies are UUIDs; rtpengine echoes any cookie, so any length up to this is read. */
const MAX_COOKIE_LENGTH = 64;

/** `<cookie> <bencoded dictionary>` in both directions, with our bencode codec. */
export const ngMessageCodec: NgMessageCodec = {
  encodeMessage(cookie, data) {
    return Buffer.from(`${cookie} ${encodeBencode(data as BencodeValue)}`);
  },
  decodeMessage(message) {
    const space = message.indexOf(SPACE);
    if (space < 1 || space > MAX_COOKIE_LENGTH) throw new SyntaxError('NG message without a cookie');
    const data = decodeBencode(message, space + 1);
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new SyntaxError('NG message body is not a dictionary');
    }
    return { id: message.toString('latin1', 0, space), data };
  },
};
