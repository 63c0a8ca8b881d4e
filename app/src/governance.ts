#!/usr/bin/env node
// Governance helpers and CLI: shows a human-readable diff of a proposed collateral change
// (its link to an underlying included) or offset-group change, and which parts of it loosen
// risk, before anything is sent.
//
//   npx tsx app/src/governance.ts propose-collateral --rpc URL --keypair PATH --index 1 \
//       [--initial-weight-bps N] [--maintenance-weight-bps N] [--deposit-cap N] [--reduce-only 0|1] \
//       [--link-underlying U --basis-initial-bps N --basis-maintenance-bps N [--ratio-e9 N] | --unlink] [--yes]
//   npx tsx app/src/governance.ts propose-offset-group --rpc URL --keypair PATH --index G \
//       --members 0,1 --credit-bps N [--yes]
//   npx tsx app/src/governance.ts propose-margin-scale --rpc URL --keypair PATH --initial-scale-bps N [--yes]
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { createInterface } from "node:readline/promises";

import { Connection, Keypair, Transaction, sendAndConfirmTransaction, type TransactionInstruction } from "@solana/web3.js";
import BN from "bn.js";

import { isMain } from "./cli.js";
import { XmarginClient, rpcAccountSource } from "./client.js";
import {
  LINK_RATIO_ONE,
  collateralLink,
  effectiveInitialScaleBps,
  linkTightens,
  marginScale,
  offsetGroup,
  offsetGroupMembers,
  riskParamsOf,
  unlinked,
  type CollateralLinkArg,
  type CollateralRiskParamsArg,
  type MarginScaleParamsArg,
  type OffsetGroupConfigArg,
  type RegistryState,
} from "./state.js";

const pct = (bps: number): string => `${(bps / 100).toFixed(2)}%`;

export interface CollateralEdits {
  initialWeightBps?: number;
  maintenanceWeightBps?: number;
  depositCap?: bigint;
  reduceOnly?: number;
  /** The new link (`unlinked()` removes it). */
  link?: CollateralLinkArg;
}

/** The current parameters of collateral `index` with `edits` applied. */
export function planCollateralChange(
  registry: RegistryState,
  index: number,
  edits: CollateralEdits,
): { old: CollateralRiskParamsArg; next: CollateralRiskParamsArg } {
  const c = registry.collaterals[index];
  if (!c) throw new Error(`collateral ${index} is not listed (${registry.collaterals.length} are)`);
  const old = riskParamsOf(c);
  // Field-by-field copies: structuredClone would drop the PublicKey / BN prototypes.
  const next: CollateralRiskParamsArg = {
    ...old,
    oracle: { ...old.oracle },
    haircut: { ...old.haircut, tiers: old.haircut.tiers.map((t) => ({ ...t })) },
  };
  if (edits.initialWeightBps !== undefined) next.haircut.initialAssetWeightBps = edits.initialWeightBps;
  if (edits.maintenanceWeightBps !== undefined) next.haircut.maintenanceAssetWeightBps = edits.maintenanceWeightBps;
  if (edits.depositCap !== undefined) next.depositCap = new BN(edits.depositCap.toString());
  if (edits.reduceOnly !== undefined) next.reduceOnly = edits.reduceOnly;
  next.link = edits.link ?? { ...old.link };
  return { old, next };
}

/** A link in words: "none", or "underlying U, R units per token, basis I% / M%". */
export function describeLink(l: CollateralLinkArg): string {
  if (l.active !== 1) return "none";
  const ratio = (BigInt(l.ratioE9.toString()) * 1_000_000n) / LINK_RATIO_ONE;
  const units = `${ratio / 1_000_000n}.${(ratio % 1_000_000n).toString().padStart(6, "0")}`;
  return `underlying ${l.underlying}, ${units} units per token, basis ${pct(l.basisInitialBps)} / ${pct(l.basisMaintenanceBps)}`;
}

const sameLink = (a: CollateralLinkArg, b: CollateralLinkArg): boolean =>
  a.active === b.active &&
  a.underlying === b.underlying &&
  a.basisInitialBps === b.basisInitialBps &&
  a.basisMaintenanceBps === b.basisMaintenanceBps &&
  a.ratioE9.toString() === b.ratioE9.toString();

