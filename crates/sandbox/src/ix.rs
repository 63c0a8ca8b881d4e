//! Typed instruction builders for the instructions added with the collateral side.
use anchor_lang::prelude::Pubkey;
use anchor_lang::{AnchorDeserialize, InstructionData, ToAccountMetas};
use solana_instruction::{AccountMeta, Instruction};
use xmargin::instructions::{
    AcceptAuthorityArgs, DepositArgs, HealthView, ListCollateralArgs, OpenPortfolioArgs,
    ProposeAuthorityArgs, ProposeRiskChangeArgs, RiskChangeArgs, SetDelegateArgs, TightenOffsetsArgs,
    TightenRiskArgs, WithdrawArgs,
};
use xmargin::state::{HaircutRegistry, Portfolio};

use crate::{pda, Sandbox, TxFailure};

/// An xmargin instruction from its Anchor accounts and data (for tests that build one by hand:
/// another signer, a chosen account).
pub fn instruction(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: xmargin::ID, accounts: accounts.to_account_metas(None), data: data.data() }
}

impl Sandbox {
    pub fn registry(&self) -> Option<HaircutRegistry> {
        self.zero_copy_account(&pda::registry(&pda::exchange()))
    }

    pub fn portfolio(&self, address: &Pubkey) -> Option<Portfolio> {
        self.zero_copy_account(address)
    }

    /// `list_collateral` for `mint` (its token program read from the mint's owner).
    pub fn list_collateral_ix(
        &self,
        governance: Pubkey,
        mint: Pubkey,
        args: ListCollateralArgs,
    ) -> Instruction {
        let exchange = pda::exchange();
        let token_program = self.svm.get_account(&mint).map(|a| a.owner).unwrap_or_default();
        instruction(
            xmargin::accounts::ListCollateral {
                payer: self.payer_key(),
                governance,
                exchange,
                registry: pda::registry(&exchange),
                mint,
                vault: pda::vault(&exchange, &mint),
                insurance_vault: pda::collateral_insurance(&exchange, &mint),
                token_program,
                system_program: anchor_lang::system_program::ID,
            },
            xmargin::instruction::ListCollateral { args },
        )
    }

    pub fn open_portfolio_ix(&self, owner: Pubkey, index: u16) -> Instruction {
        instruction(
            xmargin::accounts::OpenPortfolio {
                payer: self.payer_key(),
                owner,
                exchange: pda::exchange(),
                portfolio: pda::portfolio(&owner, index),
                system_program: anchor_lang::system_program::ID,
            },
            xmargin::instruction::OpenPortfolio { args: OpenPortfolioArgs { index } },
        )
    }

    /// Sets the delegate with the default slippage (0: delegate fills at the mark).
    pub fn set_delegate_ix(&self, owner: Pubkey, portfolio: Pubkey, delegate: Pubkey) -> Instruction {
        self.set_delegate_with_slippage_ix(owner, portfolio, delegate, 0)
    }

    pub fn set_delegate_with_slippage_ix(
        &self,
        owner: Pubkey,
        portfolio: Pubkey,
        delegate: Pubkey,
        max_slippage_bps: u16,
    ) -> Instruction {
        instruction(
            xmargin::accounts::SetDelegate { owner, portfolio },
            xmargin::instruction::SetDelegate { args: SetDelegateArgs { delegate, max_slippage_bps } },
        )
    }

    pub fn close_portfolio_ix(&self, owner: Pubkey, portfolio: Pubkey) -> Instruction {
        instruction(
            xmargin::accounts::ClosePortfolio { owner, portfolio },
            xmargin::instruction::ClosePortfolio {},
        )
    }

