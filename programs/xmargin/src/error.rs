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
}
