// SVG pictures of the report: the scenario heatmaps, the margin-model bars, the backtest lines.
// Plain DOM, no chart library: every element carries the number it draws (data-value) so a
// test reads exactly what the page shows.
const NS = "http://www.w3.org/2000/svg";

export function svg(width: number, height: number): SVGSVGElement {
  const s = document.createElementNS(NS, "svg");
  s.setAttribute("width", String(width));
  s.setAttribute("height", String(height));
  s.setAttribute("viewBox", `0 0 ${width} ${height}`);
  return s;
}

export function el<K extends keyof SVGElementTagNameMap>(parent: Element, tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  parent.appendChild(e);
  return e;
}

export interface GridCell {
  price_shock: number;
  vol_shock: number;
  loss: number;
}

/** A loss as a colour: red for a loss, green for a gain, stronger with size. */
function colour(loss: number, scale: number): string {
  const t = scale > 0 ? Math.min(1, Math.abs(loss) / scale) : 0;
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return loss > 0 ? `rgb(255,${mix(245, 60)},${mix(245, 50)})` : `rgb(${mix(245, 40)},${mix(250, 160)},${mix(245, 80)})`;
}

const pct = (x: number) => `${x > 0 ? "+" : ""}${(x * 100).toFixed(Math.abs(x) < 0.1 && x !== 0 ? 1 : 0)}%`;

/** The grid node nearest to the engine's worst scenario: the engine searches between nodes
 * too (its worst price shock may lie between two), so the node at the worst vol shock with
 * the nearest price shock is the one marked. */
export function bindingNode(cells: GridCell[], worst: { price: number; vol: number }): GridCell | undefined {
  const dist = (c: GridCell) => Math.abs(c.vol_shock - worst.vol) * 1e6 + Math.abs(c.price_shock - worst.price);
  return cells.reduce<GridCell | undefined>((best, c) => (best === undefined || dist(c) < dist(best) ? c : best), undefined);
}

/**
 * The grid as a heatmap: price shocks across, vol shocks down, the node of the binding
 * scenario (`worst`, see `bindingNode`) outlined. Each cell carries its loss.
 */
export function heatmap(title: string, cells: GridCell[], worst: { price: number; vol: number }): SVGSVGElement {
  const prices = [...new Set(cells.map((c) => c.price_shock))].sort((a, b) => a - b);
  const vols = [...new Set(cells.map((c) => c.vol_shock))].sort((a, b) => b - a);
  const cw = 34;
  const ch = 26;
  const left = 56;
  const top = 34;
  const s = svg(left + prices.length * cw + 10, top + vols.length * ch + 40);
  s.classList.add("heatmap");
  s.setAttribute("data-title", title);
  el(s, "text", { x: left, y: 14, "font-size": 13, "font-weight": 600 }, title);
  el(s, "text", { x: left, y: top + vols.length * ch + 34, "font-size": 11, fill: "#555" }, "price shock →");
  el(s, "text", { x: 2, y: top - 6, "font-size": 11, fill: "#555" }, "vol ↓");
  const scale = Math.max(...cells.map((c) => Math.abs(c.loss)), 1e-9);
  prices.forEach((p, i) => el(s, "text", { x: left + i * cw + cw / 2, y: top + vols.length * ch + 14, "font-size": 9, "text-anchor": "middle" }, pct(p)));
  vols.forEach((v, j) => el(s, "text", { x: left - 4, y: top + j * ch + ch / 2 + 4, "font-size": 10, "text-anchor": "end" }, pct(v)));
  let binding: SVGRectElement | undefined;
  const node = bindingNode(cells, worst);
  for (const c of cells) {
    const i = prices.indexOf(c.price_shock);
    const j = vols.indexOf(c.vol_shock);
    const r = el(s, "rect", { x: left + i * cw, y: top + j * ch, width: cw - 1, height: ch - 1, fill: colour(c.loss, scale), "data-price-shock": c.price_shock, "data-vol-shock": c.vol_shock, "data-value": c.loss });
    el(r, "title", {}, `price ${pct(c.price_shock)}, vol ${pct(c.vol_shock)}: loss ${c.loss.toFixed(2)}`);
    if (c === node) binding = r;
  }
  if (binding) {
    // Drawn last, on top: the scenario that sets the grid loss.
    const mark = el(s, "rect", {
      x: binding.getAttribute("x")!, y: binding.getAttribute("y")!, width: cw - 1, height: ch - 1, fill: "none", class: "grid-cell-binding binding",
      "data-price-shock": binding.getAttribute("data-price-shock")!, "data-vol-shock": binding.getAttribute("data-vol-shock")!,
    });
    el(mark, "title", {}, `binding scenario: price ${pct(worst.price)}, vol ${pct(worst.vol)}`);
  }
  return s;
}

