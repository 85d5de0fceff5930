import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  allocatePort,
  CALL_SCENARIOS,
  callFields,
  expectSippOk,
  registerFields,
  runSipp,
  startSipp,
  stopAllSipp,
  udpFree,
  waitForListener,
  waitForUdpListener,
} from '../src/index.ts';

const scenarioDir = fileURLToPath(new URL('./sipp/', import.meta.url));

afterAll(() => stopAllSipp());

describe('allocatePort', () => {
  it('returns a port in the range that can be bound, and consecutive ones when asked', async () => {
    const port = await allocatePort({ min: 21600, max: 21699, count: 3 });
    expect(port).toBeGreaterThanOrEqual(21600);
    expect(port + 2).toBeLessThanOrEqual(21699);
    for (const p of [port, port + 1, port + 2]) expect(await udpFree(p)).toBe(true);
  });

  it('never returns a port that is taken', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(21750, '127.0.0.1', resolve));
    try {
      await expect(allocatePort({ min: 21750, max: 21750 })).rejects.toThrow(/no 1 free port/);
      expect(await allocatePort({ min: 21750, max: 21751 })).toBe(21751);
    } finally {
      taken.close();
    }
  });

  it('gives an even first port when asked (an RTP port with RTCP above it)', async () => {
    for (let i = 0; i < 10; i++) {
      const port = await allocatePort({ min: 21601, max: 21699, count: 2, even: true });
      expect(port % 2).toBe(0);
      expect(port + 1).toBeLessThanOrEqual(21699);
    }
  });

  it('does not hand out a port again before the program it was given to had time to bind it', async () => {
    const first = await allocatePort({ min: 21760, max: 21761 });
    const second = await allocatePort({ min: 21760, max: 21761 });
    expect(second).not.toBe(first);
    await expect(allocatePort({ min: 21760, max: 21761 })).rejects.toThrow(/no 1 free port/);
  });
});

describe('sipp', () => {
  it('a UAS and a UAC exchange a transaction; the CSV field reaches the wire', async () => {
    const uasPort = await allocatePort({ count: 2 });
    const uas = startSipp({
      scenario: 'uas-options.xml',
      scenarioDir,
      port: uasPort,
      controlPort: uasPort + 1,
    });
    await uas.listening();
    const uac = await runSipp({
      scenario: 'uac-options.xml',
      scenarioDir,
      remote: `127.0.0.1:${uasPort}`,
      csv: ['carol'],
      timeoutS: 20,
      traceErrors: true,
    });
    expectSippOk(uac, 'uac');
    const answered = await uas.done;
    expectSippOk(answered, 'uas');
    expect(uac.port).not.toBe(uasPort);
  });

  it('a run that gets no answer fails within its time limit and says why', async () => {
    const silent = await allocatePort();
    const result = await runSipp({
      scenario: 'uac-options.xml',
      scenarioDir,
      remote: `127.0.0.1:${silent}`,
      csv: ['x'],
      timeoutS: 2,
    });
    expect(result.code).not.toBe(0);
    expect(() => expectSippOk(result, 'unanswered')).toThrow(/sipp unanswered exited/);
  });

  it('stopAllSipp ends a run that would otherwise wait', async () => {
    const port = await allocatePort({ count: 2 });
    const uas = startSipp({
      scenario: 'uas-options.xml',
      scenarioDir,
      port,
      controlPort: port + 1,
      timeoutS: 60,
    });
    stopAllSipp();
    const result = await uas.done;
    expect(result.code).not.toBe(0);
  });
});

describe('call scenarios', () => {
  it('field helpers put the digest credentials where the scenarios read them', () => {
    expect(registerFields('carol', 's3cret', 'example.test')).toEqual([
      'carol',
      '[authentication username=carol password=s3cret]',
      'example.test',
    ]);
    expect(callFields('alice', 'pw', 'example.test', 'carol')).toEqual([
      'alice',
      '[authentication username=alice password=pw]',
      'example.test',
      'carol',
    ]);
  });

  it('waitForUdpListener sees a listener appear without binding the port itself', async () => {
    const port = await allocatePort({ min: 21300, max: 21399 });
    await expect(waitForUdpListener(port, 200)).rejects.toThrow(/nothing listens/);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
    try {
      await waitForUdpListener(port, 2_000);
    } finally {
      socket.close();
    }
  });

  it('the call scenarios are valid sipp scenarios (a UAS with nothing to answer times out, not errors)', async () => {
    const port = await allocatePort({ count: 2 });
    const run = startSipp({
      scenario: 'uas-answer.xml',
      scenarioDir: CALL_SCENARIOS,
      port,
      controlPort: port + 1,
      timeoutS: 1,
    });
    const result = await run.done;
    expect(result.code).not.toBe(0);
    expect(result.output).not.toMatch(/Unable to load or parse|XML/i);
  });
});

describe('SippRun.listening', () => {
  it('resolves once the UAS has bound its port on its own address, and rejects when nothing listens', async () => {
    const port = await allocatePort({ address: '127.0.0.3', count: 2, min: 21400, max: 21499 });
    const uas = startSipp({
      scenario: 'uas-options.xml',
      scenarioDir,
      port,
      localAddress: '127.0.0.3',
      controlPort: port + 1,
      timeoutS: 20,
    });
    await uas.listening();
    await expect(waitForListener(port, { address: '127.0.0.4', timeoutMs: 200 })).rejects.toThrow(
      /nothing listens on UDP 127.0.0.4/,
    );
    uas.stop();
    await uas.done;
  });
});
