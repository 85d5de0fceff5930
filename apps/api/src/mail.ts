import nodemailer from 'nodemailer';
import type { Logger } from 'pino';

/** One plain-text message. Links go in the text; nothing here renders HTML. */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  /** Files sent along (an invoice's PDF). */
  attachments?: Array<{ filename: string; contentType: string; content: Uint8Array }> | undefined;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/**
 * Outgoing e-mail over SMTP (`SMTP_URL`): `smtp://` upgrades with STARTTLS when the server offers it,
 * `smtps://` speaks TLS from the first byte. nodemailer does the protocol; a failure is logged and thrown to
 * the caller, which decides what the user is told.
 */
export function smtpMailer(smtpUrl: string, from: string | undefined, logger: Logger): Mailer {
  const transport = nodemailer.createTransport(smtpUrl);
  const sender = from ?? `Switchboard <no-reply@${new URL(smtpUrl).hostname}>`;
  return {
    async send(mail) {
      try {
        await transport.sendMail({
          from: sender,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          ...(mail.attachments
            ? {
                attachments: mail.attachments.map((a) => ({
                  filename: a.filename,
                  contentType: a.contentType,
                  content: Buffer.from(a.content),
                })),
              }
            : {}),
        });
        logger.info({ to: mail.to, subject: mail.subject }, 'mail sent');
      } catch (err) {
        logger.warn({ to: mail.to, subject: mail.subject, err: (err as Error).message }, 'mail not sent');
        throw err;
      }
    },
    close: () => transport.close(),
  };
}
