// In-process SVM harness for the TypeScript tests: loads target/deploy/xmargin.so into the
// npm `litesvm` package, sends web3.js transactions built by the app's client, and returns
// logs and compute units. The TS counterpart of crates/sandbox.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import assert from "node:assert/strict";

import { Keypair, PublicKey, Transaction, TransactionInstruction } from "@solana/web3.js";
import { address, getTransactionDecoder, lamports, type Transaction as KitTransaction } from "@solana/kit";
import { FailedTransactionMetadata, LiteSVM, TransactionMetadata } from "litesvm";

import { PYTH_RECEIVER, mintData, pullOracleData, tokenAccountData } from "../scripts/localnet/accounts.js";

import {
  PROGRAM_ID,
  TOKEN_PROGRAM_ID,
  identifyAccount,
  parseError,
  programDataPda,
  type Chain,
  type RawAccount,
  type ParsedError,
  type PortfolioHealth,
} from "../app/src/index.js";

export const ROOT = join(import.meta.dirname, "..");
export const PROGRAM_SO = process.env.XMARGIN_SO ?? join(ROOT, "target/deploy/xmargin.so");
const CU_FILE = join(process.env.XMARGIN_CU_DIR ?? join(ROOT, "target/cu"), "measurements.jsonl");
const FUND = 1_000_000_000_000n;

export interface Landed {
  computeUnits: number;
  logs: string[];
}

/** 2026-01-01 13:37:00 UTC: deliberately not on an expiry boundary or a whole hour. */
export const START_UNIX_TIMESTAMP = 1_767_274_620n;

export class TxFailed extends Error {
  constructor(
    /** The failure as the client's `parseError` reads it. */
    readonly parsed: ParsedError | undefined,
    readonly computeUnits: number,
    readonly logs: string[],
    description: string,
  ) {
    super(`${description}\n${logs.join("\n")}`);
  }

  get customCode(): number | undefined {
    return this.parsed?.code;
  }

  /** The xmargin error name (IDL), if the failure is one of the program's errors. */
  get errorName(): string | undefined {
    return this.parsed?.source === "xmargin" ? this.parsed.name : undefined;
  }
}

/** A health as floats, for tests that compare with float arithmetic (`Fx` is exact). */
export type HealthNumbers = { [K in keyof PortfolioHealth]: number };
export function healthNumbers(h: PortfolioHealth): HealthNumbers {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v.toNumber()])) as HealthNumbers;
}

export class Sandbox {
  readonly svm: LiteSVM;
  readonly payer = Keypair.generate();
  readonly upgradeAuthority = Keypair.generate();

  constructor() {
    if (!existsSync(PROGRAM_SO)) {
      throw new Error(`compiled program not found at ${PROGRAM_SO}: build it with \`make sbf\``);
    }
    this.svm = new LiteSVM().withLogBytesLimit(100_000n);
    // A fixed, realistic start (the Rust sandbox's too): results never depend on the day the
    // tests run.
    const clock = this.svm.getClock();
    clock.unixTimestamp = START_UNIX_TIMESTAMP;
    this.svm.setClock(clock);
    this.svm.addProgram(address(PROGRAM_ID.toBase58()), readFileSync(PROGRAM_SO));
    this.fund(this.payer.publicKey);
    this.setUpgradeAuthority(this.upgradeAuthority.publicKey);
  }

  fund(key: PublicKey): void {
    this.svm.airdrop(address(key.toBase58()), lamports(FUND));
  }

  fundedKeypair(): Keypair {
    const key = Keypair.generate();
    this.fund(key.publicKey);
    return key;
  }

  /** Rewrites the ProgramData header: u32 tag, u64 slot, Option<Pubkey> authority. */
  setUpgradeAuthority(authority: PublicKey | null): void {
    const account = this.getAccount(programDataPda(PROGRAM_ID));
    assert.ok(account, "program data account");
    const data = Buffer.from(account.data);
    data.fill(0, 12, 45);
    if (authority) {
      data[12] = 1;
      authority.toBuffer().copy(data, 13);
    }
    this.setAccount(programDataPda(PROGRAM_ID), data, account.programAddress, account.executable);
  }

  getAccount(key: PublicKey) {
    const account = this.svm.getAccount(address(key.toBase58()));
    return account.exists ? account : null;
  }

  /** Account data, or null when the account does not exist. */
  async accountData(key: PublicKey): Promise<Uint8Array | null> {
    return this.getAccount(key)?.data ?? null;
  }

  setAccount(key: PublicKey, data: Uint8Array, owner: string, executable = false): void {
    this.svm.setAccount({
      address: address(key.toBase58()),
      data,
      executable,
      lamports: lamports(this.svm.minimumBalanceForRentExemption(BigInt(data.length))),
      programAddress: address(owner),
      space: BigInt(data.length),
    });
  }

