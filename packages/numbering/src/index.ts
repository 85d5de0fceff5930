export type { EnumListenAddress, EnumLookup, EnumServer } from './enum.ts';
export {
  EnumResponder,
  enumNameToNumber,
  numberToEnumName,
  parseEnumListen,
  startEnumServer,
} from './enum.ts';
export type { NumberingErrorCode } from './errors.ts';
export { NumberingError } from './errors.ts';
export type { FollowOptions, IndexFollower, ReloadInfo } from './follow.ts';
export { followDatabase, NUMBERING_TABLES } from './follow.ts';
export type {
  CompiledHeaderRule,
  HeaderRuleAction,
  HeaderRuleData,
  HeaderRuleDirection,
  HeaderRuleStep,
  RuleContext,
  RuleMessage,
} from './header-rules.ts';
export {
  applyHeaderRules,
  compileHeaderRule,
  compileHeaderRules,
  HEADER_RULE_ACTIONS,
  HeaderRuleError,
} from './header-rules.ts';
export { createLookupHandler } from './http.ts';
export type { LcrTable, Rng, RouteTarget } from './lcr.ts';
export {
  buildLcrTable,
  DEFAULT_MAX_GATEWAYS,
  isCalleeAllowed,
  selectRoutes,
  validatePeeringRule,
  weightedOrder,
} from './lcr.ts';
export { loadNumberingData } from './loader.ts';
export type {
  DialPlan,
  DialPlanSettings,
  NormalisedNumber,
  NormaliseOptions,
  NumberParts,
} from './normalise.ts';
export {
  DEFAULT_EMERGENCY_NUMBERS,
  isEmergency,
  MAX_DIALLED_LENGTH,
  normaliseNumber,
  parseE164,
  validateDialPlanSettings,
  validatePhoneNumber,
} from './normalise.ts';
export type {
  AttendantNumber,
  CallerPresentation,
  HuntGroupNumber,
  LcrRequest,
  LcrResult,
  LoadProblem,
  NumberMapping,
} from './numbering-index.ts';
export { NumberingIndex } from './numbering-index.ts';
export type { PeerSource } from './peer-sources.ts';
export { PeerSourceTable } from './peer-sources.ts';
export type { SafePattern } from './regex.ts';
export { checkPattern, isSafePattern, MAX_PATTERN_LENGTH } from './regex.ts';
export type { CompiledRuleSet, RewriteResult, RewriteStep, RewriteVariables } from './rewrite.ts';
export {
  applyRewrite,
  compileRuleSet,
  parseReplacement,
  REWRITE_VARIABLES,
  validateRewriteRule,
} from './rewrite.ts';
export {
  applyRoutingPlan,
  PrefixRates,
  type RoutingPlan,
  type SkippedRoute,
} from './routing-plan.ts';
export type { NumberingService, NumberingServiceOptions } from './service.ts';
export { DEFAULT_ENUM_LISTEN, DEFAULT_NUMBERING_PORT, startNumberingService } from './service.ts';
export type { NumberingConfig, NumberingDeps, RunningNumbering } from './start.ts';
export { start } from './start.ts';
export * from './types.ts';
