// Location leaving the device: latitude/longitude pairs under geo keys (in range, not both whole
// numbers, not 0,0), E7 integers, GeoJSON points ([lon, lat]), NMEA sentences with a valid
// checksum; and location proxies: Wi-Fi scans (BSSIDs) and cell towers (MCC, MNC, LAC/TAC, CID).

import type { FindingDraft } from '../../model/finding.js';
import type { Detector, View } from './detector.js';

const LAT_KEYS = new Set(['lat', 'latitude', 'gps_lat', 'gpslat', 'loc_lat']);
const LON_KEYS = new Set(['lon', 'lng', 'long', 'longitude', 'gps_lon', 'gps_lng', 'gpslon', 'loc_lon', 'loc_lng']);

export interface Position { lat: number; lon: number; decimals: number; how: string }

function decimals(n: number): number {
  const text = String(n);
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

function numeric(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d{1,3}\.\d{2,}$/.test(value.trim())) return Number(value);
  return undefined;
}

function plausible(lat: number, lon: number): boolean {
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return false;
  if (lat === 0 && lon === 0) return false;
  if (Number.isInteger(lat) && Number.isInteger(lon)) return false;
  return !(Math.abs(lat) === 999 || lat === -1);
}

/** A position in one object, by its keys. */
export function positionOf(object: Record<string, unknown>): Position | undefined {
  let lat: number | undefined;
  let lon: number | undefined;
  for (const [rawKey, value] of Object.entries(object)) {
    const key = rawKey.toLowerCase();
    if (LAT_KEYS.has(key)) lat ??= numeric(value);
    else if (LON_KEYS.has(key)) lon ??= numeric(value);
    else if ((key === 'latitudee7' || key === 'lat_e7') && typeof value === 'number') lat ??= value / 1e7;
    else if ((key === 'longitudee7' || key === 'lng_e7' || key === 'lon_e7') && typeof value === 'number') lon ??= value / 1e7;
  }
  if (lat !== undefined && lon !== undefined && plausible(lat, lon)) return { lat, lon, decimals: Math.min(decimals(lat), decimals(lon)), how: 'lat/lon keys' };
  // GeoJSON: coordinates are [longitude, latitude].
  const coordinates = object['coordinates'];
  if (object['type'] === 'Point' && Array.isArray(coordinates) && typeof coordinates[0] === 'number' && typeof coordinates[1] === 'number' && plausible(coordinates[1], coordinates[0])) {
    return { lat: coordinates[1], lon: coordinates[0], decimals: Math.min(decimals(coordinates[0]), decimals(coordinates[1])), how: 'GeoJSON point' };
  }
  return undefined;
}

/**
 * A schemaless protobuf message holding a position: two fields with consecutive numbers that are
 * doubles (the decoder keeps fractional fixed64 values as doubles), a latitude then a longitude,
 * each with at least four decimals. Integers never qualify: varints and ids stay quiet.
 */
export function positionOfFieldPair(object: Record<string, unknown>): Position | undefined {
  for (const [key, value] of Object.entries(object)) {
    if (typeof value !== 'number' || Number.isInteger(value) || !/^\d+$/.test(key)) continue;
    const next = object[String(Number(key) + 1)];
    if (typeof next !== 'number' || Number.isInteger(next)) continue;
    if (decimals(value) >= 4 && decimals(next) >= 4 && Math.abs(value) <= 90 && plausible(value, next)) return { lat: value, lon: next, decimals: Math.min(decimals(value), decimals(next)), how: 'protobuf doubles' };
  }
  return undefined;
}

/** NMEA 0183 GGA/RMC sentences with a valid XOR checksum. */
export function nmeaPositions(text: string): Position[] {
  const positions: Position[] = [];
  for (const match of text.matchAll(/\$(G[PNLA](?:GGA|RMC)),([^*\r\n]*)\*([0-9A-Fa-f]{2})/g)) {
    const body = `${match[1]},${match[2]}`;
    let sum = 0;
    for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
    if (sum !== parseInt(match[3]!, 16)) continue;
    const fields = match[2]!.split(',');
    const [latText, ns, lonText, ew] = match[1]!.endsWith('GGA') ? fields.slice(1, 5) : fields.slice(2, 6);
    if (!latText || !lonText) continue;
    const degrees = (v: string, width: number): number => Number(v.slice(0, width)) + Number(v.slice(width)) / 60;
    const lat = degrees(latText, 2) * (ns === 'S' ? -1 : 1);
    const lon = degrees(lonText, 3) * (ew === 'W' ? -1 : 1);
    if (plausible(lat, lon)) positions.push({ lat, lon, decimals: 4, how: 'NMEA sentence' });
  }
  return positions;
}

