/** Typical messages shared by the tests and the benchmark. */
export const REGISTER =
  'REGISTER sip:example.com SIP/2.0\r\n' +
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\r\n' +
  'Max-Forwards: 70\r\n' +
  'To: "Alice" <sip:alice@example.com>\r\n' +
  'From: "Alice" <sip:alice@example.com>;tag=1928301774\r\n' +
  'Call-ID: a84b4c76e66710@pc33.example.com\r\n' +
  'CSeq: 314159 REGISTER\r\n' +
  'Contact: <sip:alice@192.0.2.10:5060;transport=udp;pn-provider=apns>;expires=3600;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";reg-id=1;q=0.7\r\n' +
  'Supported: path, outbound, gruu\r\n' +
  'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n' +
  'User-Agent: Switchboard-Test/1.0\r\n' +
  'Expires: 3600\r\n' +
  'Content-Length: 0\r\n' +
  '\r\n';

export const SDP =
  'v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

export const INVITE =
  'INVITE sip:bob@biloxi.example.com SIP/2.0\r\n' +
  'Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n' +
  'Via: SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bKabc;received=2001:db8::9;rport=5062;ttl=16;maddr=239.1.1.1\r\n' +
  'Max-Forwards: 70\r\n' +
  'From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n' +
  'To: Bob <sip:bob@biloxi.example.com>\r\n' +
  'Call-ID: 3848276298220188511@atlanta.example.com\r\n' +
  'CSeq: 1 INVITE\r\n' +
  'Contact: <sip:alice@client.atlanta.example.com;transport=tcp>\r\n' +
  'Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n' +
  'Record-Route: <sip:rr.example.com;lr>\r\n' +
  'Session-Expires: 1800;refresher=uac\r\n' +
  'Min-SE: 90\r\n' +
  'Require: timer\r\n' +
  'Diversion: <sip:+15551234@example.com>;reason=unconditional;counter=1\r\n' +
  'History-Info: <sip:bob@example.com>;index=1\r\n' +
  'Reason: SIP ;cause=200 ;text="Call completed elsewhere", Q.850;cause=16\r\n' +
  'X-Custom:   keep   this  spacing  \r\n' +
  'Content-Type: application/sdp\r\n' +
  `Content-Length: ${SDP.length}\r\n` +
  '\r\n' +
  SDP;