  /** An initialized SPL Token mint (82 bytes) with `decimals`, authority = payer. */
  createMint(decimals: number): PublicKey {
    return this.createMintWith(decimals, TOKEN_PROGRAM_ID);
  }

  /** An initialized mint (82 bytes, no extensions) under `tokenProgram`. */
  createMintWith(decimals: number, tokenProgram: PublicKey): PublicKey {
    const mint = Keypair.generate().publicKey;
    this.setAccount(mint, mintData(decimals, this.payer.publicKey), tokenProgram.toBase58());
    return mint;
  }

  /** A token account (165 bytes) of `mint` owned by `owner` holding `amount`. */
  createTokenAccount(mint: PublicKey, owner: PublicKey, amount: bigint): PublicKey {
    const address = Keypair.generate().publicKey;
    const mintAccount = this.getAccount(mint);
    assert.ok(mintAccount, "mint exists");
    this.setAccount(address, tokenAccountData(mint, owner, amount), mintAccount.programAddress);
    return address;
  }

  /** Adds `amount` to a token account (a donation, e.g. to the insurance vault). */
  addTokens(account: PublicKey, amount: bigint): void {
    const a = this.getAccount(account);
    assert.ok(a, "token account exists");
    const data = Buffer.from(a.data);
    data.writeBigUInt64LE(data.readBigUInt64LE(64) + amount, 64);
    this.setAccount(account, data, a.programAddress.toString());
  }

  tokenAmount(account: PublicKey): bigint {
    const a = this.getAccount(account);
    assert.ok(a, "token account exists");
    return Buffer.from(a.data).readBigUInt64LE(64);
  }

  now(): { unixTimestamp: bigint; slot: bigint } {
    const c = this.svm.getClock();
    return { unixTimestamp: c.unixTimestamp, slot: c.slot };
  }

  warp(seconds: number): void {
    const c = this.svm.getClock();
    c.unixTimestamp += BigInt(seconds);
    c.slot += BigInt(Math.ceil(seconds * 2.5));
    this.svm.setClock(c);
  }

  /** A Pyth `PriceUpdateV2` for `feedId`, published now (`accounts.ts` `pullOracleData`). */
  putPullOracle(address: PublicKey, feedId: Buffer, price: bigint, conf: bigint, expo: number): void {
    const { unixTimestamp, slot } = this.now();
    this.setAccount(address, pullOracleData(feedId, price, conf, expo, unixTimestamp, slot), PYTH_RECEIVER);
  }

  /** A legacy Pyth v2 price account (status trading), published now. */
  putLegacyOracle(address: PublicKey, pythProgram: PublicKey, price: bigint, conf: bigint, expo: number): void {
    const { unixTimestamp, slot } = this.now();
    const d = Buffer.alloc(3312);
    d.writeUInt32LE(0xa1b2c3d4, 0);
    d.writeUInt32LE(2, 4);
    d.writeUInt32LE(3, 8);
    d.writeUInt32LE(3312, 12);
    d[16] = 1;
    d.writeInt32LE(expo, 20);
    d.writeBigInt64LE(price, 48);
    d.writeBigInt64LE(unixTimestamp, 96);
    d.writeBigInt64LE(price, 208);
    d.writeBigUInt64LE(conf, 216);
    d[224] = 1;
    d.writeBigUInt64LE(slot, 232);
    this.setAccount(address, d, pythProgram.toBase58());
  }

  /** Rewrites an account's data in place (test set-up for states no instruction reaches yet). */
  patchData(address: PublicKey, edit: (data: Buffer) => void): void {
    const a = this.getAccount(address);
    assert.ok(a, "account exists");
    const data = Buffer.from(a.data);
    edit(data);
    this.svm.setAccount({ ...a, data });
  }

  /** A transaction of `instructions` signed by the payer and those of `signers` an
   * instruction asks for (web3.js refuses signers it does not need). */
  private signed(instructions: TransactionInstruction[], signers: Keypair[], complete = true): KitTransaction {
    const tx = new Transaction();
    tx.add(...instructions);
    tx.feePayer = this.payer.publicKey;
    tx.recentBlockhash = this.svm.latestBlockhash();
    const asked = (s: Keypair) =>
      instructions.some((ix) => ix.keys.some((k) => k.isSigner && k.pubkey.equals(s.publicKey)));
    tx.sign(this.payer, ...signers.filter((s) => !s.publicKey.equals(this.payer.publicKey) && asked(s)));
    const bytes = tx.serialize({ requireAllSignatures: complete, verifySignatures: complete });
    return getTransactionDecoder().decode(bytes) as KitTransaction;
  }

