// The world map of a report: an SVG drawn when the report is built (no tiles, no script, nothing
// fetched when it is opened), countries shaded by the bytes sent to them and outlined by the worst
// finding there. Shapes: Natural Earth through the world-atlas package (1:110m; a country too small
// for that scale — Singapore, Hong Kong — is taken from the 1:50m file and marked with a dot).

import { createRequire } from 'node:module';
import { geoEqualEarth, geoPath, geoArea, geoCentroid, type GeoPermissibleObjects } from 'd3-geo';
import { feature } from 'topojson-client';
import type { Topology, GeometryCollection } from 'topojson-specification';
import countries from 'i18n-iso-countries';
import type { Feature, Geometry } from 'geojson';
import { escapeHtml, formatBytes } from './html-text.js';
import type { Severity } from '../model/finding.js';

const require = createRequire(import.meta.url);

export interface CountryTotals {
  readonly bytesUp: number;
  readonly findings: number;
  readonly worst: Severity | null;
}

type CountryFeature = Feature<Geometry, { name: string }> & { id?: string | number };

const shapes = new Map<string, readonly CountryFeature[]>();

function countryShapes(scale: '110m' | '50m'): readonly CountryFeature[] {
  let loaded = shapes.get(scale);
  if (!loaded) {
    const topology = require(`world-atlas/countries-${scale}.json`) as Topology<{ countries: GeometryCollection<{ name: string }> }>;
    loaded = (feature(topology, topology.objects.countries) as unknown as { features: CountryFeature[] }).features;
    shapes.set(scale, loaded);
  }
  return loaded;
}

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });

/** "China" for CN (CLDR's short English names, through Node's ICU); the code itself when unknown. */
export function countryName(alpha2: string): string {
  if (alpha2 === 'ZZ') return alpha2;
  try {
    return regionNames.of(alpha2) ?? alpha2;
  } catch {
    return alpha2;
  }
}

const WIDTH = 960;
const HEIGHT = 470;

/** Five classes of bytes sent, on a log scale (1 kB, 10 kB, … each a shade darker). */
export function bytesClass(bytes: number): number {
  if (bytes <= 0) return 0;
  return Math.min(5, Math.max(1, Math.floor(Math.log10(bytes)) - 1));
}

/**
 * The map as SVG markup. `totals` is keyed by ISO 3166-1 alpha-2 code; codes without a shape
 * (XK, the unknown) are simply not drawn — the table beside the map lists every country.
 */
export function worldMapSvg(totals: ReadonlyMap<string, CountryTotals>): string {
  const projection = geoEqualEarth().fitExtent([[4, 4], [WIDTH - 4, HEIGHT - 4]], { type: 'Sphere' } as GeoPermissibleObjects);
  const path = geoPath(projection).digits(1);
  const byNumeric = new Map<string, string>();
  for (const alpha2 of totals.keys()) {
    const numeric = countries.alpha2ToNumeric(alpha2);
    if (numeric) byNumeric.set(numeric, alpha2);
  }
  const drawn = new Set<string>();
  const parts: string[] = [];
  const shape = (f: CountryFeature): void => {
    const numeric = String(f.id ?? '');
    const alpha2 = byNumeric.get(numeric);
    const d = path(f);
    if (!d) return;
    if (!alpha2) {
      parts.push(`<path class="land" d="${d}"/>`);
      return;
    }
    drawn.add(alpha2);
    const t = totals.get(alpha2)!;
    const title = `${countryName(alpha2)}: ${formatBytes(t.bytesUp)} sent, ${t.findings} finding${t.findings === 1 ? '' : 's'}`;
    const worst = t.worst ? ` sev-${t.worst}` : '';
    parts.push(`<path class="land sent-${bytesClass(t.bytesUp)}${t.findings > 0 ? ' has-findings' : ''}${worst}" data-country="${escapeHtml(alpha2)}" d="${d}"><title>${escapeHtml(title)}</title></path>`);
    // A country a few pixels wide is also a dot, so it can be seen at all.
    if (geoArea(f) < 0.0002) dot(f, alpha2, title, worst);
  };
  const dot = (f: CountryFeature, alpha2: string, title: string, worst: string): void => {
    const at = projection(geoCentroid(f));
    if (!at) return;
    parts.push(`<circle class="marker${worst}" data-country="${escapeHtml(alpha2)}" cx="${at[0].toFixed(1)}" cy="${at[1].toFixed(1)}" r="5"><title>${escapeHtml(title)}</title></circle>`);
  };
  for (const f of countryShapes('110m')) shape(f);
  const missing = [...byNumeric.entries()].filter(([, alpha2]) => !drawn.has(alpha2));
  if (missing.length > 0) {
    const wanted = new Set(missing.map(([numeric]) => numeric));
    for (const f of countryShapes('50m')) if (wanted.has(String(f.id ?? ''))) shape(f);
  }
  const sphere = path({ type: 'Sphere' } as GeoPermissibleObjects) ?? '';
  return `<svg class="world-map" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="map-title"><title id="map-title">World map: countries shaded by bytes sent, outlined where findings went</title><path class="sphere" d="${sphere}"/>${parts.join('')}</svg>`;
}
