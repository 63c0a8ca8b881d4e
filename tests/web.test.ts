// The risk page (web/) in a real headless Chromium (Debian's, driven by playwright-core; no
// browser is downloaded): every example book shows the numbers `xmargin risk margin --json`
// prints for it, its grids as heatmaps with the binding cell marked; a what-if edit updates
// every number as the CLI computes the edited book; a malformed book shows the CLI's own
// message and nothing else changes; the backtest chart is drawn from `xmargin backtest
// --json`. Screenshots go to target/web-screenshots/ for a reviewer.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";

import { Keypair, PublicKey, TransactionMessage, VersionedTransaction } from "@solana/web3.js";
import { chromium, type Browser, type Page } from "playwright-core";

import { XmarginClient, getPortfolioHealth, marginBudgetIxs } from "../app/src/index.js";
import { Localnet } from "../scripts/localnet/ledger.js";
import { seedVenue } from "../scripts/localnet/venue.js";

import { buildWeb } from "../scripts/web/build.js";
import { serve } from "../scripts/web/serve.js";
import { ROOT } from "./harness.js";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const SHOTS = join(ROOT, "target", "web-screenshots");
const WORK = join(ROOT, "target", "web-test");
const BOOKS = join(ROOT, "examples", "books");
const PRICES = join(ROOT, "..", "shared", "data", "prices");

let server: Server;
let url: string;
let browser: Browser;

