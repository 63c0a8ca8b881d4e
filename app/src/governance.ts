// Governance helpers and CLI: shows a human-readable diff of a proposed collateral change,
// and which parts of it loosen risk, before anything is sent.
//
//   npx tsx app/src/governance.ts propose-collateral --rpc URL --keypair PATH --index 1 \
//       [--initial-weight-bps N] [--maintenance-weight-bps N] [--deposit-cap N] [--reduce-only 0|1] [--yes]
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { createInterface } from "node:readline/promises";

import { Connection, Keypair, Transaction, sendAndConfirmTransaction } from "@solana/web3.js";
import BN from "bn.js";

import { XmarginClient, rpcAccountSource } from "./client.js";
import { riskParamsOf, type CollateralRiskParamsArg, type RegistryState } from "./state.js";

const pct = (bps: number): string => `${(bps / 100).toFixed(2)}%`;

export interface CollateralEdits {
  initialWeightBps?: number;
  maintenanceWeightBps?: number;
  depositCap?: bigint;
  reduceOnly?: number;
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
  return { old, next };
}

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
  return lines;
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] !== "propose-collateral") {
    throw new Error("usage: governance.ts propose-collateral --rpc URL --keypair PATH --index N [edits] [--yes]");
  }
  const rpc = arg(argv, "--rpc") ?? "http://127.0.0.1:8899";
  const keypairPath = (arg(argv, "--keypair") ?? "~/.config/solana/id.json").replace(/^~\//, `${homedir()}/`);
  const index = Number(arg(argv, "--index"));
  const num = (name: string): number | undefined => (arg(argv, name) === undefined ? undefined : Number(arg(argv, name)));
  const cap = arg(argv, "--deposit-cap");
  const edits: CollateralEdits = {
    initialWeightBps: num("--initial-weight-bps"),
    maintenanceWeightBps: num("--maintenance-weight-bps"),
    depositCap: cap === undefined ? undefined : BigInt(cap),
    reduceOnly: num("--reduce-only"),
  };
  const connection = new Connection(rpc, "confirmed");
  const governance = Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(keypairPath, "utf8")) as number[]));
  const client = new XmarginClient();
  const source = rpcAccountSource(connection);
  const registryData = await source(client.registry);
  const exchange = await client.fetchExchange(source);
  if (!registryData || !exchange) throw new Error(`no exchange at ${client.exchange.toBase58()} on ${rpc}`);
  const { old, next } = planCollateralChange(client.decodeRegistry(registryData), index, edits);
  const diff = diffCollateralParams(old, next);
  console.log(`proposed change to collateral ${index} (executable ${exchange.timelockDelaySecs} s after proposal):`);
  console.log(diff.length ? diff.map((l) => `  ${l}`).join("\n") : "  (no change)");
  if (!diff.length) return;
  if (!argv.includes("--yes")) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question("send this proposal? [y/N] ");
    rl.close();
    if (answer.trim().toLowerCase() !== "y") return;
  }
  const ix = await client.proposeCollateralChangeIx({
    payer: governance.publicKey,
    governance: governance.publicKey,
    id: exchange.nextRiskChangeId,
    index,
    params: next,
  });
  const sig = await sendAndConfirmTransaction(connection, new Transaction().add(ix), [governance]);
  console.log(`proposal ${exchange.nextRiskChangeId} sent: ${sig}`);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
