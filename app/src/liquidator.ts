// The liquidator bot: scans every portfolio, computes its health with the program's own
// numbers (a simulated `refresh_health`), tries every legal liquidation of each underwater
// one in simulation (each position, each collateral), sends the most profitable with a
// compute budget sized from the simulation, and logs every decision. Bankrupt portfolios
// (no positions and a quote deficit, with no collateral left or negative equity) get
// `resolve_bankruptcy`, which hands any leftover collateral to the insurance fund. `--dry-run` decides and logs
// without sending. Runs against an RPC URL (`main` below) or any `Chain` (the tests' SVM).
//
//   npx tsx app/src/liquidator.ts --rpc URL --keypair PATH --quote-mint MINT \
//       --oracle 0=ORACLE [--oracle 1=...] [--pull FEEDHEX=ACCOUNT] [--index 0] [--rounds 10] [--dry-run]
// The liquidator bot: scans every portfolio, computes its health with the program's own
// numbers (a simulated `refresh_health`), tries every legal liquidation of each underwater
// one in simulation (each position, each collateral; an option with its marks refreshed in
// the same transaction), sends the most profitable with a compute limit sized from the
// simulation and a priority fee from recent fees, and logs every decision as JSON. Bankrupt
// portfolios (no positions and a quote deficit, with no collateral left or negative equity)
// get `resolve_bankruptcy`, which hands any leftover collateral to the insurance fund. A dry
// run decides and logs without sending. Runs against any `Chain`: an RPC node
// (`bin/liquidator.ts`, the service) or the tests' SVM.
import { ComputeBudgetProgram, Keypair, PublicKey, TransactionInstruction } from "@solana/web3.js";

import { budgetIxs, type Chain } from "./chain.js";
import type { XmarginClient } from "./client.js";
import { decodeEvents } from "./decode.js";
import { decodeHealthView, oracleAccounts, type PortfolioHealth } from "./health.js";
import {
  ALL,
  bankruptcyLeftover,
  liquidateCollateralIx,
  liquidatePositionsIx,
  createdMarkets,
  resolveBankruptcyIx,
  type QuoteAccounts,
} from "./liquidation.js";
import type { Logger } from "./ops/log.js";
import type { PortfolioState, RegistryState } from "./state.js";
import { decodePositions, linkedUnderlyings, underlyingAccounts, updateMarksIx, type PositionState } from "./trading.js";
import type { Fx } from "./values.js";

export type { Chain, Simulation } from "./chain.js";

export interface BotConfig {
  liquidator: Keypair;
  /** The liquidator's own (healthy) portfolio. */
  portfolio: PublicKey;
  quote: QuoteAccounts;
  /** The oracle account of each underlying, and a pull feed's (hex id) posted account. */
  underlyingOracle: (underlying: number) => PublicKey;
  pullAccount: (feedHex: string) => PublicKey;
  dryRun: boolean;
  log: Logger;
  /** Compute units added to the simulated consumption, as a fraction (default 10%). */
  cuHeadroom?: number;
  /** What the bot did, for metrics (the service counts these). */
  on?: (event: BotEvent) => void;
}

/** What a round did, one event per decision. */
export type BotEvent =
  | { kind: "scanned"; portfolios: number }
  | { kind: "candidate"; target: string }
  | { kind: "refused"; label: string; error: string }
  | { kind: "sent"; action: "liquidation" | "resolve_bankruptcy"; dryRun: boolean };

/** One legal liquidation, as simulated. */
export interface Candidate {
  target: PublicKey;
  label: string;
  /** The transaction's instructions: for an option, `update_marks` of its series then the
   * liquidation (the program prices option liquidations at marks of the same second). */
  ixs: TransactionInstruction[];
  /** The liquidator's fee (quote native units) the program would pay, from the event. */
  fee: bigint;
  unitsConsumed: number;
}

interface Decoded {
  address: PublicKey;
  state: PortfolioState;
  positions: PositionState[];
}

const HEAP = ComputeBudgetProgram.requestHeapFrame({ bytes: 256 * 1024 });
/** Simulations run at the transaction maximum; sends at what the simulation used. */
const MAX_CU = 1_400_000;

export class LiquidatorBot {
  constructor(
    readonly client: XmarginClient,
    readonly chain: Chain,
    readonly cfg: BotConfig,
  ) {}

  private async registry(): Promise<RegistryState> {
    const data = await this.chain.account(this.client.registry);
    if (!data) throw new Error("registry account not found: is this the right program and cluster?");
    return this.client.decodeRegistry(data);
  }

  /** The created markets (`resolve_bankruptcy` folds their shares of Σ positive quote balances). */
  private async markets(): Promise<PublicKey[]> {
    const data = await this.chain.account(this.client.exchange);
    if (!data) throw new Error("exchange account not found: is this the right program and cluster?");
    return createdMarkets(this.client, this.client.decodeExchange(data));
  }

