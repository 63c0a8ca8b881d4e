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

/// Creates a program-owned zero-copy account at a PDA and writes its discriminator.
/// `ALREADY` is returned when the address already holds an account.
pub fn create_zero_copy_account<'info>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    space: usize,
    discriminator: &[u8],
    signer_seeds: &[&[u8]],
) -> Result<()> {
    create_pda_account(payer, target, space, &crate::ID, signer_seeds)?;
    target.try_borrow_mut_data()?[..discriminator.len()].copy_from_slice(discriminator);
    Ok(())
}

/// Creates a token account at a PDA (`signer_seeds`) for `mint`, owned by `authority`,
/// under `token_program` (SPL Token or Token-2022, base size: the mints we accept have no
/// extensions).
pub fn create_token_account<'info>(
    payer: &AccountInfo<'info>,
    account: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    token_program: &Pubkey,
    signer_seeds: &[&[u8]],
) -> Result<()> {
    create_pda_account(payer, account, anchor_spl::token::TokenAccount::LEN, token_program, signer_seeds)?;
    anchor_spl::token_interface::initialize_account3(CpiContext::new(
        *token_program,
        anchor_spl::token_interface::InitializeAccount3 {
            account: account.clone(),
            mint: mint.clone(),
            authority: authority.clone(),
        },
    ))
}

/// Whether an account holds no data and belongs to the system program (never created).
pub fn is_uninitialized(info: &AccountInfo) -> bool {
    info.data_is_empty() && info.owner == &anchor_lang::system_program::ID
}
