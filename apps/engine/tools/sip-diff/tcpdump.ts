import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WireMessage } from './capture.ts';
import { readPcap } from './pcap.ts';

/**
 * Captures the loopback interface with tcpdump (a filter keeps other traffic of the machine out) and reads
 * the SIP messages back when stopped. Needs tcpdump and the right to capture (root or CAP_NET_RAW).
 */
export interface LoopbackCapture {
  stop(): Promise<WireMessage[]>;
}

export async function captureLoopback(filter: string): Promise<LoopbackCapture> {
  const dir = mkdtempSync(join(tmpdir(), 'sip-diff-'));
  const file = join(dir, 'capture.pcap');
  const child = spawn('tcpdump', ['-i', 'lo', '-s', '0', '-U', '-n', '-B', '8192', '-w', file, filter], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${stderr}`)), 10_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump could not be started (apt-get install tcpdump): ${e.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited ${code}: ${stderr}`));
    });
  });
  await ready;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    async stop() {
      await new Promise((r) => setTimeout(r, 300)); // last packets still on their way into the file
      child.kill('SIGINT');
      await exited;
      const messages = readPcap(readFileSync(file));
      rmSync(dir, { recursive: true, force: true });
      if (/\b[1-9]\d* packets? dropped by kernel/.test(stderr)) {
        throw new Error(`tcpdump dropped packets, the capture is incomplete: ${stderr}`);
      }
      return messages;
    },
  };
}
