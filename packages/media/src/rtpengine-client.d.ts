// Type declarations for rtpengine-client 0.4.12, which ships none. Only the UDP client is declared: it is the
// one the NG protocol needs. Facts checked against the package source: the constructor takes
// `{localPort, localAddress, timeout, rejectOnError}`, every command takes `({port, host}, params)` and
// resolves with the decoded bencode dictionary, and the client is an EventEmitter that emits 'error' for
// replies it cannot correlate (late replies after a timeout), so a listener must always be attached.
// The `codec` option is added by our patch of the package (patches/rtpengine-client@0.4.12.patch).
declare module 'rtpengine-client' {
  import { EventEmitter } from 'node:events';

  export interface RtpengineClientOptions {
    localPort?: number;
    localAddress?: string;
    /** Milliseconds before a request is rejected with RtpEngineError('rtpengine timeout ...'); 0 = never. */
    timeout?: number;
    /** When true an `result: error` reply rejects with the bare error-reason string. */
    rejectOnError?: boolean;
    /** Frames and parses NG messages instead of the bundled bencode package (our patch of the package). */
    codec?: NgMessageCodec;
  }

  /** An NG message is `<cookie> <bencoded dictionary>`. */
  export interface NgMessageCodec {
    encodeMessage(cookie: string, data: BencodeDictionary): Buffer;
    /** Throws on a message that is not a cookie, a space and one bencoded dictionary. */
    decodeMessage(message: Buffer): { id: string; data: BencodeDictionary };
  }

  export interface RtpengineDestination {
    port: number;
    host: string;
  }

  /** A decoded bencode dictionary: strings, integers, lists and nested dictionaries. */
  export type BencodeDictionary = { [key: string]: unknown };

  type Command = (
    destination: RtpengineDestination,
    params?: BencodeDictionary,
  ) => Promise<BencodeDictionary>;

  export class Client extends EventEmitter {
    constructor(options?: RtpengineClientOptions);
    ping: Command;
    offer: Command;
    answer: Command;
    delete: Command;
    query: Command;
    list: Command;
    startRecording: Command;
    stopRecording: Command;
    blockDTMF: Command;
    unblockDTMF: Command;
    playDTMF: Command;
    blockMedia: Command;
    unblockMedia: Command;
    silenceMedia: Command;
    unsilenceMedia: Command;
    playMedia: Command;
    stopMedia: Command;
    statistics: Command;
    close(): void;
  }

  export class RtpEngineError extends Error {}

  const rtpengineClient: { Client: typeof Client; RtpEngineError: typeof RtpEngineError };
  export default rtpengineClient;
}
