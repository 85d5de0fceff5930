/**
 * A process that owns a local rtpengine, for the orphan test: starts it with the given data folder and
 * ports, prints its pid, and waits to be killed (SIGKILL: it gets no chance to stop its child).
 */
import pino from 'pino';
import { startLocalRtpengine } from '../../src/launcher.ts';

const [dataDir, ngPort, portMin, portMax] = process.argv.slice(2);
const local = await startLocalRtpengine({
  dataDir: dataDir!,
  ngPort: Number(ngPort),
  portMin: Number(portMin),
  portMax: Number(portMax),
  interface: '127.0.0.1',
  logger: pino({ level: 'silent' }),
});
process.stdout.write(`${JSON.stringify({ rtpenginePid: local.pid })}\n`);
setInterval(() => {}, 60_000);
