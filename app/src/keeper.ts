// The keeper: the permissionless cranks a venue needs to stay usable, each on its schedule and
// idempotent — it reads the accounts, decides what is due, simulates it, and sends only what
// the program would accept now; everything it skips is logged with the reason.
//
// - `update_funding`: a market whose funding interval has elapsed;
// - `update_volatility`: an underlying whose estimator is past its minimum interval;
// - `update_marks`: held series (open interest) whose marks are missing, older than a
//   fraction of the market's largest age, or drifted past a fraction of its largest drift
//   from the last observed price — so health and liquidations never fail on stale marks;
// - `record_settlement_price`: an expired series without a price, inside its window;
// - `settle_expired`: every portfolio holding a settled series;
// - `sweep_fees`: a market's (or the quote ledger's) accrued fees above a minimum.
import { Keypair, PublicKey, TransactionInstruction } from "@solana/web3.js";

import { budgetIxs, chainNow, type Chain } from "./chain.js";
import type { XmarginClient } from "./client.js";
import { decodeAccount, decodeMarket, decodePortfolioAccount, decodeQuoteLedger, type MarketAccount } from "./decode.js";
import type { QuoteAccounts } from "./liquidation.js";
import { parseError } from "./errors.js";
import { oracleAccountOf } from "./health.js";
import type { Logger } from "./ops/log.js";
import { counter, type Registry } from "./ops/metrics.js";
import { marketPda } from "./pda.js";
import {
  marksBatches,
  recordSettlementPriceIx,
  settleExpiredIx,
  sweepFeesIx,
  updateFundingIx,
  updateMarksIx,
} from "./trading.js";
import { Fx } from "./values.js";

export const KEEPER_TASKS = ["funding", "volatility", "marks", "settlement", "settle", "sweep"] as const;
export type KeeperTask = (typeof KEEPER_TASKS)[number];

export interface KeeperConfig {
  /** Pays the transaction fees (every crank is permissionless). */
  payer: Keypair;
  /** Override of an underlying's oracle account; by default the registry's, read every round
   * (an underlying listed or re-pointed after the keeper started is followed). */
  underlyingOracle?: (underlying: number) => PublicKey | undefined;
  /** Where the price update at a series' expiry was posted (pull feeds keep updates in any
   * account); defaults to the underlying's oracle account. */
  settlementUpdate?: (underlying: number, series: number) => PublicKey | undefined;
  quote: QuoteAccounts;
  /** Re-mark when marks are this fraction of the way to their largest age or drift (0..1]. */
  marksRefreshFraction?: number;
  /** The least accrued fee (quote native units) worth a `sweep_fees` transaction. */
  sweepMinimum?: bigint;
  /** The tasks to run (default: all). */
  tasks?: ReadonlySet<KeeperTask>;
  dryRun: boolean;
  log: Logger;
  /** Every decision, for metrics. */
  on?: (r: KeeperResult) => void;
}

/** What the keeper did with one due or skipped action. */
export interface KeeperResult {
  task: KeeperTask;
  /** The market, series or portfolio concerned. */
  target: string;
  outcome: "sent" | "would send" | "skipped" | "refused" | "failed";
  /** Why it was skipped or refused (the program's error name for a refusal). */
  reason?: string;
  signature?: string;
}

interface Due {
  task: KeeperTask;
  target: string;
  ixs: TransactionInstruction[];
}

const SWEEP_MINIMUM = 1n;
const REFRESH_FRACTION = 0.5;

export class Keeper {
  constructor(
    readonly client: XmarginClient,
    readonly chain: Chain,
    readonly cfg: KeeperConfig,
  ) {
    const f = cfg.marksRefreshFraction ?? REFRESH_FRACTION;
    if (!(f > 0 && f <= 1)) throw new Error(`marksRefreshFraction must be in (0, 1], got ${f}`);
  }

  private runs(task: KeeperTask): boolean {
    return this.cfg.tasks?.has(task) ?? true;
  }

  private skip(task: KeeperTask, target: string, reason: string, out: KeeperResult[]): void {
    const r: KeeperResult = { task, target, outcome: "skipped", reason };
    this.cfg.log.info("skipped", { ...r });
    this.cfg.on?.(r);
    out.push(r);
  }

  /** The created markets, decoded, by underlying index. */
  private async markets(): Promise<{ underlying: number; address: PublicKey; market: MarketAccount }[]> {
    const exchangeData = await this.chain.account(this.client.exchange);
    if (!exchangeData) throw new Error("exchange account not found: is this the right program and cluster?");
    const exchange = decodeAccount("exchange", exchangeData);
    const out = [];
    for (let u = 0; u < 16; u++) {
      if ((exchange.marketMask & (1 << u)) === 0) continue;
      const address = marketPda(this.client.programId, this.client.exchange, u);
      const data = await this.chain.account(address);
      if (data) out.push({ underlying: u, address, market: decodeMarket(data) });
    }
    return out;
  }