/** One line per changed parameter, marked LOOSENS where the change adds risk. */
export function diffCollateralParams(old: CollateralRiskParamsArg, next: CollateralRiskParamsArg): string[] {
  const lines: string[] = [];
  const weight = (label: string, a: number, b: number, higherIsLooser: boolean): void => {
    if (a === b) return;
    const loosens = higherIsLooser ? b > a : b < a;
    lines.push(`${label}: ${pct(a)} -> ${pct(b)}${loosens ? "   LOOSENS (timelock)" : ""}`);
  };
  const h0 = old.haircut;
  const h1 = next.haircut;
  weight("initial asset weight", h0.initialAssetWeightBps, h1.initialAssetWeightBps, true);
  weight("maintenance asset weight", h0.maintenanceAssetWeightBps, h1.maintenanceAssetWeightBps, true);
  weight("initial liability weight", h0.initialLiabilityWeightBps, h1.initialLiabilityWeightBps, false);
  weight("maintenance liability weight", h0.maintenanceLiabilityWeightBps, h1.maintenanceLiabilityWeightBps, false);
  for (let i = 0; i < Math.max(h0.tierCount, h1.tierCount); i++) {
    const a = h0.tiers[i];
    const b = h1.tiers[i];
    if (!a || !b || i >= h0.tierCount || i >= h1.tierCount) {
      lines.push(`tier ${i}: ${i < h0.tierCount ? "removed   LOOSENS (timelock)" : "added"}`);
      continue;
    }
    weight(`tier ${i} initial weight`, a.initialWeightBps, b.initialWeightBps, true);
    weight(`tier ${i} maintenance weight`, a.maintenanceWeightBps, b.maintenanceWeightBps, true);
  }
  if (!old.depositCap.eq(next.depositCap)) {
    const loosens = next.depositCap.gt(old.depositCap);
    lines.push(`deposit cap: ${old.depositCap.toString()} -> ${next.depositCap.toString()}${loosens ? "   LOOSENS (timelock)" : ""}`);
  }
  if (old.reduceOnly !== next.reduceOnly) {
    lines.push(`reduce-only: ${old.reduceOnly ? "on" : "off"} -> ${next.reduceOnly ? "on" : "off"}${next.reduceOnly ? "" : "   LOOSENS (timelock)"}`);
  }
  if (!sameLink(old.link, next.link)) {
    const loosens = !linkTightens(next.link, old.link);
    lines.push(`link: ${describeLink(old.link)} -> ${describeLink(next.link)}${loosens ? "   LOOSENS (timelock)" : ""}`);
  }
  return lines;
}

/** An offset group in words: "none", or "underlyings 0+1, credit 25.00%". */
export function describeOffsetGroup(g: OffsetGroupConfigArg): string {
  if (g.memberMask === 0) return "none";
  return `underlyings ${offsetGroupMembers(g).join("+")}, credit ${pct(g.creditBps)}`;
}

/** One line for a change of offset group `index`, marked LOOSENS unless only the credit falls
 * or the group is dissolved (what the guardian may do at once); empty when nothing changes. */
export function diffOffsetGroup(index: number, old: OffsetGroupConfigArg, next: OffsetGroupConfigArg): string[] {
  if (old.memberMask === next.memberMask && old.creditBps === next.creditBps) return [];
  const dissolved = next.memberMask === 0;
  const loosens = !dissolved && (next.memberMask !== old.memberMask || next.creditBps > old.creditBps);
  return [`offset group ${index}: ${describeOffsetGroup(old)} -> ${describeOffsetGroup(next)}${loosens ? "   LOOSENS (timelock)" : ""}`];
}

/** One line for a change of the initial-margin scale ("initial scale: 1.50x -> 2.00x"), marked
 * LOOSENS when it falls (the timelock's step bounds each fall; a raise is what the guardian may
 * do at once, and refuses the marks computed before it until they are recomputed); empty when
 * nothing changes. */
