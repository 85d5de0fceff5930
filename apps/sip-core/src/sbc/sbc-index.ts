import type { PrismaClient } from '@switchboard/db';
import type { CodecPolicy } from '@switchboard/media';
import {
  type CompiledHeaderRule,
  compileHeaderRule,
  type HeaderRuleData,
  type HeaderRuleDirection,
} from '@switchboard/numbering';
import type { Logger } from 'pino';
import { CoalescedLoad } from '../coalesced-load.ts';
import { type CodecPolicyRow, effectiveCodecPolicy, type PeerCodecRow } from './codec-policy.ts';

/** The tables this index follows; a change to any of them reloads it (they are small). */
export const SBC_TABLES = [
  'header_rule_sets',
  'header_rules',
  'header_rule_bindings',
  'peer_policies',
  'domains',
];

/** Call admission limits of one gateway or peering group; undefined: unlimited. */
export interface PeerLimits {
  maxConcurrentCalls?: number | undefined;
  maxCallsPerSecond?: number | undefined;
  maxCallDuration?: number | undefined;
}

/** What the SBC does for calls through one gateway. */
export interface PeerPolicyView {
  topologyHiding: boolean;
  gateway: PeerLimits;
  group: PeerLimits;
  /** Codec policy of offers towards the gateway; undefined: the caller's codecs pass. */
  codecs?: CodecPolicy | undefined;
}

interface Binding {
  ruleSetId: string;
  direction: HeaderRuleDirection;
  priority: number;
}

interface Policy extends PeerLimits {
  topologyHiding: boolean | null;
  codecs: PeerCodecRow;
}

function codecRowOf(row: CodecPolicyRow): CodecPolicyRow {
  const { codecAllow, codecStrip, codecMask, codecTranscode, ptime, dtmfEvents } = row;
  return { codecAllow, codecStrip, codecMask, codecTranscode, ptime, dtmfEvents };
}

function limitsOf(row: {
  maxConcurrentCalls: number | null;
  maxCallsPerSecond: number | null;
  maxCallDuration: number | null;
}): PeerLimits {
  return {
    maxConcurrentCalls: row.maxConcurrentCalls ?? undefined,
    maxCallsPerSecond: row.maxCallsPerSecond ?? undefined,
    maxCallDuration: row.maxCallDuration ?? undefined,
  };
}

/**
 * Header rule sets with their bindings, and the peers' topology hiding and admission limits, held in
 * memory so that a call reads no table for them (docs/sbc.md). Loaded at start and again whenever one
 * of {@link SBC_TABLES} changes (several changes in a burst load once more, not once each). A rule
 * that does not compile (saved before validation, or by hand) is left out and logged.
 */
export class SbcIndex {
  private rulesBySet = new Map<string, CompiledHeaderRule[]>();
  private byGroup = new Map<string, Binding[]>();
  private byGateway = new Map<string, Binding[]>();
  private byDomain = new Map<string, Binding[]>();
  private gatewayPolicies = new Map<string, Policy>();
  private groupPolicies = new Map<string, Policy>();
  /** Each domain's codec policy towards carriers, by lower-case domain name. */
  private domainCodecs = new Map<string, CodecPolicyRow>();
  private readonly reload = new CoalescedLoad(() => this.load());

  constructor(
    private readonly prisma: PrismaClient,
    private readonly log: Logger,
  ) {}

