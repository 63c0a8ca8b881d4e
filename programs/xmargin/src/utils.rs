//! Small account helpers shared by instructions.
use anchor_lang::prelude::*;
use anchor_lang::system_program::{allocate, assign, create_account, transfer};
use anchor_lang::system_program::{Allocate, Assign, CreateAccount, Transfer};

/// Creates a program-derived account of `space` bytes owned by `owner`, rent-exempt,
/// paid by `payer`. Works when someone has already sent lamports to the address (a
/// plain `create_account` would fail on such a pre-funded PDA, letting anyone block
/// initialization for the price of a transfer).
pub fn create_pda_account<'info>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    space: usize,
    owner: &Pubkey,
    signer_seeds: &[&[u8]],
) -> Result<()> {
    let required = Rent::get()?.minimum_balance(space);
    let current = target.lamports();
    let system = anchor_lang::system_program::ID;
    let seeds = &[signer_seeds];
    if current == 0 {
        let accounts = CreateAccount { from: payer.clone(), to: target.clone() };
        return create_account(
            CpiContext::new_with_signer(system, accounts, seeds),
            required,
            space as u64,
            owner,
        );
    }
    let top_up = required.saturating_sub(current);
    if top_up > 0 {
        let accounts = Transfer { from: payer.clone(), to: target.clone() };
        transfer(CpiContext::new(system, accounts), top_up)?;
    }
    let accounts = Allocate { account_to_allocate: target.clone() };
    allocate(CpiContext::new_with_signer(system, accounts, seeds), space as u64)?;
    let accounts = Assign { account_to_assign: target.clone() };
    assign(CpiContext::new_with_signer(system, accounts, seeds), owner)
}
