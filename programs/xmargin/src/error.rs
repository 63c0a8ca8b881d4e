//! One error enum for the program, grouped by area. Anchor numbers the variants from 6000 in
//! declaration order; the codes are part of the client API once the program is deployed
//! (from then on, new variants go at the end). Clients should match on names (the IDL's
//! `errors`), which the TypeScript layer does.
use anchor_lang::prelude::*;
use xmargin_risk::RiskError;

#[error_code]
pub enum XmarginError {
    // ---- exchange set-up (6000..) ----
    #[msg("The exchange is already initialized")]
    ExchangeAlreadyInitialized,
    #[msg("Signer is not the program's upgrade authority")]
    NotUpgradeAuthority,
    #[msg("The program account does not point at the given program data account")]
    ProgramDataMismatch,
    #[msg("Governance and guardian must be distinct, non-default keys")]
    InvalidAuthorities,
    #[msg("Timelock delay is outside the allowed range")]
    TimelockDelayOutOfRange,
    #[msg("Deposit cap must be positive")]
    InvalidDepositCap,
    #[msg("Weight step bound is outside 1..=2500 bps")]
    InvalidWeightStep,

    // ---- pauses ----
    #[msg("Pause flags contain unknown bits")]
    InvalidPauseFlags,
    #[msg("Only governance or the guardian may change pause flags")]
    NotPauseAuthority,
    #[msg("The guardian can only set pause flags; clearing one needs governance")]
    GuardianCannotUnpause,

    // ---- oracle guard ----
    #[msg("Oracle account is not owned by the expected oracle program")]
    OracleWrongOwner,
    #[msg("Oracle account is not the one configured for this asset")]
    OracleWrongAccount,
    #[msg("Pyth price update is for a different feed id")]
    OracleWrongFeed,
    #[msg("Oracle account data cannot be parsed")]
    OracleMalformed,
    #[msg("Pyth price update is not fully verified")]
    OracleNotFullyVerified,
    #[msg("Pyth price status is not Trading")]
    OracleNotTrading,
    #[msg("Oracle price is older than the asset's staleness limit")]
    OracleStale,
    #[msg("Oracle confidence interval is wider than the asset's limit")]
    OracleConfidenceTooWide,
    #[msg("Oracle price is zero or negative")]
    OracleNonPositivePrice,
    #[msg("Oracle exponent is outside the supported range")]
    OracleExponentOutOfRange,
    #[msg("Oracle kind is not supported for this asset")]
    OracleKindUnsupported,

