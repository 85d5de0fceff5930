/**
 * drachtio-srf's test bed (its test/docker-compose-testbed.yaml) laid out on loopback: every container of
 * the docker network 172.29.0.0/16 becomes the same last octet in 127.29.0.0/16, all SIP on one port. The
 * two drachtio servers become two engines; the sipp containers become local sipp processes.
 */

/**
 * The SIP port of every host of the test bed (5060 upstream; another port keeps clear of a real SIP server).
 * UPSTREAM_SIP_PORT moves it, so that a differential run does not meet a concurrent run of this suite.
 */
export const SIP_PORT = Number(process.env.UPSTREAM_SIP_PORT ?? 29060);

/** Upstream's drachtio-server under test (`drachtio-sut`) and the second server (`drachtio-uas`). */
export const SUT_ADDRESS = '127.29.0.10';
export const UAS_ENGINE_ADDRESS = '127.29.0.19';

/** Where the tests' own sipp UACs send from (upstream: a container with an address docker picks). */
export const UAC_ADDRESS = '127.29.0.2';
export const UAC_PORT_BASE = 29100;

/** A sipp UAS of the test bed: its host name, address and scenario (upstream: one container each). */
export interface SippUasHost {
  name: string;
  address: string;
  /** Scenario the host runs for the whole suite; none for a host a test starts itself. */
  scenario?: string;
}

export const SIPP_UAS_HOSTS: SippUasHost[] = [
  { name: 'sipp-uas-cancel', address: '127.29.0.12', scenario: 'uas-cancel.xml' },
  { name: 'sipp-uas', address: '127.29.0.13', scenario: 'uas.xml' },
  { name: 'sipp-uas-404', address: '127.29.0.14', scenario: 'uas-404.xml' },
  { name: 'sipp-uas-auth', address: '127.29.0.15', scenario: 'uas-auth.xml' },
  { name: 'sipp-uas-auth-register', address: '127.29.0.16', scenario: 'uas-auth-register.xml' },
  {
    name: 'sipp-uas-auth-register-no-realm',
    address: '127.29.0.17',
    scenario: 'uas-auth-register-no-realm.xml',
  },
  { name: 'sipp-uas-refer', address: '127.29.0.18', scenario: 'uas-refer.xml' },
  { name: 'sipp-uas-fast-reinvite', address: '127.29.0.20', scenario: 'uas-reinvite.xml' },
  { name: 'sipp-uas-reinvite-overlap', address: '127.29.0.21', scenario: 'uas-reinvite-overlap.xml' },
  { name: 'sipp-uas-302', address: '127.29.0.22', scenario: 'uas-302.xml' },
  { name: 'sipp-uas-prack', address: '127.29.0.23', scenario: 'uas-prack.xml' },
  { name: 'sipp-uas-bye-with-auth', address: '127.29.0.24', scenario: 'uas-bye-with-auth.xml' },
  { name: 'sipp-uas-reinvite-with-auth', address: '127.29.0.25', scenario: 'uas-reinvite-with-auth.xml' },
  { name: 'sipp-uas-options', address: '127.29.0.26', scenario: 'uas-options-expect-200.xml' },
  { name: 'sipp-uas-407-no-auth-header', address: '127.29.0.27', scenario: 'uas-407-no-auth-header.xml' },
  {
    name: 'sipp-uas-200-ok-no-contact-cancel',
    address: '127.29.0.28',
    scenario: 'uas-200-ok-no-contact-cancel.xml',
  },
  { name: 'sipp-uas-fast-update', address: '127.29.0.29', scenario: 'uas-update-with-sdp.xml' },
  // b2b.js starts this one itself (sippUas('uas.xml', 'sipp-uas-b-teardown')).
  { name: 'sipp-uas-b-teardown', address: '127.29.0.30' },
];

/** Every host name of the test bed and the `address:port` it stands for. */
export function hostMap(): Map<string, string> {
  const map = new Map<string, string>();
  for (const host of SIPP_UAS_HOSTS) map.set(host.name, `${host.address}:${SIP_PORT}`);
  map.set('drachtio-sut', `${SUT_ADDRESS}:${SIP_PORT}`);
  map.set('drachtio-uas', `${UAS_ENGINE_ADDRESS}:${SIP_PORT}`);
  return map;
}
