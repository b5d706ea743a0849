import t from 'tap';
import { ServerHandshakeWatcher } from '../../../src/proxy/layers/server-handshake-watcher.js';

/** A TLS record of the handshake content type holding `messages` (type, body length) with zero bodies. */
function record(type: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, 0x03, 0x03, payload.length >> 8, payload.length & 0xff]), payload]);
}
function message(type: number, bodyLength: number): Buffer {
  return Buffer.concat([Buffer.from([type, bodyLength >> 16, (bodyLength >> 8) & 0xff, bodyLength & 0xff]), Buffer.alloc(bodyLength, 0x5a)]);
}
const HANDSHAKE = 22;
const serverHello = message(2, 70);
const certificate = message(11, 3000);
const keyExchange = message(12, 300);
const certificateRequest = message(13, 40);
const helloDone = message(14, 0);

function watch(...chunks: Buffer[]): ServerHandshakeWatcher {
  const watcher = new ServerHandshakeWatcher();
  for (const chunk of chunks) watcher.push(chunk);
  return watcher;
}

t.test('a TLS 1.2 server flight with a CertificateRequest', async (t) => {
  t.ok(watch(record(HANDSHAKE, Buffer.concat([serverHello, certificate, keyExchange, certificateRequest, helloDone]))).certificateRequested);
});

t.test('the same flight cut into 1-byte pieces, and messages spanning records', async (t) => {
  const flight = Buffer.concat([record(HANDSHAKE, Buffer.concat([serverHello, certificate.subarray(0, 1000)])), record(HANDSHAKE, Buffer.concat([certificate.subarray(1000), keyExchange, certificateRequest.subarray(0, 2)])), record(HANDSHAKE, Buffer.concat([certificateRequest.subarray(2), helloDone]))]);
  const watcher = new ServerHandshakeWatcher();
  for (const byte of flight) watcher.push(Buffer.from([byte]));
  t.ok(watcher.certificateRequested);
});

t.test('look-alikes: no request', async (t) => {
  const plain = watch(record(HANDSHAKE, Buffer.concat([serverHello, certificate, keyExchange, helloDone])));
  t.notOk(plain.certificateRequested, 'an ordinary TLS 1.2 flight');
  const inBody = watch(record(HANDSHAKE, Buffer.concat([message(11, 4), helloDone])));
  t.notOk(inBody.certificateRequested, 'a 13 inside a certificate body is not a message type');
  const body13 = Buffer.concat([Buffer.from([11, 0, 0, 3]), Buffer.from([13, 13, 13])]);
  t.notOk(watch(record(HANDSHAKE, body13)).certificateRequested);
  const afterCcs = watch(record(HANDSHAKE, serverHello), record(20, Buffer.from([1])), record(HANDSHAKE, certificateRequest));
  t.notOk(afterCcs.certificateRequested, 'after ChangeCipherSpec everything is encrypted (TLS 1.3 sends its request there)');
  t.ok(afterCcs.done);
  const alertFirst = watch(record(21, Buffer.from([2, 40])), record(HANDSHAKE, certificateRequest));
  t.notOk(alertFirst.certificateRequested, 'an alert ends the watch');
});
