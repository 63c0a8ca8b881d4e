//! Token mints and accounts written straight into the SVM (SPL Token and Token-2022).
use anchor_lang::prelude::Pubkey;
use solana_program_pack::Pack;
use solana_signer::Signer;

use crate::Sandbox;

pub const TOKEN_2022: Pubkey = Pubkey::from_str_const("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");

impl Sandbox {
    /// An initialized mint under `token_program` (SPL Token or Token-2022, no extensions).
    pub fn create_mint_with(&mut self, decimals: u8, token_program: Pubkey) -> Pubkey {
        let mint = solana_keypair::Keypair::new().pubkey();
        let mut data = vec![0u8; spl_token_interface::state::Mint::LEN];
        let state = spl_token_interface::state::Mint {
            mint_authority: Some(self.payer.pubkey()).into(),
            supply: 0,
            decimals,
            is_initialized: true,
            freeze_authority: None.into(),
        };
        spl_token_interface::state::Mint::pack(state, &mut data).expect("pack mint");
        self.put_account(mint, data, token_program);
        mint
    }

    /// A token account of `mint` owned by `owner` holding `amount` (same token program as
    /// the mint).
    pub fn create_token_account(&mut self, mint: &Pubkey, owner: &Pubkey, amount: u64) -> Pubkey {
        let address = solana_keypair::Keypair::new().pubkey();
        let token_program = self.svm.get_account(mint).expect("mint").owner;
        let mut data = vec![0u8; spl_token_interface::state::Account::LEN];
        let state = spl_token_interface::state::Account {
            mint: *mint,
            owner: *owner,
            amount,
            delegate: None.into(),
            state: spl_token_interface::state::AccountState::Initialized,
            is_native: None.into(),
            delegated_amount: 0,
            close_authority: None.into(),
        };
        spl_token_interface::state::Account::pack(state, &mut data).expect("pack token account");
        self.put_account(address, data, token_program);
        address
    }
}
