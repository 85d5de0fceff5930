import { describe, expect, it } from 'vitest';
import { csrfToken } from '../src/api/client.ts';
import { codecPolicyValues } from '../src/components/CodecPolicyFields.tsx';
import { ForwardForm } from '../src/components/ForwardEditor.tsx';
import { bodyProperty, choices, countField, listField, textField } from '../src/components/fields.ts';
import { dialled } from '../src/components/format.ts';
import { peerLimitsValues } from '../src/components/PeerLimitsFields.tsx';
import {
  certificatePage,
  ha1FromProvisioning,
  provisioningText,
  webSocketServer,
} from '../src/components/provisioning.ts';
import { CustomerEditForm } from '../src/pages/admin/Customers.tsx';
import { hourLabels } from '../src/pages/admin/Dashboard.tsx';
import { NumberEditForm } from '../src/pages/admin/Numbers.tsx';
import { GatewayEditForm, PeeringRuleEditForm } from '../src/pages/admin/Peering.tsx';
import { RewriteRuleEditForm } from '../src/pages/admin/RewriteRules.tsx';
import { prefixList } from '../src/pages/admin/Subscribers.tsx';
import { UserEditForm, UserForm } from '../src/pages/admin/Users.tsx';
import { AddPhoneForm } from '../src/pages/portal/MySubscribers.tsx';
import { PasswordForm } from '../src/pages/portal/Password.tsx';
import { ForgotPasswordForm, ResetPasswordForm } from '../src/pages/ResetPassword.tsx';
import { SignupForm } from '../src/pages/Signup.tsx';
import { TotpConfirmForm, TotpDisableForm } from '../src/pages/TwoFactor.tsx';

describe('hourLabels', () => {
  it("labels the API's UTC hours in local time and keeps their counts", () => {
    const hour = '2026-11-26T10:00:00.000Z';
    const [label] = hourLabels([{ hour, calls: 3, answered: 2 }]);
    expect(label).toEqual({
      hour: `${String(new Date(hour).getHours()).padStart(2, '0')}:00`,
      calls: 3,
      answered: 2,
    });
  });
});

describe('dialled', () => {
  it('shows a number for a numeric user part and a URI without its parameters otherwise', () => {
    expect(dialled('sip:+4311001@voip.example.com;transport=udp')).toBe('+4311001');
    expect(dialled('<sip:0800111@10.0.0.1:5060;user=phone>')).toBe('0800111');
    expect(dialled('sip:bob@example.com;transport=tcp?X-A=b')).toBe('sip:bob@example.com');
    expect(dialled('tel:+4311002')).toBe('+4311002');
    expect(dialled('alice')).toBe('alice');
  });
});

describe('provisioningText', () => {
  it('carries the SIP URI, registrar and password a softphone needs', () => {
    const text = provisioningText({ username: 'alice', domain: 'voip.example.com', password: 's3cret-pass' });
    expect(text).toContain('sip:alice@voip.example.com');
    expect(text).toContain('Domain / registrar: voip.example.com');
    expect(text).toContain('Password: s3cret-pass');
  });
});

describe('form schemas', () => {
  it('accepts numbers and sip URIs as forward destinations and rejects anything else', () => {
    const base = { subscriberId: 'x', type: 'cfu', ringTimeout: '20' };
    expect(ForwardForm.safeParse({ ...base, destination: '+4930123456' }).success).toBe(true);
    expect(ForwardForm.safeParse({ ...base, destination: 'sip:bob@example.com' }).success).toBe(true);
    expect(ForwardForm.safeParse({ ...base, destination: 'bob; rm -rf' }).success).toBe(false);
    expect(ForwardForm.safeParse({ ...base, destination: '+4930123456', ringTimeout: '2' }).success).toBe(
      false,
    );
  });

  it('wants the current password and a 10-character new one, typed twice the same', () => {
    const ok = { current: 'old password', password: 'long enough pw', confirm: 'long enough pw' };
    expect(PasswordForm.safeParse(ok).success).toBe(true);
    expect(PasswordForm.safeParse({ ...ok, current: '' }).success).toBe(false);
    expect(PasswordForm.safeParse({ ...ok, password: 'short', confirm: 'short' }).success).toBe(false);
    expect(PasswordForm.safeParse({ ...ok, confirm: 'long enough px' }).success).toBe(false);
  });

  it('refuses SIP user names with characters a URI would need escaped', () => {
    const base = { domain: 'd.example', email: 'a@b.example', password: 'long enough pw' };
    expect(SignupForm.safeParse({ ...base, username: 'alice.smith' }).success).toBe(true);
    expect(SignupForm.safeParse({ ...base, username: 'alice smith' }).success).toBe(false);
    expect(SignupForm.safeParse({ ...base, domain: '', username: 'alice' }).success).toBe(false);
  });

  it('checks password reset, TOTP and add-phone fields by the API rules', () => {
    expect(ForgotPasswordForm.safeParse({ email: 'erin@example.org' }).success).toBe(true);
    expect(ForgotPasswordForm.safeParse({ email: 'erin' }).success).toBe(false);
    const pw = { password: 'long enough pw', confirm: 'long enough pw' };
    expect(ResetPasswordForm.safeParse(pw).success).toBe(true);
    expect(ResetPasswordForm.safeParse({ password: 'short', confirm: 'short' }).success).toBe(false);
    expect(ResetPasswordForm.safeParse({ ...pw, confirm: 'long enough px' }).success).toBe(false);
    // Six digits or a longer recovery code; fewer than six characters cannot be either.
    expect(TotpConfirmForm.safeParse({ code: '123456' }).success).toBe(true);
    expect(TotpConfirmForm.safeParse({ code: '1234' }).success).toBe(false);
    expect(TotpDisableForm.safeParse({ password: '' }).success).toBe(false);
    const phone = { domainId: '0b9c6f0e-7d1c-4c55-9a43-2c1b9f1e2d3a', username: 'desk', displayName: '' };
    expect(AddPhoneForm.safeParse(phone).success).toBe(true);
    expect(AddPhoneForm.safeParse({ ...phone, username: 'desk phone' }).success).toBe(false);
    expect(AddPhoneForm.safeParse({ ...phone, domainId: '' }).success).toBe(false);
  });
});

