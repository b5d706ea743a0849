// The summary's `devices` and `apps`: per client address, the device its User-Agents describe (model,
// OS, HTTP stacks) and the apps its flows were attributed to; and how many requests got an app, at
// which confidence. Bounded: a run with thousands of clients lists the first ones and counts the rest.

import { deviceOfRequest } from '../enrich/app/device-of-request.js';
import type { AppAttribution, AppConfidence, Flow } from '../model/flow.js';
import { limits } from '../limits.js';

/** Clients listed, and apps listed per client, at most. */
const MAX_DEVICES = limits.summaryDevices;
const MAX_APPS_PER_DEVICE = limits.summaryAppsPerDevice;

const confidenceRank: Record<AppConfidence, number> = { low: 0, medium: 1, high: 2 };

interface AppTally { flows: number; confidence: AppConfidence; evidence: string; name?: string }

interface DeviceTally {
  name?: string;
  flows: number;
  model?: string;
  os?: string;
  evidence?: string;
  frameworks: Set<string>;
  apps: Map<string, AppTally>;
}

export class DeviceLedger {
  readonly #devices = new Map<string, DeviceTally>();
  #unlisted = 0;
  /** Requests (HTTP exchanges and WebSocket upgrades) seen, and how many got an app at each confidence. */
  readonly #requests = { total: 0, high: 0, medium: 0, low: 0 };

  add(flow: Flow): void {
    if (flow.kind === 'dns' || flow.kind === 'rejected') return;
    const device = this.#device(flow);
    if (device) device.flows++;
    if (!flow.request) return;
    this.#requests.total++;
    if (flow.app) this.#requests[flow.app.confidence]++;
    if (!device) return;
    if (flow.app) this.#addApp(device, flow.app);
    const facts = deviceOfRequest(flow.request.headers);
    if (!facts) return;
    if (facts.framework) device.frameworks.add(facts.framework);
    // The first User-Agent that names a model describes the device; later ones only fill gaps.
    if (facts.model && !device.model) {
      device.model = facts.model;
      device.evidence = facts.evidence;
    }
    if (facts.os && !device.os) device.os = facts.os;
  }

  #device(flow: Flow): DeviceTally | undefined {
    const key = flow.client.ip;
    let device = this.#devices.get(key);
    if (!device) {
      if (this.#devices.size >= MAX_DEVICES) {
        this.#unlisted++;
        return undefined;
      }
      device = { flows: 0, frameworks: new Set(), apps: new Map() };
      this.#devices.set(key, device);
    }
    if (flow.client.name && !device.name) device.name = flow.client.name;
    return device;
  }

  #addApp(device: DeviceTally, app: AppAttribution): void {
    const known = device.apps.get(app.id);
    if (known) {
      known.flows++;
      if (confidenceRank[app.confidence] > confidenceRank[known.confidence]) Object.assign(known, { confidence: app.confidence, evidence: app.evidence });
      return;
    }
    if (device.apps.size >= MAX_APPS_PER_DEVICE) return;
    device.apps.set(app.id, { flows: 1, confidence: app.confidence, evidence: app.evidence, ...(app.name ? { name: app.name } : {}) });
  }

  /** `devices`: one entry per client, most flows first. */
  devices(): Array<Record<string, unknown>> {
    return [...this.#devices]
      .sort((a, b) => b[1].flows - a[1].flows || a[0].localeCompare(b[0]))
      .map(([ip, d]) => ({
        client: ip, ...(d.name ? { name: d.name } : {}), flows: d.flows,
        model: d.model ?? null, os: d.os ?? null, ...(d.evidence ? { evidence: d.evidence } : {}),
        frameworks: [...d.frameworks].sort(),
        apps: [...d.apps].sort((a, b) => b[1].flows - a[1].flows || a[0].localeCompare(b[0])).map(([id, app]) => ({ id, ...app })),
      }));
  }

  /** `apps`: how many requests got an app, at which confidence (and clients not listed, if any). */
  attribution(): Record<string, number> {
    return { requests: this.#requests.total, high: this.#requests.high, medium: this.#requests.medium, low: this.#requests.low, none: this.#requests.total - this.#requests.high - this.#requests.medium - this.#requests.low, ...(this.#unlisted > 0 ? { devicesNotListed: this.#unlisted } : {}) };
  }
}
