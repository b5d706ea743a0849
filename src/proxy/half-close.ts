// A device may close its side of a connection and go on reading: it shuts down its writing once
// its request is sent (shutdown(SHUT_WR): `nc -N`, some HTTP/1.0 firmware, line protocols that
// mark the end of a message that way), and the server answers after. A Node socket ends its own
// side as soon as the other's ends, unless it allows half-open connections, so the server's answer
// found phonehome's side of the device connection closed and was lost. The device's side ending
// is passed on instead (pipe() ends the server's side; the HTTP relay's request simply ends), and
// phonehome's side ends after the server's answer. Until 2026-12-06 such a device read nothing,
// through the HTTP relay and the raw stream relay alike.

import type { Duplex } from 'node:stream';

/** Lets `socket` (the device's) stay open for writing after the device has ended its side. */
export function keepOpenAfterDeviceEnds(socket: Duplex): void {
  if (socket.allowHalfOpen === false) socket.allowHalfOpen = true;
}
