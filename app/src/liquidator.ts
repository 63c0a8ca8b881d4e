#!/usr/bin/env node
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
import { readFileSync } from "node:fs";

import {
  ComputeBudgetProgram,
  Connection,
  Keypair,
  PublicKey,
  Transaction,
  TransactionInstruction,
  sendAndConfirmTransaction,
} from "@solana/web3.js";
import BN from "bn.js";

import { isMain } from "./cli.js";
import { IDL, XmarginClient, rpcAccountSource } from "./client.js";
import { decodeEvents } from "./decode.js";
import { Fx } from "./values.js";
import { programError } from "./errors.js";
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
import { TOKEN_PROGRAM_ID, vaultPda } from "./pda.js";
import type { PortfolioState, RegistryState } from "./state.js";
import { decodePositions, linkedUnderlyings, underlyingAccounts, updateMarksIx, type PositionState } from "./trading.js";

/** The outcome of a simulated transaction. */
export interface Simulation {
  ok: boolean;
  logs: string[];
  unitsConsumed: number;
  returnData: Uint8Array;
  /** The xmargin error name when it failed with one. */
  error?: string;
}

/** Where the bot reads and writes: an RPC node or an in-process SVM. */
export interface Chain {
  /** Every account owned by the program with the Portfolio discriminator (getProgramAccounts). */
  portfolios(): Promise<{ address: PublicKey; data: Uint8Array }[]>;
  account(address: PublicKey): Promise<Uint8Array | null>;
  /** Simulates with the signers' signatures (or without signature verification). */
  simulate(ixs: TransactionInstruction[], signers: Keypair[]): Promise<Simulation>;
  send(ixs: TransactionInstruction[], signers: Keypair[]): Promise<string>;
}

export interface BotConfig {
  liquidator: Keypair;
  /** The liquidator's own (healthy) portfolio. */
  portfolio: PublicKey;
  quote: QuoteAccounts;
  /** The oracle account of each underlying, and a pull feed's (hex id) posted account. */
  underlyingOracle: (underlying: number) => PublicKey;
  pullAccount: (feedHex: string) => PublicKey;
  dryRun: boolean;
  log: (line: string) => void;
  /** Compute units added to the simulated consumption, as a fraction (default 10%). */
  cuHeadroom?: number;
}

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
      this.cfg.log(`skip ${p.address.toBase58()}: health not computable (${sim.error ?? "failed"})`);
      return undefined;
    }
    return decodeHealthView(this.client, sim.returnData);
  }

  /** Underwater (maintenance health < 0) and bankrupt portfolios, other than our own. */
  async scan(): Promise<{ underwater: Decoded[]; bankrupt: Decoded[]; registry: RegistryState }> {
    const registry = await this.registry();
    const underwater: Decoded[] = [];
    const bankrupt: Decoded[] = [];
    for (const { address, data } of await this.chain.portfolios()) {
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
        this.cfg.log(`bankrupt ${address.toBase58()} with leftover collateral: equity ${health.equity.toDecimal(6)}`);
        bankrupt.push(p);
        continue;
      }
      if (health !== undefined && health.maintenanceHealth.isNegative()) {
        this.cfg.log(`underwater ${address.toBase58()}: maintenance health ${health.maintenanceHealth.toDecimal(6)}`);
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
        this.cfg.log(`  ${label}: refused (${sim.error ?? "failed"})`);
        return;
      }
      const event = decodeEvents(sim.logs, this.client.programId).find(
        (e) => e.name === "positionsLiquidated" || e.name === "collateralLiquidated",
      );
      if (!event) throw new Error(`${label}: simulated but emitted no liquidation event`);
      const fee = event.data.liquidatorFee;
      this.cfg.log(`  ${label}: fee ${fee} (${sim.unitsConsumed} CU simulated)`);
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

  /** Sends `ixs` with a compute limit sized from `simulated` units (or only logs, dry run). */
  private async execute(label: string, ixs: TransactionInstruction[], simulated: number, signers: Keypair[]): Promise<void> {
    const units = Math.min(MAX_CU, Math.ceil(simulated * (1 + (this.cfg.cuHeadroom ?? 0.1))) + 1_000);
    if (this.cfg.dryRun) {
      this.cfg.log(`dry run: would send ${label} with a ${units} CU limit`);
      return;
    }
    const signature = await this.chain.send([ComputeBudgetProgram.setComputeUnitLimit({ units }), HEAP, ...ixs], signers);
    this.cfg.log(`sent ${label} (${units} CU limit): ${signature}`);
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
        this.cfg.log(`no legal liquidation of ${target.address.toBase58()}`);
        continue;
      }
      this.cfg.log(`pick ${best.label} of ${target.address.toBase58()}: fee ${best.fee} (best of ${options.length})`);
      await this.execute(`liquidation ${best.label}`, best.ixs, best.unitsConsumed, [this.cfg.liquidator]);
      actions += 1;
    }
    for (const target of bankrupt) {
      const leftover = bankruptcyLeftover(this.client, target.state, registry, this.cfg.pullAccount);
      const ix = await resolveBankruptcyIx(this.client, target.address, this.cfg.quote, await this.markets(), leftover);
      const sim = await this.chain.simulate([ix], []);
      if (!sim.ok) {
        this.cfg.log(`bankrupt ${target.address.toBase58()}: resolution refused (${sim.error ?? "failed"})`);
        continue;
      }
      this.cfg.log(`bankrupt ${target.address.toBase58()}: resolving`);
      await this.execute("resolve_bankruptcy", [ix], sim.unitsConsumed, []);
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
    this.cfg.log(`done: ${total} action(s)`);
    return total;
  }
}

