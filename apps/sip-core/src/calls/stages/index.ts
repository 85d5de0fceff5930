import type { Middleware } from '../../sip/request.ts';
import { admit } from './admit.ts';
import { attendantStage } from './attendant-stage.ts';
import { classify } from './classify.ts';
import { connect } from './connect.ts';
import { credit } from './credit.ts';
import { creditLimit } from './credit-limit.ts';
import type { InviteDeps } from './deps.ts';
import { fraudScreen } from './fraud-screen.ts';
import { peerDialog } from './peer-dialog.ts';
import { peerRules } from './peer-rules.ts';
import { present } from './present.ts';
import { resolve } from './resolve.ts';
import { srtpPolicy } from './srtp-policy.ts';
import { voicemailAccess } from './voicemail-access.ts';
import { wake } from './wake.ts';

export type { InviteDeps } from './deps.ts';

/**
 * The stages of a new call after the caller is known (docs/architecture.md, "The INVITE stages"),
 * each filling its part of one `InvitePlan`. A new feature is a new stage here, or a step in one.
 */
export function inviteStages(deps: InviteDeps): Middleware[] {
  return [
    peerRules(deps),
    classify(deps),
    srtpPolicy(deps),
    creditLimit(deps),
    voicemailAccess(deps),
    resolve(deps),
    peerDialog(deps),
    admit(deps),
    fraudScreen(deps),
    credit(deps),
    present(deps),
    wake(deps),
    attendantStage(deps),
    connect(deps),
  ];
}
