// The liquidator bot: scans every portfolio, computes its health with the program's own
// numbers — locally, by the program's `refresh_health` compiled to WebAssembly
// (`engine.ts`), on the accounts of the round, so that only candidates cost a simulation;
// or, without the engine or where it refuses, a simulated `refresh_health` — tries every
// legal liquidation of each underwater one in simulation (each position, each collateral; an option with its marks refreshed in
// the same transaction), sends the most profitable with a compute limit sized from the
// simulation and a priority fee from recent fees, and logs every decision as JSON. Bankrupt
// portfolios (no positions and a quote deficit, with no collateral left or negative equity)
// get `resolve_bankruptcy`, which hands any leftover collateral to the insurance fund. A dry
// run decides and logs without sending. Runs against any `Chain`: an RPC node
// (`bin/liquidator.ts`, the service) or the tests' SVM.
import { ComputeBudgetProgram, Keypair, PublicKey, SYSVAR_CLOCK_PUBKEY, TransactionInstruction } from "@solana/web3.js";

import { budgetIxs, type Chain } from "./chain.js";
import type { XmarginClient } from "./client.js";
import { decodeEvents } from "./decode.js";
import { EngineRefusal, computeHealth, type AccountReader, type HealthEngine, type RawAccount } from "./engine.js";
import { parseError } from "./errors.js";
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
import {
  PERP_INSTRUMENT,
  decodePositions,
  portfolioHealthAccounts,
  seriesMask,
  underlyingOracleOf,
  updateMarksIx,
  type PositionState,
} from "./trading.js";

export type { Chain, Simulation } from "./chain.js";

export interface BotConfig {
  liquidator: Keypair;
  /** The liquidator's own (healthy) portfolio. */
  portfolio: PublicKey;
  quote: QuoteAccounts;
  /** Overrides of an underlying's oracle account, and of a pull feed's (hex id): by default
   * each is the registry's, read every round (a listing or an oracle change after the bot
   * started is followed). */
  underlyingOracle?: (underlying: number) => PublicKey | undefined;
  pullAccount?: (feedHex: string) => PublicKey | undefined;
  dryRun: boolean;
  log: Logger;
  /** Compute units added to the simulated consumption, as a fraction (default 10%). */
  cuHeadroom?: number;
  /** What the bot did, for metrics (the service counts these). */
  on?: (event: BotEvent) => void;
  /** The program's health engine (`HealthEngine.load()`): each portfolio is screened locally
   * on the round's accounts, and only the underwater ones (and those whose option marks are
   * stale, which the engine cannot refresh) are simulated. Without it every health is a
   * simulation. */
  engine?: HealthEngine;
}

/** What a round did, one event per decision. */
export type BotEvent =
  | { kind: "scanned"; portfolios: number }
  | { kind: "candidate"; target: string }
  /** A portfolio's health computed: by the local engine, or by a simulation. */
  | { kind: "health"; method: "local" | "simulated" }
  | { kind: "refused"; label: string; error: string }
  | { kind: "sent"; action: "liquidation" | "resolve_bankruptcy"; dryRun: boolean }
  | { kind: "failed"; target: string; error: string };

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

/** Accounts read once per round, for every portfolio's local health: portfolios come from the
 * scan itself, the rest is fetched in batches (`scan` asks for all of it at once) and kept for
 * the round. */
function roundReader(chain: Chain, known: RawAccount[]): AccountReader {
  const cache = new Map<string, RawAccount | null>(known.map((a) => [a.address.toBase58(), a]));
  return async (addresses) => {
    const missing = [...new Set(addresses.map((a) => a.toBase58()).filter((k) => !cache.has(k)))];
    if (missing.length > 0) {
      const found = await chain.accounts(missing.map((k) => new PublicKey(k)));
      missing.forEach((k, i) => cache.set(k, found[i] ?? null));
    }
    return addresses.map((a) => cache.get(a.toBase58()) ?? null);
  };
}

/** A health and how it was computed (the `underwater` log says which). */
type Healthed = PortfolioHealth & { by: "local" | "simulated" };

interface Decoded {
  address: PublicKey;
  state: PortfolioState;
  positions: PositionState[];
}

