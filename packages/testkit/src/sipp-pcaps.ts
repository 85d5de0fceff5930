import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Where distributions install the pcap files shipped with sipp (Debian's sip-tester first). */
const PCAP_DIRS = ['/usr/share/sip-tester', '/usr/share/sipp', '/usr/local/share/sipp'];

/**
 * The path of a pcap file shipped with sipp (`g711a.pcap`, `dtmf_2833_1.pcap`, ...), for a scenario's
 * `play_pcap_audio`: the first known install location that has it. Throws, naming the places looked
 * at, when sipp's pcaps are not installed.
 */
export function sippPcap(name: string): string {
  for (const dir of PCAP_DIRS) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new Error(`sipp's ${name} not found in ${PCAP_DIRS.join(', ')} (install sipp / sip-tester)`);
}
