// Which TLS session the proxy offers a server: only one from the same handshake (address, port,
// name, context, verification), the newest one, and a bounded number of servers; and what the
// server's certificate was, carried over to the connections that resume its sessions.

import t from 'tap';
import tls from 'node:tls';
import { EventEmitter } from 'node:events';
import { UpstreamSessions, type SessionKey } from '../../../src/proxy/upstream-sessions.js';

/**
 * A stand-in socket that hands out a session ticket when told to: one that made a full handshake
 * and shows `certificate`, or (`resumed`) one that resumed a session and shows none, as Node's do.
 */
function stubSocket(certificate: Partial<tls.PeerCertificate> = {}, resumed = false): tls.TLSSocket {
  return Object.assign(new EventEmitter(), { isSessionReused: () => resumed, getPeerCertificate: () => (resumed ? {} : certificate) }) as unknown as tls.TLSSocket;
}

function socketGiving(sessions: UpstreamSessions, key: SessionKey): (ticket: string) => void {
  const socket = stubSocket();
  sessions.remember(socket, key);
  return (ticket) => socket.emit('session', Buffer.from(ticket));
}

const base: SessionKey = { host: '127.0.0.1', port: 443, servername: 'api.example.test', context: undefined, verified: true };

t.test('a session is offered only to the handshake it came from', async (t) => {
  const sessions = new UpstreamSessions();
  const contextA = tls.createSecureContext();
  const contextB = tls.createSecureContext();
  socketGiving(sessions, { ...base, context: contextA })('A');
  t.equal(sessions.get({ ...base, context: contextA })?.toString(), 'A', 'same server, same context');
  t.equal(sessions.get({ ...base, context: contextB }), undefined, 'another context (a client certificate) gets none');
  t.equal(sessions.get({ ...base, context: contextA, verified: false }), undefined, 'an unverified connection does not share a verified one\'s');
  t.equal(sessions.get({ ...base, context: contextA, port: 8443 }), undefined, 'another port gets none');
  t.equal(sessions.get({ ...base, context: contextA, servername: 'other.example.test' }), undefined, 'another name gets none');
  t.equal(sessions.get({ ...base, context: contextA, host: '127.0.0.2' }), undefined, 'another address gets none');
  socketGiving(sessions, { ...base, verified: false })('unverified');
  t.equal(sessions.get(base), undefined, 'a session from an unverified handshake never stands in for a verified one');
});

t.test('the newest ticket wins; forget drops it; the table is bounded, oldest out first', async (t) => {
  const sessions = new UpstreamSessions(2);
  const give = socketGiving(sessions, base);
  give('first');
  give('second');
  t.equal(sessions.get(base)?.toString(), 'second');
  sessions.forget(base);
  t.equal(sessions.get(base), undefined);
  for (const port of [1, 2, 3]) socketGiving(sessions, { ...base, port })(`port ${port}`);
  t.equal(sessions.size, 2);
  t.equal(sessions.get({ ...base, port: 1 }), undefined, 'the oldest server is forgotten');
  t.equal(sessions.get({ ...base, port: 3 })?.toString(), 'port 3');
});

t.test('a connection that resumed a session shows its server\'s certificate as the full handshake saw it, and passes it on', async (t) => {
  const sessions = new UpstreamSessions();
  const full = stubSocket({ subjectaltname: 'DNS:api.example.test, DNS:cdn.example.test', asn1Curve: 'prime256v1' });
  sessions.remember(full, base);
  full.emit('session', Buffer.from('ticket 1'));
  const shape = { names: ['api.example.test', 'cdn.example.test'], keyType: 'ec' };
  t.same(sessions.certificateOf(full), shape, 'read from the handshake');
  const resumed = stubSocket({}, true);
  sessions.remember(resumed, base);
  t.same(sessions.certificateOf(resumed), shape, 'Node shows none on a resumed connection: the session\'s');
  resumed.emit('session', Buffer.from('ticket 2'));
  const again = stubSocket({}, true);
  sessions.remember(again, base);
  t.same(sessions.certificateOf(again), shape, 'and a ticket the resumed connection got carries it on');
  const stranger = stubSocket({}, true);
  sessions.remember(stranger, { ...base, port: 8443 });
  t.equal(sessions.certificateOf(stranger), undefined, 'resumed from no session of ours: not known');
});

t.test('a connection disowned (checked after its handshake, and it did not verify) keeps nothing, before or after', async (t) => {
  const sessions = new UpstreamSessions();
  const socket = stubSocket();
  sessions.remember(socket, base);
  socket.emit('session', Buffer.from('TLS 1.2: during the handshake'));
  sessions.disown(socket, base);
  t.equal(sessions.get(base), undefined, 'what it kept is gone');
  socket.emit('session', Buffer.from('TLS 1.3: a ticket after it'));
  t.equal(sessions.get(base), undefined, 'and a later ticket is not kept');
  socketGiving(sessions, base)('verified');
  t.equal(sessions.get(base)?.toString(), 'verified', 'another connection to the server keeps its own');
});