const HEAP = ComputeBudgetProgram.requestHeapFrame({ bytes: 256 * 1024 });
/** Health failures that fresh marks fix (`update_marks` in front). */
const MARKS_ERRORS = new Set(["MarksMissing", "MarksTooOld", "MarksSpotDrift", "MarksParamsChanged"]);
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

  /** An underlying's oracle account: the override, else the registry's (`UnknownUnderlying`
   * when it is not listed: that portfolio is skipped, not the round). */
  private underlyingOracle(u: number, registry: RegistryState): PublicKey {
    return underlyingOracleOf(u, registry, this.cfg);
  }

  /** A portfolio's health accounts (collateral oracles, then markets), without `exclude`. */
  healthAccounts(p: { state: PortfolioState; positions: PositionState[] }, registry: RegistryState, exclude?: number): PublicKey[] {
    return portfolioHealthAccounts(this.client, p, registry, this.cfg, exclude);
  }

  private decode(address: PublicKey, data: Uint8Array): Decoded {
    return { address, state: this.client.decodePortfolio(data), positions: decodePositions(this.client, data) };
  }

  /** The program's health of `p`: by the engine on `reader`'s accounts when there is one;
   * by simulation without it, or when the engine refuses (stale option marks, which a
   * simulation can refresh with `update_marks` in front; anything else — a program the engine
   * was not built for, an account it cannot read — is checked by the chain itself, so the
   * local engine can only save simulations, never hide a portfolio). Undefined when it cannot
   * be computed (logged). */
  private async health(p: Decoded, registry: RegistryState, reader?: AccountReader): Promise<Healthed | undefined> {
    const accounts = this.healthAccounts(p, registry);
    const engine = this.cfg.engine;
    let marksStale = false;
    if (engine) {
      try {
        const h = await computeHealth(engine, this.client, reader ?? ((keys) => this.chain.accounts(keys)), p.address, accounts);
        this.cfg.on?.({ kind: "health", method: "local" });
        return { ...h, by: "local" };
      } catch (e) {
        const error = e instanceof EngineRefusal ? e.errorName : e instanceof Error ? e.message : String(e);
        marksStale = MARKS_ERRORS.has(error);
        if (!marksStale) this.cfg.log.warn("local health refused: simulating", { portfolio: p.address, error });
      }
    }
    const h = await this.simulatedHealth(p, registry, accounts, marksStale);
    return h && { ...h, by: "simulated" };
  }

  /** The program's health of `p` from a simulated `refresh_health` (behind fresh marks at once
   * when they are known to be stale). */
  private async simulatedHealth(p: Decoded, registry: RegistryState, accounts: PublicKey[], marksStale = false): Promise<PortfolioHealth | undefined> {
    const ix = await this.client.refreshHealthIx(p.address, accounts);
    const budget = [ComputeBudgetProgram.setComputeUnitLimit({ units: MAX_CU }), HEAP];
    let sim = marksStale ? undefined : await this.chain.simulate([...budget, ix], []);
    if (sim === undefined || (!sim.ok && MARKS_ERRORS.has(sim.error ?? ""))) {
      // Option marks too old, drifted or computed under other parameters (in a crash, nothing
      // may have cranked them): look again behind fresh marks of the series it holds, as the
      // liquidation itself will be sent.
      sim = await this.chain.simulate([...budget, ...(await this.marksCranks([p], registry)), ix], []);
    }
    this.cfg.on?.({ kind: "health", method: "simulated" });
    if (!sim.ok) {
      this.cfg.log.warn("skip: health not computable", { portfolio: p.address, error: sim.error ?? "failed" });
      return undefined;
    }
    return decodeHealthView(this.client, sim.returnData);
  }

  /** Underwater (maintenance health < 0) and bankrupt portfolios, other than our own. With
   * the engine, one state of the chain per round: the portfolios, then in one batch the
   * clock, the exchange, the registry and every market and oracle their healths need. */
  async scan(): Promise<{ underwater: Decoded[]; bankrupt: Decoded[]; registry: RegistryState }> {
    const underwater: Decoded[] = [];
    const bankrupt: Decoded[] = [];
    const all = await this.chain.portfolios();
    this.cfg.on?.({ kind: "scanned", portfolios: all.length });
    const reader = this.cfg.engine ? roundReader(this.chain, all) : undefined;
    let registry: RegistryState;
    if (reader) {
      const [clock, exchange, registryAccount] = await reader([SYSVAR_CLOCK_PUBKEY, this.client.exchange, this.client.registry]);
      if (!clock || !exchange || !registryAccount) throw new Error("the clock, exchange or registry account is missing: is this the right program and cluster?");
      registry = this.client.decodeRegistry(registryAccount.data);
      const needed = all
        .filter((a) => !a.address.equals(this.cfg.portfolio))
        .flatMap((a) => {
          try {
            return this.healthAccounts(this.decode(a.address, a.data), registry);
          } catch {
            return []; // an unlisted underlying: that portfolio fails on its own below
          }
        });
      await reader(needed);
    } else {
      registry = await this.registry();
    }
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
      let health: Healthed | undefined;
      try {
        health = await this.health(p, registry, reader);
      } catch (e) {
        this.failed(address, e);
        continue;
      }
      // Leftover collateral worth less than the deficit: the resolution hands it to insurance.
      if (health !== undefined && p.positions.length === 0 && quote < 0n && health.equity.isNegative()) {
        this.cfg.log.info("bankrupt with leftover collateral", { portfolio: address, equity: health.equity });
        bankrupt.push(p);
        continue;
      }
      if (health !== undefined && health.maintenanceHealth.isNegative()) {
        this.cfg.log.info("underwater", { portfolio: address, maintenanceHealth: health.maintenanceHealth, by: health.by });
        this.cfg.on?.({ kind: "candidate", target: address.toBase58() });
        underwater.push(p);
      }
    }
    return { underwater, bankrupt, registry };
  }

  /** Every legal liquidation of `target`, simulated; refusals are logged with their reason. */
  /** `update_marks` of every option series `portfolios` hold, one per underlying (the program
   * adds each series' counterparts). */
  private async marksCranks(portfolios: Decoded[], registry: RegistryState): Promise<TransactionInstruction[]> {
    const masks = new Map<number, number>();
    for (const p of portfolios) {
      for (const pos of p.positions) {
        if (pos.series === PERP_INSTRUMENT) continue;
        masks.set(pos.underlying, ((masks.get(pos.underlying) ?? 0) | seriesMask(pos.series, 1)) >>> 0);
      }
    }
    const out: TransactionInstruction[] = [];
    for (const [u, mask] of [...masks].sort((a, b) => a[0] - b[0])) {
      out.push(await updateMarksIx(this.client, u, mask, this.underlyingOracle(u, registry)));
    }
    return out;
  }

  async candidates(target: Decoded, registry: RegistryState): Promise<Candidate[]> {
    const mineData = await this.chain.account(this.cfg.portfolio);
    if (!mineData) throw new Error("the liquidator portfolio does not exist");
    const mine = this.decode(this.cfg.portfolio, mineData);
    const out: Candidate[] = [];
    // Every option series either side holds, marked fresh in the same transaction: the
    // program values both portfolios (the target's rest of book, the liquidator's health).
    const cranks = await this.marksCranks([target, mine], registry);
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
        oracle: this.underlyingOracle(pos.underlying, registry),
        targetHealth: this.healthAccounts(target, registry, pos.underlying),
        liquidatorHealth: this.healthAccounts(mine, registry, pos.underlying),
      });
      // Behind the fresh marks (the transaction's compute limit comes from this simulation).
      await tryIx(`positions u${pos.underlying} ${pos.series === PERP_INSTRUMENT ? "perp" : `series ${pos.series}`}`, [...cranks, ix]);
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
      await tryIx(`collateral ${b.collateral}`, [...cranks, ix]);
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
      // One target's failure (a lost race: another liquidator landed first; an account the
      // registry no longer lists) is logged and counted; the others are still worked.
      try {
        const options = await this.candidates(target, registry);
        const best = options.reduce<Candidate | undefined>((a, c) => (!a || c.fee > a.fee ? c : a), undefined);
        if (!best) {
          this.cfg.log.info("no legal liquidation", { target: target.address });
          continue;
        }
        this.cfg.log.info("pick", { target: target.address, label: best.label, fee: best.fee, of: options.length });
        await this.execute("liquidation", best.label, best.ixs, best.unitsConsumed, [this.cfg.liquidator]);
        actions += 1;
      } catch (e) {
        this.failed(target.address, e);
      }
    }
    for (const target of bankrupt) {
      try {
        actions += await this.resolve(target, registry);
      } catch (e) {
        this.failed(target.address, e);
      }
    }
    return actions;
  }

  /** Logs and counts a target whose handling failed (the round goes on). */
  private failed(target: PublicKey, e: unknown): void {
    const error = parseError(e, [], this.client.programId)?.name ?? (e instanceof Error ? e.message : String(e));
    this.cfg.log.warn("target failed", { target, error });
    this.cfg.on?.({ kind: "failed", target: target.toBase58(), error });
  }

  /** `resolve_bankruptcy` of `target` (1 when sent or, dry run, decided). */
  private async resolve(target: Decoded, registry: RegistryState): Promise<number> {
    const leftover = bankruptcyLeftover(this.client, target.state, registry, this.cfg.pullAccount);
    const ix = await resolveBankruptcyIx(this.client, target.address, this.cfg.quote, await this.markets(), leftover);
    // Simulated as it is sent: at the transaction maximum with the heap frame.
    const sim = await this.chain.simulate([...budgetIxs(MAX_CU, 0, 0), ix], []);
    if (!sim.ok) {
      this.cfg.log.info("bankruptcy resolution refused", { target: target.address, error: sim.error ?? "failed" });
      return 0;
    }
    this.cfg.log.info("bankrupt: resolving", { target: target.address });
    await this.execute("resolve_bankruptcy", target.address.toBase58(), [ix], sim.unitsConsumed, []);
    return 1;
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
