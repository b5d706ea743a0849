// The report's only style sheet and only script, inline so the file stands alone, and allowed by
// the page's Content Security Policy through their SHA-256 hashes — nothing else can run or style
// the page, whatever a payload manages to smuggle into it.

import crypto from 'node:crypto';

export const REPORT_CSS = `
:root { --critical: #7f0000; --high: #c62828; --medium: #e65100; --low: #9e7c00; --info: #546e7a; --ink: #1b1f24; --muted: #5f6b76; --line: #d5dbe1; --panel: #f5f7f9; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; } h2 { font-size: 1.25rem; margin: 32px 0 10px; border-bottom: 2px solid var(--line); padding-bottom: 4px; } h3 { font-size: 1.05rem; margin: 20px 0 8px; }
.subtitle, .muted { color: var(--muted); }
table { border-collapse: collapse; margin: 8px 0; font-size: 0.92rem; } th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; } th { background: var(--panel); } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.warning { background: #fdecea; border: 2px solid var(--high); color: var(--critical); padding: 8px 12px; font-weight: 600; }
tr.old-tls td { background: #fdecea; color: var(--critical); }
.headline { background: var(--panel); border-left: 6px solid var(--high); padding: 10px 16px; } .headline.calm { border-left-color: var(--info); }
.headline li { margin: 4px 0; }
.sev { display: inline-block; padding: 0 6px; border-radius: 3px; color: #fff; font-size: 0.8rem; font-weight: 700; text-transform: uppercase; letter-spacing: 0.03em; }
.sev.critical { background: var(--critical); } .sev.high { background: var(--high); } .sev.medium { background: var(--medium); } .sev.low { background: var(--low); } .sev.info { background: var(--info); }
.badge { display: inline-block; padding: 0 6px; border: 1px solid var(--ink); border-radius: 3px; font-size: 0.8rem; margin-left: 4px; } .badge.new { background: #fff3c4; border-color: #b38f00; } .badge.canary { background: #e3f2fd; border-color: #1565c0; }
.map-row { display: flex; gap: 16px; align-items: flex-start; flex-wrap: wrap; } .map-row svg { flex: 1 1 600px; min-width: 320px; }
svg { width: 100%; height: auto; display: block; }
.sphere { fill: #eef4f8; stroke: #c7d3dc; } .land { fill: #e2e5e8; stroke: #fff; stroke-width: 0.5; }
.sent-1 { fill: #c6dbef; } .sent-2 { fill: #9ecae1; } .sent-3 { fill: #6baed6; } .sent-4 { fill: #3182bd; } .sent-5 { fill: #08519c; }
.land.has-findings { stroke: var(--high); stroke-width: 1.6; } .land.sev-critical { stroke: var(--critical); } .land.sev-medium { stroke: var(--medium); } .land.sev-low { stroke: var(--low); } .land.sev-info { stroke: var(--info); }
.marker { fill: var(--high); stroke: #fff; stroke-width: 1.5; } .marker.sev-critical { fill: var(--critical); } .marker.sev-medium { fill: var(--medium); } .marker.sev-low { fill: var(--low); } .marker.sev-info { fill: var(--info); }
.legend span { display: inline-block; width: 14px; height: 14px; vertical-align: middle; margin: 0 2px 0 10px; border: 1px solid var(--line); }
.legend .l1 { background: #c6dbef; } .legend .l2 { background: #9ecae1; } .legend .l3 { background: #6baed6; } .legend .l4 { background: #3182bd; } .legend .l5 { background: #08519c; } .legend .lf { background: #fff; border: 2px solid var(--high); }
.timeline .row-label, .timeline .axis { font-size: 11px; fill: var(--muted); } .timeline .row-line { stroke: var(--line); } .bin { fill: #6baed6; }
.mark { stroke: #fff; stroke-width: 1; } .mark.sev-critical { fill: var(--critical); } .mark.sev-high { fill: var(--high); } .mark.sev-medium { fill: var(--medium); } .mark.sev-low { fill: var(--low); } .mark.sev-info { fill: var(--info); }
.controls { position: sticky; top: 0; background: #fff; padding: 8px 0; border-bottom: 1px solid var(--line); display: flex; gap: 12px; align-items: center; flex-wrap: wrap; z-index: 1; }
.controls input[type=search] { flex: 1 1 280px; padding: 6px 8px; font-size: 1rem; }
.finding { border: 1px solid var(--line); border-left: 6px solid var(--info); padding: 10px 14px; margin: 10px 0; break-inside: avoid; page-break-inside: avoid; }
.finding.critical { border-left-color: var(--critical); } .finding.high { border-left-color: var(--high); } .finding.medium { border-left-color: var(--medium); } .finding.low { border-left-color: var(--low); }
.finding .summary { font-weight: 600; margin: 4px 0; overflow-wrap: anywhere; }
.finding dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0; font-size: 0.9rem; } .finding dt { color: var(--muted); } .finding dd { margin: 0; overflow-wrap: anywhere; }
.evidence-row { display: flex; gap: 14px; align-items: flex-start; }
.thumb { flex: 0 0 auto; max-width: 240px; max-height: 240px; border: 1px solid var(--line); }
.placeholder { flex: 0 0 160px; height: 120px; border: 1px dashed var(--muted); color: var(--muted); font-size: 0.8rem; padding: 8px; overflow: hidden; }
blockquote.excerpt { margin: 6px 0; padding: 6px 10px; background: var(--panel); border-left: 3px solid var(--muted); white-space: pre-wrap; overflow-wrap: anywhere; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.85rem; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.85rem; overflow-wrap: anywhere; }
.apps { min-width: 60%; } .apps tbody th { font-weight: normal; background: #fff; } .apps tbody + tbody { border-top: 2px solid var(--line); } .apps td, .apps th { overflow-wrap: anywhere; } .apps .count { font-weight: 700; font-variant-numeric: tabular-nums; } .apps .evidence { font-size: 0.78rem; }
.app code { font-weight: 600; } .entity { font-weight: 600; } .confidence { font-size: 0.75rem; padding: 0 4px; border: 1px solid var(--muted); border-radius: 3px; color: var(--muted); }
.change-new { color: #8a6d00; font-weight: 600; } .change-gone { color: var(--muted); text-decoration: line-through; }
footer { margin-top: 40px; font-size: 0.8rem; color: var(--muted); border-top: 1px solid var(--line); padding-top: 8px; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  .controls { display: none; }
  .finding[hidden], .category-group[hidden] { display: block; }
  .finding, .map-row, .timeline, table, img { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
`;

