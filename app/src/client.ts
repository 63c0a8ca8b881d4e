// Thin hand-written layer over the IDL-typed Anchor client: instruction builders with the
// PDAs filled in, and account decoding that works against any account source (an RPC
// connection or an in-process SVM).
import anchor from "@anchor-lang/core";
import { Connection, PublicKey, TransactionInstruction } from "@solana/web3.js";
import BN from "bn.js";

import idlJson from "./idl/xmargin.json" with { type: "json" };
import type { Xmargin } from "./idl/xmargin.js";
import { exchangePda, insuranceVaultPda, programDataPda, registryPda, TOKEN_PROGRAM_ID, vaultPda } from "./pda.js";
import type { ExchangeState } from "./state.js";

const { Program, BorshAccountsCoder } = anchor;

export const IDL = idlJson as unknown as Xmargin;
export const PROGRAM_ID = new PublicKey(IDL.address);

/** Reads raw account data; `null` when the account does not exist. */
export type AccountSource = (address: PublicKey) => Promise<Uint8Array | null>;

export function rpcAccountSource(connection: Connection): AccountSource {
  return async (address) => (await connection.getAccountInfo(address))?.data ?? null;
}

export interface InitializeExchangeParams {
  payer: PublicKey;
  upgradeAuthority: PublicKey;
  quoteMint: PublicKey;
  governance: PublicKey;
  guardian: PublicKey;
  timelockDelaySecs: number;
  /** Deposit cap of the quote asset, native units. */
  quoteDepositCap: bigint;
  /** Largest move of a weight per timelocked change, bps (1..=2500). */
  maxWeightStepBps: number;
}

export class XmarginClient {
  readonly programId: PublicKey;
  readonly program: InstanceType<typeof Program<Xmargin>>;
  private readonly accountsCoder: InstanceType<typeof BorshAccountsCoder>;

  constructor(programId: PublicKey = PROGRAM_ID) {
    this.programId = programId;
    const idl = { ...IDL, address: programId.toBase58() };
    // Building instructions needs no RPC: the provider's connection is never contacted.
    const provider = { connection: new Connection("http://127.0.0.1:8899") };
    this.program = new Program<Xmargin>(idl, provider as never);
    this.accountsCoder = new BorshAccountsCoder(idl);
  }

  get exchange(): PublicKey {
    return exchangePda(this.programId);
  }

  get registry(): PublicKey {
    return registryPda(this.programId, this.exchange);
  }

  get insuranceVault(): PublicKey {
    return insuranceVaultPda(this.programId, this.exchange);
  }

  async initializeExchangeIx(p: InitializeExchangeParams): Promise<TransactionInstruction> {
    return this.program.methods
      .initializeExchange({
        governance: p.governance,
        guardian: p.guardian,
        timelockDelaySecs: new BN(p.timelockDelaySecs),
        quoteDepositCap: new BN(p.quoteDepositCap.toString()),
        maxWeightStepBps: p.maxWeightStepBps,
      })
      .accountsStrict({
        payer: p.payer,
        upgradeAuthority: p.upgradeAuthority,
        program: this.programId,
        programData: programDataPda(this.programId),
        exchange: this.exchange,
        insuranceVault: this.insuranceVault,
        registry: this.registry,
        quoteVault: vaultPda(this.programId, this.exchange, p.quoteMint),
        quoteMint: p.quoteMint,
        tokenProgram: TOKEN_PROGRAM_ID,
        systemProgram: anchor.web3.SystemProgram.programId,
      })
      .instruction();
  }

  async setPauseIx(authority: PublicKey, pauseFlags: number): Promise<TransactionInstruction> {
    return this.program.methods
      .setPause({ pauseFlags })
      .accountsStrict({ authority, exchange: this.exchange })
      .instruction();
  }

  /** Decodes an `Exchange` account (discriminator checked). */
  decodeExchange(data: Uint8Array): ExchangeState {
    // The coder is built from the raw IDL, so decoded fields keep their Rust (snake_case) names.
    const raw = this.accountsCoder.decode("Exchange", Buffer.from(data));
    return {
      version: raw.version,
      bump: raw.bump,
      insuranceVaultBump: raw.insurance_vault_bump,
      pauseFlags: raw.pause_flags,
      quoteDecimals: raw.quote_decimals,
      governance: raw.governance,
      guardian: raw.guardian,
      quoteMint: raw.quote_mint,
      insuranceVault: raw.insurance_vault,
      timelockDelaySecs: BigInt(raw.timelock_delay_secs.toString()),
      createdAt: BigInt(raw.created_at.toString()),
    };
  }

  async fetchExchange(source: AccountSource): Promise<ExchangeState | null> {
    const data = await source(this.exchange);
    return data ? this.decodeExchange(data) : null;
  }
}
