//! One error enum for the program, grouped by area. Anchor numbers the variants from 6000 in
//! declaration order; the codes are part of the client API once the program is deployed
//! (from then on, new variants go at the end). Clients should match on names (the IDL's
//! `errors`), which the TypeScript layer does.
use anchor_lang::prelude::*;

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
    #[msg("Portfolio is being liquidated")]
    PortfolioInLiquidation,
    #[msg("Oracle accounts do not match the portfolio's balances (count or order)")]
    OracleAccountsMismatch,
    #[msg("Positions cannot be margined until the trading instructions exist")]
    PositionMarginUnavailable,
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
}