export interface Bar {
  label: string;
  value: number;
  colour: string;
}

/** Horizontal bars (requirements by model). */
export function bars(title: string, items: Bar[], format: (x: number) => string): SVGSVGElement {
  const left = 190;
  const width = 360;
  const rowH = 26;
  const s = svg(left + width + 110, 26 + items.length * rowH);
  s.classList.add("bars");
  el(s, "text", { x: 0, y: 14, "font-size": 13, "font-weight": 600 }, title);
  const max = Math.max(...items.map((b) => b.value), 1e-9);
  items.forEach((b, i) => {
    const y = 24 + i * rowH;
    el(s, "text", { x: left - 8, y: y + 14, "font-size": 12, "text-anchor": "end" }, b.label);
    el(s, "rect", { x: left, y, width: Math.max(1, (b.value / max) * width), height: rowH - 8, fill: b.colour, "data-label": b.label, "data-value": b.value });
    el(s, "text", { x: left + Math.max(1, (b.value / max) * width) + 6, y: y + 14, "font-size": 12 }, format(b.value));
  });
  return s;
}

export interface Line {
  label: string;
  colour: string;
  points: [number, number][];
}

/** A panel of lines over time (unix seconds). */
export function lines(title: string, unit: string, series: Line[], width = 760, height = 220): SVGSVGElement {
  const left = 60;
  const right = 140;
  const top = 24;
  const bottom = 28;
  const s = svg(width, height);
  s.classList.add("lines");
  el(s, "text", { x: left, y: 14, "font-size": 13, "font-weight": 600 }, title);
  const all = series.flatMap((l) => l.points);
  if (all.length < 2) return s;
  const [t0, t1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [v0, v1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (v0 === v1) [v0, v1] = [v0 - 1, v1 + 1];
  const x = (t: number) => left + ((t - t0) / Math.max(1, t1 - t0)) * (width - left - right);
  const y = (v: number) => top + (1 - (v - v0) / (v1 - v0)) * (height - top - bottom);
  el(s, "line", { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, stroke: "#999" });
  el(s, "line", { x1: left, y1: top, x2: left, y2: height - bottom, stroke: "#999" });
  for (const v of [v0, (v0 + v1) / 2, v1]) el(s, "text", { x: left - 4, y: y(v) + 4, "font-size": 10, "text-anchor": "end" }, `${v.toFixed(v1 - v0 < 10 ? 2 : 0)}${unit}`);
  for (const t of [t0, t1]) el(s, "text", { x: x(t), y: height - 10, "font-size": 10, "text-anchor": "middle" }, new Date(t * 1000).toISOString().slice(0, 16).replace("T", " "));
  series.forEach((l, i) => {
    const d = l.points.map((p, k) => `${k === 0 ? "M" : "L"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
    el(s, "path", { d, fill: "none", stroke: l.colour, "stroke-width": 1.4, "data-label": l.label, "data-points": l.points.length });
    el(s, "text", { x: width - right + 8, y: top + 12 + i * 16, "font-size": 11, fill: l.colour }, l.label);
  });
  return s;
}