describe('edit form schemas', () => {
  it('gateway: port and weight within the API limits, a plain host', () => {
    const ok = {
      name: 'gw',
      host: '192.0.2.1',
      port: '5060',
      transport: 'udp',
      priority: '1',
      weight: '1',
      enabled: true,
      registerEnabled: false,
      registrarUri: '',
      registerUsername: '',
      registerPassword: '',
      registerRealm: '',
      registerExpires: '3600',
      registerOutboundProxy: '',
      registerTransport: 'udp',
      healthCheck: false,
      healthInterval: '30',
      healthThreshold: '3',
      codecs: codecPolicyValues(undefined),
      limits: peerLimitsValues(undefined),
    };
    expect(GatewayEditForm.safeParse(ok).success).toBe(true);
    expect(
      GatewayEditForm.safeParse({ ...ok, limits: { ...ok.limits, maxConcurrentCalls: 'two' } }).success,
    ).toBe(false);
    expect(GatewayEditForm.safeParse({ ...ok, codecs: { ...ok.codecs, ptime: '20ms' } }).success).toBe(false);
    expect(GatewayEditForm.safeParse({ ...ok, port: '70000' }).success).toBe(false);
    expect(GatewayEditForm.safeParse({ ...ok, weight: '-1' }).success).toBe(false);
    expect(GatewayEditForm.safeParse({ ...ok, host: 'sip:gw.example.com' }).success).toBe(false);
    expect(GatewayEditForm.safeParse({ ...ok, registrarUri: 'sip:reg.carrier.example' }).success).toBe(true);
    expect(GatewayEditForm.safeParse({ ...ok, registrarUri: 'reg.carrier.example' }).success).toBe(false);
    expect(GatewayEditForm.safeParse({ ...ok, registerTransport: 'ws' }).success).toBe(false);
    expect(GatewayEditForm.safeParse({ ...ok, healthInterval: '0' }).success).toBe(false);
  });

  it('routing rule: a digits-only callee prefix, empty matches all', () => {
    const ok = { calleePrefix: '', callerPattern: '', priority: '0', enabled: true, description: '' };
    expect(PeeringRuleEditForm.safeParse(ok).success).toBe(true);
    expect(PeeringRuleEditForm.safeParse({ ...ok, calleePrefix: '+49' }).success).toBe(false);
  });

  it('rewrite rule: needs a pattern and a known direction', () => {
    const ok = {
      direction: 'from_subscriber',
      field: 'callee',
      matchPattern: '^0(.*)$',
      replacement: '+49$1',
      priority: '100',
      enabled: true,
    };
    expect(RewriteRuleEditForm.safeParse(ok).success).toBe(true);
    expect(RewriteRuleEditForm.safeParse({ ...ok, matchPattern: '' }).success).toBe(false);
    expect(RewriteRuleEditForm.safeParse({ ...ok, direction: 'sideways' }).success).toBe(false);
  });

  it('customer limits: empty means none, numbers in range only', () => {
    const ok = {
      name: 'Acme',
      externalId: '',
      status: 'active',
      maxConcurrentCalls: '',
      maxSubscribers: '5',
      maxCallDuration: '',
    };
    expect(CustomerEditForm.safeParse(ok).success).toBe(true);
    expect(CustomerEditForm.safeParse({ ...ok, maxCallDuration: '0' }).success).toBe(false);
    expect(CustomerEditForm.safeParse({ ...ok, maxSubscribers: '2000000' }).success).toBe(false);
  });

  it('user: a new password is optional but, when given, at least 10 characters', () => {
    expect(UserEditForm.safeParse({ displayName: '', enabled: true, password: '' }).success).toBe(true);
    expect(UserEditForm.safeParse({ displayName: '', enabled: true, password: 'short' }).success).toBe(false);
  });

  it('a reseller login names its reseller', () => {
    const base = {
      email: 'r@example.org',
      password: 'long enough pw',
      displayName: '',
      resellerId: '',
      customerId: '',
    };
    expect(UserForm.safeParse({ ...base, role: 'operator' }).success).toBe(true);
    expect(UserForm.safeParse({ ...base, role: 'reseller' }).success).toBe(false);
    expect(UserForm.safeParse({ ...base, role: 'reseller', resellerId: 'r1' }).success).toBe(true);
  });

  it('prefix lists split on commas and spaces, without duplicates', () => {
    expect(prefixList(' 900, 0190  900,')).toEqual(['900', '0190']);
    expect(prefixList('')).toEqual([]);
  });

  it('a number is moved only to a chosen subscriber', () => {
    expect(NumberEditForm.safeParse({ subscriberId: '', isPrimary: true }).success).toBe(false);
  });
});

