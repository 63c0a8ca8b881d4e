// Deployment: after `solana program deploy target/deploy/xmargin.so` (run by the program's
// upgrade authority), this script creates the exchange singleton on the target cluster.
//
//   RPC_URL=https://... UPGRADE_AUTHORITY=~/.config/solana/id.json \
//   GOVERNANCE=<pubkey> GUARDIAN=<pubkey> QUOTE_MINT=<pubkey> TIMELOCK_SECS=86400 \
//   QUOTE_DEPOSIT_CAP=<native units> MAX_WEIGHT_STEP_BPS=1000 \
//   npx tsx migrations/deploy.ts
//
// The upgrade authority pays and signs; governance and guardian are plain keys (a Squads
// multisig vault is the intended governance). Re-running it fails with
// ExchangeAlreadyInitialized, which the script reports and treats as done.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";

import { Connection, Keypair, PublicKey, Transaction, sendAndConfirmTransaction } from "@solana/web3.js";

import { XmarginClient, programError } from "../app/src/index.js";

function env(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`missing environment variable ${name}`);
  return value;
}

function loadKeypair(path: string): Keypair {
  const resolved = path.startsWith("~/") ? `${homedir()}/${path.slice(2)}` : path;
  return Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(resolved, "utf8")) as number[]));
}

async function main(): Promise<void> {
  const connection = new Connection(env("RPC_URL", "http://127.0.0.1:8899"), "confirmed");
  const authority = loadKeypair(env("UPGRADE_AUTHORITY", "~/.config/solana/id.json"));
  const client = new XmarginClient();
  const existing = await client.fetchExchange(async (k) => (await connection.getAccountInfo(k))?.data ?? null);
  if (existing) {
    console.log(`exchange ${client.exchange.toBase58()} already initialized (governance ${existing.governance.toBase58()})`);
    return;
  }
  const ix = await client.initializeExchangeIx({
    payer: authority.publicKey,
    upgradeAuthority: authority.publicKey,
    quoteMint: new PublicKey(env("QUOTE_MINT")),
    governance: new PublicKey(env("GOVERNANCE")),
    guardian: new PublicKey(env("GUARDIAN")),
    timelockDelaySecs: Number(env("TIMELOCK_SECS", "86400")),
    quoteDepositCap: BigInt(env("QUOTE_DEPOSIT_CAP", "1000000000000000")),
    maxWeightStepBps: Number(env("MAX_WEIGHT_STEP_BPS", "1000")),
  });
  try {
    const signature = await sendAndConfirmTransaction(connection, new Transaction().add(ix), [authority]);
    console.log(`exchange ${client.exchange.toBase58()} initialized: ${signature}`);
  } catch (e) {
    const code = /custom program error: 0x([0-9a-f]+)/i.exec(String(e))?.[1];
    const known = code === undefined ? undefined : programError(parseInt(code, 16));
    throw new Error(known ? `${known.name}: ${known.msg ?? ""}` : String(e));
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
