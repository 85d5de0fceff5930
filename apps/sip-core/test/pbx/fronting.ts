import type { PrismaClient } from '@switchboard/db';
import { allocatePort, expectSippOk, runSipp } from '../calls/support/sipp.ts';
import type { CallStack } from '../calls/support/stack.ts';
import type { KamailioPbx } from './kamailio.ts';

/**
 * Makes `domain` a fronted domain (docs/sbc.md, "Fronting a PBX"): a peering group and a gateway for
 * the PBX, and the domain served by that gateway instead of our registrar. Returns the gateway's id.
 */
export async function frontDomain(prisma: PrismaClient, pbx: KamailioPbx, domain: string): Promise<string> {
  const group = await prisma.peeringGroup.create({ data: { name: 'pbx' } });
  const gateway = await prisma.peerGateway.create({
    data: { groupId: group.id, name: 'kamailio', host: pbx.address, port: pbx.port, priority: 1 },
  });
  await prisma.domain.create({ data: { name: domain, upstreamGatewayId: gateway.id } });
  return gateway.id;
}

/**
 * A sipp phone of the fronted `domain` on `address` registers through the platform to its PBX (the
 * PBX's digest answered end to end); resolves with the phone's port for the scenarios it runs next.
 */
export async function registerThroughPlatform(
  stack: CallStack,
  phone: { user: string; password: string; address: string; domain: string },
): Promise<number> {
  const port = await allocatePort();
  const register = runSipp({
    scenario: 'register.xml',
    port,
    localIp: phone.address,
    remote: stack.sipAddress,
    fields: [phone.user, `[authentication username=${phone.user} password=${phone.password}]`, phone.domain],
    authUri: phone.domain,
    timeoutS: 10,
  });
  expectSippOk(await register.done, `${phone.user} registers through the platform`);
  return port;
}