export function diffMarginScale(old: MarginScaleParamsArg, next: MarginScaleParamsArg): string[] {
  const a = effectiveInitialScaleBps(old);
  const b = effectiveInitialScaleBps(next);
  if (a === b) return [];
  const x = (bps: number): string => `${(bps / 10_000).toFixed(2)}x`;
  const note = b < a ? "   LOOSENS (timelock)" : "   (option marks are refused until re-marked)";
  return [`initial scale: ${x(a)} -> ${x(b)} of the maintenance grid${note}`];
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function linkEdit(argv: string[], num: (name: string) => number | undefined): CollateralLinkArg | undefined {
  if (argv.includes("--unlink")) return unlinked();
  const underlying = num("--link-underlying");
  if (underlying === undefined) return undefined;
  const ratio = arg(argv, "--ratio-e9");
  return collateralLink({
    underlying,
    basisInitialBps: num("--basis-initial-bps") ?? 0,
    basisMaintenanceBps: num("--basis-maintenance-bps") ?? 0,
    ratioE9: ratio === undefined ? undefined : BigInt(ratio),
  });
}

async function main(argv: string[]): Promise<void> {
  const command = argv[0];
  if (command !== "propose-collateral" && command !== "propose-offset-group" && command !== "propose-margin-scale") {
    throw new Error(
      "usage: governance.ts propose-collateral --rpc URL --keypair PATH --index N [edits] [--yes]\n" +
        "       governance.ts propose-offset-group --rpc URL --keypair PATH --index G --members 0,1 --credit-bps N [--yes]\n" +
        "       governance.ts propose-margin-scale --rpc URL --keypair PATH --initial-scale-bps N [--yes]",
    );
  }
  const rpc = arg(argv, "--rpc") ?? "http://127.0.0.1:8899";
  const keypairPath = (arg(argv, "--keypair") ?? "~/.config/solana/id.json").replace(/^~\//, `${homedir()}/`);
  const index = Number(arg(argv, "--index"));
  const num = (name: string): number | undefined => (arg(argv, name) === undefined ? undefined : Number(arg(argv, name)));
  const connection = new Connection(rpc, "confirmed");
  const governance = Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(keypairPath, "utf8")) as number[]));
  const client = new XmarginClient();
  const source = rpcAccountSource(connection);
  const registryData = await source(client.registry);
  const exchange = await client.fetchExchange(source);
  if (!registryData || !exchange) throw new Error(`no exchange at ${client.exchange.toBase58()} on ${rpc}`);
  const registry = client.decodeRegistry(registryData);
  let diff: string[];
  let ix: TransactionInstruction;
  if (command === "propose-margin-scale") {
    const next = marginScale(Number(arg(argv, "--initial-scale-bps")));
    const step = exchange.maxWeightStepBps;
    const floor = effectiveInitialScaleBps(registry.marginScale) - step;
    if (next.initialScaleBps < floor) {
      throw new Error(`the initial scale may fall by at most ${step} bps per change (to ${floor} bps)`);
    }
    diff = diffMarginScale(registry.marginScale, next);
    ix = await client.proposeMarginScaleIx({
      payer: governance.publicKey,
      governance: governance.publicKey,
      id: exchange.nextRiskChangeId,
      params: next,
    });
    console.log(`proposed change to the initial-margin scale (executable ${exchange.timelockDelaySecs} s after proposal):`);
  } else if (command === "propose-offset-group") {
    const old = registry.offsetGroups[index];
    if (!old) throw new Error(`offset group ${index} does not exist (${registry.offsetGroups.length} slots)`);
    const members = (arg(argv, "--members") ?? "").split(",").filter((m) => m !== "").map(Number);
    const next = offsetGroup(members, num("--credit-bps") ?? 0);
    diff = diffOffsetGroup(index, old, next);
    ix = await client.proposeOffsetGroupIx({
      payer: governance.publicKey,
      governance: governance.publicKey,
      id: exchange.nextRiskChangeId,
      index,
      group: next,
    });
    console.log(`proposed change to offset group ${index} (executable ${exchange.timelockDelaySecs} s after proposal):`);
  } else {
    const cap = arg(argv, "--deposit-cap");
    const edits: CollateralEdits = {
      initialWeightBps: num("--initial-weight-bps"),
      maintenanceWeightBps: num("--maintenance-weight-bps"),
      depositCap: cap === undefined ? undefined : BigInt(cap),
      reduceOnly: num("--reduce-only"),
      link: linkEdit(argv, num),
    };
    const { old, next } = planCollateralChange(registry, index, edits);
    diff = diffCollateralParams(old, next);
    ix = await client.proposeCollateralChangeIx({
      payer: governance.publicKey,
      governance: governance.publicKey,
      id: exchange.nextRiskChangeId,
      index,
      params: next,
    });
    console.log(`proposed change to collateral ${index} (executable ${exchange.timelockDelaySecs} s after proposal):`);
  }
  console.log(diff.length ? diff.map((l) => `  ${l}`).join("\n") : "  (no change)");
  if (!diff.length) return;
  if (!argv.includes("--yes")) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question("send this proposal? [y/N] ");
    rl.close();
    if (answer.trim().toLowerCase() !== "y") return;
  }
  const sig = await sendAndConfirmTransaction(connection, new Transaction().add(ix), [governance]);
  console.log(`proposal ${exchange.nextRiskChangeId} sent: ${sig}`);
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
