// Where the services read and write: an RPC node (`rpcChain`) or, in tests, an in-process
// SVM behind the same interface. Simulations run without signatures (no keypair needed to
// look), sends carry a compute-unit limit and a priority fee.
import {
  ComputeBudgetProgram,
  Connection,
  Keypair,
  PublicKey,
  SYSVAR_CLOCK_PUBKEY,
  TransactionInstruction,
  TransactionMessage,
  VersionedTransaction,
} from "@solana/web3.js";

import { rpcAccountSource, type XmarginClient } from "./client.js";
import { accountDiscriminator, type AccountName } from "./decode.js";
import { rawAccount, type RawAccount } from "./engine.js";
import { parseError, type ParsedError } from "./errors.js";

/** The outcome of a simulated transaction. */
export interface Simulation {
  ok: boolean;
  logs: string[];
  unitsConsumed: number;
  returnData: Uint8Array;
  /** The error's name (the program's IDL name when it is one of its errors). */
  error?: string;
  /** The failure, parsed (`parseError`). */
  parsed?: ParsedError;
}

export interface Chain {
  /** Every account of the program holding `kind` (getProgramAccounts by discriminator),
   * whole: the local health engine takes them as they are. */
  programAccounts(kind: AccountName): Promise<RawAccount[]>;
  /** Every portfolio (`programAccounts("portfolio")`). */
  portfolios(): Promise<RawAccount[]>;
  account(address: PublicKey): Promise<Uint8Array | null>;
  /** Several accounts whole (owner, lamports, data), in order; `null` for a missing one:
   * what the local health engine (`computeHealth`) reads. */
  accounts(addresses: PublicKey[]): Promise<(RawAccount | null)[]>;
  /** Simulates with the signers' signatures, or without signature verification. */
  simulate(ixs: TransactionInstruction[], signers: Keypair[]): Promise<Simulation>;
  send(ixs: TransactionInstruction[], signers: Keypair[]): Promise<string>;
  /** A priority fee for a transaction writing `writable`, micro-lamports per compute unit. */
  priorityFee?(writable: PublicKey[]): Promise<number>;
}

/** The cluster's unix time, from the Clock sysvar (what the program's checks use). */
export async function chainNow(chain: Pick<Chain, "account">): Promise<bigint> {
  const data = await chain.account(SYSVAR_CLOCK_PUBKEY);
  if (!data || data.length < 40) throw new Error("the Clock sysvar could not be read");
  return Buffer.from(data).readBigInt64LE(32);
}

/** Compute-budget instructions for a transaction that simulated at `simulated` units:
 * `headroom` added (fraction), capped at the transaction maximum; a 256 KiB heap (health of
 * large portfolios needs it); the priority fee when one is given. */
export function budgetIxs(simulated: number, priorityMicroLamports = 0, headroom = 0.1): TransactionInstruction[] {
  const units = Math.min(1_400_000, Math.ceil(simulated * (1 + headroom)) + 1_000);
  const ixs = [ComputeBudgetProgram.setComputeUnitLimit({ units }), ComputeBudgetProgram.requestHeapFrame({ bytes: 256 * 1024 })];
  if (priorityMicroLamports > 0) ixs.push(ComputeBudgetProgram.setComputeUnitPrice({ microLamports: priorityMicroLamports }));
  return ixs;
}

/** The `q` quantile (0..1) of the node's recent priority fees for `writable`, capped. */
export async function recentPriorityFee(connection: Connection, writable: PublicKey[], q = 0.75, cap = 1_000_000): Promise<number> {
  const recent = await connection.getRecentPrioritizationFees({ lockedWritableAccounts: writable.slice(0, 128) });
  const fees = recent.map((f) => f.prioritizationFee).sort((a, b) => a - b);
  if (fees.length === 0) return 0;
  return Math.min(cap, fees[Math.min(fees.length - 1, Math.floor(q * fees.length))] ?? 0);
}

/** A `Chain` over a JSON-RPC node. `payer` pays and signs; a bare key can simulate but not
 * send (an export for a multisig). `maxPriorityFee` (micro-lamports per CU) caps the fee
 * taken from recent fees; 0 sends without one. */
export function rpcChain(connection: Connection, client: XmarginClient, payer: Keypair | PublicKey, maxPriorityFee = 0): Chain {
  const payerKey = payer instanceof PublicKey ? payer : payer.publicKey;
  const compile = (ixs: TransactionInstruction[], blockhash: string) =>
    new VersionedTransaction(new TransactionMessage({ payerKey, recentBlockhash: blockhash, instructions: ixs }).compileToV0Message());
  const programAccounts = async (kind: AccountName) => {
    const bytes = Buffer.from(accountDiscriminator(kind)).toString("base64");
    const found = await connection.getProgramAccounts(client.programId, {
      commitment: "confirmed",
      filters: [{ memcmp: { offset: 0, bytes, encoding: "base64" } }],
    });
    return found.map((a) => rawAccount(a.pubkey, a.account));
  };
  return {
    programAccounts,
    portfolios: () => programAccounts("portfolio"),
    account: rpcAccountSource(connection),
    async accounts(addresses) {
      const out: (RawAccount | null)[] = [];
      // getMultipleAccounts takes at most 100 addresses.
      for (let i = 0; i < addresses.length; i += 100) {
        const chunk = addresses.slice(i, i + 100);
        const infos = await connection.getMultipleAccountsInfo(chunk, "confirmed");
        infos.forEach((a, j) => out.push(a && rawAccount(chunk[j]!, a)));
      }
      return out;
    },
    async simulate(ixs) {
      // Unsigned: the node replaces the blockhash and skips signature checks.
      const tx = compile(ixs, PublicKey.default.toBase58());
      const r = await connection.simulateTransaction(tx, { sigVerify: false, replaceRecentBlockhash: true, commitment: "confirmed" });
      const ret = r.value.returnData?.data?.[0];
      const parsed = r.value.err === null ? undefined : parseError(r.value.err, r.value.logs ?? [], client.programId);
      return {
        ok: r.value.err === null,
        logs: r.value.logs ?? [],
        unitsConsumed: r.value.unitsConsumed ?? 0,
        returnData: ret ? Buffer.from(ret, "base64") : new Uint8Array(),
        error: parsed?.name,
        parsed,
      };
    },
    async send(ixs, signers) {
      if (payer instanceof PublicKey) throw new Error(`no keypair to sign for ${payerKey.toBase58()}`);
      const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash("confirmed");
      const tx = compile(ixs, blockhash);
      tx.sign([payer, ...signers.filter((s) => !s.publicKey.equals(payer.publicKey))]);
      const signature = await connection.sendTransaction(tx, { skipPreflight: false, preflightCommitment: "confirmed" });
      const status = await connection.confirmTransaction({ signature, blockhash, lastValidBlockHeight }, "confirmed");
      if (status.value.err !== null) {
        const parsed = parseError(status.value.err, [], client.programId);
        throw new Error(`transaction ${signature} failed: ${parsed?.name ?? JSON.stringify(status.value.err)}`);
      }
      return signature;
    },
    async priorityFee(writable) {
      return maxPriorityFee > 0 ? recentPriorityFee(connection, writable, 0.75, maxPriorityFee) : 0;
    },
  };
}
