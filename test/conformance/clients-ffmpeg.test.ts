// FFmpeg (Debian's, on GnuTLS), the media engine inside smart TVs, set-top boxes, IP cameras and
// the players built on it (mpv, Kodi, many an Android TV app), with an HTTP/1.1 client of its own:
// it asks `Range: bytes=0-` and `Icy-MetaData: 1` of every stream, posts what it encodes in chunks
// as it goes, and takes its proxy from `http_proxy` (CONNECT for https, absolute-form in clear; it
// has no SOCKS). Direct and through the proxy under test, over TLS and in clear:
//   - a player fetches a clip and remuxes it;
//   - a camera streams its microphone up (a chunked POST) and PUTs a snapshot, a photo with GPS
//     (over TLS 1.2: cameraTls says why);
//   - a radio player reads a SHOUTcast stream (`ICY 200 OK`) with metadata every 16 bytes, which
//     FFmpeg cuts out of the audio: one byte moved by a proxy and the audio differs.
// The origin's record and what FFmpeg wrote must be the same every way; through phonehome the
// snapshot must also be found as a photo. FFmpeg resolves names itself, so every run has its own
// /etc/hosts (runClientWithTestNames).

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { defaultDetectors } from '../../src/inspect/detect/registry.js';
import { inspectFlow } from '../../src/inspect/inspector.js';
import { headerValue } from '../../src/model/flow.js';
import { pemFile, startLab, tempDir } from '../helpers/lab.js';
import { cannotRunWithTestNames, clientProxyArgs, differentialPerOrigin, jsonEchoHandler, escapeBytes, missingCommand, runClientWithTestNames, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RunContext } from './differential.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const skip = missingCommand('ffmpeg', 'ffmpeg') ?? cannotRunWithTestNames;
const cameraPhoto = new URL('../fixtures/photos/camera.jpg', import.meta.url).pathname;

/** One second of 8 kHz mono 16-bit PCM as a WAV file: a rising pattern, so a moved byte shows. */
function waveClip(): Buffer {
  const samples = Buffer.alloc(16_000);
  for (let i = 0; i < samples.length / 2; i++) samples.writeInt16LE(((i * 37) % 4096) - 2048, i * 2);
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(36 + samples.length, 4);
  head.write('WAVEfmt ', 8, 'latin1');
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20); // PCM
  head.writeUInt16LE(1, 22); // mono
  head.writeUInt32LE(8000, 24);
  head.writeUInt32LE(16_000, 28);
  head.writeUInt16LE(2, 32);
  head.writeUInt16LE(16, 34);
  head.write('data', 36, 'latin1');
  head.writeUInt32LE(samples.length, 40);
  return Buffer.concat([head, samples]);
}

const clip = waveClip();

/** The media origin: the clip for a player, and an answer in JSON for what a camera sends up. */
function mediaHandler(req: Parameters<typeof jsonEchoHandler>[0] & { headers: Record<string, unknown> }, res: Parameters<typeof jsonEchoHandler>[1] & { writeHead: (status: number, headers: Record<string, string | number>) => unknown }): void {
  if (req.method === 'GET' && req.url === '/media/clip.wav') {
    req.on('data', () => undefined);
    res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': clip.length });
    res.end(clip as never);
    return;
  }
  jsonEchoHandler(req, res);
}

/**
 * The camera's uploads speak TLS 1.2 (GnuTLS's priority file, as a firmware image may set it).
 * Over TLS 1.3 FFmpeg closes with a session ticket unread, so its kernel resets the connection and
 * drops what it had not yet sent: whether an upload arrives whole is then a race of when the
 * tickets come (README, Limits), which a busy machine loses now and then, direct too. TLS 1.2's
 * ticket comes within the handshake, so FFmpeg's close is a clean one.
 */
function cameraTls(): NodeJS.ProcessEnv {
  const file = path.join(tempDir('conformance-ffmpeg-gnutls-'), 'priority.conf');
  fs.writeFileSync(file, '[overrides]\ndisabled-version = tls1.3\n');
  return { GNUTLS_SYSTEM_PRIORITY_FILE: file };
}