describe('session cookies', () => {
  it('finds the CSRF token among the page cookies', () => {
    expect(csrfToken('theme=dark; sb_csrf=abc-DEF_123; other=1')).toBe('abc-DEF_123');
    expect(csrfToken('sb_csrf=a%3Db')).toBe('a=b');
    expect(csrfToken('sb_csrfx=1; x_sb_csrf=2')).toBeUndefined();
    expect(csrfToken('')).toBeUndefined();
  });
});

describe('form fields from the API request-body schemas', () => {
  it('take the limits, patterns and choices the OpenAPI document states', () => {
    expect(bodyProperty('updateCustomer', 'maxCallDuration')).toEqual({
      schema: expect.objectContaining({ minimum: 1, maximum: 86_400 }),
      nullable: true,
    });
    const duration = countField('updateCustomer', 'maxCallDuration');
    expect(duration.safeParse('').success).toBe(true);
    expect(duration.safeParse('0').error?.issues[0]?.message).toBe('Between 1 and 86400');
    const areaCode = textField('updateDomain', 'areaCode', { invalid: 'Up to 6 digits' });
    expect(areaCode.safeParse('').success).toBe(true);
    expect(areaCode.safeParse('1234567').error?.issues[0]?.message).toBe('Up to 6 digits');
    const name = textField('updateReseller', 'name', { required: 'Enter a name' });
    expect(name.safeParse('  ').error?.issues[0]?.message).toBe('Enter a name');
    expect(name.safeParse('x'.repeat(129)).success).toBe(false);
    expect(textField('login', 'email', { invalid: 'e-mail' }).safeParse('no-at-sign').success).toBe(false);
    expect(choices('createUser', 'role')).toEqual(['operator', 'reseller', 'customer']);
    const prefixes = listField('updateSubscriber', 'blockedCalleePrefixes', (v) => v.split(','), 'digits');
    expect(prefixes.safeParse('49,43').success).toBe(true);
    expect(prefixes.safeParse('49,4x').success).toBe(false);
    expect(prefixes.safeParse(Array.from({ length: 101 }, (_, i) => String(i)).join(',')).success).toBe(
      false,
    );
  });
});

describe('browser phone connection', () => {
  const connection = (
    listeners: { transport: string; port: number }[],
    host: string | null = '192.0.2.7',
  ) => ({
    host,
    listeners,
    registrar: null,
  });

  it('registers through the wss listener of the advertised host, never plain ws', () => {
    expect(
      webSocketServer(
        connection([
          { transport: 'ws', port: 5066 },
          { transport: 'wss', port: 5063 },
        ]),
      ),
    ).toBe('wss://192.0.2.7:5063');
    expect(webSocketServer(connection([{ transport: 'wss', port: 5063 }], '2001:db8::1'))).toBe(
      'wss://[2001:db8::1]:5063',
    );
    expect(webSocketServer(connection([{ transport: 'ws', port: 5066 }]))).toBeUndefined();
    expect(webSocketServer(connection([{ transport: 'wss', port: 5063 }], null))).toBeUndefined();
  });

  it('points at the https page of the wss origin for accepting its certificate', () => {
    expect(certificatePage('wss://192.0.2.7:5063')).toBe('https://192.0.2.7:5063');
  });

  it('reads the HA1 of a provisioning document and nothing that is not one', () => {
    const xml =
      '<section name="auth_info_0">\n<entry name="ha1" overwrite="true">0123456789ABCDEF0123456789abcdef</entry>';
    expect(ha1FromProvisioning(xml)).toBe('0123456789abcdef0123456789abcdef');
    expect(ha1FromProvisioning('<entry name="ha1" overwrite="true">not-a-digest</entry>')).toBeUndefined();
  });
});
