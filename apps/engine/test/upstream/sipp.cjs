// Stands in for drachtio-srf's test/sipp.js: the same exports (output, sippUac, sippUas), but the local sipp
// binary on loopback instead of `docker run drachtio/sipp` on a docker network. Addresses come from the
// environment the upstream layer sets (see topology.ts); every sipp run is bounded by -timeout.
const { spawn } = require('node:child_process');
const path = require('node:path');

const scenarios = path.join(__dirname, 'scenarios');
const sut = process.env.UPSTREAM_SUT; // host:port of the engine under test
const uacAddress = process.env.UPSTREAM_UAC_ADDRESS;
let nextPort = Number(process.env.UPSTREAM_UAC_PORT_BASE);
let output = '';
let idx = 1;

function addOutput(str) {
  for (let i = 0; i < str.length; i++) if (str.charCodeAt(i) < 128) output += str.charAt(i);
}

function common(file, port) {
  return [
    '-sf',
    path.join(scenarios, file),
    '-m',
    '1',
    '-nostdin',
    '-p',
    String(port),
    '-mp',
    String(port + 2000),
    '-timeout',
    '90s',
    '-timeout_error',
  ];
}

module.exports = () => ({ output: () => output, sippUac, sippUas });

function sippUac(file) {
  const port = nextPort;
  nextPort += 4;
  output = '';
  return runSipp([
    ...common(file, port),
    '-i',
    uacAddress,
    '-mi',
    uacAddress,
    '-ci',
    uacAddress,
    '-sleep',
    '250ms',
    '-cid_str',
    `%u-%p@%s-${idx++}`,
    sut,
  ]);
}

// Upstream starts a named container; here the name was replaced by the address (host:port) it listens on.
function sippUas(file, hostport) {
  const [host, port] = hostport.split(':');
  return runSipp([...common(file, Number(port)), '-i', host, '-mi', host, '-ci', host]);
}

function runSipp(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.on('exit', (code, signal) => {
      if (code === 0) return resolve();
      console.log(`sipp exited with non-zero code ${code} signal ${signal}`);
      reject(code);
    });
    child.on('error', (err) => console.log(`could not start sipp: ${err.message}`));
    child.stdout.on('data', (data) => addOutput(data.toString()));
    child.stderr.on('data', (data) => addOutput(data.toString()));
  });
}
