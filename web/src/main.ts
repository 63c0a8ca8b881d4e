// The risk page: a book (the `xmargin risk margin` JSON schema) evaluated in the browser by the
// engine compiled to WebAssembly — the same code, and so the same numbers and messages, as
// `xmargin risk margin --json` — drawn as tables and pictures, with a what-if editor and the
// backtest chart. Every shown number carries its exact value in `data-value`.
import { EngineModule, BookError, type MarginReport } from "../../app/src/wasm.js";
import { bars, heatmap, lines, type GridCell } from "./charts.js";
import { EXAMPLES } from "./examples.js";

type Json = Record<string, unknown>;
interface Breakdown {
  requirement: number;
  grid_loss: number;
  worst_price_shock: number;
  worst_vol_shock: number;
  convexity_addon: number;
  tail_loss: number;
  short_option_charge: number;
  confidence_addon: number;
  depeg_addon: number;
}
interface UnderlyingReport {
  name: string;
  spot: number;
  conf: number;
  linked_units: number;
  net: Record<string, number>;
  maintenance: Breakdown;
  initial: Breakdown;
  maintenance_grid: GridCell[];
  initial_grid: GridCell[];
}
interface Report {
  now: number;
  equity: number;
  collateral_value: number;
  positions_value: number;
  weighted_collateral: { initial: number; maintenance: number };
  requirement: { initial: number; maintenance: number };
  health: { initial: number; maintenance: number };
  offset_credit: { initial: number; maintenance: number };
  offsets: { source: string; groups: { underlyings: string[]; credit: number }[] };
  collateral: { name: string; balance: number; price: number; conf: number; weighted: { initial: number; maintenance: number }; link: null | { underlying: string; ratio: number; basis_haircut: { initial: number; maintenance: number } } }[];
  underlyings: UnderlyingReport[];
  comparison: {
    portfolio: { requirement: number; collateral_needed: number; locked: number };
    portfolio_without_offsets: { requirement: number; collateral_needed: number; locked: number };
    naive_cross: { requirement: number; collateral_needed: number };
    isolated: { requirement: number; collateral_needed: number };
  };
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const fmt = (x: number, digits = 2) => x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const signed = (x: number) => `${x > 0 ? "+" : ""}${fmt(x)}`;

let engine: EngineModule;
/** The book as loaded, and as edited by the what-if panel. */
let loaded: { name: string; book: Json; report: Report } | undefined;
let current: Json | undefined;

function showError(message: string | undefined): void {
  const box = $("error");
  box.hidden = message === undefined;
  box.textContent = message === undefined ? "" : `error: ${message}`;
}

function td(row: HTMLTableRowElement, text: string, field?: string, value?: number): HTMLTableCellElement {
  const cell = row.insertCell();
  cell.textContent = text;
  if (field) cell.dataset.field = field;
  if (value !== undefined) {
    cell.dataset.value = String(value);
    if (value < 0) cell.classList.add("neg");
  }
  return cell;
}

function header(table: HTMLTableElement, names: string[]): void {
  const row = table.createTHead().insertRow();
  for (const n of names) {
    const th = document.createElement("th");
    th.textContent = n;
    row.appendChild(th);
  }
}

/** Evaluates a book's text with the engine (the valuation time is the book's `now`, else the
 * clock's); a refusal is shown as the CLI shows it, and nothing else changes. */
function evaluate(text: string): Report | undefined {
  try {
    const report = engine.riskMargin(text, Math.floor(Date.now() / 1000)) as MarginReport as unknown as Report;
    showError(undefined);
    return report;
  } catch (e) {
    showError(e instanceof BookError ? e.message : String(e));
    return undefined;
  }
}

/** Loads a book from its text, given to the engine as it is: a malformed one gets the CLI's
 * message, line and column included. */
function loadText(name: string, text: string): void {
  ($("book-text") as HTMLTextAreaElement).value = text;
  const report = evaluate(text);
  if (!report) return;
  const book = JSON.parse(text) as Json;
  loaded = { name, book, report };
  current = structuredClone(book);
  render(report);
  document.body.dataset.book = name;
}

function render(r: Report): void {
  for (const id of ["summary", "whatif", "collateral"]) $(id).hidden = false;
  $("book-title").textContent = `Portfolio: ${loaded?.name ?? ""}`;
  $("book-description").textContent = typeof current?.description === "string" ? current.description : "";
  renderTotals(r);
  renderComparison(r);
  renderUnderlyings(r);
  renderCollateral(r);
  renderWhatIf(r);
}

function renderTotals(r: Report): void {
  const t = $("totals") as HTMLTableElement;
  t.replaceChildren();
  header(t, ["", "initial", "maintenance"]);
  const body = t.createTBody();
  const both = (label: string, key: string, v: { initial: number; maintenance: number }) => {
    const row = body.insertRow();
    td(row, label);
    td(row, fmt(v.initial), `${key}.initial`, v.initial);
    td(row, fmt(v.maintenance), `${key}.maintenance`, v.maintenance);
  };
  const one = (label: string, key: string, v: number) => {
    const row = body.insertRow();
    td(row, label);
    td(row, fmt(v), key, v);
    td(row, "");
  };
  one("equity", "equity", r.equity);
  one("collateral value", "collateral_value", r.collateral_value);
  one("positions value", "positions_value", r.positions_value);
  both("weighted collateral", "weighted_collateral", r.weighted_collateral);
  both("requirement", "requirement", r.requirement);
  both("offset credit (included)", "offset_credit", r.offset_credit);
  both("health", "health", r.health);
}

function renderComparison(r: Report): void {
  const c = r.comparison;
  $("comparison").replaceChildren(
    bars(
      "Requirement by margin model",
      [
        { label: "isolated", value: c.isolated.requirement, colour: "#9aa4b1" },
        { label: "naive cross", value: c.naive_cross.requirement, colour: "#7b8fa8" },
        { label: "portfolio, no offsets", value: c.portfolio_without_offsets.requirement, colour: "#4f7cac" },
        { label: "portfolio (xmargin)", value: c.portfolio.requirement, colour: "#1f5fa8" },
      ],
      (x) => fmt(x),
    ),
  );
}

const ADDONS: [keyof Breakdown, string][] = [
  ["grid_loss", "grid loss"],
  ["convexity_addon", "convexity add-on"],
  ["tail_loss", "tail loss"],
  ["short_option_charge", "short-option charge"],
  ["confidence_addon", "confidence add-on"],
  ["depeg_addon", "depeg add-on"],
  ["requirement", "requirement"],
];

function renderUnderlyings(r: Report): void {
  const host = $("underlyings");
  host.replaceChildren();
  for (const u of r.underlyings) {
    const card = document.createElement("div");
    card.className = "panel underlying";
    card.dataset.underlying = u.name;
    const h = document.createElement("h2");
    h.textContent = `${u.name} — spot ${fmt(u.spot)} ± ${fmt(u.conf)}${u.linked_units ? `, linked collateral ${fmt(u.linked_units, 4)} units` : ""}`;
    card.appendChild(h);
    const greeks = document.createElement("table");
    greeks.className = "numbers";
    header(greeks, ["net", ...Object.keys(u.net)]);
    const g = greeks.createTBody().insertRow();
    td(g, "");
    for (const [k, v] of Object.entries(u.net)) td(g, fmt(v, Math.abs(v) < 1 ? 6 : 2), `net.${k}`, v);
    card.appendChild(greeks);
    const addons = document.createElement("table");
    addons.className = "numbers";
    header(addons, ["", "initial", "maintenance"]);
    const body = addons.createTBody();
    for (const [key, label] of ADDONS) {
      const row = body.insertRow();
      td(row, label);
      td(row, fmt(u.initial[key]), `initial.${key}`, u.initial[key]);
      td(row, fmt(u.maintenance[key]), `maintenance.${key}`, u.maintenance[key]);
    }
    const grids = document.createElement("div");
    grids.className = "grids";
    grids.appendChild(heatmap(`maintenance grid (loss), binding ${shock(u.maintenance)}`, u.maintenance_grid, { price: u.maintenance.worst_price_shock, vol: u.maintenance.worst_vol_shock }));
    grids.appendChild(heatmap(`initial grid (loss), binding ${shock(u.initial)}`, u.initial_grid, { price: u.initial.worst_price_shock, vol: u.initial.worst_vol_shock }));
    grids.appendChild(addons);
    card.appendChild(grids);
    host.appendChild(card);
  }
}

const shock = (b: Breakdown) => `${(b.worst_price_shock * 100).toFixed(1)}% / vol ${(b.worst_vol_shock * 100).toFixed(0)}%`;

function renderCollateral(r: Report): void {
  const t = $("collateral-table") as HTMLTableElement;
  t.replaceChildren();
  header(t, ["asset", "balance", "price", "conf", "weighted initial", "weighted maintenance", "link"]);
  const body = t.createTBody();
  for (const c of r.collateral) {
    const row = body.insertRow();
    td(row, c.name);
    td(row, fmt(c.balance, 4), "balance", c.balance);
    td(row, fmt(c.price), "price", c.price);
    td(row, fmt(c.conf), "conf", c.conf);
    td(row, fmt(c.weighted.initial), "weighted.initial", c.weighted.initial);
    td(row, fmt(c.weighted.maintenance), "weighted.maintenance", c.weighted.maintenance);
    td(row, c.link ? `${c.link.underlying} × ${c.link.ratio}, basis ${(c.link.basis_haircut.initial * 100).toFixed(1)}% / ${(c.link.basis_haircut.maintenance * 100).toFixed(1)}%` : "—");
  }
  const groups = r.offsets.groups;
  $("offsets").textContent =
    groups.length === 0 ? `none (${r.offsets.source})` : `${groups.map((g) => `${g.underlyings.join(" + ")}: ρ ${Number(g.credit.toFixed(4))}`).join("; ")} (${r.offsets.source})`;
}

// ---- what if ----------------------------------------------------------------------------

type Position = { underlying: string; kind: string; size: number; strike?: number; expiry_days?: number; expiry?: number; entry_price?: number };

function positionsOf(book: Json): Position[] {
  return (book.positions as Position[] | undefined) ?? [];
}

function input(value: unknown, onChange: (v: string) => void, attrs: Record<string, string> = {}): HTMLInputElement {
  const i = document.createElement("input");
  i.value = value === undefined || value === null ? "" : String(value);
  for (const [k, v] of Object.entries(attrs)) i.setAttribute(k, v);
  i.addEventListener("change", () => onChange(i.value));
  return i;
}

function select(options: string[], value: string, onChange: (v: string) => void): HTMLSelectElement {
  const s = document.createElement("select");
  for (const o of options) s.add(new Option(o, o, false, o === value));
  s.addEventListener("change", () => onChange(s.value));
  return s;
}

/** A number field's edit: empty clears it, anything else goes to the engine as typed (a bad
 * value is refused there with the field's name, as the CLI would). */
function numberOrText(v: string): number | string | undefined {
  if (v.trim() === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
}

/** Re-evaluates after an edit, once the event that made it is over: re-rendering removes the
 * edited input, whose blur can fire another change event; that one is folded into the same
 * pass instead of re-entering the DOM update. */
let recomputeQueued = false;
function recompute(): void {
  if (recomputeQueued) return;
  recomputeQueued = true;
  setTimeout(() => {
    recomputeQueued = false;
    recomputeNow();
  }, 0);
}

function recomputeNow(): void {
  if (!current || !loaded) return;
  const text = JSON.stringify(current, null, 2);
  ($("book-text") as HTMLTextAreaElement).value = text;
  const r = evaluate(text);
  if (!r) return;
  render(r);
}

function renderWhatIf(r: Report): void {
  if (!current || !loaded) return;
  const base = loaded.report;
  const d = (a: number, b: number) => `${fmt(a)} → ${fmt(b)} (${signed(b - a)})`;
  const delta = $("delta");
  delta.replaceChildren();
  for (const [label, key, a, b] of [
    ["initial requirement", "requirement.initial", base.requirement.initial, r.requirement.initial],
    ["maintenance requirement", "requirement.maintenance", base.requirement.maintenance, r.requirement.maintenance],
    ["initial health", "health.initial", base.health.initial, r.health.initial],
  ] as const) {
    const line = document.createElement("div");
    line.dataset.field = `delta.${key}`;
    line.dataset.value = String(b - a);
    line.textContent = `${label}: ${d(a, b)}`;
    delta.appendChild(line);
  }
  const names = ((current.underlyings as { name: string }[] | undefined) ?? []).map((u) => u.name);
  const table = $("positions") as HTMLTableElement;
  table.replaceChildren();
  header(table, ["underlying", "kind", "size", "strike", "expiry (days)", "entry price", ""]);
  const body = table.createTBody();
  positionsOf(current).forEach((p, i) => {
    const row = body.insertRow();
    row.dataset.index = String(i);
    const set = (k: keyof Position) => (v: string) => {
      const value = k === "underlying" || k === "kind" ? v : numberOrText(v);
      const next = { ...p } as Record<string, unknown>;
      if (value === undefined) delete next[k];
      else next[k] = value;
      positionsOf(current!)[i] = next as Position;
      recompute();
    };
    row.insertCell().appendChild(select(names, p.underlying, set("underlying")));
    row.insertCell().appendChild(select(["perp", "call", "put"], p.kind, set("kind")));
    row.insertCell().appendChild(input(p.size, set("size"), { "data-field": "size" }));
    row.insertCell().appendChild(input(p.strike, set("strike"), { "data-field": "strike" }));
    row.insertCell().appendChild(input(p.expiry_days ?? (p.expiry !== undefined ? ((p.expiry - Number(current!.now ?? 0)) / 86_400).toFixed(2) : undefined), set("expiry_days"), { "data-field": "expiry_days" }));
    row.insertCell().appendChild(input(p.entry_price, set("entry_price"), { "data-field": "entry_price" }));
    const remove = document.createElement("button");
    remove.textContent = "remove";
    remove.addEventListener("click", () => {
      positionsOf(current!).splice(i, 1);
      recompute();
    });
    row.insertCell().appendChild(remove);
  });
  const balances = $("balances") as HTMLTableElement;
  balances.replaceChildren();
  header(balances, ["asset", "price", "balance", "initial weight", "maintenance weight", ""]);
  const bbody = balances.createTBody();
  type Asset = { name: string; price?: number; balance: number; haircut?: Record<string, unknown> };
  const assets = (current.collateral ?? []) as Asset[];
  assets.forEach((c, i) => {
    const row = bbody.insertRow();
    row.dataset.index = String(i);
    const edit = (apply: (a: Record<string, unknown>, v: string) => void) => (v: string) => {
      apply(assets[i] as unknown as Record<string, unknown>, v);
      recompute();
    };
    const weight = (key: string) =>
      edit((a, v) => {
        (a.haircut as Record<string, unknown>)[key] = numberOrText(v) ?? 0;
      });
    row.insertCell().appendChild(input(c.name, edit((a, v) => void (a.name = v)), { "data-field": "name" }));
    row.insertCell().appendChild(input(c.price, edit((a, v) => void (a.price = numberOrText(v))), { "data-field": "price" }));
    row.insertCell().appendChild(input(c.balance, edit((a, v) => void (a.balance = numberOrText(v) ?? 0)), { "data-field": "balance" }));
    row.insertCell().appendChild(input(c.haircut?.initial_asset_weight, weight("initial_asset_weight"), { "data-field": "initial_asset_weight" }));
    row.insertCell().appendChild(input(c.haircut?.maintenance_asset_weight, weight("maintenance_asset_weight"), { "data-field": "maintenance_asset_weight" }));
    const remove = document.createElement("button");
    remove.textContent = "remove";
    remove.addEventListener("click", () => {
      assets.splice(i, 1);
      recompute();
    });
    row.insertCell().appendChild(remove);
  });
}

/** A new collateral asset for the what-if panel: a volatile token at 1, haircut 20% / 10%
 * (liabilities 125% / 110%); every field is then editable. */
function newAsset(n: number): Record<string, unknown> {
  return {
    name: `ASSET${n}`,
    price: 1,
    conf: 0,
    balance: 1_000,
    haircut: { initial_asset_weight: 0.8, maintenance_asset_weight: 0.9, initial_liability_weight: 1.25, maintenance_liability_weight: 1.1 },
  };
}

$("add-collateral").addEventListener("click", () => {
  if (!current) return;
  const list = (current.collateral ??= []) as unknown[];
  list.push(newAsset(list.length));
  recompute();
});

$("add-position").addEventListener("click", () => {
  if (!current) return;
  const first = ((current.underlyings as { name: string; price?: number }[] | undefined) ?? [])[0];
  if (!first) return;
  const list = (current.positions ??= []) as Position[];
  list.push({ underlying: first.name, kind: "perp", size: 1, entry_price: first.price ?? 0 });
  recompute();
});

// ---- loading ----------------------------------------------------------------------------

for (const [name, text] of Object.entries(EXAMPLES)) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "example";
  b.textContent = name.replace(/_/g, " ");
  b.dataset.example = name;
  b.addEventListener("click", () => loadText(name, text));
  $("examples").appendChild(b);
}

$("book-file").addEventListener("change", async (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (file) loadText(file.name, await file.text());
});
$("book-apply").addEventListener("click", () => loadText("edited", ($("book-text") as HTMLTextAreaElement).value));

// ---- a live portfolio --------------------------------------------------------------------

$("rpc-load").addEventListener("click", async () => {
  const out = $("live-out");
  out.textContent = "loading…";
  try {
    const { loadLive } = await import("./live.js");
    const v = await loadLive(engine, ($("rpc-url") as HTMLInputElement).value, ($("rpc-portfolio") as HTMLInputElement).value);
    showError(undefined);
    const t = document.createElement("table");
    t.className = "numbers";
    header(t, ["the program's health (refresh_health, computed here)", "exact"]);
    const body = t.createTBody();
    for (const [label, key] of [
      ["equity", "equity"],
      ["initial requirement", "initialRequirement"],
      ["maintenance requirement", "maintenanceRequirement"],
      ["initial offset credit", "initialOffsetCredit"],
      ["maintenance offset credit", "maintenanceOffsetCredit"],
      ["initial health", "initialHealth"],
      ["maintenance health", "maintenanceHealth"],
    ] as const) {
      const row = body.insertRow();
      td(row, label);
      const cell = td(row, v.health[key].toDecimal(6), `live.${key}`);
      cell.dataset.value = v.health[key].toString();
      if (v.health[key].isNegative()) cell.classList.add("neg");
    }
    const pos = document.createElement("table");
    pos.className = "numbers";
    header(pos, ["underlying", "instrument", "size (lots)"]);
    for (const p of v.positions) {
      const row = pos.createTBody().insertRow();
      td(row, String(p.underlying));
      td(row, p.instrument);
      td(row, p.sizeLots.toString());
    }
    const bal = document.createElement("table");
    bal.className = "numbers";
    header(bal, ["collateral", "mint", "amount (native units)"]);
    for (const b of v.balances) {
      const row = bal.createTBody().insertRow();
      td(row, String(b.collateral));
      td(row, b.mint);
      td(row, b.amount.toString());
    }
    const title = document.createElement("p");
    title.textContent = `portfolio ${v.portfolio}, owner ${v.owner}`;
    out.replaceChildren(title, t, pos, bal);
    out.dataset.loaded = v.portfolio;
  } catch (e) {
    out.textContent = "";
    showError(e instanceof Error ? e.message : String(e));
  }
});

// ---- backtest ---------------------------------------------------------------------------

interface BacktestResult {
  window: string;
  underlying: string;
  model: string;
  observations: number;
  breaches: number;
  coverage: number;
  mean_margin_pct: number;
  worst_shortfall_pct: number;
  series?: { time: number; price: number; margin_pct: number; loss_pct: number }[];
}

let backtest: BacktestResult[] = [];

function drawBacktest(key: string): void {
  const rows = backtest.filter((r) => `${r.underlying} ${r.window}` === key);
  const chart = $("backtest-chart");
  chart.replaceChildren();
  const withSeries = rows.filter((r) => r.series && r.series.length > 1);
  if (withSeries.length === 0) {
    chart.textContent = "this output has no series (run `xmargin backtest --json` from this version)";
    return;
  }
  const first = withSeries[0]!.series!;
  chart.appendChild(lines(`${key}: price`, "", [{ label: "close", colour: "#222", points: first.map((p) => [p.time, p.price]) }]));
  const colours = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b"];
  chart.appendChild(
    lines(
      "margin and realised loss, % of notional",
      "%",
      [
        ...withSeries.map((r, i) => ({ label: `${r.model} margin`, colour: colours[i % colours.length]!, points: r.series!.map((p) => [p.time, p.margin_pct] as [number, number]) })),
        { label: "loss over horizon", colour: "#d62728", points: first.map((p) => [p.time, p.loss_pct] as [number, number]) },
      ],
    ),
  );
  const t = document.createElement("table");
  t.className = "numbers";
  header(t, ["model", "observations", "breaches", "coverage", "mean margin %", "worst shortfall %"]);
  const body = t.createTBody();
  for (const r of rows) {
    const row = body.insertRow();
    td(row, r.model);
    td(row, String(r.observations), "observations", r.observations);
    td(row, String(r.breaches), "breaches", r.breaches);
    td(row, `${(r.coverage * 100).toFixed(2)}%`, "coverage", r.coverage);
    td(row, fmt(r.mean_margin_pct), "mean_margin_pct", r.mean_margin_pct);
    td(row, fmt(r.worst_shortfall_pct), "worst_shortfall_pct", r.worst_shortfall_pct);
  }
  $("backtest-summary").replaceChildren(t);
}

$("backtest-file").addEventListener("change", async (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  try {
    const parsed = JSON.parse(await file.text()) as unknown;
    if (!Array.isArray(parsed) || parsed.some((r) => typeof r !== "object" || r === null || !("window" in r) || !("model" in r))) {
      throw new Error("not the output of `xmargin backtest --json` (an array of windows with their model)");
    }
    backtest = parsed as BacktestResult[];
  } catch (err) {
    showError(`${file.name}: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  showError(undefined);
  const pick = $("backtest-window") as HTMLSelectElement;
  pick.replaceChildren(...[...new Set(backtest.map((r) => `${r.underlying} ${r.window}`))].map((k) => new Option(k, k)));
  pick.disabled = false;
  pick.onchange = () => drawBacktest(pick.value);
  drawBacktest(pick.value);
});

// ---- start ------------------------------------------------------------------------------

async function start(): Promise<void> {
  try {
    engine = await EngineModule.load(new URL("xmargin_engine.wasm", document.baseURI));
  } catch (e) {
    showError(`the risk engine could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  document.body.dataset.ready = "true";
  const first = Object.keys(EXAMPLES)[0];
  if (first) loadText(first, EXAMPLES[first]!);
}

window.addEventListener("error", (e) => showError(`unexpected: ${e.message}`));
void start();