  /** Simulates as a JSON-RPC node does with `sigVerify: false`: signatures the transaction
   * lacks are not checked (signer flags still are: the program sees the same accounts). */
  simulateUnsigned(instructions: TransactionInstruction[], signers: Keypair[] = []) {
    this.svm.withSigverify(false);
    try {
      return this.simulateWith(this.signed(instructions, signers, false));
    } finally {
      this.svm.withSigverify(true);
    }
  }

  /** Simulates instructions signed by the payer and `signers`: outcome, logs, units, return data. */
  simulateFull(instructions: TransactionInstruction[], signers: Keypair[] = []) {
    return this.simulateWith(this.signed(instructions, signers));
  }

  private simulateWith(tx: KitTransaction) {
    const result = this.svm.simulateTransaction(tx as never);
    if (result instanceof FailedTransactionMetadata) {
      const parsed = parseError(result);
      const meta = result.meta();
      return {
        ok: false,
        parsed,
        code: parsed?.code,
        logs: meta.logs(),
        unitsConsumed: Number(meta.computeUnitsConsumed()),
        returnData: new Uint8Array(),
        error: parsed?.name ?? String(result.err()),
      };
    }
    const meta = result.meta();
    return {
      ok: true,
      parsed: undefined,
      code: undefined,
      logs: meta.logs(),
      unitsConsumed: Number(meta.computeUnitsConsumed()),
      returnData: meta.returnData().data(),
      error: undefined,
    };
  }

  /** Simulates instructions signed by the payer and `signers`; returns the return data (throws on failure). */
  async simulate(instructions: TransactionInstruction[], signers: Keypair[] = []): Promise<Uint8Array> {
    const r = this.simulateFull(instructions, signers);
    if (!r.ok) throw new TxFailed(r.parsed, 0, r.logs, r.error ?? "simulation failed");
    return r.returnData;
  }

  /** Signs with the payer plus `signers` and sends; throws TxFailed on failure. */
  send(instructions: TransactionInstruction[], signers: Keypair[] = []): Landed {
    const result = this.svm.sendTransaction(this.signed(instructions, signers) as never);
    this.svm.expireBlockhash();
    if (result instanceof FailedTransactionMetadata) {
      const meta = result.meta();
      throw new TxFailed(parseError(result), Number(meta.computeUnitsConsumed()), meta.logs(), String(result.err()));
    }
    const meta = result as TransactionMetadata;
    return { computeUnits: Number(meta.computeUnitsConsumed()), logs: meta.logs() };
  }

  /** Sends and returns litesvm's own result, success or failure (what an integrator's code
   * receives from the SVM), without interpreting it. */
  sendRaw(instructions: TransactionInstruction[], signers: Keypair[] = []): TransactionMetadata | FailedTransactionMetadata {
    const result = this.svm.sendTransaction(this.signed(instructions, signers) as never);
    this.svm.expireBlockhash();
    return result;
  }

  /** Sends expecting failure; returns the failure. */
  sendExpectingFailure(instructions: TransactionInstruction[], signers: Keypair[] = []): TxFailed {
    try {
      this.send(instructions, signers);
    } catch (e) {
      if (e instanceof TxFailed) return e;
      throw e;
    }
    assert.fail("transaction was expected to fail");
  }
}

/** Asserts `cu <= ceiling` and records the measurement for `make cu`. */
export function recordCu(instruction: string, scenario: string, cu: number, ceiling: number): void {
  assert.ok(cu <= ceiling, `${instruction} (${scenario}) used ${cu} CU, above its ceiling of ${ceiling}`);
  mkdirSync(dirname(CU_FILE), { recursive: true });
  appendFileSync(CU_FILE, JSON.stringify({ instruction, scenario: `ts: ${scenario}`, cu, ceiling }) + "\n");
}

/** The SVM as a service's `Chain`: `programAccounts` returns those of `known` holding the
 * kind (litesvm has no getProgramAccounts), `onSend` sees every landed transaction. */
export function svmChain(sb: Sandbox, known: PublicKey[], onSend?: (landed: Landed) => void): Chain {
  const accounts: Chain["accounts"] = async (addresses) =>
    addresses.map((address) => {
      const a = sb.getAccount(address);
      return a && { address, owner: new PublicKey(a.programAddress), lamports: a.lamports, executable: a.executable, data: a.data };
    });
  const programAccounts: Chain["programAccounts"] = async (kind) =>
    (await accounts(known)).filter((a): a is RawAccount => a !== null && identifyAccount(a.data) === kind);
  return {
    programAccounts,
    portfolios: () => programAccounts("portfolio"),
    account: (address) => sb.accountData(address),
    accounts,
    async simulate(ixs, signers) {
      // As `rpcChain`: signatures not required to look.
      const r = sb.simulateUnsigned(ixs, signers);
      return { ...r, error: r.error ?? undefined };
    },
    async send(ixs, signers) {
      const landed = sb.send(ixs, signers);
      onSend?.(landed);
      return `${landed.computeUnits} CU`;
    },
  };
}