/** Where FFmpeg's proxy is set: the environment, as a device's player is configured. */
function proxyEnvironment(context: RunContext): NodeJS.ProcessEnv {
  const { mode, port } = clientProxyArgs(context);
  return mode === 'direct' ? {} : { http_proxy: `http://127.0.0.1:${port}` };
}

/**
 * Runs FFmpeg quiet but for errors, without stdin. `-tls_verify 1` with the CA of the mode goes
 * before each https input or output: FFmpeg checks no certificate unless told to (as many a
 * camera's firmware leaves it), and refuses an option that its input or output does not take.
 */
async function ffmpeg(context: RunContext, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const tls = ['-tls_verify', '1', '-ca_file', context.caFile];
  const withTls = args.flatMap((arg, i) => (arg === '-i' && args[i + 1]?.startsWith('https://') ? [...tls, arg] : arg.startsWith('https://') && args[i - 1] !== '-i' ? [...tls, arg] : [arg]));
  const result = await runClientWithTestNames([context.origin.hostname], 'ffmpeg', ['-nostdin', '-hide_banner', '-nostats', '-loglevel', 'error', ...withTls], { env: { ...proxyEnvironment(context), ...env } });
  if (result.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed (${context.mode}): ${result.stderr}`);
  // Its messages name the address of the context that logs them, which differs run to run.
  return result.text.replace(/ @ 0x[0-9a-f]+\]/g, ' @ 0x…]');
}

/** Bit-exact output: no encoder tag, which names FFmpeg's version. */
const bitexact = ['-fflags', '+bitexact', '-flags:a', '+bitexact'];

/** A player, then a camera, against the media origin. */
async function playerAndCamera(context: RunContext): Promise<string> {
  const base = `${context.origin.tls ? 'https' : 'http'}://${context.origin.hostname}:${context.origin.port}`;
  const localClip = path.join(tempDir('conformance-ffmpeg-'), 'mic.wav');
  fs.writeFileSync(localClip, clip);
  // The player: the clip, remuxed to stdout.
  const played = await ffmpeg(context, ['-i', `${base}/media/clip.wav`, '-c', 'copy', ...bitexact, '-f', 'wav', '-']);
  if (!played.includes('RIFF')) throw new Error(`the player wrote no WAV: ${played.slice(0, 200)}`);
  // The camera's microphone, streamed up as it is read (POST, chunked).
  const streamed = await ffmpeg(context, ['-i', localClip, '-c', 'copy', ...bitexact, '-f', 'wav', `${base}/live/mic`], cameraTls());
  // Its snapshot, PUT as the file is (FFmpeg copies a JPEG's bytes, EXIF and all).
  const snapshot = await ffmpeg(context, ['-i', cameraPhoto, '-c', 'copy', '-f', 'mjpeg', '-method', 'PUT', `${base}/snapshots/IMG_20141012_183011.jpg`], cameraTls());
  return `${played}\n${streamed}\n${snapshot}`;
}

/** A SHOUTcast answer: 48 bytes of audio with a metadata block after every 16 (RFC-less, as servers write it). */
function shoutcastAnswer(): Buffer {
  const title = Buffer.from("StreamTitle='Conformance FM';", 'latin1');
  const block = Buffer.concat([Buffer.from([Math.ceil(title.length / 16)]), title, Buffer.alloc(Math.ceil(title.length / 16) * 16 - title.length)]);
  const audio = clip.subarray(44, 44 + 48);
  const parts: Buffer[] = [Buffer.from('ICY 200 OK\r\nicy-name: Conformance FM\r\ncontent-type: audio/L16\r\nicy-metaint: 16\r\n\r\n', 'latin1')];
  for (let i = 0; i < audio.length; i += 16) parts.push(audio.subarray(i, i + 16), i === 0 ? block : Buffer.from([0]));
  return Buffer.concat(parts);
}

t.test('FFmpeg: a player, a camera and a radio', { skip: skip ?? false }, async (t) => {
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const radio = async (context: RunContext): Promise<string> => {
    const heard = await ffmpeg(context, ['-f', 's16le', '-ar', '8000', '-ac', '1', '-i', `http://${context.origin.hostname}:${context.origin.port}/stream`, '-c', 'copy', '-f', 's16le', '-']);
    // The metadata cut out, the audio is the clip's first 48 bytes.
    if (!heard.startsWith(`exit 0\n${escapeBytes(clip.subarray(44, 92))}`)) throw new Error(`not the stream's audio: ${heard}`);
    return heard;
  };
  differentialPerOrigin(t, proxy, [
    { title: 'a media origin over TLS (HTTP/1.1)', start: () => startRecordingOrigin({ tls: true, hostname: 'media.example.test', handler: mediaHandler as never }), scenario: { name: 'ffmpeg player and camera (https)', modes: ['http-proxy'], closesConnections: true, run: playerAndCamera } },
    { title: 'a media origin in clear (absolute-form requests to the proxy)', start: () => startRecordingOrigin({ hostname: 'media.example.test', handler: mediaHandler as never }), scenario: { name: 'ffmpeg player and camera (http)', modes: ['http-proxy'], closesConnections: true, run: playerAndCamera } },
    {
      title: 'a SHOUTcast radio in clear, metadata every 16 bytes',
      start: () => startRecordingOrigin({ hostname: 'radio.example.test', closeAfterScript: true, script: (received) => (received.includes('\r\n\r\n') ? shoutcastAnswer() : undefined) }),
      scenario: { name: 'ffmpeg SHOUTcast radio', modes: ['http-proxy'], closesConnections: true, run: radio },
    },
  ], knownDifferences);
});

t.test('FFmpeg on a camera PUTs its snapshot over TLS through phonehome: the server reads it whole, and the photo and its GPS are a finding', { skip: skip ?? false }, async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const origin = await startRecordingOrigin({ tls: true, hostname: 'camera-cloud.example.test', handler: mediaHandler as never });
  t.teardown(() => origin.close());
  const base = `https://${origin.hostname}:${origin.port}`;
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => runClientWithTestNames([origin.hostname], 'ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', ...args], { env: { http_proxy: `http://127.0.0.1:${lab.port}`, ...env } });
  const tls = ['-tls_verify', '1', '-ca_file', pemFile(lab.ca.certPem)];
  // The camera fetches its clip first (TLS 1.3), then PUTs its snapshot (TLS 1.2: cameraTls says why).
  const player = await run([...tls, '-i', `${base}/media/clip.wav`, '-c', 'copy', '-f', 'null', '-']);
  t.equal(player.status, 0, `ffmpeg played the clip: ${player.stderr}`);
  const camera = await run(['-i', cameraPhoto, '-c', 'copy', '-f', 'mjpeg', '-method', 'PUT', ...tls, `${base}/snapshots/IMG_20141012_183011.jpg`], cameraTls());
  t.equal(camera.status, 0, `ffmpeg PUT the snapshot: ${camera.stderr}`);
  const flow = await lab.next('flow:end', (f) => f.target.host === origin.hostname && f.request?.method === 'PUT');
  t.equal(flow.tls?.client?.version, 'TLSv1.2', 'the camera spoke TLS 1.2 with phonehome');
  t.equal(headerValue(flow.request?.headers ?? [], 'transfer-encoding'), 'chunked', 'sent in chunks, as FFmpeg writes it');
  const sent = fs.readFileSync(cameraPhoto);
  t.ok(flow.request?.body.bytes.equals(sent), `the flow holds the photo whole, its chunks joined (${flow.request?.body.bytes.length} of ${sent.length} bytes)`);
  await origin.allClosed();
  // The record shows CR as \r and breaks its lines after each LF.
  const upload = origin.transcript().split('PUT /snapshots/IMG_20141012_183011.jpg HTTP/1.1')[1] ?? '';
  t.ok(upload.includes('\n0\\r\\n\n\\r\\n'), 'the server read the upload to its last chunk');
  const photo = inspectFlow(flow, defaultDetectors).drafts.find((f) => f.category === 'photo');
  t.match(photo?.summary, /JPEG camera photo .*GPS/, `a photo finding, with its GPS (${photo?.summary})`);
});
