import { AppShell, Burger, Button, Group, Loader, NavLink, ScrollArea, Stack, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { Link, Navigate, Outlet, Route, Routes, useLocation } from 'react-router';
import { useSession } from './auth.tsx';
import { ApiKeysPage } from './pages/admin/ApiKeys.tsx';
import { BillingPage } from './pages/admin/Billing.tsx';
import { BulkImportPage } from './pages/admin/BulkImport.tsx';
import { CallLadderPage } from './pages/admin/CallLadder.tsx';
import { CdrsPage } from './pages/admin/Cdrs.tsx';
import { CreditAdminPage } from './pages/admin/Credit.tsx';
import { CustomersPage } from './pages/admin/Customers.tsx';
import { DashboardPage } from './pages/admin/Dashboard.tsx';
import { DomainsPage } from './pages/admin/Domains.tsx';
import { FraudAdminPage } from './pages/admin/Fraud.tsx';
import { HeaderRulesPage } from './pages/admin/HeaderRules.tsx';
import { AdminInvoicesPage } from './pages/admin/Invoices.tsx';
import { LiveCallsPage, RegistrationsPage } from './pages/admin/Live.tsx';
import { NumbersPage } from './pages/admin/Numbers.tsx';
import { PeeringPage } from './pages/admin/Peering.tsx';
import { PushDevicesPage } from './pages/admin/PushDevices.tsx';
import { ResellersPage } from './pages/admin/Resellers.tsx';
import { RewriteRulesPage } from './pages/admin/RewriteRules.tsx';
import { RouteStatsPage } from './pages/admin/RouteStats.tsx';
import { AuditLogPage, IpBansPage } from './pages/admin/Security.tsx';
import { SettingsPage } from './pages/admin/Settings.tsx';
import { SubscribersPage } from './pages/admin/Subscribers.tsx';
import { UsersPage } from './pages/admin/Users.tsx';
import { WholesalePage } from './pages/admin/Wholesale.tsx';
import { LoginPage } from './pages/Login.tsx';
import { NotFoundPage } from './pages/NotFound.tsx';
import { AutoAttendantsPage } from './pages/portal/AutoAttendants.tsx';
import { CreditPage } from './pages/portal/Credit.tsx';
import { ForwardsPage } from './pages/portal/Forwards.tsx';
import { HistoryPage } from './pages/portal/History.tsx';
import { HuntGroupsPage } from './pages/portal/HuntGroups.tsx';
import { InvoicesPage } from './pages/portal/Invoices.tsx';
import { MessagesPage } from './pages/portal/Messages.tsx';
import { MySubscribersPage } from './pages/portal/MySubscribers.tsx';
import { PasswordPage } from './pages/portal/Password.tsx';
import { PhonePage } from './pages/portal/Phone.tsx';
import { RecordingsPage } from './pages/portal/Recordings.tsx';
import { VoicemailPage } from './pages/portal/Voicemail.tsx';
import { ForgotPasswordPage, ResetPasswordPage, VerifyEmailPage } from './pages/ResetPassword.tsx';
import { SignupPage } from './pages/Signup.tsx';
import { TwoFactorPage } from './pages/TwoFactor.tsx';

interface NavItem {
  to: string;
  label: string;
  /** Only these roles see the entry (default: everyone the shell is for). */
  roles?: string[];
}

const ADMIN_NAV: NavItem[] = [
  { to: '/admin', label: 'Dashboard' },
  { to: '/admin/resellers', label: 'Resellers', roles: ['operator'] },
  { to: '/admin/customers', label: 'Customers' },
  { to: '/admin/domains', label: 'Domains' },
  { to: '/admin/subscribers', label: 'Subscribers' },
  { to: '/admin/numbers', label: 'Numbers' },
  { to: '/admin/import', label: 'Import / export' },
  { to: '/admin/call-forwards', label: 'Call forwards' },
  { to: '/admin/hunt-groups', label: 'Hunt groups' },
  { to: '/admin/auto-attendants', label: 'Auto-attendants' },
  { to: '/admin/voicemail', label: 'Voicemail' },
  { to: '/admin/rewrite-rules', label: 'Rewrite rules' },
  { to: '/admin/peering', label: 'Peering' },
  { to: '/admin/header-rules', label: 'Header rules', roles: ['operator'] },
  { to: '/admin/billing', label: 'Billing', roles: ['operator'] },
  { to: '/admin/invoices', label: 'Invoices' },
  { to: '/admin/wholesale', label: 'Postpaid and carriers' },
  { to: '/admin/route-stats', label: 'Route statistics', roles: ['operator'] },
  { to: '/admin/credit', label: 'Credit', roles: ['operator', 'reseller'] },
  { to: '/admin/fraud', label: 'Fraud limits', roles: ['operator', 'reseller'] },
  { to: '/admin/registrations', label: 'Registrations' },
  { to: '/admin/calls', label: 'Live calls' },
  { to: '/admin/cdrs', label: 'Call records' },
  { to: '/admin/recordings', label: 'Recordings' },
  { to: '/admin/push-devices', label: 'Push devices' },
  { to: '/admin/ip-bans', label: 'IP bans' },
  { to: '/admin/users', label: 'Users', roles: ['operator'] },
  { to: '/admin/settings', label: 'Settings', roles: ['operator'] },
  { to: '/admin/audit-log', label: 'Audit log' },
  { to: '/admin/api-keys', label: 'API keys' },
  { to: '/admin/password', label: 'Password' },
  { to: '/admin/two-factor', label: 'Two-factor sign-in' },
];

const PORTAL_NAV: NavItem[] = [
  { to: '/portal', label: 'My phones' },
  { to: '/portal/phone', label: 'Browser phone' },
  { to: '/portal/call-forwards', label: 'Call forwards' },
  { to: '/portal/hunt-groups', label: 'Hunt groups' },
  { to: '/portal/auto-attendants', label: 'Auto-attendants' },
  { to: '/portal/history', label: 'Call history' },
  { to: '/portal/invoices', label: 'Invoices' },
  { to: '/portal/credit', label: 'Credit' },
  { to: '/portal/recordings', label: 'Recordings' },
  { to: '/portal/messages', label: 'Messages' },
  { to: '/portal/voicemail', label: 'Voicemail' },
  { to: '/portal/password', label: 'Password' },
  { to: '/portal/two-factor', label: 'Two-factor sign-in' },
];

function Shell({ nav }: { nav: NavItem[] }) {
  const session = useSession();
  const location = useLocation();
  const [opened, { toggle, close }] = useDisclosure();
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group>
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label="Toggle navigation"
            />
            <Text fw={700}>Switchboard</Text>
          </Group>
          <Group gap="sm">
            <Text size="sm" visibleFrom="xs">
              {session.me?.email}
            </Text>
            <Button size="xs" variant="default" onClick={() => session.signOut()}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Main">
        {/* The admin menu is taller than a laptop screen: it scrolls on its own, the page stays put. */}
        <AppShell.Section grow component={ScrollArea}>
          {nav
            .filter((item) => !item.roles || item.roles.includes(session.me?.role ?? ''))
            .map((item) => (
              <NavLink
                key={item.to}
                component={Link}
                to={item.to}
                label={item.label}
                active={location.pathname === item.to}
                aria-current={location.pathname === item.to ? 'page' : undefined}
                onClick={close}
              />
            ))}
        </AppShell.Section>
      </AppShell.Navbar>
      <AppShell.Main>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}

/** Where a signed-in user lands: operators and resellers in the admin, customers in the portal. */
function home(role: string | undefined): string {
  return role === 'customer' ? '/portal' : '/admin';
}

function RequireRole({ roles }: { roles: string[] }) {
  const session = useSession();
  if (session.loading) return <Loader m="xl" aria-label="Loading" />;
  if (!session.me) return <Navigate to="/login" replace />;
  if (!roles.includes(session.me.role)) return <Navigate to={home(session.me.role)} replace />;
  // The operator requires a second factor of this role and there is none yet: enrolment is all there is.
  if (session.me.twoFactor.mustEnrol) {
    return (
      <Stack maw={680} mx="auto" mt="xl" px="md">
        <Group justify="flex-end">
          <Button size="xs" variant="default" onClick={() => session.signOut()}>
            Sign out
          </Button>
        </Group>
        <TwoFactorPage />
      </Stack>
    );
  }
  return <Outlet />;
}

function PublicOnly() {
  const session = useSession();
  if (session.loading) return <Loader m="xl" aria-label="Loading" />;
  if (session.me) return <Navigate to={home(session.me.role)} replace />;
  return <Outlet />;
}

export function App() {
  return (
    <Routes>
      <Route element={<PublicOnly />}>
        <Route path="/login" element={<LoginPage />} />
        <Route path="/signup" element={<SignupPage />} />
        <Route path="/forgot-password" element={<ForgotPasswordPage />} />
      </Route>
      {/* Links from e-mails work whether or not someone is signed in in this browser. */}
      <Route path="/reset-password" element={<ResetPasswordPage />} />
      <Route path="/verify-email" element={<VerifyEmailPage />} />
      <Route element={<RequireRole roles={['operator', 'reseller']} />}>
        <Route path="/admin" element={<Shell nav={ADMIN_NAV} />}>
          <Route index element={<DashboardPage />} />
          <Route path="customers" element={<CustomersPage />} />
          <Route path="domains" element={<DomainsPage />} />
          <Route path="subscribers" element={<SubscribersPage />} />
          <Route path="numbers" element={<NumbersPage />} />
          <Route path="call-forwards" element={<ForwardsPage />} />
          <Route path="hunt-groups" element={<HuntGroupsPage />} />
          <Route path="auto-attendants" element={<AutoAttendantsPage />} />
          <Route path="voicemail" element={<VoicemailPage />} />
          <Route path="rewrite-rules" element={<RewriteRulesPage />} />
          <Route path="peering" element={<PeeringPage />} />
          <Route path="header-rules" element={<HeaderRulesPage />} />
          <Route path="registrations" element={<RegistrationsPage />} />
          <Route path="calls" element={<LiveCallsPage />} />
          <Route path="cdrs" element={<CdrsPage />} />
          <Route path="recordings" element={<RecordingsPage />} />
          <Route path="push-devices" element={<PushDevicesPage />} />
          <Route element={<RequireRole roles={['operator', 'reseller']} />}>
            <Route path="credit" element={<CreditAdminPage />} />
            <Route path="fraud" element={<FraudAdminPage />} />
          </Route>
          <Route path="ip-bans" element={<IpBansPage />} />
          <Route path="audit-log" element={<AuditLogPage />} />
          <Route path="api-keys" element={<ApiKeysPage />} />
          <Route path="import" element={<BulkImportPage />} />
          <Route path="invoices" element={<AdminInvoicesPage />} />
          <Route path="wholesale" element={<WholesalePage />} />
          <Route path="password" element={<PasswordPage />} />
          <Route path="two-factor" element={<TwoFactorPage />} />
          <Route element={<RequireRole roles={['operator']} />}>
            <Route path="resellers" element={<ResellersPage />} />
            <Route path="billing" element={<BillingPage />} />
            <Route path="route-stats" element={<RouteStatsPage />} />
            <Route path="users" element={<UsersPage />} />
            <Route path="settings" element={<SettingsPage />} />
            <Route path="calls/:callId/ladder" element={<CallLadderPage />} />
          </Route>
          <Route path="*" element={<NotFoundPage home="/admin" />} />
        </Route>
      </Route>
      <Route element={<RequireRole roles={['customer']} />}>
        <Route path="/portal" element={<Shell nav={PORTAL_NAV} />}>
          <Route index element={<MySubscribersPage />} />
          <Route path="phone" element={<PhonePage />} />
          <Route path="call-forwards" element={<ForwardsPage />} />
          <Route path="hunt-groups" element={<HuntGroupsPage />} />
          <Route path="auto-attendants" element={<AutoAttendantsPage />} />
          <Route path="history" element={<HistoryPage />} />
          <Route path="invoices" element={<InvoicesPage />} />
          <Route path="credit" element={<CreditPage />} />
          <Route path="recordings" element={<RecordingsPage />} />
          <Route path="messages" element={<MessagesPage />} />
          <Route path="voicemail" element={<VoicemailPage />} />
          <Route path="password" element={<PasswordPage />} />
          <Route path="two-factor" element={<TwoFactorPage />} />
          <Route path="*" element={<NotFoundPage home="/portal" />} />
        </Route>
      </Route>
      <Route path="/" element={<Navigate to="/admin" replace />} />
      <Route path="*" element={<NotFoundPage home="/" />} />
    </Routes>
  );
}
