import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectControl } from './baresip-control.ts';
import { allocateUdpTcpPort, type PhoneAccount, run, type Softphone } from './softphones.ts';

/** A baresip that sends instant messages (SIP MESSAGE, RFC 3428) to one contact. */
export interface MessagingSoftphone extends Softphone {
  /** Sends `text` to the contact through the account's proxy. */
  message(text: string): void;
}

/**
 * baresip 1.0, headless, registering through `registrar` as outbound proxy, with `contact` (a SIP
 * URI) as its only and current contact: its contact module's `message` command, sent over ctrl_tcp,
 * writes to the current contact.
 */
export async function startBaresipMessenger(
  account: PhoneAccount,
  contact: string,
): Promise<MessagingSoftphone> {
  const dir = mkdtempSync(join(tmpdir(), 'sipcore-baresip-'));
  const [port, control] = [await allocateUdpTcpPort(), await allocateUdpTcpPort()];
  const config = [
    'poll_method epoll',
    `sip_listen 127.0.0.1:${port}`,
    'net_interface 127.0.0.1',
    'audio_player aubridge,nil',
    'audio_source aubridge,nil',
    `ctrl_tcp_listen 127.0.0.1:${control}`,
    'module_path /usr/lib/baresip/modules',
    'module g711.so',
    'module aubridge.so',
    'module_app account.so',
    'module_app contact.so',
    'module_app menu.so',
    'module_app ctrl_tcp.so',
  ];
  writeFileSync(join(dir, 'config'), `${config.join('\n')}\n`);
  writeFileSync(
    join(dir, 'accounts'),
    `<sip:${account.user}@${account.domain};transport=udp>;auth_pass=${account.password};outbound="sip:${account.registrar};transport=udp";regint=${account.expires ?? 300}\n`,
  );
  writeFileSync(join(dir, 'contacts'), `<${contact}>\n`);
  writeFileSync(join(dir, 'current_contact'), `${contact}\n`);
  const phone = run('baresip', ['-f', dir], dir);
  try {
    const { send, close } = await connectControl(phone, control, () => {});
    return {
      output: phone.output,
      stop() {
        close();
        phone.stop();
      },
      message: (text) => send('message', text),
    };
  } catch (error) {
    phone.stop();
    throw error;
  }
}