  /** Which of a market's series need marks now, and why the others do not. */
  private marksDue(m: MarketAccount, now: bigint): { due: Set<number>; fresh: number } {
    const fraction = this.cfg.marksRefreshFraction ?? REFRESH_FRACTION;
    const maxAge = BigInt(Math.floor(m.maxMarkAgeSecs * fraction));
    const lastPrice = m.volatility.lastPrice;
    // The last observed price counts only while the marks could still be in use.
    const priceKnown = m.volatility.lastTime > 0n && now - m.volatility.lastTime <= BigInt(m.maxMarkAgeSecs);
    const due = new Set<number>();
    let fresh = 0;
    for (let i = 0; i < m.seriesCount; i++) {
      const s = m.series[i];
      const marks = m.marks[i];
      if (!s || !marks || s.settlementPrice !== 0n || s.expiry <= now || s.openInterest === 0n) continue;
      const aged = marks.computedAt === 0n || now - marks.computedAt >= maxAge;
      const drifted = priceKnown && !marks.spot.isNegative() && marks.spot.bits > 0n && driftBps(marks.spot, lastPrice) >= m.maxMarkDriftBps * fraction;
      if (aged || drifted) due.add(i);
      else fresh += 1;
    }
    return { due, fresh };
  }

  /** The actions due now, and the skipped ones with their reasons. */
  async plan(): Promise<{ due: Due[]; skipped: KeeperResult[] }> {
    const now = await chainNow(this.chain);
    const due: Due[] = [];
    const skipped: KeeperResult[] = [];
    const markets = await this.markets();
    const registryData = await this.chain.account(this.client.registry);
    if (!registryData) throw new Error("registry account not found");
    const registry = decodeAccount("haircutRegistry", registryData);
    for (const { underlying: u, market: m } of markets) {
      const name = `market ${u}`;
      const config = registry.underlyings[u];
      if (!config || u >= registry.underlyingCount) {
        this.skip("funding", name, `underlying ${u} is not listed in the registry`, skipped);
        continue;
      }
      const oracle = this.cfg.underlyingOracle?.(u) ?? oracleAccountOf(config.oracle);
      if (this.runs("funding")) {
        const next = m.lastFundingTime + BigInt(m.fundingIntervalSecs);
        if (now >= next) due.push({ task: "funding", target: name, ixs: [await updateFundingIx(this.client, u, oracle)] });
        else this.skip("funding", name, `next in ${next - now} s`, skipped);
      }
      if (this.runs("volatility")) {
        const next = m.volatility.lastTime + BigInt(config.volMinIntervalSecs);
        if (m.volatility.lastTime === 0n || now >= next) {
          due.push({ task: "volatility", target: name, ixs: [await this.client.updateVolatilityIx(u, oracle)] });
        } else this.skip("volatility", name, `next in ${next - now} s`, skipped);
      }
      if (this.runs("marks")) {
        const { due: stale, fresh } = this.marksDue(m, now);
        const listed = m.series.slice(0, m.seriesCount).map((s) => ({ strike: s.strike, expiry: s.expiry }));
        for (const mask of marksBatches(listed, undefined, (i) => stale.has(i))) {
          due.push({ task: "marks", target: `${name} series mask 0x${mask.toString(16)}`, ixs: [await updateMarksIx(this.client, u, mask, oracle)] });
        }
        if (stale.size === 0) this.skip("marks", name, fresh > 0 ? `${fresh} held series fresh` : "no held series to mark", skipped);
      }
      if (this.runs("settlement")) {
        // One `record_settlement_price` records the price of every series of its expiry.
        const expiries = new Set<bigint>();
        for (let i = 0; i < m.seriesCount; i++) {
          const s = m.series[i];
          if (!s || s.settlementPrice !== 0n || s.expiry > now || expiries.has(s.expiry)) continue;
          expiries.add(s.expiry);
          const target = `${name} series ${i}`;
          if (now > s.expiry + BigInt(m.settlementWindowSecs)) {
            this.skip("settlement", target, "settlement window closed", skipped);
            continue;
          }
          const update = this.cfg.settlementUpdate?.(u, i) ?? oracle;
          due.push({ task: "settlement", target, ixs: [await recordSettlementPriceIx(this.client, u, i, update)] });
        }
      }
      if (this.runs("sweep")) {
        if (m.feesAccrued >= (this.cfg.sweepMinimum ?? SWEEP_MINIMUM)) {
          due.push({ task: "sweep", target: name, ixs: [await sweepFeesIx(this.client, u, this.cfg.quote)] });
        } else this.skip("sweep", name, `fees accrued ${m.feesAccrued} below the minimum`, skipped);
      }
    }
    if (this.runs("sweep")) {
      const ledgerData = await this.chain.account(this.client.quoteLedger);
      const ledger = ledgerData ? decodeQuoteLedger(ledgerData) : undefined;
      if (ledger && ledger.feesAccrued >= (this.cfg.sweepMinimum ?? SWEEP_MINIMUM)) {
        due.push({ task: "sweep", target: "quote ledger", ixs: [await sweepFeesIx(this.client, null, this.cfg.quote)] });
      }
    }
    if (this.runs("settle")) {
      const settled = new Map(markets.map(({ underlying, market }) => [underlying, market]));
      for (const { address, data } of await this.chain.portfolios()) {
        const p = decodePortfolioAccount(data);
        const underlyings = new Set<number>();
        for (const pos of p.positions) {
          if (!pos.active || pos.kind === "perp") continue;
          const series = settled.get(pos.underlying)?.series[pos.series];
          if (series && series.settlementPrice !== 0n) underlyings.add(pos.underlying);
        }
        for (const u of underlyings) {
          due.push({ task: "settle", target: `portfolio ${address.toBase58()} market ${u}`, ixs: [await settleExpiredIx(this.client, address, u)] });
        }
      }
    }
    return { due, skipped };
  }

