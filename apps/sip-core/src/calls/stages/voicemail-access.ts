import type { Middleware } from '../../sip/request.ts';
import { parsedOf } from '../../sip/request.ts';
import { ENDPOINT_PROFILE } from '../../voicemail/voicemail.ts';
import { Call } from '../call.ts';
import { callDeps, type InviteDeps, planOf, refuse } from './deps.ts';

/**
 * A subscriber dialling the voicemail access code (its domain's, else the platform's `*98`) reaches its own box: PIN, then
 * the menu (voicemail/retrieval.ts), answered by the media endpoint. Every other call goes on to
 * `resolve`. Not counted for the concurrency limits: it is the subscriber talking to the platform.
 */
export function voicemailAccess(deps: InviteDeps): Middleware {
  return async (req, res, next) => {
    const voicemail = deps.voicemail;
    const plan = planOf(req);
    const caller = plan.caller;
    if (!voicemail || !caller) return next();
    // The caller's domain's own code (domains.voicemail_access_code), else the platform's.
    const code = deps.directory.voicemailAccessCode(caller.domainId) ?? voicemail.accessCode;
    if (parsedOf(req).requestUri.userText !== code) return next();
    if (!req.srf) return next(new Error('INVITE without its drachtio-srf request and response'));
    const aor = `sip:${caller.username}@${caller.domain}`;
    plan.refused.calleeRouted = aor;
    plan.refused.callerRouted = aor;
    const box = await voicemail.boxOf(caller.id);
    if (!box) return refuse(deps, res, plan, 404, 'Not Found');
    const stage = {
      from: `<${aor}>`,
      to: `<${aor}>`,
      calleeSubscriberId: caller.id,
      calleeCustomerId: caller.customerId,
      calleeRouted: aor,
    };
    const call = new Call(
      req.srf.req,
      req.srf.res,
      {
        ...stage,
        targets: [],
        ringTimeoutS: deps.config.ringTimeout,
        callerProfile: plan.callerProfile,
        cdr: plan.cdr,
        callerRouted: aor,
        route: (c) => c.answerLocally(stage, voicemail.retrievalApp(caller, box), ENDPOINT_PROFILE),
      },
      callDeps(deps),
    );
    await call.run(deps.calls.add(call));
  };
}
