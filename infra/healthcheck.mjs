// Health probe shared by the Node components (containers and hosts alike). Exit 0 when healthy.
//   node healthcheck.mjs http  <url>          a 2xx answer within 4 s
//   node healthcheck.mjs tcp   <host:port>    a TCP connect within 4 s
//   node healthcheck.mjs peer  <port>         this host has an established TCP connection to <port>
//                                             (sip-core connected to its engine's admin port)
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

const [mode, target] = process.argv.slice(2);
const fail = (why) => {
  console.error(`unhealthy: ${why}`);
  process.exit(1);
};
setTimeout(() => fail('no answer within 4 s'), 4000).unref();

if (mode === 'http') {
  fetch(target, { signal: AbortSignal.timeout(4000) }).then(
    (res) => (res.ok ? process.exit(0) : fail(`HTTP ${res.status}`)),
    (err) => fail(err.message),
  );
} else if (mode === 'tcp') {
  const at = target.lastIndexOf(':');
  const socket = connect(Number(target.slice(at + 1)), target.slice(0, at).replace(/^\[|\]$/g, ''));
  socket.on('connect', () => process.exit(0));
  socket.on('error', (err) => fail(err.message));
} else if (mode === 'peer') {
  const port = Number(target).toString(16).toUpperCase().padStart(4, '0');
  const established = ['/proc/net/tcp', '/proc/net/tcp6'].some((file) => {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return false;
    }
    // Columns: sl local_address rem_address st ...; state 01 is ESTABLISHED.
    return text
      .split('\n')
      .slice(1)
      .some((line) => {
        const cols = line.trim().split(/\s+/);
        return cols[2]?.endsWith(`:${port}`) && cols[3] === '01';
      });
  });
  if (established) process.exit(0);
  fail(`no established connection to port ${target}`);
} else {
  fail('usage: healthcheck.mjs http <url> | tcp <host:port> | peer <port>');
}
