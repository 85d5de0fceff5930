import {
  Invitation,
  Inviter,
  type Message,
  Messager,
  Registerer,
  RegistererState,
  type Session,
  SessionState,
  UserAgent,
  type Web,
} from 'sip.js';

/** One subscriber's account as the browser phone registers it. */
export interface PhoneAccount {
  username: string;
  domain: string;
  displayName?: string | null | undefined;
  /** Hex MD5(username:realm:password): the platform keeps no password, only its digests. */
  ha1: string;
  /** `wss://host:port` of the engine's secure WebSocket listener. */
  server: string;
}

export type PhoneStatus = 'connecting' | 'registered' | 'unregistered' | 'unreachable';
export type CallStatus = 'idle' | 'incoming' | 'calling' | 'ringing' | 'active' | 'ended';

export interface CallView {
  status: CallStatus;
  /** The other party (Request-URI dialled, or the caller's identity). */
  peer: string;
  outgoing: boolean;
  muted: boolean;
  held: boolean;
  video: boolean;
}

export interface PhoneEvents {
  status(status: PhoneStatus, detail?: string): void;
  call(call: CallView | undefined): void;
  /** The far end's media, for the page's audio/video elements; undefined when the call ends. */
  remoteStream(stream: MediaStream | undefined): void;
  localStream(stream: MediaStream | undefined): void;
  /** An instant message (SIP MESSAGE, RFC 3428) that arrived for this account. */
  message(message: IncomingText): void;
}

export interface IncomingText {
  /** The sender's address of record, as the platform relays it in `From`. */
  from: string;
  body: string;
  receivedAt: Date;
}

/** The platform's answer to a sent MESSAGE: 200 delivered, 202 stored until the recipient registers. */
export interface SentText {
  statusCode: number;
  reason: string;
}

type SessionHandler = Web.SessionDescriptionHandler;

/** Whether an SDP offer asks for video: a browser calls with video only when both sides offer it. */
function offersVideo(sdp: string | undefined): boolean {
  return sdp !== undefined && /^m=video [1-9]/m.test(sdp);
}

/**
 * A SIP user agent in the browser (SIP over WebSocket, RFC 7118; media over WebRTC): registers one
 * account and places or takes one call at a time. The relay on the platform bridges its DTLS-SRTP
 * media to plain RTP phones.
 */
export class SipPhone {
  private readonly ua: UserAgent;
  private readonly registerer: Registerer;
  private session: Session | undefined;
  private view: CallView | undefined;
  private audioInput: string | undefined;

  constructor(
    account: PhoneAccount,
    private readonly events: PhoneEvents,
  ) {
    const uri = UserAgent.makeURI(`sip:${account.username}@${account.domain}`);
    if (!uri) throw new Error(`not a SIP address: ${account.username}@${account.domain}`);
    this.ua = new UserAgent({
      uri,
      displayName: account.displayName ?? undefined,
      authorizationUsername: account.username,
      authorizationHa1: account.ha1,
      transportOptions: { server: account.server, connectionTimeout: 10 },
      logBuiltinEnabled: false,
      // No reconnection loop: the page offers "Connect" again (and the certificate hint) instead.
      reconnectionAttempts: 0,
      delegate: {
        onInvite: (invitation) => this.incoming(invitation),
        onMessage: (message) => this.incomingMessage(message),
        onDisconnect: (error) => {
          if (error) this.events.status('unreachable', error.message);
        },
      },
    });
    this.registerer = new Registerer(this.ua, { expires: 300 });
    this.registerer.stateChange.addListener((state) => {
      if (state === RegistererState.Registered) this.events.status('registered');
      if (state === RegistererState.Unregistered) this.events.status('unregistered');
    });
  }

  async start(): Promise<void> {
    this.events.status('connecting');
    try {
      await this.ua.start();
    } catch (error) {
      this.events.status('unreachable', (error as Error).message);
      return;
    }
    await this.registerer.register({
      requestDelegate: {
        onReject: (response) =>
          this.events.status(
            'unregistered',
            `${response.message.statusCode} ${response.message.reasonPhrase}`,
          ),
      },
    });
  }

  async stop(): Promise<void> {
    await this.hangUp().catch(() => undefined);
    await this.registerer.unregister().catch(() => undefined);
    await this.ua.stop();
  }

  /** The microphone used for the next call (a deviceId of `enumerateDevices`), default when undefined. */
  selectMicrophone(deviceId: string | undefined): void {
    this.audioInput = deviceId;
  }

  private constraints(video: boolean): MediaStreamConstraints {
    return { audio: this.audioInput ? { deviceId: { exact: this.audioInput } } : true, video };
  }

