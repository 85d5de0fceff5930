import { Type } from 'typebox';
import { badRequest } from './errors.ts';
import { Nullable } from './schemas.ts';

/**
 * The codec policy fields of a peer policy and of a domain (docs/sbc.md, "Codec policy"), as the
 * media relay (rtpengine 10.5) names its codecs. A name outside these lists is refused by the
 * schema with 400 naming the field.
 */

/** Codecs rtpengine 10.5 knows by an RTP name (`rtpengine --codecs`): may be allowed, stripped or masked. */
export const CODEC_NAMES = [
  'PCMU',
  'PCMA',
  'G722',
  'G723',
  'G729',
  'G729a',
  'GSM',
  'speex',
  'opus',
  'iLBC',
  'AMR',
  'AMR-WB',
  'telephone-event',
  'CN',
] as const;

/** Codecs rtpengine 10.5 both decodes and encodes: the only ones it can add and transcode to. */
export const TRANSCODABLE_CODECS = [
  'PCMU',
  'PCMA',
  'G722',
  'G723',
  'G729',
  'G729a',
  'GSM',
  'speex',
  'opus',
  'telephone-event',
  'CN',
] as const;

const CodecList = (names: readonly string[], description: string) =>
  Type.Array(Type.Enum([...names]), { uniqueItems: true, maxItems: names.length, description });

export const CodecPolicyProps = {
  codecAllow: CodecList(
    CODEC_NAMES,
    'Only these codecs are offered, in this order; empty: inherit (gateway from group from domain) or any',
  ),
  codecStrip: CodecList(CODEC_NAMES, 'Codecs removed from offers; empty: inherit or none'),
  codecMask: CodecList(
    CODEC_NAMES,
    'Codecs hidden from the receiver but still taken from the other side (for transcoding); empty: inherit or none',
  ),
  codecTranscode: CodecList(
    TRANSCODABLE_CODECS,
    'Codecs added to offers that lack them, transcoded by the media relay; empty: inherit or none',
  ),
  ptime: Nullable(
    Type.Integer({
      minimum: 10,
      maximum: 120,
      multipleOf: 10,
      description: 'Packetisation time (ms) asked of the receiver; null: inherit or as offered',
    }),
  ),
  dtmfEvents: Nullable(
    Type.Boolean({
      description:
        'RFC 4733 telephone-event always offered, translated by the media relay when the other side lacks it; null: inherit (off)',
    }),
  ),
};

type CodecFields = { codecAllow?: string[]; codecStrip?: string[] };

/** A codec both allowed and stripped is a contradiction the operator should see at once (400). */
export function checkCodecPolicy(body: CodecFields, existing?: CodecFields): void {
  const allow = body.codecAllow ?? existing?.codecAllow ?? [];
  const strip = body.codecStrip ?? existing?.codecStrip ?? [];
  const both = strip.filter((codec) => allow.includes(codec));
  if (both.length > 0)
    throw badRequest('A codec cannot be both allowed and stripped', [
      {
        field: body.codecStrip ? '/body/codecStrip' : '/body/codecAllow',
        message: `${both.join(', ')} is in codecAllow and codecStrip`,
      },
    ]);
}
