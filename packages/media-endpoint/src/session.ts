import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { decodeG711, encodeG711 } from './g711.ts';
import { buildRtp, digitOf, parseRtp, parseTelephoneEvent } from './rtp.ts';
import { buildAnswer, parseOffer, type RemoteMedia } from './sdp.ts';
import { readWavFile, SAMPLE_RATE, writeWavFile } from './wav.ts';

/** 20 ms of 8 kHz audio: one RTP packet (RFC 3551 §4.5: G.711 default packetisation). */
export const FRAME_SAMPLES = 160;
const FRAME_MS = 20;
/** A gap in the caller's timestamps longer than this is not filled with silence in a recording. */
const MAX_GAP_SAMPLES = SAMPLE_RATE;

export interface MediaSessionOptions {
  /** Address the UDP socket binds to and the answer names (where the relay sends RTP). */
  address: string;
  /** Port range to bind in; default: any free port. */
  ports?: { min: number; max: number } | undefined;
}

export type PlayResult = 'done' | 'interrupted' | 'closed';

export interface RecordResult {
  /** Milliseconds of audio written (what arrived, gaps filled with silence). */
  durationMs: number;
  stoppedBy: 'max-length' | 'digit' | 'closed' | 'stopped';
  /** The digit that ended it, when one did. */
  digit?: string | undefined;
}

interface Playback {
  samples: Int16Array;
  offset: number;
  interruptible: boolean;
  done: (result: PlayResult) => void;
}

interface Recording {
  chunks: Int16Array[];
  samples: number;
  maxSamples: number;
  stopDigits: string;
  lastTimestamp: number | undefined;
  done: (result: Omit<RecordResult, 'durationMs'>) => void;
}

/**
 * One call's media: an RTP stream of G.711 both ways over its own UDP socket, with RFC 4733 digits
 * from the far end. The application drives it with `play`, `collectDigits`, `record` and `hangup`
 * one step after the other (an IVR, voicemail, an auto attendant); digits typed during a prompt are
 * kept for the next `collectDigits` (type-ahead).
 */
export class MediaSession {
  /** The SDP answer for the offer the session was opened with. */
  readonly answer: string;
  private remote: { address: string; port: number };
  private readonly ssrc = (Math.random() * 0x1_0000_0000) >>> 0;
  private sequence = Math.floor(Math.random() * 0x1_0000);
  private readonly timestampBase = (Math.random() * 0x1_0000_0000) >>> 0;
  private readonly startedAt = process.hrtime.bigint();
  /** The next 20 ms slot (since the session opened) a frame is sent in. */
  private nextSlot = 0;
  private timer: NodeJS.Timeout | undefined;
  private playback: Playback | undefined;
  private recording: Recording | undefined;
  private lastEventTimestamp: number | undefined;
  private readonly typedAhead: string[] = [];
  private digitWaiter: (() => void) | undefined;
  private closedFlag = false;
  private resolveClosed: () => void = () => {};
  /** Resolves when the session ends (hangup, or `close` from the signalling side). */
  readonly closed = new Promise<void>((resolve) => {
    this.resolveClosed = resolve;
  });

  private constructor(
    private readonly socket: Socket,
    private readonly media: RemoteMedia,
    localAddress: string,
    localPort: number,
  ) {
    this.remote = { address: media.address, port: media.port };
    this.answer = buildAnswer(media, localAddress, localPort, Date.now() % 1_000_000_000);
    socket.on('message', (packet, from) => this.received(packet, from));
    socket.on('error', () => this.close());
  }

  /** Opens a session for an SDP offer; throws SdpError (answer 488) when it has no G.711 stream. */
  static async open(offer: string, options: MediaSessionOptions): Promise<MediaSession> {
    const media = parseOffer(offer);
    const socket = await bindSocket(options.address, options.ports);
    return new MediaSession(socket, media, options.address, socket.address().port);
  }

