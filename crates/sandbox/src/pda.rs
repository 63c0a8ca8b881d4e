//! Program-derived addresses of xmargin accounts (seeds from `xmargin::seeds`).
use anchor_lang::prelude::Pubkey;
use xmargin::seeds::{EXCHANGE_SEED, INSURANCE_VAULT_SEED};

/// BPF upgradeable loader (owner of the program and its ProgramData account).
pub const BPF_LOADER_UPGRADEABLE: Pubkey =
    Pubkey::from_str_const("BPFLoaderUpgradeab1e11111111111111111111111");

pub fn exchange() -> Pubkey {
    Pubkey::find_program_address(&[EXCHANGE_SEED], &xmargin::ID).0
}

pub fn insurance_vault(exchange: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[INSURANCE_VAULT_SEED, exchange.as_ref()], &xmargin::ID).0
}

pub fn program_data() -> Pubkey {
    Pubkey::find_program_address(&[xmargin::ID.as_ref()], &BPF_LOADER_UPGRADEABLE).0
}
