//! One error enum for the program. Variants are grouped by area; Anchor numbers them from
//! 6000 in declaration order, so new variants are appended at the end of their group's
//! reserved range only by adding to the end of the enum (codes are part of the client API).
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
}
