// The terminal UI as a sink: flows and findings go into its model, the proxy's warnings to its
// hint line (never over the screen), notices to its event log. Closing gives the terminal back;
// it closes last, so the screen shows the stop until the files are written.

import { Notices } from '../app/notices.js';
import { DestinationLookup } from '../enrich/destination-lookup.js';
import { EntityLookup } from '../enrich/entity/entity-lookup.js';
import type { EventBus } from '../flow/events.js';
import { limits } from '../limits.js';
import { toDisplay } from '../util/sanitize.js';
import type { Sink, SinkStats } from './sink.js';
import { flowRow, type TuiModel } from './tui/tui-model.js';
import type { TuiScreen } from './tui/tui-screen.js';

export class TuiSink implements Sink {
  readonly name = 'tui';
  readonly closes = 'display';
  readonly #model: TuiModel;
  readonly #screen: TuiScreen;
  #rows = 0;

  constructor(model: TuiModel, screen: TuiScreen) {
    this.#model = model;
    this.#screen = screen;
  }

  attach(bus: EventBus): void {
    const model = this.#model;
    const screen = this.#screen;
    bus.listen('finding', 'tui', (finding) => {
      model.addFinding(finding);
      screen.markDirty();
    });
    bus.listen('flow:end', 'tui', (flow) => {
      model.addFlow(flowRow(flow, DestinationLookup.locate(flow.destination?.ip).country, (host) => EntityLookup.of(host)), flow.client.ip);
      this.#rows++;
      screen.markDirty();
    });
    bus.listen('log', 'tui', (entry) => {
      if (entry.level === 'warn' || entry.level === 'error') {
        model.message = toDisplay(entry.message, 200);
        screen.markDirty();
      }
    });
    new Notices(bus, (line) => {
      model.addEvent(toDisplay(line, 400));
      screen.markDirty();
    }, { intervalMs: limits.noticeIntervalMs });
  }

  async close(): Promise<SinkStats> {
    this.#screen.destroy();
    return { written: this.#rows, skipped: 0 };
  }
}
