//! xmargin: portfolio-margin perpetuals and options.
//!
//! This file only dispatches; each instruction lives in `instructions/<role>/<name>.rs`
//! with its Args, Accounts, `validate` and `handler`.
#![deny(unsafe_code)]
#![deny(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod error;
pub mod events;
pub mod health;
#[cfg(all(target_os = "solana", feature = "custom-heap"))]
mod heap;
pub mod instructions;
pub mod marks;
pub mod oracle;
pub mod seeds;
pub mod state;
pub mod utils;

use instructions::*;

declare_id!("DqgtNoLCvMAKqTajWGC62zuSvxj2QNkA9BrahccmzdTi");

#[cfg(target_os = "solana")]
use solana_compiler_builtins as _;

// Who to tell about a vulnerability, embedded in the deployed .so (see SECURITY.md); the
// contact is a placeholder, to be replaced before deployment. Only in the entrypoint build, as
// the crate's docs require: the macro defines a `#[no_mangle]` static `SECURITY_TXT`, which two
// programs linking xmargin as a library (`no-entrypoint`) would otherwise both define. No
// `#[allow(unsafe_code)]` is needed: the lint does not fire inside another crate's macro.
#[cfg(not(feature = "no-entrypoint"))]
solana_security_txt::security_txt! {
    name: "xmargin",
    project_url: "https://github.com/xmargin/xmargin",
    contacts: "email:security@xmargin.example",
    policy: "https://github.com/xmargin/xmargin/blob/main/SECURITY.md",
    source_code: "https://github.com/xmargin/xmargin"
}
// Library builds (`no-entrypoint`: tests, the CLI) leave the macro out; the dependency is
// still the program's.
#[cfg(feature = "no-entrypoint")]
use solana_security_txt as _;

#[program]
pub mod xmargin {
    use super::*;

