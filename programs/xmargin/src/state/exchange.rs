//! The exchange singleton: authorities, quote asset, insurance vault, pause flags.
use anchor_lang::prelude::*;

/// Layout version written by `initialize_exchange`; bumped on any layout change that
/// readers must know about (reserved bytes are consumed without a bump only when zero
/// means "unset").
///
/// 2: `market_mask` and `quote_ledger` (the write-lock split of the scale issue). A version-1
/// exchange has neither a ledger nor a mask and cannot be migrated in place (no
/// instruction creates the ledger afterwards): it is redeployed; there is no version-1
/// deployment.
pub const EXCHANGE_VERSION: u8 = 2;

/// Pause flags (bits of `Exchange::pause_flags`). A set bit blocks that action.
pub mod pause {
    pub const DEPOSITS: u8 = 1 << 0;
    pub const WITHDRAWALS: u8 = 1 << 1;
    pub const TRADING: u8 = 1 << 2;
    pub const LIQUIDATIONS: u8 = 1 << 3;
    pub const ALL: u8 = DEPOSITS | WITHDRAWALS | TRADING | LIQUIDATIONS;
}

/// Bounds on the governance timelock (seconds). A delay of zero would let governance
/// loosen risk instantly; more than 30 days would make urgent loosening impossible.
pub const MIN_TIMELOCK_DELAY_SECS: i64 = 60;
pub const MAX_TIMELOCK_DELAY_SECS: i64 = 30 * 24 * 3600;
/// Cap on the per-change weight step governance may configure (25 percentage points).
pub const MAX_WEIGHT_STEP_BPS: u16 = 2_500;
/// A timelocked change may at most double a deposit cap.
pub const MAX_CAP_GROWTH_FACTOR: u64 = 2;

#[account(zero_copy)]
#[repr(C)]
pub struct Exchange {
    /// Layout version (`EXCHANGE_VERSION`).
    pub version: u8,
    /// Bump of the exchange PDA (`[EXCHANGE_SEED]`).
    pub bump: u8,
    /// Bump of the insurance vault PDA (`[INSURANCE_VAULT_SEED, exchange]`).
    pub insurance_vault_bump: u8,
    /// Bit set of `pause::*` flags.
    pub pause_flags: u8,
    /// Decimals of the quote mint (copied at creation; the mint's decimals cannot change).
    pub quote_decimals: u8,
    pub _padding0: [u8; 3],
    /// Signs loosening risk changes (through the timelock) and listings.
    pub governance: Pubkey,
    /// Signs tighten-only changes and pauses, applied at once.
    pub guardian: Pubkey,
    /// Quote asset (USDC-like): perps and options settle in it.
    pub quote_mint: Pubkey,
    /// Token account of `quote_mint` owned by the exchange PDA.
    pub insurance_vault: Pubkey,
    /// Seconds between a loosening proposal and its earliest execution.
    pub timelock_delay_secs: i64,
    /// Unix time (seconds) of creation.
    pub created_at: i64,
    /// Proposed next governance / guardian (two-step rotation); default = none pending.
    pub pending_governance: Pubkey,
    pub pending_guardian: Pubkey,
    /// Id of the next risk-change proposal.
    pub next_risk_change_id: u64,
    /// Largest move of any weight in one timelocked change, basis points.
    pub max_weight_step_bps: u16,
    /// Bit u set: the market of underlying u exists (`create_market`); `resolve_bankruptcy`
    /// reads every market's share of Σ positive quote balances.
    pub market_mask: u16,
    pub _padding1: [u8; 4],
    /// Liquidation discount, fee split and buffer (governed through the timelock).
    pub liquidation: LiquidationParams,
    /// The quote asset's ledger (`[QUOTE_LEDGER_SEED, exchange]`), checked by address.
    pub quote_ledger: Pubkey,
    /// Reserved for future fields; zero.
    pub reserved: [u8; 128],
}

const _: () = assert!(core::mem::size_of::<LiquidationParams>() == 16);
const _: () = assert!(core::mem::size_of::<Exchange>() == 8 + 4 * 32 + 2 * 8 + 256);
const _: () = assert!(core::mem::size_of::<Exchange>() == 8 + 5 * 32 + 2 * 8 + 224);

