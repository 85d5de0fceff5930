import { createSocket } from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import {
  allocateUdpPort,
  callFields,
  expectSippOk,
  runSipp,
  stopAllSipp,
  waitForUdpListener,
} from '../src/index.ts';

afterAll(() => stopAllSipp());

describe('sipp driver', () => {
  it('allocates a bindable port inside the given range', async () => {
    const port = await allocateUdpPort(47190, 47199);
    expect(port).toBeGreaterThanOrEqual(47190);
    expect(port).toBeLessThanOrEqual(47199);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, '127.0.0.1', resolve);
    });
    socket.close();
  });

  it('sees a UDP listener appear without binding the port itself', async () => {
    const port = await allocateUdpPort(47190, 47199);
    await expect(waitForUdpListener(port, 200)).rejects.toThrow(/nothing listens/);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
    try {
      await waitForUdpListener(port, 2_000);
    } finally {
      socket.close();
    }
  });

  it('a UAS that gets no call fails when its time is up, and the failure carries sipp output', async () => {
    const run = runSipp({
      scenario: 'uas-answer.xml',
      port: await allocateUdpPort(47190, 47199),
      timeoutS: 1,
    });
    const result = await run.done;
    expect(result.code).not.toBe(0);
    expect(() => expectSippOk(result, 'uas')).toThrow(/sipp uas exited/);
  });

  it('builds the call CSV line with the whole authentication keyword in one field', () => {
    expect(callFields('alice', 'pw', 'example.test', 'bob')).toEqual([
      'alice',
      '[authentication username=alice password=pw]',
      'example.test',
      'bob',
    ]);
  });
});
