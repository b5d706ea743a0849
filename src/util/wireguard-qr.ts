// The phone's WireGuard configuration as a QR code: half-block text for terminals (console banner,
// `phonehome wireguard config --qr`, the terminal UI) and SVG for the install page. The official
// WireGuard app imports a configuration by scanning it. Pure: text in, text out.
//
// Error correction level L (7 %): the code is read off a screen, which is never torn or stained,
// so the extra redundancy of M/Q/H buys nothing and costs size. A typical configuration (~260
// characters, two 44-character keys) is a version-10 code at L: 57 modules, 61 columns and 31
// lines with the quiet zone; at M it would be 69 columns and 35 lines, at Q 81 columns (wider
// than an 80-column terminal).
//
// Quiet zone of 2 modules (the standard asks 4): one text line above and below, two columns each
// side. Phone scanners read codes on screens with 2, and the 4 lines saved let the code fit a
// 35-line terminal beside its caption.

import type QRCodeModule from 'qrcode';
import { lazyRequire } from './lazy-require.js';

/** Loaded for the first code drawn: only a WireGuard capture or command draws one. */
const qrcodeModule = lazyRequire<typeof QRCodeModule>('qrcode');

const ERROR_CORRECTION = 'L';
const TERMINAL_QUIET_ZONE = 2;
/** The SVG is drawn on a white page, where a full quiet zone costs nothing. */
const SVG_QUIET_ZONE = 4;

/** qrcode renders synchronously when given a callback; this keeps the front ends free of promises. */
function renderNow(text: string, options: QRCodeModule.QRCodeToStringOptions): string {
  let rendered: string | undefined;
  let failure: unknown;
  qrcodeModule().toString(text, options, (error, output) => {
    failure = error;
    rendered = output;
  });
  if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  if (rendered === undefined) throw new Error('qrcode did not render synchronously');
  return rendered;
}

/**
 * The code in half-block characters (▀ ▄ █ and space), two modules per character cell, one text
 * line per two module rows, no escape codes. Lit (foreground) cells are the code's *light*
 * modules, so it reads right on a dark terminal as it is, and everywhere once wrapped in white on
 * black (see onBlack). The quiet zone is part of the text.
 */
export function terminalQr(text: string): string {
  // qrcode's utf8 renderer swaps its block set when the dark colour is white: lit = light module.
  return renderNow(text, { type: 'utf8', errorCorrectionLevel: ERROR_CORRECTION, margin: TERMINAL_QUIET_ZONE, color: { dark: '#ffffff', light: '#000000' } });
}

/**
 * A terminal QR code's lines painted white on black with ANSI colours, so it is not inverted on a
 * terminal with a light background (scanners want dark modules on light). Plain text is kept
 * where colour is unwanted (a pipe, NO_COLOR).
 */
export function onBlack(qr: string): string {
  return qr.split('\n').map((line) => `\x1b[40;97m${line}\x1b[0m`).join('\n');
}

/** The code as an inline SVG element (black on white, scales with its container). */
export function svgQr(text: string): string {
  return renderNow(text, { type: 'svg', errorCorrectionLevel: ERROR_CORRECTION, margin: SVG_QUIET_ZONE, color: { dark: '#000000', light: '#ffffff' } }).trim();
}
