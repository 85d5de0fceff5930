import nodemailer from 'nodemailer';
import type { Logger } from 'pino';

/** What a new message's e-mail says, with its recording attached. */
export interface VoicemailMail {
  to: string;
  mailbox: string;
  caller: string;
  receivedAt: Date;
  durationMs: number;
  wavPath: string;
}

export interface VoicemailMailer {
  send(mail: VoicemailMail): Promise<void>;
  close(): void;
}

/**
 * Voicemail to e-mail over the platform's SMTP settings (`SMTP_URL`, `MAIL_FROM`, as the API sends its
 * mail): a plain-text message naming caller, time and duration, the WAV attached.
 */
export function voicemailMailer(smtpUrl: string, from: string | undefined, log: Logger): VoicemailMailer {
  const transport = nodemailer.createTransport(smtpUrl);
  const sender = from ?? `Switchboard <no-reply@${new URL(smtpUrl).hostname}>`;
  return {
    async send(mail) {
      const seconds = Math.round(mail.durationMs / 1000);
      const when = mail.receivedAt
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC');
      await transport.sendMail({
        from: sender,
        to: mail.to,
        subject: `New voicemail from ${mail.caller} (${seconds} s)`,
        text: `New voicemail for ${mail.mailbox}\n\nFrom: ${mail.caller}\nReceived: ${when}\nDuration: ${seconds} seconds\n\nThe recording is attached.\n`,
        attachments: [
          {
            filename: `voicemail-${mail.receivedAt.toISOString().replace(/[:.]/g, '-')}.wav`,
            path: mail.wavPath,
            contentType: 'audio/wav',
          },
        ],
      });
      log.info({ to: mail.to, mailbox: mail.mailbox }, 'voicemail e-mailed');
    },
    close: () => transport.close(),
  };
}
