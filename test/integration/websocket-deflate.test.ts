// WebSocket with permessage-deflate (RFC 7692), ws on both ends: compression is negotiated with
// the device and with the server, with and without context takeover; fragmented messages are
// reassembled; every message reaches the detectors inflated.

import https from 'node:https';
import type net from 'node:net';
import { once } from 'node:events';
import t from 'tap';
import { WebSocket, WebSocketServer } from 'ws';
import { defaultDetectors } from '../../src/inspect/detect/registry.js';
import { inspectFlow } from '../../src/inspect/inspector.js';
import { getOriginCa, startLab, TunnelAgent } from '../helpers/lab.js';

const sms = JSON.stringify({ type: 'sms', sms: [{ address: '+33612345678', body: 'Rendez-vous demain a 18h, gare de Lyon', date: 1413131405000, type: 1 }] });

for (const noContextTakeover of [false, true]) {
  t.test(`permessage-deflate ${noContextTakeover ? 'without' : 'with'} context takeover: messages intact, inflated for the detectors`, async (t) => {
    const leaf = getOriginCa().issueLeaf('ws.example.test');
    const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem });
    const wss = new WebSocketServer({ server, perMessageDeflate: { threshold: 0, serverNoContextTakeover: noContextTakeover, clientNoContextTakeover: noContextTakeover } });
    let upstreamOffer = '';
    let upstream: WebSocket | undefined;
    wss.on('connection', (ws, req) => {
      upstreamOffer = String(req.headers['sec-websocket-extensions'] ?? '');
      upstream = ws;
      ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `echo:${data.toString()}`, { binary: isBinary }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    const lab = await startLab();
    t.teardown(async () => { await lab.close(); wss.close(); server.close(); });

    const agent = new TunnelAgent(lab.port, lab.ca.certPem);
    const client = new WebSocket(`wss://ws.example.test:${port}/events`, { agent, perMessageDeflate: { threshold: 0, clientNoContextTakeover: noContextTakeover, serverNoContextTakeover: noContextTakeover } });
    let answered = '';
    client.once('upgrade', (response) => { answered = String(response.headers['sec-websocket-extensions'] ?? ''); });
    await once(client, 'open');
    t.match(client.extensions, /permessage-deflate/, 'the device negotiated compression with phonehome');
    if (noContextTakeover) t.match(answered, /server_no_context_takeover/, 'the device\'s parameters were accepted as asked');

    const replies: string[] = [];
    client.on('message', (data) => replies.push(data.toString()));
    const big = 'x'.repeat(200_000);
    for (const text of [sms, big, sms]) {
      const reply = once(client, 'message');
      client.send(text);
      await reply;
    }
    // One message sent in three fragments: it must arrive, and be inspected, as one.
    const fragmented = once(client, 'message');
    client.send(sms.slice(0, 20), { fin: false });
    client.send(sms.slice(20, 60), { fin: false });
    client.send(sms.slice(60), { fin: true });
    await fragmented;
    // (the upstream side is connected once the device's handshake is done, so it is checked here)
    t.match(upstreamOffer, /permessage-deflate/, 'phonehome offered compression to the server');
    t.equal(upstream?.extensions, 'permessage-deflate', 'and the server took it');
    t.same(replies, [`echo:${sms}`, `echo:${big}`, `echo:${sms}`, `echo:${sms}`], 'every message arrived intact both ways');
    client.close();
    const flow = await lab.next('flow:end', (f) => f.kind === 'websocket');
    const up = (flow.messages ?? []).filter((m) => m.fromClient);
    t.equal(up.length, 4);
    t.equal(up[0]?.data.toString(), sms, 'recorded inflated');
    t.equal(up[3]?.data.toString(), sms, 'fragments reassembled into one message');
    t.equal(up[1]?.totalBytes, big.length);
    const { drafts } = inspectFlow(flow, defaultDetectors);
    const found = drafts.filter((d) => d.category === 'sms' && d.direction === 'request');
    t.ok(found.length >= 1, 'the SMS in a compressed message is found');
    t.equal(found[0]?.evidence.path[0], 'websocket:message[0]');
    agent.destroy();
  });
}
