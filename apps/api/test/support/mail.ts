import { startSmtpServer, type TestSmtpServer } from '@switchboard/testkit';
import { pino } from 'pino';
import { type Mailer, smtpMailer } from '../../src/mail.ts';

/** A real SMTP server on loopback and the API's mailer pointed at it. */
export async function testMail(): Promise<{ smtp: TestSmtpServer; mailer: Mailer }> {
  const smtp = await startSmtpServer();
  return {
    smtp,
    mailer: smtpMailer(smtp.url, 'Switchboard <noreply@test.example>', pino({ level: 'silent' })),
  };
}