  get codec(): RemoteMedia['codec'] {
    return this.media.codec;
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  /** Plays a WAV file (8 kHz mono 16-bit) or samples; a digit interrupts it when `interruptible`. */
  async play(source: string | Int16Array, options: { interruptible?: boolean } = {}): Promise<PlayResult> {
    if (this.closedFlag) return 'closed';
    const samples = typeof source === 'string' ? await readWavFile(source) : source;
    if (this.closedFlag) return 'closed';
    if (options.interruptible && this.typedAhead.length > 0) return 'interrupted';
    this.playback?.done('interrupted');
    return new Promise<PlayResult>((resolve) => {
      this.playback = {
        samples,
        offset: 0,
        interruptible: options.interruptible === true,
        done: (result) => {
          this.playback = undefined;
          resolve(result);
        },
      };
      this.schedule();
    });
  }

  /** A sine tone (the beep before a recording). */
  tone(frequency: number, ms: number): Promise<PlayResult> {
    const count = Math.round((ms * SAMPLE_RATE) / 1000);
    const samples = new Int16Array(count);
    for (let i = 0; i < count; i++)
      samples[i] = Math.round(12_000 * Math.sin((2 * Math.PI * frequency * i) / SAMPLE_RATE));
    return this.play(samples);
  }

  /**
   * Up to `max` digits; stops early at `terminator` (not returned), when no digit came for
   * `timeoutMs` (the first) / `interDigitMs` (the next ones), or when the session closes.
   */
  async collectDigits(options: {
    max: number;
    timeoutMs: number;
    interDigitMs?: number;
    terminator?: string;
  }): Promise<string> {
    let digits = '';
    while (digits.length < options.max && !this.closedFlag) {
      const digit = await this.nextDigit(
        digits.length === 0 ? options.timeoutMs : (options.interDigitMs ?? options.timeoutMs),
      );
      if (digit === undefined) break;
      if (options.terminator?.includes(digit)) break;
      digits += digit;
    }
    return digits;
  }

  /** The next digit typed (type-ahead first), undefined after `timeoutMs` or when closed. */
  nextDigit(timeoutMs: number): Promise<string | undefined> {
    const queued = this.typedAhead.shift();
    if (queued !== undefined || this.closedFlag) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.digitWaiter = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.digitWaiter = () => {
        clearTimeout(timer);
        this.digitWaiter = undefined;
        resolve(this.typedAhead.shift());
      };
    });
  }

  /** Forgets digits typed ahead (before a prompt whose answer must be typed after it). */
  clearDigits(): void {
    this.typedAhead.length = 0;
  }

  /**
   * Records what the far end sends into a WAV file at `path`, at most `maxSeconds`; a digit of
   * `stopDigits` ends it (not recorded beyond). The file is written when the recording ends, also
   * when the caller hangs up.
   */
  async record(path: string, options: { maxSeconds: number; stopDigits?: string }): Promise<RecordResult> {
    const result = await new Promise<Omit<RecordResult, 'durationMs'>>((resolve) => {
      if (this.closedFlag) return resolve({ stoppedBy: 'closed' });
      this.recording = {
        chunks: [],
        samples: 0,
        maxSamples: Math.max(1, Math.round(options.maxSeconds * SAMPLE_RATE)),
        stopDigits: options.stopDigits ?? '',
        lastTimestamp: undefined,
        done: (r) => {
          this.recording = undefined;
          resolve(r);
        },
      };
    });
    const recording = this.lastRecording;
    this.lastRecording = undefined;
    const chunks = recording?.chunks ?? [];
    const samples = recording?.samples ?? 0;
    await writeWavFile(path, chunks);
    return { ...result, durationMs: Math.round((samples * 1000) / SAMPLE_RATE) };
  }

  private lastRecording: Recording | undefined;

  /** Ends a running recording (e.g. an application's own timer). */
  stopRecording(): void {
    this.finishRecording({ stoppedBy: 'stopped' });
  }

  /** Ends the media: playback and recording finish, waiters return; the socket closes. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    clearTimeout(this.timer);
    this.playback?.done('closed');
    this.finishRecording({ stoppedBy: 'closed' });
    this.digitWaiter?.();
    try {
      this.socket.close();
    } catch {
      // already closed after a socket error
    }
    this.resolveClosed();
  }

  private finishRecording(result: Omit<RecordResult, 'durationMs'>): void {
    const recording = this.recording;
    if (!recording) return;
    this.lastRecording = recording;
    recording.done(result);
  }

  private received(packet: Buffer, from: RemoteInfo): void {
    if (this.closedFlag) return;
    const rtp = parseRtp(packet);
    if (!rtp) return;
    // Symmetric RTP (RFC 4961): answer where the media comes from, which is the relay's port.
    if (from.address !== this.remote.address || from.port !== this.remote.port)
      this.remote = { address: from.address, port: from.port };
    if (rtp.payloadType === this.media.eventPayloadType) {
      this.telephoneEvent(rtp.payload, rtp.timestamp);
      return;
    }
    if (rtp.payloadType !== this.media.payloadType) return;
    const recording = this.recording;
    if (!recording) return;
    const samples = decodeG711(this.media.codec, rtp.payload);
    // Lost or silence-suppressed packets: their time is kept as silence, so the duration is true.
    if (recording.lastTimestamp !== undefined) {
      const gap = ((rtp.timestamp - recording.lastTimestamp) >>> 0) - samples.length;
      if (gap > 0 && gap <= MAX_GAP_SAMPLES) this.append(recording, new Int16Array(gap));
      else if (gap > 0x7fff_ffff) return; // late or duplicate packet
    }
    recording.lastTimestamp = rtp.timestamp;
    this.append(recording, samples);
  }

  private append(recording: Recording, samples: Int16Array): void {
    const room = recording.maxSamples - recording.samples;
    const taken = samples.length > room ? samples.subarray(0, room) : samples;
    recording.chunks.push(Int16Array.from(taken));
    recording.samples += taken.length;
    if (recording.samples >= recording.maxSamples) this.finishRecording({ stoppedBy: 'max-length' });
  }

  /** RFC 4733 §2.5.1: one event is several packets with the same timestamp; it counts once. */
  private telephoneEvent(payload: Buffer, timestamp: number): void {
    const event = parseTelephoneEvent(payload);
    if (!event || timestamp === this.lastEventTimestamp) return;
    this.lastEventTimestamp = timestamp;
    const digit = digitOf(event.event);
    if (digit) this.pressDigit(digit);
  }

  /**
   * A key the caller pressed: what an RFC 4733 event becomes, and the one way in for keys signalled
   * otherwise (SIP INFO, read by the signalling side). A recording's stop digit ends it (others are
   * ignored while recording); otherwise the key is kept for the next `nextDigit` and interrupts an
   * interruptible prompt.
   */
  pressDigit(digit: string): void {
    if (this.closedFlag) return;
    if (this.recording) {
      if (this.recording.stopDigits.includes(digit)) this.finishRecording({ stoppedBy: 'digit', digit });
      return;
    }
    if (this.typedAhead.length < 32) this.typedAhead.push(digit);
    if (this.playback?.interruptible) this.playback.done('interrupted');
    this.digitWaiter?.();
  }

  /** Sends the frame of each 20 ms slot of wall-clock time while something plays. */
  private schedule(): void {
    if (this.timer || this.closedFlag) return;
    const tick = (): void => {
      this.timer = undefined;
      if (this.closedFlag || !this.playback) return;
      const elapsedMs = Number((process.hrtime.bigint() - this.startedAt) / 1_000_000n);
      const slot = Math.floor(elapsedMs / FRAME_MS);
      // After silence, or far behind on a loaded machine: start at the current slot; a little
      // behind: send what is due (at most a few frames at once).
      if (this.nextSlot < slot - 4) this.nextSlot = slot;
      while (this.nextSlot <= slot && this.playback) this.sendFrame(this.playback, this.nextSlot++);
      if (this.playback) this.timer = setTimeout(tick, this.nextSlot * FRAME_MS - elapsedMs);
    };
    tick();
  }

  private sendFrame(playback: Playback, slot: number): void {
    const frame = new Int16Array(FRAME_SAMPLES);
    frame.set(playback.samples.subarray(playback.offset, playback.offset + FRAME_SAMPLES));
    const first = playback.offset === 0;
    playback.offset += FRAME_SAMPLES;
    if (this.media.direction === 'sendrecv' || this.media.direction === 'recvonly') {
      const packet = buildRtp({
        payloadType: this.media.payloadType,
        // RFC 3551 §4.1: the marker starts a talkspurt.
        marker: first,
        sequence: this.sequence,
        // The timestamp follows the wall clock, so the silence between prompts keeps it continuous.
        timestamp: (this.timestampBase + slot * FRAME_SAMPLES) >>> 0,
        ssrc: this.ssrc,
        payload: encodeG711(this.media.codec, frame),
      });
      this.sequence = (this.sequence + 1) & 0xffff;
      this.socket.send(packet, this.remote.port, this.remote.address);
    }
    if (playback.offset >= playback.samples.length) playback.done('done');
  }
}

async function bindSocket(address: string, ports: MediaSessionOptions['ports']): Promise<Socket> {
  const type = address.includes(':') ? 'udp6' : 'udp4';
  const attempts = ports ? Math.min(50, ports.max - ports.min + 1) : 1;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    // RTP on an even port (RFC 3550 §11).
    const port = ports ? ports.min + 2 * Math.floor((Math.random() * (ports.max - ports.min + 1)) / 2) : 0;
    const socket = createSocket(type);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, address, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      return socket;
    } catch (error) {
      lastError = error;
      socket.close();
    }
  }
  throw lastError instanceof Error ? lastError : new Error('no free RTP port');
}
