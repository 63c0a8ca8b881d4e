//! Program-derived addresses of xmargin accounts (seeds from `xmargin::seeds`).
use anchor_lang::prelude::Pubkey;
use xmargin::seeds::{EXCHANGE_SEED, INSURANCE_VAULT_SEED};

/// BPF upgradeable loader (owner of the program and its ProgramData account).
pub const BPF_LOADER_UPGRADEABLE: Pubkey =
    Pubkey::from_str_const("BPFLoaderUpgradeab1e11111111111111111111111");

pub fn exchange() -> Pubkey {
    Pubkey::find_program_address(&[EXCHANGE_SEED], &xmargin::ID).0
}

/// The quote asset's ledger (its shard of Σ positive quote balances).
pub fn quote_ledger(exchange: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[xmargin::seeds::QUOTE_LEDGER_SEED, exchange.as_ref()], &xmargin::ID).0
}

pub fn insurance_vault(exchange: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[INSURANCE_VAULT_SEED, exchange.as_ref()], &xmargin::ID).0
}

/// The insurance account of a non-quote collateral (created by `list_collateral`).
pub fn collateral_insurance(exchange: &Pubkey, mint: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[xmargin::seeds::INSURANCE_SEED, exchange.as_ref(), mint.as_ref()],
        &xmargin::ID,
    )
    .0
}

pub fn program_data() -> Pubkey {
    Pubkey::find_program_address(&[xmargin::ID.as_ref()], &BPF_LOADER_UPGRADEABLE).0
}

pub fn registry(exchange: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[xmargin::seeds::REGISTRY_SEED, exchange.as_ref()], &xmargin::ID).0
}

pub fn vault(exchange: &Pubkey, mint: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[xmargin::seeds::VAULT_SEED, exchange.as_ref(), mint.as_ref()],
        &xmargin::ID,
    )
    .0
}

pub fn portfolio(owner: &Pubkey, index: u16) -> Pubkey {
    Pubkey::find_program_address(
        &[xmargin::seeds::PORTFOLIO_SEED, owner.as_ref(), &index.to_le_bytes()],
        &xmargin::ID,
    )
    .0
}

pub fn risk_change(exchange: &Pubkey, id: u64) -> Pubkey {
    Pubkey::find_program_address(
        &[xmargin::seeds::RISK_CHANGE_SEED, exchange.as_ref(), &id.to_le_bytes()],
        &xmargin::ID,
    )
    .0
}

pub fn market(exchange: &Pubkey, underlying: u8) -> Pubkey {
    Pubkey::find_program_address(
        &[xmargin::seeds::MARKET_SEED, exchange.as_ref(), &[underlying]],
        &xmargin::ID,
    )
    .0
}
