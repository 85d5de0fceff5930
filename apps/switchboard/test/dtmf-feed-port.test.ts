import { loadConfig } from '@switchboard/config';
import { udpFree } from '@switchboard/testkit';
import { describe, expect, it } from 'vitest';
import { releaseDtmfFeedPorts, withLocalDtmfFeed } from '../src/dtmf-feed-port.ts';

describe("the launcher's DTMF feed ports", () => {
  it('holds one port per worker from their choice until sip-core is about to bind them', async () => {
    const config = await withLocalDtmfFeed(loadConfig({ SIP_CORE_WORKERS: '2' }));
    const port = config.rtpengineDtmfListen!.port;
    // Meanwhile nobody else gets them (another launcher starting, anything binding port 0).
    expect(await udpFree(port)).toBe(false);
    expect(await udpFree(port + 1)).toBe(false);
    await releaseDtmfFeedPorts();
    expect(await udpFree(port)).toBe(true);
    expect(await udpFree(port + 1)).toBe(true);
  });

  it("leaves an operator's RTPENGINE_DTMF_LISTEN alone", async () => {
    const config = await withLocalDtmfFeed(loadConfig({ RTPENGINE_DTMF_LISTEN: '127.0.0.1:40999' }));
    expect(config.rtpengineDtmfListen).toEqual({ host: '127.0.0.1', port: 40999 });
  });
});