    /// Creates the exchange singleton and its insurance vault (upgrade authority only).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn initialize_exchange(ctx: Context<InitializeExchange>, args: InitializeExchangeArgs) -> Result<()> {
        InitializeExchange::handler(ctx, args)
    }

    /// Lists a collateral asset at initial weight 0 and creates its vault (governance).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn list_collateral(ctx: Context<ListCollateral>, args: ListCollateralArgs) -> Result<()> {
        ListCollateral::handler(ctx, args)
    }

    /// Sets or clears pause flags (guardian: set only; governance: both).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn set_pause(ctx: Context<SetPause>, args: SetPauseArgs) -> Result<()> {
        SetPause::handler(ctx, args)
    }

    /// Proposes a timelocked change of collateral, underlying, liquidation or offset-group
    /// parameters (governance).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn propose_risk_change(ctx: Context<ProposeRiskChange>, args: ProposeRiskChangeArgs) -> Result<()> {
        ProposeRiskChange::handler(ctx, args)
    }

    /// Applies a proposal after its timelock, within bounds (anyone).
    #[access_control(ctx.accounts.validate())]
    pub fn execute_risk_change(ctx: Context<ExecuteRiskChange>) -> Result<()> {
        ExecuteRiskChange::handler(ctx)
    }

    /// Drops a pending proposal (governance).
    #[access_control(ctx.accounts.validate())]
    pub fn cancel_risk_change(ctx: Context<CancelRiskChange>) -> Result<()> {
        CancelRiskChange::handler(ctx)
    }

    /// Tightens a collateral's parameters at once (guardian; safe direction only).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn tighten_risk(ctx: Context<TightenRisk>, args: TightenRiskArgs) -> Result<()> {
        TightenRisk::handler(ctx, args)
    }

    /// Lowers an offset group's correlation credit or dissolves the group at once (guardian;
    /// never raises the credit or changes the members).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn tighten_offsets(ctx: Context<TightenOffsets>, args: TightenOffsetsArgs) -> Result<()> {
        TightenOffsets::handler(ctx, args)
    }

    /// Adds stress at once (guardian): tail weights or rows, the stressed shock, the quote
    /// peg's threshold or factor.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn tighten_scenario(ctx: Context<TightenScenario>, args: TightenScenarioArgs) -> Result<()> {
        TightenScenario::handler(ctx, args)
    }

    /// Proposes a new governance or guardian key (governance).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn propose_authority(ctx: Context<ProposeAuthority>, args: ProposeAuthorityArgs) -> Result<()> {
        ProposeAuthority::handler(ctx, args)
    }

    /// The proposed key accepts its role.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn accept_authority(ctx: Context<AcceptAuthority>, args: AcceptAuthorityArgs) -> Result<()> {
        AcceptAuthority::handler(ctx, args)
    }

    /// Feeds the oracle price to an underlying's volatility estimator (anyone, rate-limited).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn update_volatility(ctx: Context<UpdateVolatility>, args: UpdateVolatilityArgs) -> Result<()> {
        UpdateVolatility::handler(ctx, args)
    }

    /// Records the quote asset's conservative USD price for the depeg contingency (anyone).
    #[access_control(ctx.accounts.validate())]
    pub fn update_quote_peg(ctx: Context<UpdateQuotePeg>) -> Result<()> {
        UpdateQuotePeg::handler(ctx)
    }

    /// Opens the owner's portfolio number `index`.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn open_portfolio(ctx: Context<OpenPortfolio>, args: OpenPortfolioArgs) -> Result<()> {
        OpenPortfolio::handler(ctx, args)
    }

    /// Sets or clears the portfolio's trading delegate (owner).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn set_delegate(ctx: Context<SetDelegate>, args: SetDelegateArgs) -> Result<()> {
        SetDelegate::handler(ctx, args)
    }

    /// Closes an empty portfolio; rent back to the owner.
    #[access_control(ctx.accounts.validate())]
    pub fn close_portfolio(ctx: Context<ClosePortfolio>) -> Result<()> {
        ClosePortfolio::handler(ctx)
    }

    /// Deposits a listed collateral into a portfolio.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn deposit(ctx: Context<Deposit>, args: DepositArgs) -> Result<()> {
        Deposit::handler(ctx, args)
    }

    /// Withdraws collateral (owner); initial health must stay ≥ 0. Remaining accounts: oracles.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn withdraw<'info>(ctx: Context<'info, Withdraw<'info>>, args: WithdrawArgs) -> Result<()> {
        Withdraw::handler(ctx, args)
    }

    /// Returns (and logs) the portfolio's equity and health. Remaining accounts: oracles.
    pub fn refresh_health<'info>(ctx: Context<'info, RefreshHealth<'info>>) -> Result<HealthView> {
        RefreshHealth::handler(ctx)
    }

    /// Opens trading on a listed underlying: its perp and option-series rules (governance).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn create_market(ctx: Context<CreateMarket>, args: CreateMarketArgs) -> Result<()> {
        CreateMarket::handler(ctx, args)
    }

    /// Lists a European call or put on the market's strike and expiry grid (governance).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn list_option_series(ctx: Context<ListOptionSeries>, args: ListOptionSeriesArgs) -> Result<()> {
        ListOptionSeries::handler(ctx, args)
    }

    /// Converts a version-3 market to the current layout in place (governance; docs/architecture.md,
    /// "Account versions and migrations").
    #[access_control(ctx.accounts.validate(&args))]
    pub fn migrate_market(ctx: Context<MigrateMarket>, args: MigrateMarketArgs) -> Result<()> {
        MigrateMarket::handler(ctx, args)
    }

    /// A bilateral fill signed by both sides; each side must stay initial-healthy or reduce
    /// its maintenance requirement. Remaining accounts: taker's then maker's health accounts.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn trade<'info>(ctx: Context<'info, Trade<'info>>, args: TradeArgs) -> Result<()> {
        Trade::handler(ctx, args)
    }

    /// Closes a perp's funding period: accrues the index, then sets its per-second slope from
    /// the period's size-weighted fill premium over the oracle (anyone).
    #[access_control(ctx.accounts.validate())]
    pub fn update_funding(ctx: Context<UpdateFunding>) -> Result<()> {
        UpdateFunding::handler(ctx)
    }

    /// Computes the marks (value, Greeks, convexity bounds) of option series, each with its
    /// counterpart of the same strike and expiry and the other kind (anyone).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn update_marks(ctx: Context<UpdateMarks>, args: UpdateMarksArgs) -> Result<()> {
        UpdateMarks::handler(ctx, args)
    }

    /// Records the settlement price of an expiry within its window, from the feed's first
    /// update at or after expiry (anyone).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn record_settlement_price(
        ctx: Context<RecordSettlementPrice>,
        args: RecordSettlementPriceArgs,
    ) -> Result<()> {
        RecordSettlementPrice::handler(ctx, args)
    }

    /// Pays out a portfolio's expired options of one market at their settlement price (anyone).
    pub fn settle_expired(ctx: Context<SettleExpired>) -> Result<()> {
        SettleExpired::handler(ctx)
    }

    /// Moves accrued fees and liquidation insurance shares (a market's, if given, and the quote
    /// ledger's) from the quote vault to the insurance vault (anyone).
    #[access_control(ctx.accounts.validate())]
    pub fn sweep_fees(ctx: Context<SweepFees>) -> Result<()> {
        SweepFees::handler(ctx)
    }

    /// Takes over part of an underwater portfolio's position at the mark less the discount,
    /// sized by the risk engine to restore its maintenance buffer (liquidator's owner or
    /// delegate). Remaining accounts: target's then liquidator's health accounts.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn liquidate_positions<'info>(
        ctx: Context<'info, LiquidatePositions<'info>>,
        args: LiquidatePositionsArgs,
    ) -> Result<()> {
        LiquidatePositions::handler(ctx, args)
    }

    /// Repays part of an underwater portfolio's quote liability for its collateral at a
    /// discount, sized like `liquidate_positions`. Remaining accounts as there.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn liquidate_collateral<'info>(
        ctx: Context<'info, LiquidateCollateral<'info>>,
        args: LiquidateCollateralArgs,
    ) -> Result<()> {
        LiquidateCollateral::handler(ctx, args)
    }

    /// Covers the deficit of a portfolio with no positions from the insurance vault,
    /// socializing any remainder over quote holders through the loss index; leftover
    /// collateral of an insolvent portfolio goes to the insurance fund (anyone; not while
    /// liquidations are paused). Remaining accounts: leftover collateral oracles, then
    /// (vault, insurance account, mint, token program) per leftover asset, then every
    /// created market (writable, ascending underlying).
    #[access_control(ctx.accounts.validate())]
    pub fn resolve_bankruptcy<'info>(ctx: Context<'info, ResolveBankruptcy<'info>>) -> Result<()> {
        ResolveBankruptcy::handler(ctx)
    }
}