  async load(): Promise<void> {
    const [rules, bindings, policies, domains] = await Promise.all([
      this.prisma.headerRule.findMany(),
      this.prisma.headerRuleBinding.findMany(),
      this.prisma.peerPolicy.findMany(),
      this.prisma.domain.findMany({
        select: {
          id: true,
          name: true,
          codecAllow: true,
          codecStrip: true,
          codecMask: true,
          codecTranscode: true,
          ptime: true,
          dtmfEvents: true,
        },
      }),
    ]);
    const rulesBySet = new Map<string, CompiledHeaderRule[]>();
    for (const row of [...rules].sort((a, b) => a.priority - b.priority || a.id.localeCompare(b.id))) {
      if (!row.enabled) continue;
      try {
        const compiled = compileHeaderRule(row as HeaderRuleData);
        rulesBySet.set(row.ruleSetId, [...(rulesBySet.get(row.ruleSetId) ?? []), compiled]);
      } catch (error) {
        this.log.warn({ err: error, rule: row.id }, 'header rule left out: it does not compile');
      }
    }
    const domainNames = new Map(domains.map((d) => [d.id, d.name.toLowerCase()]));
    const byGroup = new Map<string, Binding[]>();
    const byGateway = new Map<string, Binding[]>();
    const byDomain = new Map<string, Binding[]>();
    const add = (map: Map<string, Binding[]>, key: string, binding: Binding) =>
      map.set(
        key,
        [...(map.get(key) ?? []), binding].sort((a, b) => a.priority - b.priority),
      );
    for (const row of bindings) {
      const binding = { ruleSetId: row.ruleSetId, direction: row.direction, priority: row.priority };
      if (row.gatewayId) add(byGateway, row.gatewayId, binding);
      else if (row.peeringGroupId) add(byGroup, row.peeringGroupId, binding);
      else if (row.domainId) {
        const name = domainNames.get(row.domainId);
        if (name) add(byDomain, name, binding);
      }
    }
    const gatewayPolicies = new Map<string, Policy>();
    const groupPolicies = new Map<string, Policy>();
    for (const row of policies) {
      const codecs = { ...codecRowOf(row), dtmfInfo: row.dtmfInfo };
      const policy = { ...limitsOf(row), topologyHiding: row.topologyHiding, codecs };
      if (row.gatewayId) gatewayPolicies.set(row.gatewayId, policy);
      else if (row.peeringGroupId) groupPolicies.set(row.peeringGroupId, policy);
    }
    this.rulesBySet = rulesBySet;
    this.byGroup = byGroup;
    this.byGateway = byGateway;
    this.byDomain = byDomain;
    this.gatewayPolicies = gatewayPolicies;
    this.groupPolicies = groupPolicies;
    this.domainCodecs = new Map(domains.map((d) => [d.name.toLowerCase(), codecRowOf(d)]));
    this.log.debug(
      { rules: rules.length, bindings: bindings.length, policies: policies.length },
      'sbc loaded',
    );
  }

  /** A change of one of {@link SBC_TABLES}: load again (once more after a load under way). */
  onChanged(): Promise<void> {
    return this.reload.run();
  }

  /**
   * The header rules of a request to (outbound) or from (inbound) a gateway: the rule sets bound to
   * the domain, then to the gateway's peering group, then to the gateway, each list in binding
   * priority; the most specific runs last and has the last word.
   */
  rulesFor(
    direction: HeaderRuleDirection,
    peer: { gatewayId?: string | undefined; groupId?: string | undefined },
    domain?: string | undefined,
  ): CompiledHeaderRule[] {
    const bindings = [
      ...(domain ? (this.byDomain.get(domain.toLowerCase()) ?? []) : []),
      ...(peer.groupId ? (this.byGroup.get(peer.groupId) ?? []) : []),
      ...(peer.gatewayId ? (this.byGateway.get(peer.gatewayId) ?? []) : []),
    ];
    return bindings
      .filter((binding) => binding.direction === direction)
      .flatMap((binding) => this.rulesBySet.get(binding.ruleSetId) ?? []);
  }

  /**
   * Topology hiding (the gateway's choice, else its group's, else on), both their limits, and the
   * codec policy towards the gateway (each field the gateway's, else its group's, else the calling
   * `domain`'s).
   */
  policyOf(
    gatewayId: string | undefined,
    groupId: string | undefined,
    domain?: string | undefined,
  ): PeerPolicyView {
    const gateway = gatewayId ? this.gatewayPolicies.get(gatewayId) : undefined;
    const group = groupId ? this.groupPolicies.get(groupId) : undefined;
    const codecs = effectiveCodecPolicy(
      gateway?.codecs,
      group?.codecs,
      domain ? this.domainCodecs.get(domain.toLowerCase()) : undefined,
    );
    return {
      topologyHiding: gateway?.topologyHiding ?? group?.topologyHiding ?? true,
      gateway: gateway ?? {},
      group: group ?? {},
      ...(codecs ? { codecs } : {}),
    };
  }
}
