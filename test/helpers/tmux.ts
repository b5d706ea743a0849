// A real terminal for end-to-end tests: one tmux session, its screen read with capture-pane and
// polled with a deadline (never a fixed sleep). Callers skip where tmux is not installed.

import { execFileSync, spawnSync } from 'node:child_process';

export const haveTmux = spawnSync('tmux', ['-V']).status === 0;

export interface TmuxSession {
  /** Runs a tmux command; its stdout. */
  tmux(...args: string[]): string;
  /** Resolves with the screen once it matches `pattern`; fails with the last screen after the deadline. */
  screenShows(pattern: RegExp, deadlineMs?: number): Promise<string>;
}

export function tmuxSession(session: string): TmuxSession {
  const tmux = (...args: string[]): string => execFileSync('tmux', args, { encoding: 'utf8' });
  return {
    tmux,
    async screenShows(pattern, deadlineMs = 30_000) {
      const until = Date.now() + deadlineMs;
      let screen = '';
      while (Date.now() < until) {
        screen = tmux('capture-pane', '-p', '-t', session);
        if (pattern.test(screen)) return screen;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`the screen never showed ${pattern}:\n${screen}`);
    },
  };
}
