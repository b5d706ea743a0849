// The keys, as data: one table drives the handlers, the `?` help and the hint line.

export type Command =
  | 'help' | 'next-pane' | 'down' | 'up' | 'top' | 'bottom' | 'page-down' | 'page-up'
  | 'open' | 'back' | 'quit' | 'search' | 'search-next' | 'filter' | 'next-app' | 'pause' | 'export' | 'events' | 'wireguard';

export type Context = 'main' | 'detail' | 'help' | 'events' | 'wireguard';

export interface KeyBinding {
  readonly keys: readonly string[];
  readonly command: Command;
  readonly contexts: readonly Context[];
  readonly help: string;
}

export const keymap: readonly KeyBinding[] = [
  { keys: ['?'], command: 'help', contexts: ['main', 'detail'], help: 'this help' },
  { keys: ['tab'], command: 'next-pane', contexts: ['main'], help: 'switch between findings and flows' },
  { keys: ['j', 'down'], command: 'down', contexts: ['main', 'detail', 'help', 'events', 'wireguard'], help: 'move down' },
  { keys: ['k', 'up'], command: 'up', contexts: ['main', 'detail', 'help', 'events', 'wireguard'], help: 'move up' },
  { keys: ['g', 'home'], command: 'top', contexts: ['main', 'detail', 'events', 'wireguard'], help: 'first (newest)' },
  { keys: ['G', 'end'], command: 'bottom', contexts: ['main', 'detail', 'events', 'wireguard'], help: 'last (oldest)' },
  { keys: ['pagedown', 'C-f'], command: 'page-down', contexts: ['main', 'detail', 'events', 'wireguard'], help: 'page down' },
  { keys: ['pageup', 'C-b'], command: 'page-up', contexts: ['main', 'detail', 'events', 'wireguard'], help: 'page up' },
  { keys: ['enter'], command: 'open', contexts: ['main'], help: 'details of the selected finding or flow' },
  { keys: ['escape', 'q'], command: 'back', contexts: ['detail', 'help', 'main', 'events', 'wireguard'], help: 'back (clears a filter or search on the main screen)' },
  { keys: ['E'], command: 'events', contexts: ['main', 'detail'], help: 'event log: unverifiable servers, DNS failures, refused clients, pinned hosts' },
  { keys: ['w'], command: 'wireguard', contexts: ['main', 'detail'], help: "WireGuard: the phones' QR codes and the endpoint (capture --wireguard)" },
  { keys: ['/'], command: 'search', contexts: ['main'], help: 'search the current list' },
  { keys: ['n'], command: 'search-next', contexts: ['main'], help: 'next search match' },
  { keys: ['f'], command: 'filter', contexts: ['main'], help: 'filter: words (apps, companies too) or cat:photo sev:high host:x app:gallery entity:google' },
  { keys: ['a'], command: 'next-app', contexts: ['main'], help: 'one app at a time: each app seen in turn, then all again (keeps the rest of the filter)' },
  { keys: ['space', 'p'], command: 'pause', contexts: ['main'], help: 'pause the display / follow again (capture goes on)' },
  { keys: ['e'], command: 'export', contexts: ['main', 'detail'], help: "export the selected finding's evidence to a file" },
  { keys: ['Q', 'C-c'], command: 'quit', contexts: ['main', 'detail', 'help', 'events', 'wireguard'], help: 'quit: stop, write files, restore the terminal' },
];

export function commandFor(key: string, context: Context): Command | undefined {
  return keymap.find((b) => b.contexts.includes(context) && b.keys.includes(key))?.command;
}
