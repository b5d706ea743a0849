// What a device is told of its HTTP/2 connection once its server has sent its SETTINGS: the
// server's values within our bounds, only what changed, and extended CONNECT never taken back.

import t from 'tap';
import type http2 from 'node:http2';
import { limits } from '../../../src/limits.js';
import { connectionWindowToGive, DEVICE_SETTINGS_AT_FIRST, SERVER_SETTINGS_AT_FIRST, serverSettingsToTell, deviceSettingsToTell } from '../../../src/proxy/layers/http2-session-options.js';

/** What Node reports for a server that sent an empty SETTINGS frame. */
const NODE_SERVER: http2.Settings = {
  headerTableSize: 4_096, enablePush: true, initialWindowSize: 65_535, maxFrameSize: 16_384, maxConcurrentStreams: 4_294_967_295,
  maxHeaderListSize: 4_294_967_295, enableConnectProtocol: false,
};

t.test('the SETTINGS a device is told', async (t) => {
  const rows: Array<[string, http2.Settings, http2.Settings, http2.Settings | undefined]> = [
    ['a server that says nothing of its own: nothing to tell', DEVICE_SETTINGS_AT_FIRST, NODE_SERVER, undefined],
    ['Google-like: 100 streams, a 1 MiB window, a 64 KiB head', DEVICE_SETTINGS_AT_FIRST, { ...NODE_SERVER, maxConcurrentStreams: 100, initialWindowSize: 1_048_576, maxHeaderListSize: 65_536 },
      { maxConcurrentStreams: 100, initialWindowSize: 1_048_576, maxHeaderListSize: 65_536 }],
    ['larger frames and table', DEVICE_SETTINGS_AT_FIRST, { ...NODE_SERVER, maxFrameSize: 32_768, headerTableSize: 8_192 }, { maxFrameSize: 32_768, headerTableSize: 8_192 }],
    ['more than our bounds: ours', DEVICE_SETTINGS_AT_FIRST, { ...NODE_SERVER, maxConcurrentStreams: 1_000, initialWindowSize: 2 ** 31 - 1, headerTableSize: 1 << 20 },
      { initialWindowSize: limits.h2MaxStreamWindowBytes, headerTableSize: limits.h2MaxHeaderTableBytes }],
    ['extended CONNECT allowed', DEVICE_SETTINGS_AT_FIRST, { ...NODE_SERVER, enableConnectProtocol: true }, { enableConnectProtocol: true }],
    ['extended CONNECT told once is not taken back (RFC 8441)', { ...DEVICE_SETTINGS_AT_FIRST, enableConnectProtocol: true }, NODE_SERVER, undefined],
    ['the same SETTINGS again: nothing new', { ...DEVICE_SETTINGS_AT_FIRST, maxConcurrentStreams: 7 }, { ...NODE_SERVER, maxConcurrentStreams: 7 }, undefined],
    ['a server that lowers its streams later', { ...DEVICE_SETTINGS_AT_FIRST, maxConcurrentStreams: 100 }, { ...NODE_SERVER, maxConcurrentStreams: 10 }, { maxConcurrentStreams: 10 }],
  ];
  for (const [what, told, server, expected] of rows) t.same(deviceSettingsToTell(told, server), expected, what);
});

t.test('the SETTINGS a server is told, and the connection window it is given: the device\'s, within bounds', async (t) => {
  const rows: Array<[string, http2.Settings, http2.Settings, http2.Settings | undefined]> = [
    ['Chrome\'s', SERVER_SETTINGS_AT_FIRST, { ...NODE_SERVER, headerTableSize: 65_536, initialWindowSize: 6_291_456, maxHeaderListSize: 262_144 },
      { headerTableSize: 65_536, initialWindowSize: 6_291_456 }],
    ['a device that says nothing of its own: nothing to tell', SERVER_SETTINGS_AT_FIRST, NODE_SERVER, undefined],
    ['larger than our bounds: ours', SERVER_SETTINGS_AT_FIRST, { ...NODE_SERVER, initialWindowSize: 2 ** 31 - 1, headerTableSize: 1 << 20 },
      { initialWindowSize: limits.h2MaxStreamWindowBytes, headerTableSize: limits.h2MaxHeaderTableBytes }],
    ['a smaller head limit than ours, and larger frames', SERVER_SETTINGS_AT_FIRST, { ...NODE_SERVER, maxHeaderListSize: 16_384, maxFrameSize: 1 << 20 }, { maxHeaderListSize: 16_384, maxFrameSize: 1 << 20 }],
  ];
  for (const [what, told, device, expected] of rows) t.same(serverSettingsToTell(told, device), expected, what);
  t.equal(connectionWindowToGive(65_535, 15 * 1024 * 1024), 15 * 1024 * 1024, 'Chrome\'s 15 MiB');
  t.equal(connectionWindowToGive(65_535, 1 << 30), limits.h2MaxConnectionWindowBytes, 'at most our bound');
  t.equal(connectionWindowToGive(65_535, 65_535), undefined, 'the default: nothing to give');
});