const MAC = /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i;

function collect(value: unknown, out: { positions: Position[]; bssids: Set<string>; cells: number }, depth = 0, protobuf = false): void {
  if (depth > 16 || out.positions.length > 1000) return;
  if (Array.isArray(value)) {
    for (const item of value) collect(item, out, depth + 1, protobuf);
    return;
  }
  if (!value || typeof value !== 'object') return;
  const object = value as Record<string, unknown>;
  const position = positionOf(object) ?? (protobuf ? positionOfFieldPair(object) : undefined);
  if (position) out.positions.push(position);
  const keys = new Set(Object.keys(object).map((k) => k.toLowerCase()));
  const bssid = object['bssid'] ?? object['BSSID'] ?? object['mac'];
  if (typeof bssid === 'string' && MAC.test(bssid) && (keys.has('bssid') || keys.has('rssi') || keys.has('level') || keys.has('ssid'))) out.bssids.add(bssid.toLowerCase());
  if (keys.has('mcc') && keys.has('mnc') && (keys.has('cid') || keys.has('ci') || keys.has('cellid') || keys.has('cell_id')) && (keys.has('lac') || keys.has('tac'))) out.cells++;
  for (const inner of Object.values(object)) if (inner && typeof inner === 'object') collect(inner, out, depth + 1, protobuf);
}

function precision(decimalPlaces: number): string {
  return decimalPlaces >= 4 ? `±${Math.max(1, Math.round(111_000 / 10 ** decimalPlaces))} m` : decimalPlaces === 3 ? '±110 m' : 'coarse';
}

export const locationDetector: Detector = {
  id: 'location',
  category: 'location',
  gate(view) {
    return view.structured !== undefined || (view.bytes.length >= 20 && view.bytes.includes('$G'));
  },
  detect(view: View): FindingDraft[] {
    const found = { positions: [] as Position[], bssids: new Set<string>(), cells: 0 };
    if (view.structured !== undefined) collect(view.structured, found, 0, view.contentType === 'application/x-protobuf');
    else found.positions.push(...nmeaPositions(view.bytes.toString('latin1')));
    const findings: FindingDraft[] = [];
    if (found.positions.length > 0) {
      const first = found.positions[0]!;
      const precise = first.decimals >= 3;
      findings.push({
        category: 'location', severity: precise ? 'high' : 'medium', direction: view.direction, detector: 'location/coordinates',
        summary: `${found.positions.length > 1 ? `${found.positions.length} positions, first ` : 'Position '}${first.lat.toFixed(4)}, ${first.lon.toFixed(4)} (${precision(first.decimals)}, ${first.how})`,
        evidence: { path: view.path, bytes: view.bytes.length, excerpt: `${first.lat}, ${first.lon}` },
        details: { positions: found.positions.slice(0, 50).map((p) => [p.lat, p.lon]), count: found.positions.length, precise },
      });
    }
    if (found.bssids.size > 0 || found.cells > 0) {
      const what = [found.bssids.size > 0 ? `${found.bssids.size} Wi-Fi access point${found.bssids.size > 1 ? 's' : ''} (BSSID)` : '', found.cells > 0 ? `${found.cells} cell tower${found.cells > 1 ? 's' : ''}` : ''].filter(Boolean).join(' and ');
      findings.push({
        category: 'location', severity: 'medium', direction: view.direction, detector: 'location/radio-scan',
        summary: `${what}: enough to place the device on a map`,
        evidence: { path: view.path, bytes: view.bytes.length },
        details: { bssids: [...found.bssids].slice(0, 50), cells: found.cells },
      });
    }
    return findings;
  },
};
