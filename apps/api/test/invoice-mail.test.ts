import { type Database, openDatabase } from '@switchboard/db';
import { createTestDatabase, type TestDatabase } from '@switchboard/db/testing';
import { startSmtpServer, type TestSmtpServer } from '@switchboard/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInvoiceJob } from '../src/billing/invoices/job.ts';
import { smtpMailer } from '../src/mail.ts';

/**
 * Invoices are e-mailed through the SMTP settings (docs/billing.md, "Postpaid and invoices"): the
 * monthly job creates November's invoices and sends each, with its PDF attached, to the customer's
 * billing address, once (a second pass and a second node send nothing); a customer without one gets
 * no mail. A real SMTP server on loopback receives them.
 */

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
let created: TestDatabase;
let db: Database;
let smtp: TestSmtpServer;
let billedId: string;

beforeAll(async () => {
  smtp = await startSmtpServer();
  created = await createTestDatabase('invoice_mail');
  db = await openDatabase({ databaseUrl: created.url, dataDir: '' });
  await db.migrate();
  const profile = await db.prisma.billingProfile.create({
    data: { name: 'Retail', kind: 'sell', currency: 'EUR', timeZone: 'UTC' },
  });
  const billed = await db.prisma.customer.create({ data: { name: 'Billed', billingProfileId: profile.id } });
  billedId = billed.id;
  await db.prisma.creditAccount.create({
    data: { customerId: billed.id, notifyEmail: 'billing@billed.test' },
  });
  await db.prisma.customer.create({ data: { name: 'Silent', billingProfileId: profile.id } });
  await db.prisma.creditTopUp.create({
    data: {
      customerId: billed.id,
      kind: 'operator',
      amount: '12.5',
      balanceAfter: '12.5',
      createdAt: new Date('2026-11-10T12:00:00Z'),
    },
  });
}, 60_000);

afterAll(async () => {
  await db?.close();
  await created?.drop();
  await smtp?.close();
}, 30_000);

describe('e-mailed invoices', () => {
  it("sends each new invoice once, with its PDF, to the customer's billing address", async () => {
    const now = () => new Date('2026-12-01T06:00:00Z');
    const mailer = smtpMailer(smtp.url, 'Billing <billing@operator.test>', log);
    const jobs = [0, 1].map(() => startInvoiceJob(db.prisma, log, { now, mailer, intervalMs: 3_600_000 }));
    try {
      // Two nodes' jobs at once: each invoice is created once and mailed once.
      const createdCounts = await Promise.all(jobs.map((job) => job.runOnce()));
      expect(createdCounts.reduce((a, b) => a + b, 0)).toBe(2);
      const mail = await smtp.waitFor('billing@billed.test', 'Invoice', 15_000);
      const invoice = await db.prisma.invoice.findFirstOrThrow({ where: { customerId: billedId } });
      expect(mail.subject).toBe(`Invoice ${invoice.number} for 2026-11`);
      expect(mail.text).toContain('12.500000 EUR');
      expect(mail.attachments).toHaveLength(1);
      expect(mail.attachments[0]).toMatchObject({
        filename: `invoice-${invoice.number}.pdf`,
        contentType: 'application/pdf',
      });
      expect(Buffer.compare(mail.attachments[0]!.content, Buffer.from(invoice.pdf))).toBe(0);
      expect(invoice.emailedAt).not.toBeNull();
      // Another pass sends nothing more; the customer without an address got none.
      await Promise.all(jobs.map((job) => job.runOnce()));
      expect(smtp.messages).toHaveLength(1);
      const silent = await db.prisma.invoice.findFirstOrThrow({ where: { customerId: { not: billedId } } });
      expect(silent.emailedAt).toBeNull();
    } finally {
      for (const job of jobs) await job.stop();
      mailer.close();
    }
  }, 60_000);
});