    /// `deposit` of `mint` from `source` (owned by `depositor`) into `portfolio`; the vault is
    /// the mint's PDA vault unless overridden by the caller editing the instruction.
    pub fn deposit_ix(
        &self,
        depositor: Pubkey,
        portfolio: Pubkey,
        mint: Pubkey,
        source: Pubkey,
        amount: u64,
    ) -> Instruction {
        let exchange = pda::exchange();
        instruction(
            xmargin::accounts::Deposit {
                depositor,
                exchange,
                registry: pda::registry(&exchange),
                quote_ledger: self.quote_ledger_for(&mint),
                portfolio,
                mint,
                vault: pda::vault(&exchange, &mint),
                source,
                token_program: self.token_program_of(&mint),
            },
            xmargin::instruction::Deposit { args: DepositArgs { amount } },
        )
    }

    /// The quote ledger for a deposit or withdrawal of `mint`: the quote asset's only.
    pub fn quote_ledger_for(&self, mint: &Pubkey) -> Option<Pubkey> {
        let quote = self.exchange().is_some_and(|e| e.quote_mint == *mint);
        quote.then(|| pda::quote_ledger(&pda::exchange()))
    }

    /// `withdraw` with `oracles` as remaining accounts (see the program's health.rs order).
    pub fn withdraw_ix(
        &self,
        owner: Pubkey,
        portfolio: Pubkey,
        mint: Pubkey,
        destination: Pubkey,
        amount: u64,
        oracles: &[Pubkey],
    ) -> Instruction {
        let exchange = pda::exchange();
        let mut ix = instruction(
            xmargin::accounts::Withdraw {
                owner,
                exchange,
                registry: pda::registry(&exchange),
                quote_ledger: self.quote_ledger_for(&mint),
                portfolio,
                mint,
                vault: pda::vault(&exchange, &mint),
                destination,
                token_program: self.token_program_of(&mint),
            },
            xmargin::instruction::Withdraw { args: WithdrawArgs { amount } },
        );
        ix.accounts.extend(oracles.iter().map(|o| AccountMeta::new_readonly(*o, false)));
        ix
    }

    pub fn refresh_health_ix(&self, portfolio: Pubkey, oracles: &[Pubkey]) -> Instruction {
        let exchange = pda::exchange();
        let mut ix = instruction(
            xmargin::accounts::RefreshHealth { exchange, registry: pda::registry(&exchange), portfolio },
            xmargin::instruction::RefreshHealth {},
        );
        ix.accounts.extend(oracles.iter().map(|o| AccountMeta::new_readonly(*o, false)));
        ix
    }

    /// Runs `refresh_health` and decodes its return data.
    pub fn health(&mut self, portfolio: Pubkey, oracles: &[Pubkey]) -> Result<(HealthView, u64), TxFailure> {
        let ix = self.refresh_health_ix(portfolio, oracles);
        let landed = self.send(&[ix], &[])?;
        let view = HealthView::deserialize(&mut landed.return_data.as_slice()).expect("health return data");
        Ok((view, landed.compute_units))
    }

    /// `propose_risk_change`; returns the instruction and the proposal's id.
    pub fn propose_risk_change_ix(&self, governance: Pubkey, args: RiskChangeArgs) -> (Instruction, u64) {
        let exchange = pda::exchange();
        let id = self.exchange().map_or(0, |e| e.next_risk_change_id);
        let ix = instruction(
            xmargin::accounts::ProposeRiskChange {
                payer: self.payer_key(),
                governance,
                exchange,
                registry: pda::registry(&exchange),
                risk_change: pda::risk_change(&exchange, id),
                system_program: anchor_lang::system_program::ID,
            },
            xmargin::instruction::ProposeRiskChange { args: ProposeRiskChangeArgs { id, change: args } },
        );
        (ix, id)
    }

    pub fn execute_risk_change_ix(&self, id: u64) -> Instruction {
        let exchange = pda::exchange();
        instruction(
            xmargin::accounts::ExecuteRiskChange {
                exchange,
                registry: pda::registry(&exchange),
                risk_change: pda::risk_change(&exchange, id),
                payer: self.payer_key(),
            },
            xmargin::instruction::ExecuteRiskChange {},
        )
    }