    // ---- registry and governance ----
    #[msg("Signer is not the exchange's governance authority")]
    NotGovernance,
    #[msg("This mint is already listed")]
    CollateralAlreadyListed,
    #[msg("The registry has no free collateral slot")]
    RegistryFull,
    #[msg("Haircut schedule is invalid (weights out of order or range, tiers not increasing)")]
    InvalidHaircut,
    #[msg("New collateral must list at initial weight 0; loosen it through the timelock")]
    ListingMustStartAtZeroWeight,
    #[msg("Oracle configuration is invalid (staleness or confidence limit out of range)")]
    InvalidOracleConfig,
    #[msg("Mint has Token-2022 extensions, which are not accepted as collateral")]
    UnsupportedMintExtensions,
    #[msg("Registry does not belong to this exchange")]
    RegistryMismatch,
    #[msg("A weight moves by more than the exchange's per-change step")]
    WeightStepTooLarge,
    #[msg("A deposit cap more than doubles in one change")]
    CapGrowthTooLarge,
    #[msg("The timelock has not expired yet")]
    TimelockNotExpired,
    #[msg("The collateral or underlying index is not listed")]
    UnknownRiskTarget,
    #[msg("The registry has no free underlying slot")]
    UnderlyingRegistryFull,
    #[msg("Underlying parameters are invalid (grid shocks or implied-vol bounds)")]
    InvalidUnderlyingConfig,
    #[msg("Signer is not the exchange's guardian")]
    NotGuardian,
    #[msg("The guardian may only tighten: this change loosens some parameter")]
    GuardianCannotLoosen,
    #[msg("The quote asset's oracle and weights are fixed")]
    QuoteAssetImmutable,
    #[msg("Signer is not the pending authority")]
    NotPendingAuthority,
    #[msg("No authority rotation is pending")]
    NoPendingAuthority,
    #[msg("The risk change account does not belong to this exchange")]
    RiskChangeMismatch,
    #[msg("The target's parameters changed since this risk change was proposed: propose it again")]
    RiskChangeStale,
    // Collateral links (`CollateralLink::check`).
    #[msg(
        "A collateral link must have active 0 or 1 and zero padding, and an inactive link must be all zero"
    )]
    MalformedCollateralLink,
    #[msg("The quote asset cannot be linked to an underlying")]
    QuoteAssetCannotBeLinked,
    #[msg("A collateral link names an underlying that is not listed")]
    LinkUnderlyingNotListed,
    #[msg("A collateral link's ratio must be within 1..=10_000_000_000 (underlying units per token x1e9, at most 10)")]
    InvalidLinkRatio,
    #[msg("A collateral link's basis haircuts must be at most 10,000 bps, the initial one at least the maintenance one")]
    InvalidBasisHaircut,
    // Offset groups (`OffsetGroupConfig::check`, `HaircutRegistry::check_offset_group`).
    #[msg("An offset group must have zero padding, and an unused group (no members) a zero credit")]
    MalformedOffsetGroup,
    #[msg("An offset group must have 2 to 4 member underlyings")]
    OffsetGroupMemberCount,
    #[msg("An offset group member is not a listed underlying")]
    OffsetGroupMemberNotListed,
    #[msg(
        "An offset group's credit must be at most 5,000 bps (rho <= 1/2: above it, liquidating one leg of an offsetting pair raises the group's requirement by more than it frees)"
    )]
    InvalidOffsetCredit,
    #[msg("An underlying may belong to at most one offset group")]
    OffsetGroupsOverlap,
    #[msg(
        "An offset group's credit rises by more than the exchange's per-change step (from 0 when its members change)"
    )]
    OffsetCreditStepTooLarge,

    // ---- portfolios, deposits, withdrawals ----
    #[msg("A portfolio already exists at this owner and index")]
    PortfolioAlreadyExists,
    #[msg("Signer is not the portfolio's owner")]
    NotPortfolioOwner,
    #[msg("Portfolio belongs to another exchange")]
    PortfolioExchangeMismatch,
    #[msg("Portfolio still holds balances or positions")]
    PortfolioNotEmpty,
    #[msg("Deposits are paused")]
    DepositsPaused,
    #[msg("Withdrawals are paused")]
    WithdrawalsPaused,
    #[msg("This mint is not listed as collateral")]
    CollateralNotListed,
    #[msg("The vault is not this collateral's vault")]
    VaultMismatch,
    #[msg("The token program is not this collateral's token program")]
    TokenProgramMismatch,
    #[msg("Collateral is reduce-only: no new deposits")]
    CollateralReduceOnly,
    #[msg("Only the portfolio's owner may deposit a non-quote asset it holds none of")]
    DepositWouldOpenBalance,
    #[msg("Deposit would exceed the collateral's deposit cap")]
    DepositCapExceeded,
    #[msg("Amount must be positive")]
    ZeroAmount,
    #[msg("Withdrawal exceeds the portfolio's balance of this asset")]
    InsufficientBalance,
    #[msg("Portfolio has no free collateral slot")]
    TooManyBalances,
    #[msg("Initial health would be negative after this withdrawal")]
    InsufficientHealth,
    #[msg("Portfolio is being liquidated: no withdrawal or added risk until its maintenance health is back at the buffer")]
    PortfolioInLiquidation,
    #[msg("Oracle accounts do not match the portfolio's balances (count or order)")]
    OracleAccountsMismatch,
    #[msg("Market accounts do not match the portfolio's underlyings (count, order or market)")]
    MarketAccountsMismatch,
    #[msg("Amount does not fit the balance type")]
    AmountTooLarge,

    // ---- risk engine ----
    #[msg("Fixed-point overflow, division by zero or domain error in the risk engine")]
    RiskMath,
    #[msg("Market data rejected by the risk engine (price, confidence or volatility)")]
    RiskInvalidMarketData,
    #[msg("Risk parameters rejected by the risk engine")]
    RiskInvalidParameters,
    #[msg("Risk engine input refers to a missing asset or underlying")]
    RiskUnknownReference,
    #[msg("A price observation is not later than the previous one")]
    RiskTimeNotIncreasing,

    // ---- keepers ----
    #[msg("The underlying's volatility was updated less than its minimum interval ago")]
    VolatilityUpdateTooSoon,

    // ---- markets and trading ----
    #[msg("Market parameters are invalid (tick, lot decimals, bands, fees, funding or expiry grid)")]
    InvalidMarketParams,
    #[msg("The funding cap must not exceed the taker plus maker fee: wash trades at the cap would pay")]
    FundingCapAboveFees,
    #[msg("The market account is not this exchange's market of that underlying")]
    MarketMismatch,
    #[msg(
        "Option series is invalid: strike off the tick grid, expiry off the expiry grid or not in the future"
    )]
    InvalidOptionSeries,
    #[msg("The same option series is already listed")]
    OptionSeriesExists,
    #[msg("The market has no free option series slot")]
    TooManyOptionSeries,
    #[msg("The instrument is not listed in this market")]
    UnknownInstrument,
    #[msg("Trading is paused")]
    TradingPaused,
    #[msg("Taker and maker must be different portfolios")]
    SamePortfolio,
    #[msg("Signer is neither the portfolio's owner nor its delegate")]
    NotPortfolioTrader,
    #[msg("Trade size must be non-zero and at least the market's minimum size")]
    InvalidTradeSize,
    #[msg("Price must be positive and a multiple of the market's tick")]
    PriceNotOnTick,
    #[msg("Price is outside the allowed band around the oracle or model price")]
    PriceOutsideBand,
    #[msg("The option series has expired")]
    OptionExpired,
    #[msg("The trade would raise open interest above the instrument's cap")]
    OpenInterestCapExceeded,
    #[msg("The instrument is reduce-only: a side's position would grow or change sides")]
    InstrumentReduceOnly,
    #[msg("Portfolio has no free position slot")]
    TooManyPositions,
    #[msg(
        "After the trade the taker's initial health is negative and the trade lowered its initial or maintenance health (cash paid included)"
    )]
    TakerInsufficientHealth,
    #[msg(
        "After the trade the maker's initial health is negative and the trade lowered its initial or maintenance health (cash paid included)"
    )]
    MakerInsufficientHealth,
    #[msg("A portfolio left below maintenance health may only trade at the venue's mark or better (within one tick)")]
    UnhealthyFillOffMark,
    #[msg(
        "A delegate-signed fill is further from the venue's mark than the owner's maximum slippage allows"
    )]
    DelegateSlippageExceeded,
    #[msg("Delegate slippage must be at most 1,000 bps")]
    InvalidDelegateSlippage,
    #[msg("Health accounts split is out of range")]
    InvalidHealthAccountSplit,
    #[msg("Funding was updated less than one funding interval ago")]
    FundingTooSoon,
    #[msg("The option series has not expired yet")]
    NotExpired,
    #[msg("The settlement window after expiry has closed")]
    SettlementWindowClosed,
    #[msg("The settlement price of this expiry is already recorded")]
    SettlementAlreadyRecorded,
    #[msg("The oracle price was published before expiry")]
    SettlementPriceBeforeExpiry,
    #[msg("The oracle update is not the first one at or after expiry (its previous publish time must be before expiry)")]
    SettlementUpdateNotAtExpiry,
    #[msg("The portfolio holds no expired option with a recorded settlement price in this market")]
    NothingToSettle,
    // Marks (update_marks; every health computation over option positions).
    #[msg("An option series held has never been marked: send update_marks first")]
    MarksMissing,
    #[msg("An option series held has marks older than the market's largest age: send update_marks")]
    MarksTooOld,
    #[msg("Option liquidations price at marks computed in this same second: send update_marks for the series first, in the same transaction")]
    LiquidationMarksNotFresh,
    #[msg("The spot moved further from a held series' marks than the market allows: send update_marks")]
    MarksSpotDrift,
    #[msg("Implied vol or shock range changed since a held series was marked: send update_marks")]
    MarksParamsChanged,
    #[msg("update_marks needs a non-empty mask of listed series")]
    InvalidSeriesMask,
    // Liquidation.
    #[msg("The portfolio's maintenance health is not negative: it cannot be liquidated")]
    NotLiquidatable,
    #[msg("The target holds no position of at least one lot in that instrument")]
    NothingToLiquidate,
    #[msg("Taking over that position would not improve the target's maintenance health")]
    LiquidationWouldNotImprove,
    #[msg("Liquidation terms out of range")]
    InvalidLiquidationTerms,
    #[msg("The liquidator portfolio is the target")]
    LiquidatorIsTarget,
    #[msg("Signer is not the liquidator portfolio's owner or delegate")]
    NotLiquidator,
    #[msg("A portfolio being liquidated cannot act as liquidator")]
    LiquidatorBeingLiquidated,
    #[msg("Liquidations are paused")]
    LiquidationsPaused,
    #[msg("After the liquidation the liquidator's initial health is negative")]
    LiquidatorInsufficientHealth,
    #[msg("The maximum size must be at least one lot (or one native unit of collateral)")]
    InvalidLiquidationSize,
    #[msg("Collateral liquidation takes a listed non-quote asset")]
    InvalidLiquidationCollateral,
    #[msg("Liquidation parameters out of range")]
    InvalidLiquidationParams,
    // Bankruptcy.
    #[msg("The portfolio still holds positions: liquidate them first")]
    BankruptcyPositionsRemain,
    #[msg("The portfolio still holds non-quote collateral and its equity is not negative: liquidate the collateral instead")]
    BankruptcyCollateralRemains,
    #[msg("The insurance fund cannot pay the whole quote liability, so it may not take the collateral over: liquidate the collateral first")]
    InsuranceCannotTakeOverCollateral,
    #[msg("Bankruptcy accounts do not match the leftover collateral: its oracles, then (vault, insurance account, mint, token program) per asset, in balance-slot order")]
    BankruptcyAccountsMismatch,
    #[msg("The portfolio has no quote liability: nothing to resolve")]
    NotBankrupt,
    #[msg("The loss exceeds every positive quote balance: it cannot be socialized")]
    LossExceedsDeposits,
    #[msg("The insurance account is not the exchange's insurance account of that asset")]
    InsuranceVaultMismatch,

    // ---- appended after the areas above (codes already taken stay put) ----
    // Collateral links, per-change bound (`CollateralRiskParams::check_change`).
    #[msg(
        "A link's basis haircut drops more than the exchange's per-change step below the standalone haircut it replaces (10,000 - asset weight) or below its current value"
    )]
    BasisHaircutStepTooLarge,
    // Hedged liquidation (`liquidate_positions` with `hedge_collateral`).
    #[msg(
        "A hedge collateral must be a positive balance of the target linked to the liquidated perp's underlying, the position short, and at least one native unit per lot"
    )]
    InvalidHedgeCollateral,
    // Risk model (issue 15): tail table, expiry scaling, quote depeg contingency.
    #[msg(
        "Tail table malformed: at most 4 rows, |multiple| at most 25.00 x P and nonzero, positive both ways, |vol move| at most 30,000 bps, weight 1..=10,000 bps, unused rows, both-ways bits and reserved bytes zero"
    )]
    InvalidTailTable,
    #[msg(
        "A tail row changes more than one step: weight or vol move beyond the exchange's step, multiple beyond 1.00 x P, or its direction changed"
    )]
    TailStepTooLarge,
    #[msg(
        "The vol-shock scaling changes more than one step: the exponent beyond the exchange's step, or the reference or floor days while the scaling is on"
    )]
    VolScalingStepTooLarge,
    #[msg(
        "Quote peg parameters out of range: threshold 0..=10,000 bps, factor 0..=2,000 hundredths, a valid pull oracle when the threshold is set, all zero when not"
    )]
    InvalidQuotePeg,
    #[msg("The quote's peg price is older than its oracle's staleness limit: run update_quote_peg first")]
    QuotePegStale,
    #[msg("The quote asset has no peg contingency configured")]
    QuotePegNotConfigured,
    #[msg("This quote price was published before the one already recorded")]
    QuotePegOlderPrice,
    #[msg("The guardian may only add stress: raise tail weights, add tail rows, raise the stressed shock, raise the quote peg's threshold or factor, or raise the initial scale")]
    GuardianCannotLoosenScenario,
    #[msg(
        "The guardian may not change the tail table of an underlying in an offset group (legs net their tails only when their tables are the same): dissolve the group first, or use the timelock"
    )]
    GroupedTailChange,
    #[msg("The quote peg's oracle may only change while the contingency is off (threshold 0)")]
    QuotePegOracleLocked,
    #[msg("The proposal id must be the exchange's next_risk_change_id (its address is derived from it)")]
    RiskChangeIdMismatch,
    #[msg(
        "resolve_bankruptcy needs the Market account of every created market (the exchange's market_mask), writable, by ascending underlying, after the other remaining accounts"
    )]
    BankruptcyMarketsMismatch,
    #[msg("Nothing to sweep: no accrued fees or insurance shares in this market or the quote ledger, or an empty quote vault")]
    NothingToSweep,
    #[msg("The quote ledger is passed for a quote deposit or withdrawal, and only then (a non-quote one writes no shared account)")]
    QuoteLedgerMismatch,
    // Account versions (`state::versioned`).
    #[msg(
        "The account's layout version is not the one this program reads (the log names the account type and the found and expected versions): it must be migrated first"
    )]
    AccountVersionMismatch,
    // The governed initial-margin scale (`state::MarginScaleParams`; appended, so that no
    // earlier code moves).
    #[msg("Initial scale out of range: 10,000..=30,000 bps (1x to 3x the maintenance grid), padding zero")]
    InvalidInitialScale,
    #[msg("The initial scale falls by more than the exchange's step in one change (raises are free)")]
    InitialScaleStepTooLarge,
    // Market layout version 4 (`state::market`).
    #[msg("A series' convexity bound is beyond what a market stores (2^40 quote units per underlying unit): these marks cannot be recorded")]
    MarksOutOfRange,
    #[msg("migrate_market converts a version-3 market only (the log names the version found)")]
    MarketNotMigratable,
}