/** Filter and search over the findings: words typed must all appear, severity at least the one chosen. */
export const REPORT_SCRIPT = `(function () {
  var box = document.getElementById('filter');
  var severity = document.getElementById('min-severity');
  var shownCount = document.getElementById('shown-count');
  var rank = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
  var items = Array.prototype.slice.call(document.querySelectorAll('.finding'));
  var groups = Array.prototype.slice.call(document.querySelectorAll('.category-group'));
  var texts = items.map(function (item) { return item.textContent.toLowerCase(); });
  function apply() {
    var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var least = rank[severity.value] || 0;
    var shown = 0;
    items.forEach(function (item, i) {
      var visible = rank[item.getAttribute('data-severity')] >= least && words.every(function (w) { return texts[i].indexOf(w) >= 0; });
      item.hidden = !visible;
      if (visible) shown++;
    });
    groups.forEach(function (group) { group.hidden = !group.querySelector('.finding:not([hidden])'); });
    shownCount.textContent = String(shown);
  }
  box.addEventListener('input', apply);
  severity.addEventListener('change', apply);
})();`;

export function cspHash(text: string): string {
  return `'sha256-${crypto.createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** Nothing from any network; the one style and the one script by hash; images only as data: URIs. */
export function contentSecurityPolicy(): string {
  return [
    "default-src 'none'",
    `style-src ${cspHash(REPORT_CSS)}`,
    `script-src ${cspHash(REPORT_SCRIPT)}`,
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}
