#!/usr/bin/env node
// xmargin-liquidator: the liquidator bot as a service. `run` until stopped (SIGINT/SIGTERM
// finish the round in progress), `once` for one round, `open-portfolio` to open and fund the
// liquidator's own portfolio. JSON logs on stdout; Prometheus metrics with --metrics-port.
import { PublicKey } from "@solana/web3.js";
import { Command, Option } from "commander";

import { decodeAccount } from "../decode.js";
import { ENGINE_PROGRAM_ID, HealthEngine } from "../engine.js";
import { associatedTokenAccount } from "../pda.js";
import { LiquidatorBot, type BotEvent } from "../liquidator.js";
import { context, integer, pairOf, publicKey, runWhenMain, strict, quoteAccounts, withCommonOptions, withServiceOptions, type CommonOptions } from "../ops/cli.js";
import { counter, gauge, histogram, metricsRegistry, serveMetrics, type Registry } from "../ops/metrics.js";
import { runLoop, stopOnSignals } from "../ops/service.js";
import { budgetIxs } from "../chain.js";
import { nativeToUi, uiToNative } from "../values.js";

interface LiquidatorOptions extends CommonOptions {
  index: number;
  /** `run` only. */
  interval?: number;
  oracle: Map<string, PublicKey>;
  /** `run` only. */
  metricsPort?: number;
  dryRun: boolean;
  rounds?: number;
  /** `--no-local-health` sets false: every health from a simulation. */
  localHealth: boolean;
}

/** The bot's decisions as Prometheus metrics. */
function botMetrics(registry: Registry): { on: (e: BotEvent) => void; scan: ReturnType<typeof histogram> } {
  const portfolios = gauge(registry, "xmargin_liquidator_portfolios", "Portfolios seen in the last scan", [] as const);
  const candidates = counter(registry, "xmargin_liquidator_candidates_total", "Underwater portfolios found", [] as const);
  const refusals = counter(registry, "xmargin_liquidator_refusals_total", "Liquidations the program refused in simulation, by error", ["error"] as const);
  const sent = counter(registry, "xmargin_liquidator_actions_total", "Actions sent (or, dry run, decided)", ["action", "dry_run"] as const);
  const failures = counter(registry, "xmargin_liquidator_failures_total", "Targets whose handling failed (a lost race, an RPC error), by error", ["error"] as const);
  const health = counter(registry, "xmargin_liquidator_health_total", "Portfolio healths computed, by method (local engine or simulation)", ["method"] as const);
  const scan = histogram(registry, "xmargin_liquidator_round_seconds", "Duration of a round", ["result"] as const, [0.1, 0.5, 1, 2, 5, 10, 30, 60]);
  return {
    scan,
    on: (e) => {
      if (e.kind === "scanned") portfolios.set(e.portfolios);
      else if (e.kind === "candidate") candidates.inc();
      else if (e.kind === "refused") refusals.inc({ error: e.error });
      else if (e.kind === "failed") failures.inc({ error: e.error });
      else if (e.kind === "health") health.inc({ method: e.method });
      else sent.inc({ action: e.action, dry_run: String(e.dryRun) });
    },
  };
}

async function serve(o: LiquidatorOptions, mode: "run" | "once"): Promise<void> {
  const ctx = context("liquidator", o);
  const quote = await quoteAccounts(ctx);
  const portfolio = ctx.client.portfolio(ctx.payer.publicKey, o.index);
  if (!(await ctx.chain.account(portfolio))) {
    throw new Error(`the liquidator's portfolio ${portfolio.toBase58()} does not exist: create it with \`open-portfolio --deposit AMOUNT\``);
  }
  const registry = metricsRegistry("liquidator");
  const { on, scan } = botMetrics(registry);
  // The program's own health engine (WebAssembly, shipped in the package): candidates are
  // found locally, and only they cost simulations.
  // The engine is this checkout's build: for a deployment at another program id, every health
  // is simulated (the chain's own build computes it).
  const sameProgram = ctx.client.programId.equals(ENGINE_PROGRAM_ID);
  if (o.localHealth && !sameProgram) {
    ctx.log.warn("local health off: the engine is built for another program id", { engine: ENGINE_PROGRAM_ID, programId: ctx.client.programId });
  }
  const engine = o.localHealth && sameProgram ? await HealthEngine.load() : undefined;
  const bot = new LiquidatorBot(ctx.client, ctx.chain, {
    liquidator: ctx.payer,
    portfolio,
    quote,
    underlyingOracle: (u) => o.oracle.get(String(u)),
    pullAccount: (feedHex) => o.oracle.get(feedHex),
    dryRun: o.dryRun,
    log: ctx.log,
    on,
    engine,
  });
  const server = o.metricsPort ? await serveMetrics(registry, o.metricsPort) : undefined;
  ctx.log.info("liquidator started", { rpc: o.rpc, programId: o.programId, liquidator: ctx.payer.publicKey, portfolio, dryRun: o.dryRun, localHealth: engine !== undefined, metricsPort: o.metricsPort || undefined });
  const stop = stopOnSignals(ctx.log);
  const step = async () => {
    const end = scan.startTimer();
    try {
      await bot.round();
      end({ result: "ok" });
    } catch (e) {
      end({ result: "error" });
      throw e;
    }
  };
  if (mode === "once") await step();
  else await runLoop(step, { intervalMs: (o.interval ?? 1) * 1_000, signal: stop.signal, log: ctx.log, maxSteps: o.rounds });
  server?.close();
  ctx.log.info("liquidator stopped");
}