  /** A portfolio's health accounts (collateral oracles, then markets), without `exclude`. */
  healthAccounts(p: { state: PortfolioState; positions: PositionState[] }, registry: RegistryState, exclude?: number): PublicKey[] {
    return [
      ...oracleAccounts(p.state, registry, this.cfg.pullAccount),
      ...underlyingAccounts(this.client, p.positions, this.cfg.underlyingOracle, exclude, linkedUnderlyings(p.state, registry)),
    ];
  }

  private decode(address: PublicKey, data: Uint8Array): Decoded {
    return { address, state: this.client.decodePortfolio(data), positions: decodePositions(this.client, data) };
  }

  /** Maintenance health (quote units, exact) from a simulated `refresh_health`. */
  async maintenanceHealth(p: Decoded, registry: RegistryState): Promise<Fx | undefined> {
    return (await this.health(p, registry))?.maintenanceHealth;
  }

  /** The program's health of `p` from a simulated `refresh_health`. */
  private async health(p: Decoded, registry: RegistryState): Promise<PortfolioHealth | undefined> {
    const ix = await this.client.refreshHealthIx(p.address, this.healthAccounts(p, registry));
    const sim = await this.chain.simulate([ComputeBudgetProgram.setComputeUnitLimit({ units: MAX_CU }), HEAP, ix], []);
    if (!sim.ok) {
      this.cfg.log.warn("skip: health not computable", { portfolio: p.address, error: sim.error ?? "failed" });
      return undefined;
    }
    return decodeHealthView(this.client, sim.returnData);
  }

  /** Underwater (maintenance health < 0) and bankrupt portfolios, other than our own. */
  async scan(): Promise<{ underwater: Decoded[]; bankrupt: Decoded[]; registry: RegistryState }> {
    const registry = await this.registry();
    const underwater: Decoded[] = [];
    const bankrupt: Decoded[] = [];
    const all = await this.chain.portfolios();
    this.cfg.on?.({ kind: "scanned", portfolios: all.length });
    for (const { address, data } of all) {
      if (address.equals(this.cfg.portfolio)) continue;
      const p = this.decode(address, data);
      const quote = p.state.balances.find((b) => b.collateral === 0)?.amount ?? 0n;
      const collateralLeft = p.state.balances.some((b) => b.collateral !== 0 && b.amount !== 0n);
      if (p.positions.length === 0 && !collateralLeft && quote < 0n) {
        bankrupt.push(p);
        continue;
      }
      if (p.positions.length === 0 && !collateralLeft) continue;
      const health = await this.health(p, registry);
      // Leftover collateral worth less than the deficit: the resolution hands it to insurance.
      if (health !== undefined && p.positions.length === 0 && quote < 0n && health.equity.isNegative()) {
        this.cfg.log.info("bankrupt with leftover collateral", { portfolio: address, equity: health.equity });
        bankrupt.push(p);
        continue;
      }
      if (health !== undefined && health.maintenanceHealth.isNegative()) {
        this.cfg.log.info("underwater", { portfolio: address, maintenanceHealth: health.maintenanceHealth });
        this.cfg.on?.({ kind: "candidate", target: address.toBase58() });
        underwater.push(p);
      }
    }
    return { underwater, bankrupt, registry };
  }