  /** One pass: every due action simulated, then sent (or, dry run, reported). An action that
   * fails (a lost race after the simulation, an RPC error) is reported `failed` and the round
   * goes on. */
  async round(): Promise<KeeperResult[]> {
    const { due, skipped } = await this.plan();
    const results = [...skipped];
    for (const d of due) {
      try {
        results.push(await this.act(d));
      } catch (e) {
        const reason = parseError(e, [], this.client.programId)?.name ?? (e instanceof Error ? e.message : String(e));
        const r: KeeperResult = { task: d.task, target: d.target, outcome: "failed", reason };
        this.cfg.log.warn("failed", { ...r });
        this.cfg.on?.(r);
        results.push(r);
      }
    }
    return results;
  }

  /** Simulates one due action, then sends it (or, dry run, reports it). */
  private async act(d: Due): Promise<KeeperResult> {
    const sim = await this.chain.simulate([...budgetIxs(1_400_000, 0, 0), ...d.ixs], [this.cfg.payer]);
    if (!sim.ok) {
      // Another keeper got there first, or the program refuses it now: not an error.
      const r: KeeperResult = { task: d.task, target: d.target, outcome: "refused", reason: sim.error ?? "failed" };
      this.cfg.log.info("refused in simulation", { ...r });
      this.cfg.on?.(r);
      return r;
    }
    if (this.cfg.dryRun) {
      const r: KeeperResult = { task: d.task, target: d.target, outcome: "would send" };
      this.cfg.log.info("dry run: would send", { ...r, unitsSimulated: sim.unitsConsumed });
      this.cfg.on?.(r);
      return r;
    }
    const writable = d.ixs.flatMap((ix) => ix.keys.filter((k) => k.isWritable).map((k) => k.pubkey));
    const fee = (await this.chain.priorityFee?.(writable)) ?? 0;
    const signature = await this.chain.send([...budgetIxs(sim.unitsConsumed, fee), ...d.ixs], [this.cfg.payer]);
    const r: KeeperResult = { task: d.task, target: d.target, outcome: "sent", signature };
    this.cfg.log.info("sent", { ...r, unitsSimulated: sim.unitsConsumed, priorityMicroLamports: fee });
    this.cfg.on?.(r);
    return r;
  }
}

/** Counts every keeper decision in `registry` (`xmargin_keeper_actions_total{task, outcome}`,
 * refusals also by the program's error in `xmargin_keeper_refusals_total{task, error}`). */
export function keeperMetrics(registry: Registry): (r: KeeperResult) => void {
  const actions = counter(registry, "xmargin_keeper_actions_total", "Keeper decisions by task and outcome", ["task", "outcome"] as const);
  const refusals = counter(registry, "xmargin_keeper_refusals_total", "Due actions the program refused in simulation", ["task", "error"] as const);
  return (r) => {
    actions.inc({ task: r.task, outcome: r.outcome });
    if (r.outcome === "refused") refusals.inc({ task: r.task, error: r.reason ?? "unknown" });
  };
}

/** |price − spot| / spot in basis points (spot > 0), as a float: a scheduling threshold. */
function driftBps(spot: Fx, price: Fx): number {
  const diff = price.sub(spot);
  const magnitude = diff.isNegative() ? -diff.bits : diff.bits;
  return Number((magnitude * 10_000_000n) / spot.bits) / 1_000;
}