/// How liquidations are priced and sized. All basis points (10_000 = 1).
#[zero_copy]
#[derive(Debug, PartialEq, Eq, Default, borsh::BorshSerialize, borsh::BorshDeserialize)]
#[borsh(crate = "anchor_lang::prelude::borsh")]
pub struct LiquidationParams {
    /// Discount on the notional (position: spot × size; collateral: its value) conceded by
    /// the liquidated portfolio. One rate for every instrument and asset, so no choice of
    /// position or collateral pays the liquidator more per unit of value.
    pub discount_bps: u16,
    /// An option's discount is at most this fraction of its value (a fee on notional alone
    /// would exceed a cheap option's price).
    pub option_discount_cap_bps: u16,
    /// Share of the discount paid to the insurance vault; the liquidator keeps the rest.
    pub insurance_share_bps: u16,
    /// Maintenance health a liquidation restores: this fraction of the maintenance
    /// requirement before the call (at least one quote native unit).
    pub buffer_bps: u16,
    pub _padding: [u8; 8],
}

/// Bounds of the liquidation parameters: a discount of at most 10% of notional, a buffer of
/// at most 50% of the requirement; shares and caps are fractions.
pub const MAX_LIQUIDATION_DISCOUNT_BPS: u16 = 1_000;
pub const MAX_LIQUIDATION_BUFFER_BPS: u16 = 5_000;

impl LiquidationParams {
    /// At creation: a 1% discount capped at 10% of an option's value (the backtest's
    /// assumptions, `crates/cli/src/backtest/liquidate.rs`; Deribit caps option fees at
    /// 12.5% of the price for the same reason), 20% of it to insurance, a 5% buffer.
    pub const INITIAL: LiquidationParams = LiquidationParams {
        discount_bps: 100,
        option_discount_cap_bps: 1_000,
        insurance_share_bps: 2_000,
        buffer_bps: 500,
        _padding: [0; 8],
    };

    /// Within bounds: a positive discount (liquidators must be paid) up to
    /// `MAX_LIQUIDATION_DISCOUNT_BPS`, cap and share up to 100%, a positive buffer up to
    /// `MAX_LIQUIDATION_BUFFER_BPS`.
    pub fn is_valid(&self) -> bool {
        (1..=MAX_LIQUIDATION_DISCOUNT_BPS).contains(&self.discount_bps)
            && (1..=super::BPS).contains(&self.option_discount_cap_bps)
            && self.insurance_share_bps <= super::BPS
            && (1..=MAX_LIQUIDATION_BUFFER_BPS).contains(&self.buffer_bps)
    }

    /// Per-change bounds of a timelocked change: every field within `step` bps.
    pub fn within_step(&self, current: &Self, step: u16) -> bool {
        let ok = |a: u16, b: u16| a.abs_diff(b) <= step;
        ok(self.discount_bps, current.discount_bps)
            && ok(self.option_discount_cap_bps, current.option_discount_cap_bps)
            && ok(self.insurance_share_bps, current.insurance_share_bps)
            && ok(self.buffer_bps, current.buffer_bps)
    }
}

impl Exchange {
    /// Account size including Anchor's 8-byte discriminator.
    pub const SPACE: usize = 8 + core::mem::size_of::<Exchange>();

    /// Writes every field of a fresh exchange.
    ///
    /// Deliberately takes more than five arguments and is never inlined: sBPF passes
    /// arguments six and up on the stack, and a mis-sized stack frame (sbpf-linker with
    /// `-bpf-stack-size=8192`) makes them read as zero. The integration tests assert every
    /// field written here, which catches that miscompilation on-chain.
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    pub fn initialize(
        &mut self,
        governance: Pubkey,
        guardian: Pubkey,
        quote_mint: Pubkey,
        quote_decimals: u8,
        insurance_vault: Pubkey,
        bump: u8,
        insurance_vault_bump: u8,
        timelock_delay_secs: i64,
        created_at: i64,
        max_weight_step_bps: u16,
    ) {
        self.version = EXCHANGE_VERSION;
        self.bump = bump;
        self.insurance_vault_bump = insurance_vault_bump;
        self.pause_flags = 0;
        self.quote_decimals = quote_decimals;
        self.governance = governance;
        self.guardian = guardian;
        self.quote_mint = quote_mint;
        self.insurance_vault = insurance_vault;
        self.timelock_delay_secs = timelock_delay_secs;
        self.created_at = created_at;
        self.max_weight_step_bps = max_weight_step_bps;
        self.liquidation = LiquidationParams::INITIAL;
    }

    pub fn is_paused(&self, flag: u8) -> bool {
        self.pause_flags & flag != 0
    }
}
