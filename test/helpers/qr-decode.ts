// Reads a QR code back the way a phone would have to: from what a terminal shows (half-block
// characters) or from an SVG, into pixels, decoded with jsQR (an independent decoder). The quiet
// zone is whatever the rendering itself has; nothing is added around it.

import jsQRModule from 'jsqr';

// jsqr is CommonJS typed with `export default`: under NodeNext the default import is the function
// at run time but typed as the module.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default;

const PIXELS_PER_MODULE = 4;
/** Half-block cells whose lit part is the code's light modules: [top light, bottom light]. */
const LIT_CELLS: Record<string, readonly [boolean, boolean]> = { ' ': [false, false], '█': [true, true], '▀': [true, false], '▄': [false, true] };

/** The longest run of lines made only of half blocks: the code in a screen or a command's output. */
export function qrLines(screen: string): string[] {
  const isQrLine = (line: string): boolean => line.length >= 21 && [...line].every((c) => c in LIT_CELLS) && /[█▀▄]/.test(line);
  let best: string[] = [];
  let run: string[] = [];
  for (const line of screen.split('\n')) {
    if (isQrLine(line)) run.push(line);
    else run = [];
    if (run.length > best.length) best = [...run];
  }
  return best;
}

/** light[row][column] from half-block lines (two module rows per line). */
export function modulesOfTerminalQr(lines: readonly string[]): boolean[][] {
  const width = Math.max(...lines.map((l) => [...l].length));
  const rows: boolean[][] = [];
  for (const line of lines) {
    const cells = [...line.padEnd(width, ' ')];
    rows.push(cells.map((c) => LIT_CELLS[c]![0]), cells.map((c) => LIT_CELLS[c]![1]));
  }
  return rows;
}

/** light[row][column] from qrcode's SVG: a white square with one black path of horizontal runs. */
export function modulesOfSvgQr(svg: string): boolean[][] {
  const size = Number(/viewBox="0 0 (\d+) \d+"/.exec(svg)?.[1]);
  const path = /<path[^>]*stroke="#000000"[^>]*d="([^"]*)"/.exec(svg)?.[1];
  if (!size || path === undefined) throw new Error('not a qrcode SVG');
  const rows = Array.from({ length: size }, () => new Array<boolean>(size).fill(true));
  let x = 0;
  let y = 0;
  for (const [, command, a, b] of path.matchAll(/([MmHhVv])\s*(-?[\d.]+)(?:\s+(-?[\d.]+))?/g)) {
    const n = Number(a);
    if (command === 'M') { x = n; y = Math.floor(Number(b)); }
    else if (command === 'm') { x += n; y += Math.floor(Number(b ?? 0)); }
    else if (command === 'h') { for (let i = 0; i < n; i++) rows[y]![x + i] = false; x += n; }
    else throw new Error(`unexpected path command ${command}`);
  }
  return rows;
}

/** jsQR over the modules drawn as pixels; the decoded text, or undefined when it finds no code. */
export function decodeModules(light: readonly (readonly boolean[])[]): string | undefined {
  const width = light[0]!.length * PIXELS_PER_MODULE;
  const height = light.length * PIXELS_PER_MODULE;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const value = light[Math.floor(y / PIXELS_PER_MODULE)]![Math.floor(x / PIXELS_PER_MODULE)] ? 255 : 0;
      rgba.set([value, value, value, 255], (y * width + x) * 4);
    }
  }
  // dontInvert: a code drawn light-on-dark by mistake must fail here, as it would on many phones.
  return jsQR(rgba, width, height, { inversionAttempts: 'dontInvert' })?.data;
}

export function decodeTerminalQr(screen: string): string | undefined {
  const lines = qrLines(screen);
  return lines.length === 0 ? undefined : decodeModules(modulesOfTerminalQr(lines));
}