  /** Calls a number or a SIP user (`1001`, `bob`, `sip:bob@example.com`) of the account's domain. */
  async call(target: string, domain: string, video: boolean): Promise<void> {
    if (this.session) throw new Error('a call is already in progress');
    const uri = this.targetUri(target, domain);
    const inviter = new Inviter(this.ua, uri, {
      sessionDescriptionHandlerOptions: { constraints: this.constraints(video) },
    });
    this.track(inviter, {
      status: 'calling',
      peer: uri.toString(),
      outgoing: true,
      muted: false,
      held: false,
      video,
    });
    await inviter.invite({
      requestDelegate: {
        onProgress: (response) => {
          if (response.message.statusCode === 180 || response.message.statusCode === 183)
            this.update({ status: 'ringing' });
        },
      },
    });
  }

  /**
   * Sends a text message (SIP MESSAGE outside a dialog, RFC 3428 §4) to a number or user of the
   * account's domain; resolves with the platform's final answer (the digest challenge is answered on the way).
   */
  sendMessage(target: string, domain: string, text: string): Promise<SentText> {
    const uri = this.targetUri(target, domain);
    const messager = new Messager(this.ua, uri, text, 'text/plain');
    return new Promise<SentText>((resolve, reject) => {
      const answered = (response: { message: { statusCode?: number; reasonPhrase?: string } }) =>
        resolve({
          statusCode: response.message.statusCode ?? 0,
          reason: response.message.reasonPhrase ?? '',
        });
      messager
        .message({ requestDelegate: { onAccept: answered, onReject: answered } })
        .catch((error: unknown) => reject(error));
    });
  }

  /** A MESSAGE for this account: taken with 200 (RFC 3428 §7) and handed to the page. */
  private incomingMessage(message: Message): void {
    const request = message.request;
    void message.accept();
    this.events.message({
      from: request.from.uri.toString(),
      body: request.body ?? '',
      receivedAt: new Date(),
    });
  }

  private targetUri(target: string, domain: string) {
    const text = target.trim();
    const uri = UserAgent.makeURI(
      text.startsWith('sip:') ? text : `sip:${text.replace(/\s+/g, '')}@${domain}`,
    );
    if (!uri) throw new Error(`cannot reach '${target}'`);
    return uri;
  }

  private incoming(invitation: Invitation): void {
    if (this.session) {
      // One call at a time: a second one is busy here (RFC 3261 §21.4.24).
      void invitation.reject({ statusCode: 486 });
      return;
    }
    const video = offersVideo(invitation.body);
    const peer = invitation.remoteIdentity.uri.toString();
    this.track(invitation, { status: 'incoming', peer, outgoing: false, muted: false, held: false, video });
  }

  async answer(): Promise<void> {
    const session = this.session;
    if (!(session instanceof Invitation)) return;
    await session.accept({
      sessionDescriptionHandlerOptions: { constraints: this.constraints(this.view?.video ?? false) },
    });
  }

  async hangUp(): Promise<void> {
    const session = this.session;
    if (!session) return;
    if (session instanceof Invitation && session.state === SessionState.Initial) {
      await session.reject({ statusCode: 603 });
    } else if (session instanceof Inviter && session.state !== SessionState.Established) {
      await session.cancel();
    } else if (session.state === SessionState.Established) {
      await session.bye();
    }
  }

  setMuted(muted: boolean): void {
    this.handler()?.enableSenderTracks(!muted);
    this.update({ muted });
  }

  /** Hold and resume by re-INVITE with a sendonly / sendrecv offer (RFC 3264 §8.4). */
  async setHeld(held: boolean): Promise<void> {
    const session = this.session;
    if (!session || session.state !== SessionState.Established) return;
    session.sessionDescriptionHandlerOptionsReInvite = { hold: held } as Web.SessionDescriptionHandlerOptions;
    await session.invite({
      requestDelegate: { onAccept: () => this.update({ held }) },
    });
  }

  /** DTMF as RFC 4733 telephone-events in the RTP stream (the browser's RTCDTMFSender). */
  sendDtmf(tones: string): boolean {
    return this.handler()?.sendDtmf(tones, { duration: 160, interToneGap: 80 }) ?? false;
  }

  /** The call's peer connection (its statistics, for the page's call-quality line). */
  peerConnection(): RTCPeerConnection | undefined {
    return this.handler()?.peerConnection;
  }

  private handler(): SessionHandler | undefined {
    return this.session?.sessionDescriptionHandler as SessionHandler | undefined;
  }

  private track(session: Session, view: CallView): void {
    this.session = session;
    this.view = view;
    this.events.call(view);
    session.stateChange.addListener((state) => {
      if (this.session !== session) return;
      if (state === SessionState.Established) {
        const handler = this.handler();
        this.update({ status: 'active' });
        this.events.remoteStream(handler?.remoteMediaStream);
        this.events.localStream(handler?.localMediaStream);
      }
      if (state === SessionState.Terminated) {
        this.session = undefined;
        this.view = undefined;
        this.events.remoteStream(undefined);
        this.events.localStream(undefined);
        this.events.call(undefined);
      }
    });
  }

  private update(change: Partial<CallView>): void {
    if (!this.view) return;
    this.view = { ...this.view, ...change };
    this.events.call(this.view);
  }
}
