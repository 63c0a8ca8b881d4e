// Thin hand-written layer over the IDL-typed Anchor client: instruction builders with the
// PDAs filled in, and account decoding that works against any account source (an RPC
// connection or an in-process SVM).
import anchor from "@anchor-lang/core";
import { Connection, PublicKey, TransactionInstruction } from "@solana/web3.js";
import BN from "bn.js";

import idlJson from "./idl/xmargin.json" with { type: "json" };
import type { Xmargin } from "./idl/xmargin.js";
import {
  collateralInsurancePda,
  exchangePda,
  marketPda,
  insuranceVaultPda,
  quoteLedgerPda,
  portfolioPda,
  programDataPda,
  registryPda,
  riskChangePda,
  TOKEN_PROGRAM_ID,
  vaultPda,
} from "./pda.js";
import {
  camelize,
  collateralFromRaw,
  type CollateralRiskParamsArg,
  type ExchangeState,
  type HaircutArg,
  type OffsetGroupConfigArg,
  type OracleConfigArg,
  type PortfolioState,
  type MarginScaleParamsArg,
  type QuotePegState,
  type RawCollateral,
  type RegistryState,
  type RiskChangeArg,
  type TightenScenarioArg,
  type UnderlyingConfigArg,
} from "./state.js";

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

  get quoteLedger(): PublicKey {
    return quoteLedgerPda(this.programId, this.exchange);
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
        quoteLedger: this.quoteLedger,
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

  // ---- governance -------------------------------------------------------------------

  async listCollateralIx(p: {
    payer: PublicKey;
    governance: PublicKey;
    mint: PublicKey;
    tokenProgram: PublicKey;
    oracle: OracleConfigArg;
    haircut: HaircutArg;
    depositCap: bigint;
  }): Promise<TransactionInstruction> {
    return this.program.methods
      .listCollateral({ oracle: p.oracle, haircut: p.haircut, depositCap: new BN(p.depositCap.toString()) })
      .accountsStrict({
        payer: p.payer,
        governance: p.governance,
        exchange: this.exchange,
        registry: this.registry,
        mint: p.mint,
        vault: vaultPda(this.programId, this.exchange, p.mint),
        insuranceVault: collateralInsurancePda(this.programId, this.exchange, p.mint),
        tokenProgram: p.tokenProgram,
        systemProgram: anchor.web3.SystemProgram.programId,
      })
      .instruction();
  }

  /** `propose_risk_change` for collateral `index`; `id` is the exchange's next change id. */
  async proposeCollateralChangeIx(p: {
    payer: PublicKey;
    governance: PublicKey;
    id: bigint;
    index: number;
    params: CollateralRiskParamsArg;
  }): Promise<TransactionInstruction> {
    return this.proposeRiskChangeIx({ ...p, change: { collateral: { index: p.index, params: p.params } } });
  }

  /** `propose_risk_change` for offset group `index` (members and credit; all zero dissolves it). */
  async proposeOffsetGroupIx(p: {
    payer: PublicKey;
    governance: PublicKey;
    id: bigint;
    index: number;
    group: OffsetGroupConfigArg;
  }): Promise<TransactionInstruction> {
    return this.proposeRiskChangeIx({ ...p, change: { offsetGroup: { index: p.index, group: p.group } } });
  }

  /** `propose_risk_change` of the initial-margin scale (`marginScale(bps)` validates it). */
  async proposeMarginScaleIx(p: {
    payer: PublicKey;
    governance: PublicKey;
    id: bigint;
    params: MarginScaleParamsArg;
  }): Promise<TransactionInstruction> {
    return this.proposeRiskChangeIx({ ...p, change: { marginScale: { params: p.params } } });
  }

  /** `propose_risk_change` with any change (collateral, new underlying, underlying edit,
   * liquidation parameters, offset group, quote peg, initial-margin scale). */
  async proposeRiskChangeIx(p: {
    payer: PublicKey;
    governance: PublicKey;
    id: bigint;
    change: RiskChangeArg;
  }): Promise<TransactionInstruction> {
    return this.program.methods
      .proposeRiskChange({ id: new BN(p.id.toString()), change: p.change })
      .accountsStrict({
        payer: p.payer,
        governance: p.governance,
        exchange: this.exchange,
        registry: this.registry,
        riskChange: riskChangePda(this.programId, this.exchange, p.id),
        systemProgram: anchor.web3.SystemProgram.programId,
      })
      .instruction();
  }

  async executeRiskChangeIx(id: bigint, payer: PublicKey): Promise<TransactionInstruction> {
    return this.program.methods
      .executeRiskChange()
      .accountsStrict({
        exchange: this.exchange,
        registry: this.registry,
        riskChange: riskChangePda(this.programId, this.exchange, id),
        payer,
      })
      .instruction();
  }

  async cancelRiskChangeIx(governance: PublicKey, id: bigint, payer: PublicKey): Promise<TransactionInstruction> {
    return this.program.methods
      .cancelRiskChange()
      .accountsStrict({ governance, exchange: this.exchange, riskChange: riskChangePda(this.programId, this.exchange, id), payer })
      .instruction();
  }

  async tightenRiskIx(guardian: PublicKey, collateral: number, params: CollateralRiskParamsArg): Promise<TransactionInstruction> {
    return this.program.methods
      .tightenRisk({ collateral, params })
      .accountsStrict({ guardian, exchange: this.exchange, registry: this.registry })
      .instruction();
  }

  /** `tighten_offsets` (guardian): group `group` becomes `config`, its members unchanged with a
   * credit no higher (a credit of 0 dissolves it). */
  async tightenOffsetsIx(guardian: PublicKey, group: number, config: OffsetGroupConfigArg): Promise<TransactionInstruction> {
    return this.program.methods
      .tightenOffsets({ group, config })
      .accountsStrict({ guardian, exchange: this.exchange, registry: this.registry })
      .instruction();
  }

  /** `tighten_scenario` (guardian): adds stress at once — `{ underlying: { index, config } }`
   * (tail weights up, rows appended, stressed shock up), `{ quotePeg: { params } }` (the
   * peg's threshold or factor up, same feed) or `{ marginScale: { params } }` (the initial
   * scale up; marks computed until then are refused until re-marked). Anything else fails with
   * `GuardianCannotLoosenScenario`. */
  async tightenScenarioIx(guardian: PublicKey, args: TightenScenarioArg): Promise<TransactionInstruction> {
    return this.program.methods
      .tightenScenario(args)
      .accountsStrict({ guardian, exchange: this.exchange, registry: this.registry })
      .instruction();
  }

  /** `update_quote_peg`: permissionless crank recording the quote asset's USD price from
   * the peg's feed account (`oracle`) for the depeg contingency. */
  async updateQuotePegIx(oracle: PublicKey): Promise<TransactionInstruction> {
    return this.program.methods
      .updateQuotePeg()
      .accountsStrict({ exchange: this.exchange, registry: this.registry, oracle })
      .instruction();
  }

  /** `role`: 0 governance, 1 guardian. */
  async proposeAuthorityIx(governance: PublicKey, role: number, newAuthority: PublicKey): Promise<TransactionInstruction> {
    return this.program.methods
      .proposeAuthority({ role, newAuthority })
      .accountsStrict({ governance, exchange: this.exchange })
      .instruction();
  }

  async acceptAuthorityIx(newAuthority: PublicKey, role: number): Promise<TransactionInstruction> {
    return this.program.methods
      .acceptAuthority({ role })
      .accountsStrict({ newAuthority, exchange: this.exchange })
      .instruction();
  }

  // ---- portfolios ---------------------------------------------------------------------

  portfolio(owner: PublicKey, index = 0): PublicKey {
    return portfolioPda(this.programId, owner, index);
  }

  async openPortfolioIx(payer: PublicKey, owner: PublicKey, index = 0): Promise<TransactionInstruction> {
    return this.program.methods
      .openPortfolio({ index })
      .accountsStrict({
        payer,
        owner,
        exchange: this.exchange,
        portfolio: this.portfolio(owner, index),
        systemProgram: anchor.web3.SystemProgram.programId,
      })
      .instruction();
  }

  /** Sets (or clears, with PublicKey.default) the delegate; `maxSlippageBps` of spot bounds how far a
   * delegate-signed fill may be worse than the venue's mark (default 0: at the mark, plus one tick). */
  async setDelegateIx(
    owner: PublicKey,
    portfolio: PublicKey,
    delegate: PublicKey,
    maxSlippageBps = 0,
  ): Promise<TransactionInstruction> {
    return this.program.methods
      .setDelegate({ delegate, maxSlippageBps })
      .accountsStrict({ owner, portfolio })
      .instruction();
  }

  async closePortfolioIx(owner: PublicKey, portfolio: PublicKey): Promise<TransactionInstruction> {
    return this.program.methods.closePortfolio().accountsStrict({ owner, portfolio }).instruction();
  }

  /** `deposit`; `quote`: the mint is the exchange's quote mint (only then is the quote ledger
   * passed: a non-quote deposit writes no account shared beyond its vault). */
  async depositIx(p: {
    depositor: PublicKey;
    portfolio: PublicKey;
    mint: PublicKey;
    source: PublicKey;
    tokenProgram: PublicKey;
    amount: bigint;
    quote: boolean;
  }): Promise<TransactionInstruction> {
    return this.program.methods
      .deposit({ amount: new BN(p.amount.toString()) })
      .accountsStrict({
        depositor: p.depositor,
        exchange: this.exchange,
        registry: this.registry,
        quoteLedger: p.quote ? this.quoteLedger : null,
        portfolio: p.portfolio,
        mint: p.mint,
        vault: vaultPda(this.programId, this.exchange, p.mint),
        source: p.source,
        tokenProgram: p.tokenProgram,
      })
      .instruction();
  }

  /** `withdraw`; `oracles` as returned by `oracleAccounts` for the portfolio; `quote` as for
   * `depositIx`. */
  async withdrawIx(p: {
    owner: PublicKey;
    portfolio: PublicKey;
    mint: PublicKey;
    destination: PublicKey;
    tokenProgram: PublicKey;
    amount: bigint;
    oracles: PublicKey[];
    quote: boolean;
  }): Promise<TransactionInstruction> {
    return this.program.methods
      .withdraw({ amount: new BN(p.amount.toString()) })
      .accountsStrict({
        owner: p.owner,
        exchange: this.exchange,
        registry: this.registry,
        quoteLedger: p.quote ? this.quoteLedger : null,
        portfolio: p.portfolio,
        mint: p.mint,
        vault: vaultPda(this.programId, this.exchange, p.mint),
        destination: p.destination,
        tokenProgram: p.tokenProgram,
      })
      .remainingAccounts(p.oracles.map((pubkey) => ({ pubkey, isSigner: false, isWritable: false })))
      .instruction();
  }

  async refreshHealthIx(portfolio: PublicKey, oracles: PublicKey[]): Promise<TransactionInstruction> {
    return this.program.methods
      .refreshHealth()
      .accountsStrict({ exchange: this.exchange, registry: this.registry, portfolio })
      .remainingAccounts(oracles.map((pubkey) => ({ pubkey, isSigner: false, isWritable: false })))
      .instruction();
  }

  /**
   * `update_volatility`: permissionless crank feeding one oracle observation into an
   * underlying's EWMA volatility estimator, kept in its market (rate limited by the
   * underlying's min interval; writes that market only).
   */
  async updateVolatilityIx(underlying: number, oracle: PublicKey): Promise<TransactionInstruction> {
    const market = marketPda(this.programId, this.exchange, underlying);
    return this.program.methods
      .updateVolatility({ underlying })
      .accountsStrict({ exchange: this.exchange, registry: this.registry, market, oracle })
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
      nextRiskChangeId: BigInt(raw.next_risk_change_id.toString()),
      maxWeightStepBps: raw.max_weight_step_bps,
      marketMask: raw.market_mask,
    };
  }

  /** Decodes the haircut registry (listed collaterals only). */
  decodeRegistry(data: Uint8Array): RegistryState {
    const raw = this.accountsCoder.decode("HaircutRegistry", Buffer.from(data));
    const count: number = raw.collateral_count;
    return {
      collaterals: (raw.collaterals as RawCollateral[]).slice(0, count).map(collateralFromRaw),
      underlyingCount: raw.underlying_count,
      underlyings: camelize<UnderlyingConfigArg[]>((raw.underlyings as unknown[]).slice(0, raw.underlying_count)),
      offsetGroups: camelize<OffsetGroupConfigArg[]>(raw.offset_groups as unknown[]),
      quotePeg: camelize<QuotePegState>(raw.quote_peg as unknown),
      marginScale: camelize<MarginScaleParamsArg>(raw.margin_scale as unknown),
    };
  }

  /** Decodes a portfolio (active balance slots only). */
  /** Any program account decoded with the raw IDL coder (field names as in Rust). */
  decodeAccount(name: string, data: Uint8Array): Record<string, unknown> {
    return this.accountsCoder.decode(name, Buffer.from(data)) as Record<string, unknown>;
  }

  decodePortfolio(data: Uint8Array): PortfolioState {
    const raw = this.accountsCoder.decode("Portfolio", Buffer.from(data));
    return {
      owner: raw.owner,
      delegate: raw.delegate,
      index: raw.index,
      liquidationState: raw.liquidation_state,
      balances: (raw.balances as { amount: BN; collateral: number; active: number }[])
        .filter((b) => b.active === 1)
        .map((b) => ({ collateral: b.collateral, amount: BigInt(b.amount.toString()) })),
    };
  }

  async fetchExchange(source: AccountSource): Promise<ExchangeState | null> {
    const data = await source(this.exchange);
    return data ? this.decodeExchange(data) : null;
  }
}
