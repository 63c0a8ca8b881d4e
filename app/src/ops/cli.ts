// What the command-line services share: strict option parsing (commander: unknown options and
// stray arguments are errors, every command has --help), the connection and signer options,
// validated number parsers whose errors name the flag, and the venue's accounts read from the
// chain instead of typed in (the quote mint, its token program, each oracle account).
import { readFileSync } from "node:fs";
import { homedir } from "node:os";

import { Connection, Keypair, PublicKey } from "@solana/web3.js";
import { Command, InvalidArgumentError, Option } from "commander";

import { rpcChain, type Chain } from "../chain.js";
import { isMain } from "../cli.js";
import { PROGRAM_ID, XmarginClient } from "../client.js";
import { decodeAccount } from "../decode.js";
import type { QuoteAccounts } from "../liquidation.js";
import { vaultPda } from "../pda.js";
import { jsonLogger, LOG_LEVELS, type Logger, type LogLevel } from "./log.js";

/** The options every service and the governance CLI take. */
export interface CommonOptions {
  rpc: string;
  keypair: string;
  programId: PublicKey;
  logLevel: LogLevel;
  maxPriorityFee: number;
}

/** An integer option in [min, max]; the error names the flag. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected an integer, got ${JSON.stringify(value)}`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`must be in ${min}..=${max}, got ${n}`);
    return n;
  };
}

/** A non-negative integer amount as a bigint. */
export function amount(value: string): bigint {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected a non-negative integer, got ${JSON.stringify(value)}`);
  return BigInt(value);
}

/** A fraction in (0, 1]. */
export function fraction(value: string): number {
  const n = Number(value);
  if (!/^\d*\.?\d+$/.test(value.trim()) || !(n > 0 && n <= 1)) throw new InvalidArgumentError(`expected a number in (0, 1], got ${JSON.stringify(value)}`);
  return n;
}

export function publicKey(value: string): PublicKey {
  try {
    return new PublicKey(value);
  } catch {
    throw new InvalidArgumentError(`not a base58 public key: ${JSON.stringify(value)}`);
  }
}

/** `KEY=ACCOUNT` pairs, repeatable (`--oracle 0=ACCOUNT --oracle 1=ACCOUNT`). */
export function pair(value: string, previous: Map<string, PublicKey> = new Map()): Map<string, PublicKey> {
  const [key, account, ...rest] = value.split("=");
  if (!key || !account || rest.length > 0) throw new InvalidArgumentError(`expected KEY=ACCOUNT, got ${JSON.stringify(value)}`);
  return new Map(previous).set(key, publicKey(account));
}

/** `pair` whose key must match `key` (described by `what`): a typo is an error, never an
 * override silently unused. */
export function pairOf(key: RegExp, what: string) {
  return (value: string, previous: Map<string, PublicKey> = new Map()): Map<string, PublicKey> => {
    const k = value.split("=")[0] ?? "";
    if (!key.test(k)) throw new InvalidArgumentError(`${JSON.stringify(k)} is not ${what}`);
    return pair(value, previous);
  };
}

/** An underlying index (0..=255). */
export const UNDERLYING_KEY = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Adds the common options to `cmd` (`--log-level` for the services that log JSON). */
export function withCommonOptions(cmd: Command, logs = true): Command {
  cmd
    .option("--rpc <url>", "JSON-RPC endpoint", "http://127.0.0.1:8899")
    .option("--keypair <path>", "signer keypair file (JSON array, as solana-keygen writes)", "~/.config/solana/id.json")
    .addOption(new Option("--program-id <id>", "the xmargin program").argParser(publicKey).default(PROGRAM_ID, PROGRAM_ID.toBase58()));
  if (logs) cmd.addOption(new Option("--log-level <level>", "least level logged").choices(LOG_LEVELS).default("info"));
  return cmd.option("--max-priority-fee <microlamports>", "cap on the priority fee per compute unit, taken from recent fees (0: none)", integer(0, 100_000_000), 0);
}

/** A strict command: unknown options and excess arguments are errors (exit code 1), errors
 * print with the usage hint. */
export function strict(cmd: Command): Command {
  return cmd.allowUnknownOption(false).allowExcessArguments(false).showHelpAfterError("(add --help for usage)");
}

/** The options of a long-running service's `run` / `once` commands. */
export function withServiceOptions(cmd: Command, mode: "run" | "once", defaultIntervalSecs: number): Command {
  cmd.option("--dry-run", "decide and log, send nothing", false);
  // A single round has no pause, no round count, and nothing for a scraper to read.
  if (mode === "run") {
    cmd
      .option("--interval <seconds>", "pause between rounds", integer(1, 86_400), defaultIntervalSecs)
      .option("--rounds <n>", "stop after n rounds", integer(1))
      .option("--metrics-port <port>", "serve Prometheus metrics on 127.0.0.1:PORT/metrics (0: off)", integer(0, 65_535), 0);
  }
  return cmd;
}

/** Runs `program` when `moduleUrl` is the entry point: an error prints its message (no stack)
 * and exits with code 1. */
export function runWhenMain(program: () => Command, moduleUrl: string): void {
  if (!isMain(moduleUrl)) return;
  program()
    .parseAsync(process.argv)
    .catch((e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    });
}

/** A keypair file; the error names the path. */
export function loadKeypair(path: string): Keypair {
  const resolved = path.replace(/^~(?=\/)/, homedir());
  let bytes: unknown;
  try {
    bytes = JSON.parse(readFileSync(resolved, "utf8"));
  } catch (e) {
    throw new Error(`keypair ${resolved}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!Array.isArray(bytes) || bytes.length !== 64) throw new Error(`keypair ${resolved}: expected a JSON array of 64 bytes`);
  return Keypair.fromSecretKey(Uint8Array.from(bytes as number[]));
}

/** What a service needs: the client, the chain over RPC, the signer, a logger. */
export interface Context {
  client: XmarginClient;
  connection: Connection;
  chain: Chain;
  payer: Keypair;
  log: Logger;
}

export function context(service: string, o: CommonOptions): Context {
  const connection = new Connection(o.rpc, "confirmed");
  const client = new XmarginClient(o.programId);
  const payer = loadKeypair(o.keypair);
  return { client, connection, payer, chain: rpcChain(connection, client, payer, o.maxPriorityFee), log: jsonLogger(service, o.logLevel) };
}

/** The venue's quote accounts (mint, vault, token program), read from the chain. Oracle
 * accounts are not resolved here: the services read them from the registry every round. */
export async function quoteAccounts(ctx: Context): Promise<QuoteAccounts> {
  const exchangeData = await ctx.chain.account(ctx.client.exchange);
  if (!exchangeData) throw new Error(`no exchange at ${ctx.client.exchange.toBase58()}: is --program-id right for this cluster?`);
  const exchange = decodeAccount("exchange", exchangeData);
  const mint = await ctx.connection.getAccountInfo(exchange.quoteMint);
  if (!mint) throw new Error(`the quote mint ${exchange.quoteMint.toBase58()} does not exist`);
  return { quoteMint: exchange.quoteMint, quoteVault: vaultPda(ctx.client.programId, ctx.client.exchange, exchange.quoteMint), tokenProgram: mint.owner };
}
