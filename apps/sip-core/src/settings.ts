import {
  SETTINGS,
  type SettingValue,
  settingDefinition,
  settingProblem,
  settingsConflict,
} from '@switchboard/config';
import type { PrismaClient } from '@switchboard/db';
import type { Logger } from 'pino';
import type { BanService } from './access/ban-service.ts';
import type { RateLimiter } from './access/rate-limiter.ts';
import type { CallsConfig } from './calls/calls-config.ts';
import { CoalescedLoad } from './coalesced-load.ts';
import type { SipCoreConfig } from './config.ts';
import { configureMessageLimiter, type MessagesConfig } from './messages/messages-config.ts';

/**
 * The call settings an environment variable fixes (`Config.environmentSettings`, e.g.
 * `PUSH_WAIT_TIMEOUT`) as sip-core's start values for them.
 */
export function callsFromEnvironment(fixed: ReadonlyMap<string, SettingValue>): Partial<CallsConfig> {
  const calls: Record<string, SettingValue> = {};
  for (const [key, value] of fixed) if (key.startsWith('calls.')) calls[key.slice('calls.'.length)] = value;
  return calls as Partial<CallsConfig>;
}

/** What operator settings change: the configuration objects the chains read per request, and two services. */
export interface SettingTargets {
  config: SipCoreConfig;
  calls: CallsConfig;
  limiter: RateLimiter;
  bans: BanService;
  messages: MessagesConfig;
  /** Per sending subscriber, following `messages.ratePerMinute`. */
  messageLimiter: RateLimiter;
}

type Section = Record<string, unknown>;

function sectionOf(targets: SettingTargets, key: string): [Section, string] {
  const [section = '', field = ''] = key.split('.');
  const sections: Record<string, Section> = {
    access: targets.config.access as unknown as Section,
    registrar: targets.config.registrar as unknown as Section,
    auth: targets.config.auth as unknown as Section,
    calls: targets.calls as unknown as Section,
    presence: targets.config.presence as unknown as Section,
    messages: targets.messages as unknown as Section,
  };
  const target = sections[section];
  if (!target) throw new Error(`setting ${key} has no section in sip-core`);
  return [target, field];
}

/**
 * Operator settings stored in the `settings` table, applied live: on start and on every change the feed
 * announces, the whole (small) table is read again and each setting becomes its stored value, or the
 * value sip-core was started with when there is none. A setting fixed by an environment variable keeps
 * the environment's value whatever the table says. A stored value that is out of bounds (written by hand)
 * is logged and ignored.
 */
export class LiveSettings {
  /** Values sip-core was started with (options, environment or defaults). */
  private readonly base = new Map<string, SettingValue>();
  private readonly reload = new CoalescedLoad(() => this.loadOnce());

  constructor(
    private readonly prisma: PrismaClient,
    private readonly targets: SettingTargets,
    private readonly fixed: ReadonlySet<string>,
    private readonly log: Logger,
  ) {
    for (const s of SETTINGS) {
      // Settings of the web sign-in are the API's business.
      if (s.component === 'api') continue;
      const [section, field] = sectionOf(targets, s.key);
      const value = section[field];
      this.base.set(s.key, Array.isArray(value) ? [...value] : (value as SettingValue));
    }
  }

  /** Reads the table and applies it; calls made while a load runs are folded into one more load. */
  load(): Promise<void> {
    return this.reload.run();
  }

  private async loadOnce(): Promise<void> {
    const rows = await this.prisma.setting.findMany({ select: { id: true, value: true } });
    const next = new Map(this.base);
    for (const row of rows) {
      const definition = settingDefinition(row.id);
      // A key this version does not know (written by a newer one) or one the environment fixes.
      if (!definition || definition.component === 'api' || this.fixed.has(row.id)) continue;
      const problem = settingProblem(definition, row.value);
      if (problem) {
        this.log.warn({ setting: row.id, problem }, 'stored setting ignored');
        continue;
      }
      next.set(row.id, row.value as SettingValue);
    }
    const conflict = settingsConflict(next);
    if (conflict) {
      this.log.warn({ problem: conflict }, 'stored settings ignored');
      return;
    }
    this.apply(next);
  }

  private apply(values: ReadonlyMap<string, SettingValue>): void {
    const changed: Record<string, SettingValue> = {};
    for (const [key, value] of values) {
      const [section, field] = sectionOf(this.targets, key);
      if (JSON.stringify(section[field]) === JSON.stringify(value)) continue;
      section[field] = Array.isArray(value) ? [...value] : value;
      changed[key] = value;
    }
    if (Object.keys(changed).length === 0) return;
    const { access } = this.targets.config;
    this.targets.limiter.configure(access.rateLimitPerSecond, access.rateLimitBurst);
    this.targets.bans.setTrusted(access.trustedSources);
    configureMessageLimiter(this.targets.messageLimiter, this.targets.messages);
    this.log.info({ changed }, 'settings applied');
  }
}