/** The custom code of a simulation error `{ InstructionError: [i, { Custom: n }] }`. */
function rpcErrorName(err: unknown): string | undefined {
  const ie = (err as { InstructionError?: [number, { Custom?: number }] } | null)?.InstructionError;
  const code = ie?.[1]?.Custom;
  return code === undefined ? JSON.stringify(err) : (programError(code)?.name ?? `custom ${code}`);
}

/** A `Chain` over an RPC node. */
export function rpcChain(connection: Connection, client: XmarginClient, payer: Keypair): Chain {
  const discriminator = Buffer.from(IDL.accounts.find((a) => a.name.toLowerCase() === "portfolio")?.discriminator ?? []);
  const tx = (ixs: TransactionInstruction[]) => {
    const t = new Transaction();
    t.add(...ixs);
    t.feePayer = payer.publicKey;
    return t;
  };
  return {
    async portfolios() {
      const found = await connection.getProgramAccounts(client.programId, {
        filters: [{ memcmp: { offset: 0, bytes: discriminator.toString("base64"), encoding: "base64" } }],
      });
      return found.map((a) => ({ address: a.pubkey, data: a.account.data }));
    },
    account: rpcAccountSource(connection),
    async simulate(ixs) {
      const t = tx(ixs);
      t.recentBlockhash = (await connection.getLatestBlockhash()).blockhash;
      const r = await connection.simulateTransaction(t.compileMessage());
      const ret = r.value.returnData?.data?.[0];
      return {
        ok: r.value.err === null,
        logs: r.value.logs ?? [],
        unitsConsumed: r.value.unitsConsumed ?? 0,
        returnData: ret ? Buffer.from(ret, "base64") : new Uint8Array(),
        error: r.value.err === null ? undefined : rpcErrorName(r.value.err),
      };
    },
    async send(ixs, signers) {
      return sendAndConfirmTransaction(connection, tx(ixs), [payer, ...signers.filter((s) => !s.publicKey.equals(payer.publicKey))]);
    },
  };
}

function parseArgs(argv: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? "";
    if (!flag.startsWith("--")) throw new Error(`unexpected argument ${flag}`);
    const takesValue = flag !== "--dry-run";
    const value = takesValue ? argv[++i] : "true";
    if (value === undefined) throw new Error(`${flag} needs a value`);
    out.set(flag, [...(out.get(flag) ?? []), value]);
  }
  return out;
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const one = (flag: string): string => {
    const v = args.get(flag)?.[0];
    if (v === undefined) throw new Error(`missing ${flag}`);
    return v;
  };
  const pairs = (flag: string) =>
    new Map((args.get(flag) ?? []).map((kv) => {
      const [k, v] = kv.split("=");
      if (!k || !v) throw new Error(`${flag} takes KEY=ACCOUNT, got ${kv}`);
      return [k, new PublicKey(v)] as const;
    }));
  const connection = new Connection(one("--rpc"), "confirmed");
  const payer = Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(one("--keypair"), "utf8")) as number[]));
  const client = new XmarginClient();
  const quoteMint = new PublicKey(one("--quote-mint"));
  const oracles = pairs("--oracle");
  const pulls = pairs("--pull");
  const bot = new LiquidatorBot(client, rpcChain(connection, client, payer), {
    liquidator: payer,
    portfolio: client.portfolio(payer.publicKey, Number(args.get("--index")?.[0] ?? 0)),
    quote: { quoteMint, quoteVault: vaultPda(client.programId, client.exchange, quoteMint), tokenProgram: TOKEN_PROGRAM_ID },
    underlyingOracle: (u) => {
      const o = oracles.get(String(u));
      if (!o) throw new Error(`no --oracle ${u}=ACCOUNT given for underlying ${u}`);
      return o;
    },
    pullAccount: (feed) => {
      const o = pulls.get(feed);
      if (!o) throw new Error(`no --pull ${feed}=ACCOUNT given`);
      return o;
    },
    dryRun: args.has("--dry-run"),
    log: (line) => console.log(`${new Date().toISOString()} ${line}`),
  });
  await bot.run(Number(args.get("--rounds")?.[0] ?? 10));
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
