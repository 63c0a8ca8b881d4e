// `make localnet`: the local network with the program deployed and a small venue on it, for
// an operator to try the services (docs/operations.md): an exchange (governance and guardian
// keys), SOL listed with a USDC market and a Pyth feed this script keeps fresh, a thin trader
// long 10 SOL against a well-funded one, and funded keeper and liquidator keys. Keys are
// written to target/localnet/keys/ (reused across runs); the SOL price the feed publishes is
// read from target/localnet/price (USDC per SOL, default 150): write 126 there to crash it.
// Runs until Ctrl-C.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { Keypair } from "@solana/web3.js";

import { PROGRAM_ID, associatedTokenAccount } from "../../app/src/index.js";
import { Localnet, ROOT } from "./ledger.js";
import { SPL, seedVenue } from "./venue.js";

const DIR = join(ROOT, "target", "localnet");
const KEYS = join(DIR, "keys");
const PRICE_FILE = join(DIR, "price");

function key(name: string): { keypair: Keypair; path: string } {
  mkdirSync(KEYS, { recursive: true });
  const path = join(KEYS, `${name}.json`);
  if (!existsSync(path)) writeFileSync(path, JSON.stringify(Array.from(Keypair.generate().secretKey)));
  return { keypair: Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(path, "utf8")) as number[])), path };
}

/** The price to publish, native units (USDC per SOL × 10^6), from the price file. */
function price(): bigint {
  if (!existsSync(PRICE_FILE)) return 150_000_000n;
  const text = readFileSync(PRICE_FILE, "utf8").trim();
  if (!/^\d+(\.\d{1,6})?$/.test(text)) {
    console.error(`${PRICE_FILE}: "${text}" is not a price in USDC (e.g. 126 or 126.5); keeping the last one`);
    return -1n;
  }
  const [whole, fraction = ""] = text.split(".");
  return BigInt(whole!) * 1_000_000n + BigInt(fraction.padEnd(6, "0"));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: "string", default: "8899" } }, strict: true });
  const port = Number(values.port);
  const keys = Object.fromEntries(["authority", "governance", "guardian", "keeper", "liquidator", "trader-thin", "trader-rich"].map((n) => [n, key(n)]));
  writeFileSync(PRICE_FILE, "150\n");
  const net = await Localnet.start(port, keys.authority!.keypair.publicKey);
  const stop = async () => {
    await net.stop();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop());
  process.once("SIGTERM", () => void stop());
  try {
    const v = await seedVenue(net, { authority: keys.authority!.keypair, governance: keys.governance!.keypair, guardian: keys.guardian!.keypair });
    const thin = await v.trader(400_000_000n, true, keys["trader-thin"]!.keypair);
    const rich = await v.trader(100_000_000_000n, true, keys["trader-rich"]!.keypair);
    await v.buyPerp(thin, rich, 1_000n);
    await net.fund(keys.keeper!.keypair.publicKey);
    const liquidator = keys.liquidator!.keypair;
    await net.fund(liquidator.publicKey);
    await net.createTokenAccount(v.usdc, liquidator.publicKey, 100_000_000_000n, SPL, associatedTokenAccount(liquidator.publicKey, v.usdc));
    let last = 150_000_000n;
    setInterval(() => {
      const p = price();
      if (p > 0n) last = p;
      v.publish(last).catch((e: unknown) => console.error(`publishing the SOL price failed: ${String(e)}`));
    }, 5_000);
    console.log(`localnet ready on ${net.url} (websockets ws://127.0.0.1:${port + 1}), program ${PROGRAM_ID.toBase58()}
  exchange ${v.client.exchange.toBase58()}, quote mint (USDC) ${v.usdc.toBase58()}, SOL feed account ${v.oracle.toBase58()} (price from ${PRICE_FILE})
  keys in ${KEYS}: authority, governance, guardian, keeper, liquidator (100,000 USDC in its wallet), trader-thin (long 10 SOL), trader-rich
  try, in another shell:
    npm run keeper -- run --keypair ${keys.keeper!.path}
    npm run liquidator -- open-portfolio --keypair ${keys.liquidator!.path} --deposit 25000
    npm run liquidator -- run --keypair ${keys.liquidator!.path} --metrics-port 9465
    echo 126 > ${PRICE_FILE}     # SOL falls to 126: the thin trader is liquidated
    npm run governance -- list --keypair ${keys.governance!.path}
  Ctrl-C stops the network (its state is not kept).`);
  } catch (e) {
    await net.stop();
    throw e;
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