    /// `migrate_market` of underlying `underlying`'s market, signed by `governance`.
    pub fn migrate_market_ix(&self, governance: Pubkey, underlying: u8) -> Instruction {
        let exchange = pda::exchange();
        instruction(
            xmargin::accounts::MigrateMarket {
                governance,
                exchange,
                registry: pda::registry(&exchange),
                market: pda::market(&exchange, underlying),
            },
            xmargin::instruction::MigrateMarket {
                args: xmargin::instructions::MigrateMarketArgs { underlying },
            },
        )
    }

    pub fn cancel_risk_change_ix(&self, governance: Pubkey, id: u64) -> Instruction {
        let exchange = pda::exchange();
        instruction(
            xmargin::accounts::CancelRiskChange {
                governance,
                exchange,
                risk_change: pda::risk_change(&exchange, id),
                payer: self.payer_key(),
            },
            xmargin::instruction::CancelRiskChange {},
        )
    }

    pub fn tighten_risk_ix(&self, guardian: Pubkey, args: TightenRiskArgs) -> Instruction {
        let exchange = pda::exchange();
        instruction(
            xmargin::accounts::TightenRisk { guardian, exchange, registry: pda::registry(&exchange) },
            xmargin::instruction::TightenRisk { args },
        )
    }

    pub fn tighten_offsets_ix(&self, guardian: Pubkey, args: TightenOffsetsArgs) -> Instruction {
        let exchange = pda::exchange();
        instruction(
            xmargin::accounts::TightenOffsets { guardian, exchange, registry: pda::registry(&exchange) },
            xmargin::instruction::TightenOffsets { args },
        )
    }

    pub fn propose_authority_ix(&self, governance: Pubkey, role: u8, new_authority: Pubkey) -> Instruction {
        instruction(
            xmargin::accounts::ProposeAuthority { governance, exchange: pda::exchange() },
            xmargin::instruction::ProposeAuthority { args: ProposeAuthorityArgs { role, new_authority } },
        )
    }

    pub fn accept_authority_ix(&self, new_authority: Pubkey, role: u8) -> Instruction {
        instruction(
            xmargin::accounts::AcceptAuthority { new_authority, exchange: pda::exchange() },
            xmargin::instruction::AcceptAuthority { args: AcceptAuthorityArgs { role } },
        )
    }

    /// `create_market` with `args`, signed by `governance` (the payer pays the rent).
    pub fn create_market_ix(
        &self,
        governance: Pubkey,
        args: xmargin::instructions::CreateMarketArgs,
    ) -> Instruction {
        let exchange = pda::exchange();
        instruction(
            xmargin::accounts::CreateMarket {
                payer: self.payer_key(),
                governance,
                exchange,
                registry: pda::registry(&exchange),
                market: pda::market(&exchange, args.underlying),
                system_program: anchor_lang::system_program::ID,
            },
            xmargin::instruction::CreateMarket { args },
        )
    }

    /// Underlying `underlying`'s market as stored.
    pub fn market(&self, underlying: u8) -> Option<xmargin::state::Market> {
        self.zero_copy_account(&pda::market(&pda::exchange(), underlying))
    }

    pub fn update_volatility_ix(&self, underlying: u8, oracle: Pubkey) -> Instruction {
        let exchange = pda::exchange();
        instruction(
            xmargin::accounts::UpdateVolatility {
                exchange,
                registry: pda::registry(&exchange),
                market: pda::market(&exchange, underlying),
                oracle,
            },
            xmargin::instruction::UpdateVolatility {
                args: xmargin::instructions::UpdateVolatilityArgs { underlying },
            },
        )
    }

    pub fn token_program_of(&self, mint: &Pubkey) -> Pubkey {
        self.svm.get_account(mint).map(|a| a.owner).unwrap_or_default()
    }
}

/// An I80F48 value (raw bits, as in `HealthView`) in quote units.
pub fn fx_bits_to_f64(bits: i128) -> f64 {
    bits as f64 / (1u64 << 48) as f64
}
