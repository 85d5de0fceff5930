import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  /** Attached files, decoded. */
  attachments: Array<{ filename: string; contentType: string; content: Buffer }>;
}

export interface TestSmtpServer {
  /** `smtp://user:pass@127.0.0.1:port` for SMTP_URL. */
  url: string;
  messages: ReceivedMail[];
  /** The next (or an already received) message to `to` whose subject contains `subject`, bounded by time. */
  waitFor(to: string, subject?: string, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

/**
 * A real SMTP server on a loopback ephemeral port (the nodemailer project's `smtp-server`), requiring the
 * login in its URL, keeping every message it accepts parsed (`mailparser`, which undoes quoted-printable and
 * base64 transfer encodings).
 */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: false,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === 'mailer' && auth.password === 'mail-secret') callback(null, { user: 'mailer' });
      else callback(new Error('bad login'));
    },
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (parsed) => {
          messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            attachments: parsed.attachments.map((a) => ({
              filename: a.filename ?? '',
              contentType: a.contentType,
              content: a.content,
            })),
          });
          for (const w of waiters) w();
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://mailer:mail-secret@127.0.0.1:${port}`,
    messages,
    waitFor(to, subject = '', timeoutMs = 10_000) {
      const find = () => messages.find((m) => m.to.includes(to) && m.subject.includes(subject));
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = find();
          if (!found) return;
          done();
          resolve(found);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no mail to ${to} (${subject}) within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The first link in a mail's text that contains `path`. */
export function linkIn(mail: ReceivedMail, path: string): URL {
  const match = mail.text.match(/https?:\/\/\S+/g)?.find((u) => u.includes(path));
  if (!match) throw new Error(`no ${path} link in: ${mail.text}`);
  return new URL(match);
}