  /** Every legal liquidation of `target`, simulated; refusals are logged with their reason. */
  async candidates(target: Decoded, registry: RegistryState): Promise<Candidate[]> {
    const mineData = await this.chain.account(this.cfg.portfolio);
    if (!mineData) throw new Error("the liquidator portfolio does not exist");
    const mine = this.decode(this.cfg.portfolio, mineData);
    const out: Candidate[] = [];
    const tryIx = async (label: string, ixs: TransactionInstruction[]) => {
      const sim = await this.chain.simulate(
        [ComputeBudgetProgram.setComputeUnitLimit({ units: MAX_CU }), HEAP, ...ixs],
        [this.cfg.liquidator],
      );
      if (!sim.ok) {
        this.cfg.log.info("candidate refused", { target: target.address, label, error: sim.error ?? "failed" });
        this.cfg.on?.({ kind: "refused", label, error: sim.error ?? "failed" });
        return;
      }
      const event = decodeEvents(sim.logs, this.client.programId).find(
        (e) => e.name === "positionsLiquidated" || e.name === "collateralLiquidated",
      );
      if (!event) throw new Error(`${label}: simulated but emitted no liquidation event`);
      const fee = event.data.liquidatorFee;
      this.cfg.log.info("candidate", { target: target.address, label, fee, unitsSimulated: sim.unitsConsumed });
      out.push({ target: target.address, label, ixs, fee, unitsConsumed: sim.unitsConsumed });
    };
    const seen = new Set<string>();
    for (const pos of target.positions) {
      const key = `${pos.underlying}/${pos.series}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const ix = await liquidatePositionsIx(this.client, {
        liquidatorSigner: this.cfg.liquidator.publicKey,
        liquidator: this.cfg.portfolio,
        target: target.address,
        underlying: pos.underlying,
        instrument: pos.series,
        maxLots: ALL >> 1n,
        oracle: this.cfg.underlyingOracle(pos.underlying),
        targetHealth: this.healthAccounts(target, registry, pos.underlying),
        liquidatorHealth: this.healthAccounts(mine, registry, pos.underlying),
      });
      const oracle = this.cfg.underlyingOracle(pos.underlying);
      // Fresh marks of the series (and its counterpart, which `update_marks` adds; the
      // transaction's compute limit comes from this simulation).
      const ixs = pos.series === 255 ? [ix] : [await updateMarksIx(this.client, pos.underlying, 1 << pos.series, oracle), ix];
      await tryIx(`positions u${pos.underlying} ${pos.series === 255 ? "perp" : `series ${pos.series}`}`, ixs);
    }
    for (const b of target.state.balances) {
      const c = registry.collaterals[b.collateral];
      if (b.collateral === 0 || b.amount <= 0n || !c) continue;
      // The liquidator's balances after the call: the collateral in its slot (or a new one).
      const balances = mine.state.balances.some((x) => x.collateral === b.collateral)
        ? mine.state.balances.map((x) => (x.collateral === b.collateral ? { ...x, amount: x.amount + 1n } : x))
        : [...mine.state.balances, { collateral: b.collateral, amount: 1n }];
      const after = { state: { ...mine.state, balances }, positions: mine.positions };
      const [oracle] = oracleAccounts({ ...target.state, balances: [b] }, registry, this.cfg.pullAccount);
      if (!oracle) continue;
      const ix = await liquidateCollateralIx(this.client, {
        ...this.cfg.quote,
        liquidatorSigner: this.cfg.liquidator.publicKey,
        liquidator: this.cfg.portfolio,
        target: target.address,
        collateral: b.collateral,
        maxAmount: ALL >> 1n,
        oracle,
        targetHealth: this.healthAccounts(target, registry),
        liquidatorHealth: this.healthAccounts(after, registry),
      });
      await tryIx(`collateral ${b.collateral}`, [ix]);
    }
    return out;
  }

  /** Sends `ixs` with a compute limit sized from `simulated` units and a priority fee from the
   * chain's recent fees on the accounts it writes (or only logs, dry run). */
  private async execute(action: "liquidation" | "resolve_bankruptcy", label: string, ixs: TransactionInstruction[], simulated: number, signers: Keypair[]): Promise<void> {
    const writable = ixs.flatMap((ix) => ix.keys.filter((k) => k.isWritable).map((k) => k.pubkey));
    const fee = (await this.chain.priorityFee?.(writable)) ?? 0;
    const budget = budgetIxs(simulated, fee, this.cfg.cuHeadroom ?? 0.1);
    const units = simulated;
    if (this.cfg.dryRun) {
      this.cfg.log.info("dry run: would send", { action, label, unitsSimulated: units, priorityMicroLamports: fee });
      this.cfg.on?.({ kind: "sent", action, dryRun: true });
      return;
    }
    const signature = await this.chain.send([...budget, ...ixs], signers);
    this.cfg.log.info("sent", { action, label, unitsSimulated: units, priorityMicroLamports: fee, signature });
    this.cfg.on?.({ kind: "sent", action, dryRun: false });
  }

  /**
   * One pass: the most profitable legal liquidation of each underwater portfolio, and
   * `resolve_bankruptcy` of each bankrupt one. Returns how many actions were taken (or, in a
   * dry run, would have been).
   */
  async round(): Promise<number> {
    const { underwater, bankrupt, registry } = await this.scan();
    let actions = 0;
    for (const target of underwater) {
      const options = await this.candidates(target, registry);
      const best = options.reduce<Candidate | undefined>((a, c) => (!a || c.fee > a.fee ? c : a), undefined);
      if (!best) {
        this.cfg.log.info("no legal liquidation", { target: target.address });
        continue;
      }
      this.cfg.log.info("pick", { target: target.address, label: best.label, fee: best.fee, of: options.length });
      await this.execute("liquidation", best.label, best.ixs, best.unitsConsumed, [this.cfg.liquidator]);
      actions += 1;
    }
    for (const target of bankrupt) {
      const leftover = bankruptcyLeftover(this.client, target.state, registry, this.cfg.pullAccount);
      const ix = await resolveBankruptcyIx(this.client, target.address, this.cfg.quote, await this.markets(), leftover);
      const sim = await this.chain.simulate([ix], []);
      if (!sim.ok) {
        this.cfg.log.info("bankruptcy resolution refused", { target: target.address, error: sim.error ?? "failed" });
        continue;
      }
      this.cfg.log.info("bankrupt: resolving", { target: target.address });
      await this.execute("resolve_bankruptcy", target.address.toBase58(), [ix], sim.unitsConsumed, []);
      actions += 1;
    }
    return actions;
  }

  /** Rounds until nothing is left to do (or `maxRounds`). A dry run stops after one. */
  async run(maxRounds = 20): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxRounds; i++) {
      const n = await this.round();
      total += n;
      if (n === 0 || this.cfg.dryRun) break;
    }
    this.cfg.log.info("done", { actions: total });
    return total;
  }
}
