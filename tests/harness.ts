// In-process SVM harness for the TypeScript tests: loads target/deploy/xmargin.so into the
// npm `litesvm` package, sends web3.js transactions built by the app's client, and returns
// logs and compute units. The TS counterpart of crates/sandbox.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import assert from "node:assert/strict";

import { Keypair, PublicKey, Transaction, TransactionInstruction } from "@solana/web3.js";
import { address, getTransactionDecoder, lamports, type Transaction as KitTransaction } from "@solana/kit";
import { FailedTransactionMetadata, LiteSVM, TransactionMetadata } from "litesvm";

import { PROGRAM_ID, TOKEN_PROGRAM_ID, programDataPda, programError } from "../app/src/index.js";

export const ROOT = join(import.meta.dirname, "..");
export const PROGRAM_SO = process.env.XMARGIN_SO ?? join(ROOT, "target/deploy/xmargin.so");
const CU_FILE = join(process.env.XMARGIN_CU_DIR ?? join(ROOT, "target/cu"), "measurements.jsonl");
const FUND = 1_000_000_000_000n;

export interface Landed {
  computeUnits: number;
  logs: string[];
}

export class TxFailed extends Error {
  constructor(
    readonly customCode: number | undefined,
    readonly computeUnits: number,
    readonly logs: string[],
    description: string,
  ) {
    super(`${description}\n${logs.join("\n")}`);
  }

  /** The xmargin error name (IDL), if the failure is one of the program's errors. */
  get errorName(): string | undefined {
    return this.customCode === undefined ? undefined : programError(this.customCode)?.name;
  }
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
    // Start the clock at the wall-clock time so timestamps read like real ones.
    const clock = this.svm.getClock();
    clock.unixTimestamp = BigInt(Math.floor(Date.now() / 1000));
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
    const mint = Keypair.generate().publicKey;
    const data = Buffer.alloc(82);
    data.writeUInt32LE(1, 0); // COption::Some(mint authority)
    this.payer.publicKey.toBuffer().copy(data, 4);
    data.writeBigUInt64LE(0n, 36); // supply
    data[44] = decimals;
    data[45] = 1; // is_initialized
    this.setAccount(mint, data, TOKEN_PROGRAM_ID.toBase58());
    return mint;
  }

  /** Signs with the payer plus `signers` and sends; throws TxFailed on failure. */
  send(instructions: TransactionInstruction[], signers: Keypair[] = []): Landed {
    const tx = new Transaction();
    tx.add(...instructions);
    tx.feePayer = this.payer.publicKey;
    tx.recentBlockhash = this.svm.latestBlockhash();
    const unique = [this.payer, ...signers.filter((s) => !s.publicKey.equals(this.payer.publicKey))];
    tx.sign(...unique);
    const kitTx = getTransactionDecoder().decode(tx.serialize()) as KitTransaction;
    const result = this.svm.sendTransaction(kitTx as never);
    this.svm.expireBlockhash();
    if (result instanceof FailedTransactionMetadata) {
      const meta = result.meta();
      const err: unknown = result.err();
      throw new TxFailed(customCode(err), Number(meta.computeUnitsConsumed()), meta.logs(), String(err));
    }
    const meta = result as TransactionMetadata;
    return { computeUnits: Number(meta.computeUnitsConsumed()), logs: meta.logs() };
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

/** The custom code of an `InstructionError(_, Custom(code))` transaction error. The npm
 * package does not export its error classes, so this narrows structurally. */
function customCode(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null || !("err" in err) || typeof err.err !== "function") {
    return undefined;
  }
  const inner: unknown = err.err();
  if (typeof inner === "object" && inner !== null && "code" in inner && typeof inner.code === "number") {
    return inner.code;
  }
  return undefined;
}

/** Asserts `cu <= ceiling` and records the measurement for `make cu`. */
export function recordCu(instruction: string, scenario: string, cu: number, ceiling: number): void {
  assert.ok(cu <= ceiling, `${instruction} (${scenario}) used ${cu} CU, above its ceiling of ${ceiling}`);
  mkdirSync(dirname(CU_FILE), { recursive: true });
  appendFileSync(CU_FILE, JSON.stringify({ instruction, scenario: `ts: ${scenario}`, cu, ceiling }) + "\n");
}
