// The blessed layer: five boxes (header, findings, flows, hint line, overlay) painted from the
// model at most 30 times a second, only the visible rows, never a growing List or Log. The only
// module that imports blessed. Every string it shows has been through toDisplay() in the model;
// here braces are escaped and colours chosen by meaning (none with NO_COLOR).

import blessed from 'blessed';
import type { Readable, Writable } from 'node:stream';
import { commandFor } from './keymap.js';
import type { Line, TuiModel } from './tui-model.js';

const FRAME_MS = 33;

const COLOURS: Record<string, string> = {
  'sev.critical': '{red-fg}{bold}', 'sev.high': '{red-fg}', 'sev.medium': '{yellow-fg}', 'sev.low': '{cyan-fg}', 'sev.info': '',
  warn: '{magenta-fg}', dim: '', header: '{bold}', bold: '{bold}', selected: '{inverse}', plain: '',
  // Lit cells are the code's light modules (terminalQr): white on black reads right on any terminal.
  qr: '{#000000-bg}{#ffffff-fg}',
};
const MONO: Record<string, string> = { selected: '{inverse}', 'sev.critical': '{bold}', 'sev.high': '{bold}', header: '{bold}', bold: '{bold}' };

export interface ScreenOptions {
  readonly input?: Readable;
  readonly output?: Writable;
  readonly colour: boolean;
  /** Paint synchronously on every change (tests) instead of on a timer. */
  readonly immediate?: boolean;
  readonly onQuit: () => void;
  readonly onExport: () => string;
}

export class TuiScreen {
  readonly screen: blessed.Widgets.Screen;
  readonly #model: TuiModel;
  readonly #options: ScreenOptions;
  readonly #header: blessed.Widgets.BoxElement;
  readonly #findings: blessed.Widgets.BoxElement;
  readonly #flows: blessed.Widgets.BoxElement;
  readonly #hint: blessed.Widgets.BoxElement;
  readonly #overlay: blessed.Widgets.BoxElement;
  readonly #prompt: blessed.Widgets.TextboxElement;
  #dirty = true;
  #timer: NodeJS.Timeout | undefined;
  #prompting = false;

  constructor(model: TuiModel, options: ScreenOptions) {
    this.#model = model;
    this.#options = options;
    this.screen = blessed.screen({
      smartCSR: true, fullUnicode: true, title: 'phonehome', autoPadding: false, warnings: false,
      // @types/blessed swaps the two stream types; both are plain streams here.
      ...(options.input ? { input: options.input as never } : {}),
      ...(options.output ? { output: options.output as never } : {}),
      terminal: 'xterm-256color',
    });
    const box = (top: number | string, height: number | string, extra: blessed.Widgets.BoxOptions = {}) => blessed.box({ parent: this.screen, top, left: 0, width: '100%', height, tags: true, wrap: false, ...extra });
    this.#header = box(0, 2);
    this.#findings = box(2, 1, { label: ' Findings ', border: { type: 'line' } });
    this.#flows = box(3, 1, { label: ' Flows ', border: { type: 'line' } });
    this.#hint = box('100%-1', 1);
    this.#overlay = box(0, '100%-1', { hidden: true });
    this.#prompt = blessed.textbox({ parent: this.screen, bottom: 0, left: 0, width: '100%', height: 1, inputOnFocus: false, hidden: true });
    this.screen.on('keypress', (ch: string | undefined, key: { full?: string; name?: string }) => this.#onKey(ch, key));
    this.screen.on('resize', () => this.markDirty());
    this.screen.enableMouse();
    this.screen.on('wheeldown', () => this.#apply('down'));
    this.screen.on('wheelup', () => this.#apply('up'));
    this.markDirty();
  }

  markDirty(): void {
    this.#dirty = true;
    if (this.#options.immediate) {
      this.paint();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (this.#dirty) this.paint();
    }, FRAME_MS);
  }

  #tagged(line: Line): string {
    const open = (this.#options.colour ? COLOURS : MONO)[line.style] ?? '';
    return `${open}${blessed.escape(line.text)}${open ? '{/}' : ''}`;
  }

  paint(): void {
    this.#dirty = false;
    const width = (this.screen.width as number) || 80;
    const height = (this.screen.height as number) || 24;
    if (width < 50 || height < 12) {
      this.#overlay.show();
      this.#overlay.setContent(`terminal too small (${width}x${height}): phonehome needs at least 50x12`);
      this.screen.render();
      return;
    }
    const view = this.#model.render(width - 2, height);
    const body = height - 3;
    const findingsHeight = Math.max(3, view.findings.length + 2);
    this.#header.setContent(view.header.map((l) => this.#tagged(l)).join('\n'));
    this.#findings.top = 2;
    this.#findings.height = Math.min(findingsHeight, body - 3);
    this.#findings.setLabel(` ${view.findingsTitle} `);
    this.#findings.setContent(view.findings.map((l) => this.#tagged(l)).join('\n'));
    this.#flows.top = 2 + (this.#findings.height as number);
    this.#flows.height = Math.max(3, body - (this.#findings.height as number));
    this.#flows.setLabel(` ${view.flowsTitle} `);
    this.#flows.setContent(view.flows.map((l) => this.#tagged(l)).join('\n'));
    this.#hint.setContent(this.#tagged(view.hint));
    if (view.overlay) {
      this.#overlay.setContent(view.overlay.map((l) => this.#tagged(l)).join('\n'));
      this.#overlay.show();
      this.#overlay.setFront();
    } else {
      this.#overlay.hide();
    }
    this.screen.render();
  }

  #apply(command: Parameters<TuiModel['command']>[0]): void {
    const height = (this.screen.height as number) || 24;
    const outcome = this.#model.command(command, Math.max(1, Math.floor(height / 3)));
    if (outcome === 'quit') this.#options.onQuit();
    else if (outcome === 'prompt-search' || outcome === 'prompt-filter') this.#ask(outcome === 'prompt-search' ? '/' : 'filter: ', (text) => (outcome === 'prompt-search' ? this.#model.setSearch(text) : this.#model.setFilter(text)));
    else if (outcome === 'export') this.#model.message = this.#options.onExport();
    this.markDirty();
  }

  #ask(label: string, done: (text: string) => void): void {
    this.#prompting = true;
    this.#hint.hide();
    this.#prompt.show();
    this.#prompt.setValue('');
    this.#prompt.setLabel?.(label);
    this.#prompt.focus();
    this.#prompt.readInput((_err, value) => {
      // The key that ended the prompt (enter, escape) is still being delivered to the screen:
      // stop ignoring keys only after it.
      setImmediate(() => { this.#prompting = false; });
      this.#prompt.hide();
      this.#hint.show();
      if (typeof value === 'string') done(value);
      this.markDirty();
    });
    this.screen.render();
  }

  #onKey(ch: string | undefined, key: { full?: string; name?: string }): void {
    if (this.#prompting) {
      if (key.full === 'C-c') this.#options.onQuit();
      return;
    }
    const name = key.full === 'return' ? 'enter' : key.full ?? key.name ?? ch ?? '';
    const command = commandFor(name, this.#model.view) ?? (ch ? commandFor(ch, this.#model.view) : undefined);
    if (command) this.#apply(command);
  }

  destroy(): void {
    clearTimeout(this.#timer);
    this.screen.destroy();
  }
}