/// The program error of an engine error (`crates/risk`): one mapping for every call.
pub fn risk_error(e: RiskError) -> Error {
    let code = match e {
        RiskError::Overflow | RiskError::DivisionByZero | RiskError::MathDomain => XmarginError::RiskMath,
        RiskError::NonPositivePrice | RiskError::InvalidConfidence | RiskError::VolatilityOutOfRange => {
            XmarginError::RiskInvalidMarketData
        }
        RiskError::InvalidScenarioParams
        | RiskError::InvalidHaircutSchedule
        | RiskError::InvalidMarginParams
        | RiskError::InvalidInstrument
        | RiskError::InvalidCollateralLink
        | RiskError::InvalidOffsetGroup
        | RiskError::LevelNotBuilt => XmarginError::RiskInvalidParameters,
        RiskError::UnknownUnderlying(_) | RiskError::UnknownCollateral(_) => {
            XmarginError::RiskUnknownReference
        }
        RiskError::TimeNotIncreasing => XmarginError::RiskTimeNotIncreasing,
        RiskError::MarksMissing => XmarginError::MarksMissing,
        RiskError::MarksTooOld => XmarginError::MarksTooOld,
        RiskError::MarksSpotDrift => XmarginError::MarksSpotDrift,
        RiskError::MarksParamsChanged => XmarginError::MarksParamsChanged,
        RiskError::InvalidMarksPolicy => XmarginError::RiskInvalidParameters,
        RiskError::NotLiquidatable => XmarginError::NotLiquidatable,
        RiskError::NothingToLiquidate => XmarginError::NothingToLiquidate,
        RiskError::LiquidationWouldNotImprove => XmarginError::LiquidationWouldNotImprove,
        RiskError::InvalidLiquidationTerms => XmarginError::InvalidLiquidationTerms,
    };
    error!(code)
}
