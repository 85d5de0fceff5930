/**
 * What sip-core adapts to in the engine it is connected to, learned from the version in the drachtio
 * `authenticate` reply: ours reports `v0.9.4-switchboard-engine`, drachtio-server a bare `vX.Y.Z`
 * (docs/engine.md, "sip-core on drachtio-server").
 */
export interface EngineTraits {
  /** Honours `X-Switchboard-Reply` (sip/reply.ts); drachtio-server would send the header on. */
  replyMode: boolean;
  /**
   * Puts its own Contact on every dialog-creating 1xx (RFC 3261 §12.1.1). drachtio-server v0.9.4 does so
   * only on a 2xx or a reliable 1xx, so on it sip-core names the early dialog's Contact itself.
   */
  contactOnProvisional: boolean;
}

/** Our engine's traits: what sip-core assumes until it has connected. */
export const OUR_ENGINE: EngineTraits = { replyMode: true, contactOnProvisional: true };

export function engineTraits(serverVersion: string | undefined): EngineTraits {
  const ours = typeof serverVersion === 'string' && serverVersion.includes('switchboard');
  return ours ? OUR_ENGINE : { replyMode: false, contactOnProvisional: false };
}
