#!/usr/bin/env node
// xmargin-keeper: the permissionless cranks (funding, volatility, marks, settlement prices,
// expiry settlement, fee sweeps) as a service. `run` until stopped (SIGINT/SIGTERM finish the
// round in progress), `once` for one round (cron). JSON logs on stdout; Prometheus metrics
// with --metrics-port.
import type { PublicKey } from "@solana/web3.js";
import { Command, InvalidArgumentError, Option } from "commander";

import { Keeper, KEEPER_TASKS, keeperMetrics, type KeeperTask } from "../keeper.js";
import { UNDERLYING_KEY, amount, context, fraction, pairOf, runWhenMain, strict, quoteAccounts, withCommonOptions, withServiceOptions, type CommonOptions } from "../ops/cli.js";
import { counter, metricsRegistry, serveMetrics } from "../ops/metrics.js";
import { runLoop, stopOnSignals } from "../ops/service.js";

interface KeeperOptions extends CommonOptions {
  /** `run` only. */
  interval?: number;
  tasks: KeeperTask[];
  marksRefresh: number;
  sweepMinimum: bigint;
  oracle: Map<string, PublicKey>;
  settlementUpdate: Map<string, PublicKey>;
  /** `run` only. */
  metricsPort?: number;
  dryRun: boolean;
  rounds?: number;
}

function tasks(value: string): KeeperTask[] {
  const list = value.split(",").map((t) => t.trim());
  for (const t of list) {
    if (!(KEEPER_TASKS as readonly string[]).includes(t)) throw new InvalidArgumentError(`unknown task ${JSON.stringify(t)} (tasks: ${KEEPER_TASKS.join(", ")})`);
  }
  return list as KeeperTask[];
}

async function keeper(o: KeeperOptions, mode: "run" | "once"): Promise<void> {
  const ctx = context("keeper", o);
  const quote = await quoteAccounts(ctx);
  const registry = metricsRegistry("keeper");
  const rounds = counter(registry, "xmargin_keeper_rounds_total", "Keeper rounds by result", ["result"] as const);
  const bot = new Keeper(ctx.client, ctx.chain, {
    payer: ctx.payer,
    underlyingOracle: (u) => o.oracle.get(String(u)),
    settlementUpdate: (u, series) => o.settlementUpdate.get(`${u}:${series}`),
    quote,
    marksRefreshFraction: o.marksRefresh,
    sweepMinimum: o.sweepMinimum,
    tasks: new Set(o.tasks),
    dryRun: o.dryRun,
    log: ctx.log,
    on: keeperMetrics(registry),
  });
  const server = o.metricsPort ? await serveMetrics(registry, o.metricsPort) : undefined;
  ctx.log.info("keeper started", { rpc: o.rpc, programId: o.programId, payer: ctx.payer.publicKey, tasks: o.tasks, dryRun: o.dryRun, metricsPort: o.metricsPort || undefined });
  const stop = stopOnSignals(ctx.log);
  const step = async () => {
    try {
      await bot.round();
      rounds.inc({ result: "ok" });
    } catch (e) {
      rounds.inc({ result: "error" });
      throw e;
    }
  };
  if (mode === "once") await step();
  else await runLoop(step, { intervalMs: (o.interval ?? 1) * 1_000, signal: stop.signal, log: ctx.log, maxSteps: o.rounds });
  server?.close();
  ctx.log.info("keeper stopped");
}

export function keeperProgram(): Command {
  const program = strict(new Command("xmargin-keeper").description("xmargin's permissionless cranks, each on its schedule"));
  for (const mode of ["run", "once"] as const) {
    const cmd = withCommonOptions(strict(program.command(mode)))
      .description(mode === "run" ? "crank until stopped (SIGINT/SIGTERM finish the round in progress)" : "one round, then exit (for cron)")
      .addOption(new Option("--tasks <list>", `comma-separated tasks (${KEEPER_TASKS.join(",")})`).argParser(tasks).default([...KEEPER_TASKS], "all"))
      .option("--marks-refresh <fraction>", "re-mark at this fraction of the largest mark age or drift", fraction, 0.5)
      .addOption(new Option("--sweep-minimum <native>", "least accrued fee worth a sweep, quote native units").argParser(amount).default(1n, "1"))
      .addOption(
        new Option("--oracle <underlying=account>", "oracle account of an underlying (repeatable)")
          .argParser(pairOf(UNDERLYING_KEY, "an underlying index"))
          .default(new Map(), "the registry's"),
      )
      .addOption(
        new Option("--settlement-update <underlying:series=account>", "where the price update at a series' expiry was posted (repeatable)")
          .argParser(pairOf(/^\d{1,3}:\d{1,2}$/, "UNDERLYING:SERIES"))
          .default(new Map(), "the oracle account"),
      );
    withServiceOptions(cmd, mode, 15).action((o: KeeperOptions) => keeper(o, mode));
  }
  return program;
}

runWhenMain(keeperProgram, import.meta.url);