interface OpenOptions extends CommonOptions {
  index: number;
  deposit: string;
  source?: PublicKey;
}


/** Opens the liquidator's portfolio when missing and deposits quote into it. */
async function openPortfolio(o: OpenOptions): Promise<void> {
  const ctx = context("liquidator", o);
  const quote = await quoteAccounts(ctx);
  const exchange = decodeAccount("exchange", (await ctx.chain.account(ctx.client.exchange))!);
  const native = uiToNative(o.deposit, exchange.quoteDecimals, "--deposit");
  if (native <= 0n) throw new Error("--deposit: must be above zero");
  const portfolio = ctx.client.portfolio(ctx.payer.publicKey, o.index);
  const owner = ctx.payer.publicKey;
  const source =
    o.source ??
    associatedTokenAccount(owner, quote.quoteMint, quote.tokenProgram);
  const ixs = [];
  if (!(await ctx.chain.account(portfolio))) ixs.push(await ctx.client.openPortfolioIx(owner, owner, o.index));
  ixs.push(
    await ctx.client.depositIx({ depositor: owner, portfolio, mint: quote.quoteMint, source, tokenProgram: quote.tokenProgram, amount: native, quote: true }),
  );
  const sim = await ctx.chain.simulate([...budgetIxs(1_400_000, 0, 0), ...ixs], [ctx.payer]);
  if (!sim.ok) throw new Error(`refused in simulation: ${sim.error ?? "failed"}${sim.parsed?.account ? ` (account ${sim.parsed.account})` : ""}`);
  const signature = await ctx.chain.send([...budgetIxs(sim.unitsConsumed), ...ixs], [ctx.payer]);
  ctx.log.info("portfolio funded", { portfolio, deposited: nativeToUi(native, exchange.quoteDecimals), source, signature });
}

export function liquidatorProgram(): Command {
  const program = strict(new Command("xmargin-liquidator").description("liquidates underwater xmargin portfolios and resolves bankrupt ones"));
  for (const mode of ["run", "once"] as const) {
    const cmd = withCommonOptions(strict(program.command(mode)))
      .description(mode === "run" ? "liquidate until stopped (SIGINT/SIGTERM finish the round in progress)" : "one round, then exit")
      .option("--index <n>", "the liquidator's portfolio index", integer(0, 65_535), 0)
      .addOption(
        new Option("--oracle <key=account>", "oracle account of an underlying (0=ACCOUNT) or pull feed (HEX=ACCOUNT), repeatable")
          .argParser(pairOf(/^(?:\d{1,3}|[0-9a-f]{64})$/, "an underlying index or a 32-byte feed id in hex"))
          .default(new Map(), "the registry's"),
      )
      .option("--no-local-health", "compute every portfolio's health by simulation instead of the local engine (WebAssembly)");
    withServiceOptions(cmd, mode, 5).action((o: LiquidatorOptions) => serve(o, mode));
  }
  withCommonOptions(strict(program.command("open-portfolio")))
    .description("open the liquidator's portfolio (when missing) and deposit quote into it")
    .requiredOption("--deposit <amount>", "quote to deposit, in UI units (e.g. 2500.5)")
    .option("--index <n>", "the portfolio index", integer(0, 65_535), 0)
    .option("--source <token-account>", "the quote token account to pay from (default: the signer's associated account)", publicKey)
    .action((o: OpenOptions) => openPortfolio(o));
  return program;
}

runWhenMain(liquidatorProgram, import.meta.url);