/** `xmargin` (the CLI of this checkout) with `args`: stdout, stderr, status. */
function xmargin(args: string[]) {
  const r = spawnSync("cargo", ["run", "--locked", "-q", "-p", "xmargin-cli", "--", ...args], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

function cliReport(file: string): Record<string, any> {
  const r = xmargin(["risk", "margin", "--json", file]);
  assert.equal(r.status, 0, r.err);
  return JSON.parse(r.out) as Record<string, any>;
}

/** The exact number a cell shows (its data-value). */
async function shown(page: Page, field: string, scope = "#totals"): Promise<number> {
  const v = await page.locator(`${scope} [data-field="${field}"]`).first().getAttribute("data-value");
  assert.ok(v !== null, `${field} is not shown`);
  return Number(v);
}

async function expectTotals(page: Page, cli: Record<string, any>, label: string) {
  for (const field of ["equity", "requirement.initial", "requirement.maintenance", "health.initial", "health.maintenance", "offset_credit.initial", "weighted_collateral.maintenance"]) {
    const want = field.split(".").reduce<any>((o, k) => o[k], cli) as number;
    assert.equal(await shown(page, field), want, `${label}: ${field}`);
  }
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: make test installs Debian's chromium (make setup-browser)`);
  mkdirSync(SHOTS, { recursive: true });
  mkdirSync(WORK, { recursive: true });
  ({ server, url } = await serve(await buildWeb(), 0));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root in a container, with the machine's closed network: no sandbox, no background
    // connections (they would be refused, many at a time).
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** Script errors of every page opened, asserted empty when the page closes. */
const pageErrors = new WeakMap<Page, string[]>();

async function open(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  pageErrors.set(page, errors);
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]");
  assert.deepEqual(errors, []);
  return page;
}

/** Closes `page` after checking that no script failed on it and no error is shown. */
async function close(page: Page, errorShown = false): Promise<void> {
  assert.deepEqual(pageErrors.get(page), [], "script errors on the page");
  if (!errorShown) assert.equal(await page.locator("#error").isHidden(), true, (await page.locator("#error").textContent()) ?? "");
  await page.close();
}

test("every example book shows the CLI's numbers, its grids as heatmaps with the binding cell marked", { timeout: 300_000 }, async () => {
  const page = await open();
  const names = readdirSync(BOOKS).filter((f) => f.endsWith(".json")).map((f) => f.replace(/\.json$/, ""));
  assert.ok(names.length >= 8);
  for (const name of names) {
    await page.click(`button[data-example="${name}"]`);
    await page.waitForSelector(`body[data-book="${name}"]`);
    const cli = cliReport(join(BOOKS, `${name}.json`));
    await expectTotals(page, cli, name);
    // Per underlying: net Greeks and both levels' requirements, two heatmaps, each with one
    // binding cell whose loss is the grid loss the CLI reports.
    const cards = page.locator(".underlying");
    assert.equal(await cards.count(), cli.underlyings.length, name);
    for (const u of cli.underlyings as any[]) {
      const card = `.underlying[data-underlying="${u.name}"]`;
      assert.equal(await shown(page, "net.delta", card), u.net.delta, `${name} ${u.name} delta`);
      assert.equal(await shown(page, "initial.requirement", card), u.initial.requirement, `${name} ${u.name} initial requirement`);
      assert.equal(await shown(page, "maintenance.convexity_addon", card), u.maintenance.convexity_addon);
      assert.equal(await page.locator(`${card} svg.heatmap`).count(), 2);
      assert.equal(await page.locator(`${card} svg.heatmap rect[data-price-shock]:not(.binding)`).count(), u.maintenance_grid.length + u.initial_grid.length);
      // The engine searches between nodes too: the marked node is the one at the worst vol
      // shock nearest the worst price shock it reports.
      const binding = await page
        .locator(`${card} svg.heatmap rect.binding`)
        .evaluateAll((rs) => rs.map((r) => [Number(r.getAttribute("data-price-shock")), Number(r.getAttribute("data-vol-shock"))]));
      assert.equal(binding.length, 2, `${name} ${u.name}: one binding cell per grid`);
      const nearest = (grid: any[], b: any) =>
        grid.reduce((best, c) => {
          const d = (x: any) => Math.abs(x.vol_shock - b.worst_vol_shock) * 1e6 + Math.abs(x.price_shock - b.worst_price_shock);
          return d(c) < d(best) ? c : best;
        });
      for (const [i, [grid, level]] of ([[u.maintenance_grid, u.maintenance], [u.initial_grid, u.initial]] as const).entries()) {
        const n = nearest(grid as any[], level);
        assert.deepEqual(binding[i], [n.price_shock, n.vol_shock], `${name} ${u.name}: the binding node of grid ${i}`);
      }
    }
    // The model comparison as bars, the CLI's requirements.
    const barValues = await page.locator("svg.bars rect").evaluateAll((rs) => rs.map((r) => Number(r.getAttribute("data-value"))));
    const c = cli.comparison;
    assert.deepEqual(barValues, [c.isolated.requirement, c.naive_cross.requirement, c.portfolio_without_offsets.requirement, c.portfolio.requirement]);
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }
  await close(page);
});

test("a what-if edit updates every number as the CLI computes the edited book", { timeout: 300_000 }, async () => {
  const page = await open();
  await page.click(`button[data-example="covered_call"]`);
  await page.waitForSelector(`body[data-book="covered_call"]`);
  const book = JSON.parse(readFileSync(join(BOOKS, "covered_call.json"), "utf8"));
  const before = cliReport(join(BOOKS, "covered_call.json"));

  // Double the first position.
  book.positions[0].size *= 2;
  const sizeInput = page.locator('#positions tr[data-index="0"] input[data-field="size"]');
  await sizeInput.fill(String(book.positions[0].size));
  await sizeInput.dispatchEvent("change");
  const edited = join(WORK, "covered_call_doubled.json");
  writeFileSync(edited, JSON.stringify(book));
  const after = cliReport(edited);
  await page.waitForFunction((v) => document.querySelector('#totals [data-field="requirement.initial"]')?.getAttribute("data-value") === String(v), after.requirement.initial);
  await expectTotals(page, after, "doubled");
  assert.equal(await shown(page, "delta.requirement.initial", "#delta"), after.requirement.initial - before.requirement.initial);
  await page.screenshot({ path: join(SHOTS, "what-if.png"), fullPage: true });

  // Remove it, and raise the quote balance: still the CLI's numbers.
  book.positions.splice(0, 1);
  await page.click('#positions tr[data-index="0"] button');
  book.collateral[0].balance += 5_000;
  const balance = page.locator('#balances tr[data-index="0"] input[data-field="balance"]');
  await balance.fill(String(book.collateral[0].balance));
  await balance.dispatchEvent("change");
  const edited2 = join(WORK, "covered_call_edited.json");
  writeFileSync(edited2, JSON.stringify(book));
  const after2 = cliReport(edited2);
  await page.waitForFunction((v) => document.querySelector('#totals [data-field="equity"]')?.getAttribute("data-value") === String(v), after2.equity);
  await expectTotals(page, after2, "removed + balance");

  // An added position (a perp on the first underlying at its price) is what the CLI says too.
  await page.click("#add-position");
  book.positions.push({ underlying: book.underlyings[0].name, kind: "perp", size: 1, entry_price: book.underlyings[0].price });
  const edited3 = join(WORK, "covered_call_added.json");
  writeFileSync(edited3, JSON.stringify(book));
  const after3 = cliReport(edited3);
  await page.waitForFunction((v) => document.querySelector('#totals [data-field="requirement.maintenance"]')?.getAttribute("data-value") === String(v), after3.requirement.maintenance);
  await expectTotals(page, after3, "added");

  // A new collateral asset (the page's default: a token at 1, 1,000 of it, weights 80% / 90%),
  // its balance raised, then removed: the CLI's numbers each time.
  await page.click("#add-collateral");
  const asset = {
    name: `ASSET${book.collateral.length}`,
    price: 1,
    conf: 0,
    balance: 1_000,
    haircut: { initial_asset_weight: 0.8, maintenance_asset_weight: 0.9, initial_liability_weight: 1.25, maintenance_liability_weight: 1.1 },
  };
  book.collateral.push(asset);
  const row = `#balances tr[data-index="${book.collateral.length - 1}"]`;
  asset.balance = 20_000;
  await page.locator(`${row} input[data-field="balance"]`).fill("20000");
  await page.locator(`${row} input[data-field="balance"]`).dispatchEvent("change");
  const edited4 = join(WORK, "covered_call_collateral.json");
  writeFileSync(edited4, JSON.stringify(book));
  const after4 = cliReport(edited4);
  await page.waitForFunction((v) => document.querySelector('#totals [data-field="weighted_collateral.maintenance"]')?.getAttribute("data-value") === String(v), after4.weighted_collateral.maintenance);
  await expectTotals(page, after4, "collateral added");
  assert.ok(after4.weighted_collateral.maintenance > after3.weighted_collateral.maintenance);
  await page.click(`${row} button`);
  await page.waitForFunction((v) => document.querySelector('#totals [data-field="equity"]')?.getAttribute("data-value") === String(v), after3.equity);
  await expectTotals(page, after3, "collateral removed");
  await close(page);
});

test("a malformed book shows the CLI's own message in the page, and the last good numbers stay", { timeout: 300_000 }, async () => {
  const page = await open();
  await page.click(`button[data-example="short_strangle"]`);
  await page.waitForSelector(`body[data-book="short_strangle"]`);
  const good = await shown(page, "requirement.initial");
  const base = readFileSync(join(BOOKS, "short_strangle.json"), "utf8");
  const cases: [string, string][] = [
    ["malformed JSON", base.slice(0, base.length / 2)],
    ["an unknown field", base.replace('"underlyings"', '"leverage": 10, "underlyings"')],
    ["an unknown kind", base.replace('"kind": "call"', '"kind": "future"')],
    ["a negative volatility", base.replace(/"vol": [0-9.]+/, '"vol": -0.5')],
  ];
  for (const [label, text] of cases) {
    const file = join(WORK, "bad.json");
    writeFileSync(file, text);
    const cli = xmargin(["risk", "margin", "--json", file]);
    assert.equal(cli.status, 1, `${label}: the CLI refuses it`);
    // The CLI: "error: in FILE: <message>"; the page: "error: <message>".
    const message = cli.err.trim().replace(`error: in ${file}: `, "");
    await page.evaluate((t) => ((document.getElementById("book-text") as HTMLTextAreaElement).value = t), text);
    await page.evaluate(() => ((document.getElementById("book-editor") as HTMLDetailsElement).open = true));
    await page.click("#book-apply");
    await page.waitForSelector("#error:not([hidden])");
    assert.equal((await page.locator("#error").textContent())?.trim(), `error: ${message}`, label);
    assert.equal(await shown(page, "requirement.initial"), good, `${label}: the numbers on the page are still the last good book's`);
  }
  await page.screenshot({ path: join(SHOTS, "error.png"), fullPage: true });
  await close(page, true);
});

test("the backtest chart of a chosen window, from xmargin backtest --json", { timeout: 300_000 }, async (t) => {
  if (!existsSync(PRICES)) {
    t.skip(`no price data at ${PRICES} (../shared beside the checkout): nothing to replay`);
    return;
  }
  const r = xmargin(["backtest", "--json", "--data", PRICES, "--underlying", "BTC", "--underlying", "ETH", "--window", "2022-11-07..2022-11-12"]);
  assert.equal(r.status, 0, r.err);
  const file = join(WORK, "backtest.json");
  writeFileSync(file, r.out);
  const results = JSON.parse(r.out) as any[];
  const page = await open();
  await page.setInputFiles("#backtest-file", file);
  await page.waitForSelector("#backtest-chart svg.lines path");
  const windows = await page.locator("#backtest-window option").allTextContents();
  assert.deepEqual(windows, [...new Set(results.map((x) => `${x.underlying} ${x.window}`))]);
  await page.selectOption("#backtest-window", windows[1]!);
  const chosen = results.filter((x) => `${x.underlying} ${x.window}` === windows[1]);
  const drawn = await page.locator("#backtest-chart path").evaluateAll((ps) => ps.map((p) => [p.getAttribute("data-label"), Number(p.getAttribute("data-points"))]));
  // The close, one margin line per model, the realised loss; each over the window's hours.
  assert.equal(drawn.length, 1 + chosen.length + 1);
  assert.ok(drawn.every(([, n]) => n === chosen[0].series.length), JSON.stringify(drawn));
  assert.deepEqual(await page.locator('#backtest-summary [data-field="breaches"]').evaluateAll((c) => c.map((x) => Number(x.getAttribute("data-value")))), chosen.map((x) => x.breaches));
  await page.screenshot({ path: join(SHOTS, "backtest.png"), fullPage: true });
  await close(page);
});

test("a live portfolio from an RPC node: decoded, and its health computed in the page equals refresh_health", { timeout: 300_000 }, async () => {
  const upgradeAuthority = Keypair.generate();
  const net = await Localnet.start(18_999, upgradeAuthority.publicKey);
  try {
    const client = new XmarginClient();
    const payer = await net.fundedKeypair();
    const v = await seedVenue(net, { authority: upgradeAuthority, governance: await net.fundedKeypair(), guardian: await net.fundedKeypair() }, client);
    const thin = await v.trader(400_000_000n);
    const rich = await v.trader(100_000_000_000n);
    await v.buyPerp(thin, rich, 1_000n);
    const simulated = await getPortfolioHealth(client, thin.portfolio, await v.accounts(thin.portfolio), async (ixs) => {
      const message = new TransactionMessage({ payerKey: payer.publicKey, recentBlockhash: PublicKey.default.toBase58(), instructions: [...marginBudgetIxs(), ...ixs] }).compileToV0Message();
      const sim = await net.connection.simulateTransaction(new VersionedTransaction(message), { sigVerify: false, replaceRecentBlockhash: true });
      assert.equal(sim.value.err, null, JSON.stringify(sim.value.logs));
      return Buffer.from(sim.value.returnData!.data[0], "base64");
    });
    const page = await open();
    await page.evaluate(() => ((document.getElementById("live") as HTMLDetailsElement).open = true));
    await page.fill("#rpc-url", net.url);
    // A bad address first: named, and nothing loaded.
    await page.fill("#rpc-portfolio", "not-an-address");
    await page.click("#rpc-load");
    await page.waitForSelector("#error:not([hidden])");
    assert.match((await page.locator("#error").textContent()) ?? "", /portfolio: not a base58 address/);
    await page.fill("#rpc-portfolio", thin.portfolio.toBase58());
    await page.click("#rpc-load");
    await page.waitForSelector(`#live-out[data-loaded="${thin.portfolio.toBase58()}"]`, { timeout: 60_000 });
    for (const [key, value] of Object.entries(simulated)) {
      const shownExact = await page.locator(`#live-out [data-field="live.${key}"]`).getAttribute("data-value");
      assert.equal(shownExact, value.toString(), `live ${key}`);
    }
    await page.screenshot({ path: join(SHOTS, "live.png"), fullPage: true });
    await close(page);
  } finally {
    await net.stop();
  }
});
