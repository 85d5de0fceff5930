import { existsSync } from 'node:fs';
import { type ApiDeps, createLimitsOf, ensureOperator, smtpMailer, startApi } from '@switchboard/api';
import type { Config } from '@switchboard/config';
import type { Database } from '@switchboard/db';
import { recordingOptionsFrom } from '@switchboard/sip-core';
import { webDistDir } from '@switchboard/web';
import type { Logger } from 'pino';
import type { Component, ComponentHealth } from '../component.ts';

/** The REST API and web app; bootstraps the operator account on the first start. */
export function apiComponent(
  config: Config,
  logger: Logger,
  database: () => Database,
  /** What the API shows of the other components of the process. */
  platform: Pick<ApiDeps, 'activeCalls' | 'metrics' | 'callLadder' | 'sipConnection'> & {
    health: () => Promise<Record<string, ComponentHealth>>;
  },
): Component {
  return {
    name: 'api',
    async start() {
      const db = database();
      const operator = await ensureOperator(db.prisma, {
        email: config.adminEmail,
        password: config.adminPassword,
      });
      if (operator.created) announceOperator(operator.email, operator.password, logger);
      // `pnpm start` builds the web app first; a bare API (no build) still serves /api.
      const webRoot = existsSync(webDistDir) ? webDistDir : undefined;
      if (!webRoot) logger.warn({ webDistDir }, 'web app not built (pnpm build): serving the API only');
      const apiLogger = logger.child({ component: 'api' });
      const { smtpUrl, mailFrom, publicUrl } = config.mail;
      if (!smtpUrl) logger.info('SMTP_URL not set: no password reset by e-mail and no self sign-up');
      const api = await startApi(
        { port: config.apiPort },
        {
          prisma: db.prisma,
          logger: apiLogger,
          ...(smtpUrl ? { mailer: smtpMailer(smtpUrl, mailFrom, apiLogger) } : {}),
          ...(publicUrl ? { publicUrl } : {}),
          push: { dataDir: config.dataDir, endpoints: config.push },
          recordingsDir: recordingOptionsFrom(config.dataDir).storageDir,
          objectStorage: config.objectStorage,
          limits: { ...config.apiSignIn.limits, ...createLimitsOf(config.apiCreateLimits) },
          cookieSecure: config.apiSignIn.cookieSecure,
          trustedProxies: config.apiSignIn.trustedProxies,
          environmentSettings: config.environmentSettings,
          ...platform,
          ...(webRoot ? { webRoot } : {}),
        },
      );
      logger.info({ url: `http://localhost:${api.port}/` }, 'web admin and API listening');
      return { health: () => ({ status: 'up', detail: `port ${api.port}` }), stop: () => api.close() };
    },
  };
}

/** Printed once, on the start that created the account: the password is stored only as a hash. */
function announceOperator(email: string, password: string | undefined, logger: Logger): void {
  logger.info({ email }, 'operator account created');
  if (password) {
    process.stdout.write(
      `\n  Operator account created. Log in with\n    e-mail:   ${email}\n    password: ${password}\n  ` +
        'This password is shown only once; change it after the first login.\n\n',
    );
  }
}
