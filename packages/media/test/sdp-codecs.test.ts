import { describe, expect, it } from 'vitest';
import { sdpCodecs, sdpPayloadTypes } from '../src/sdp-codecs.ts';

const sdp = (lines: string[]) => `${lines.join('\r\n')}\r\n`;

describe('sdpCodecs', () => {
  it('names the first audio stream voice codecs in order, static payloads included, events left out', () => {
    const offer = sdp([
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 4000 RTP/AVP 111 8 0 101 13',
      'a=rtpmap:111 opus/48000/2',
      'a=rtpmap:101 telephone-event/8000',
      'a=rtpmap:13 CN/8000',
      'm=video 4002 RTP/AVP 96',
      'a=rtpmap:96 VP8/90000',
    ]);
    expect(sdpCodecs(offer)).toEqual(['opus/48000', 'PCMA/8000', 'PCMU/8000']);
  });

  it('gives nothing for an SDP without audio or an unknown dynamic payload', () => {
    expect(sdpCodecs(sdp(['v=0', 'm=video 4002 RTP/AVP 96']))).toEqual([]);
    expect(sdpCodecs(sdp(['v=0', 'm=audio 4000 RTP/AVP 96']))).toEqual([]);
  });
});

describe('sdpPayloadTypes', () => {
  it('maps the first audio stream payload types to their rtpmap names, events and static types included', () => {
    const answer = sdp([
      'v=0',
      'm=audio 4000 RTP/AVP 96 0 101',
      'a=rtpmap:96 opus/48000/2',
      'a=rtpmap:101 telephone-event/48000',
      'm=audio 4002 RTP/AVP 97',
      'a=rtpmap:97 G722/8000',
    ]);
    expect([...sdpPayloadTypes(answer)]).toEqual([
      [96, 'opus/48000/2'],
      [0, 'PCMU/8000'],
      [101, 'telephone-event/48000'],
    ]);
    expect(sdpPayloadTypes(sdp(['v=0', 'm=audio 4000 RTP/AVP 98']))).toEqual(new Map());
  });
});
