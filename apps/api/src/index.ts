export { buildApp, type RunningApi, type StartApiConfig, startApi } from './app.ts';
export { base32Decode, hotp, totpStep } from './auth/totp.ts';
export {
  type CreditControl,
  type CreditControlOptions,
  type CreditDecision,
  type CreditRequest,
  startCreditControl,
} from './billing/credit/credit-control.ts';
export type { ScreenDecision, ScreenRequest } from './billing/credit/fraud-screen.ts';
export { type CreditNotifier, startCreditNotifier } from './billing/credit/notify.ts';
export { type InvoiceJob, startInvoiceJob } from './billing/invoices/job.ts';
export { isPeak, LocalClock, type PeakPeriod } from './billing/peak.ts';
export { type Rater, type RaterOptions, startRater } from './billing/rater.ts';
export { DEFAULT_OPERATOR_EMAIL, type EnsureOperatorResult, ensureOperator } from './bootstrap.ts';
export { createLimitsOf } from './create-limits.ts';
export { ApiError, PROBLEM_CONTENT_TYPE, Problem } from './errors.ts';
export { type Mailer, smtpMailer } from './mail.ts';
export { type SipConnection, sipConnectionOf } from './sip-connection.ts';
export type { ActiveCall, ApiDeps, ApiLimits, ComponentHealth, Principal, Role } from './types.ts';
