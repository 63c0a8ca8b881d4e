//! Liquidation instructions on the venue: position and collateral liquidation, bankruptcy
//! resolution, and funding the insurance vault.
use anchor_lang::prelude::AccountMeta;
use solana_instruction::Instruction;
use solana_signer::Signer;
use xmargin::instructions::{LiquidateCollateralArgs, LiquidatePositionsArgs};
use xmargin::state::PERP_INSTRUMENT;

use crate::ix::instruction;
use crate::venue::{budget_ixs, Trader, Venue};
use crate::{pda, Pubkey, TxResult};

/// Health accounts of the target, then of the liquidator.
pub struct LiquidationAccounts<'a> {
    pub target: &'a [Pubkey],
    pub liquidator: &'a [Pubkey],
}

impl Venue {
    /// `liquidate_positions` of the target's `instrument` on `underlying`, at most `max_lots`,
    /// signed by the liquidator's owner.
    pub fn liquidate_positions_ix(
        &self,
        liquidator: &Trader,
        target: &Pubkey,
        underlying: u8,
        instrument: u8,
        max_lots: u64,
    ) -> Instruction {
        self.liquidate_positions_hedged_ix(liquidator, target, underlying, instrument, max_lots, None)
    }

    /// `liquidate_positions`, with linked collateral `hedge` taken over with the position (the
    /// liquidator's health accounts as they will be: the collateral in its slot).
    pub fn liquidate_positions_hedged_ix(
        &self,
        liquidator: &Trader,
        target: &Pubkey,
        underlying: u8,
        instrument: u8,
        max_lots: u64,
        hedge: Option<u8>,
    ) -> Instruction {
        let exchange = pda::exchange();
        let target_accounts = self.health_accounts(target, Some(underlying));
        let mut after: xmargin::state::Portfolio =
            self.sb.portfolio(&liquidator.portfolio).expect("portfolio");
        if let Some(slot) = hedge.and_then(|c| after.balance_mut_or_insert(c)) {
            slot.amount = slot.amount.saturating_add(1);
        }
        let liquidator_accounts = self.health_accounts_of(&after, Some(underlying));
        let u = &self.underlyings[usize::from(underlying)];
        let mut ix = instruction(
            xmargin::accounts::LiquidatePositions {
                liquidator_signer: liquidator.owner.pubkey(),
                exchange,
                registry: pda::registry(&exchange),
                liquidator: liquidator.portfolio,
                target: *target,
                market: u.market,
                oracle: u.oracle,
            },
            xmargin::instruction::LiquidatePositions {
                args: LiquidatePositionsArgs {
                    instrument,
                    max_lots,
                    target_health_accounts: target_accounts.len() as u8,
                    hedge_collateral: hedge,
                },
            },
        );
        ix.accounts.extend(
            target_accounts.iter().chain(&liquidator_accounts).map(|k| AccountMeta::new_readonly(*k, false)),
        );
        ix
    }

    /// Sends `liquidate_positions` after a keeper pass, with the largest budget.
    pub fn liquidate_positions(
        &mut self,
        liquidator: &Trader,
        target: &Pubkey,
        underlying: u8,
        instrument: u8,
        max_lots: u64,
    ) -> TxResult {
        self.mark_all();
        let ix = self.liquidate_positions_ix(liquidator, target, underlying, instrument, max_lots);
        let [a, b] = budget_ixs();
        self.sb.send(&[a, b, ix], &[&liquidator.owner])
    }

    /// Sends a hedged `liquidate_positions` (the target's short perp on `underlying` with the
    /// linked collateral `hedge`) after a keeper pass, with the largest budget.
    pub fn liquidate_carry(
        &mut self,
        liquidator: &Trader,
        target: &Pubkey,
        underlying: u8,
        hedge: u8,
        max_lots: u64,
    ) -> TxResult {
        self.mark_all();
        let ix = self.liquidate_positions_hedged_ix(
            liquidator,
            target,
            underlying,
            PERP_INSTRUMENT,
            max_lots,
            Some(hedge),
        );
        let [a, b] = budget_ixs();
        self.sb.send(&[a, b, ix], &[&liquidator.owner])
    }

    /// `liquidate_collateral` of `collateral` (whose oracle is `oracle`), at most `max_amount`
    /// native units, with explicit health accounts (the liquidator's after the call).
    pub fn liquidate_collateral_ix(
        &self,
        liquidator: &Trader,
        target: &Pubkey,
        collateral: u8,
        oracle: Pubkey,
        max_amount: u64,
        accounts: LiquidationAccounts<'_>,
    ) -> Instruction {
        let exchange = pda::exchange();
        let mut ix = instruction(
            xmargin::accounts::LiquidateCollateral {
                liquidator_signer: liquidator.owner.pubkey(),
                exchange,
                registry: pda::registry(&exchange),
                quote_ledger: pda::quote_ledger(&exchange),
                liquidator: liquidator.portfolio,
                target: *target,
                oracle,
            },
            xmargin::instruction::LiquidateCollateral {
                args: LiquidateCollateralArgs {
                    collateral,
                    max_amount,
                    target_health_accounts: accounts.target.len() as u8,
                },
            },
        );
        ix.accounts.extend(
            accounts.target.iter().chain(accounts.liquidator).map(|k| AccountMeta::new_readonly(*k, false)),
        );
        ix
    }

    /// Lists a collateral asset (SPL Token, `decimals`) with a pull oracle at `price` (quote
    /// native units per whole token) and the given weights (bps). The initial weight is set
    /// directly (a state patch standing for the timelocked changes that would raise it from
    /// the listing's 0; tests/governance.rs covers that flow). Returns its index.
    pub fn list_collateral_asset(
        &mut self,
        decimals: u8,
        price: i64,
        initial_bps: u16,
        maintenance_bps: u16,
    ) -> Result<u8, crate::TxFailure> {
        let mint = self.sb.create_mint(decimals);
        let index = self.sb.registry().map_or(0, |r| r.collateral_count);
        let feed = [0x80u8.saturating_add(index); 32];
        let args = xmargin::instructions::ListCollateralArgs {
            oracle: crate::venue::pull_oracle(feed),
            haircut: crate::fixtures::haircut(0, maintenance_bps, &[]),
            deposit_cap: crate::DEFAULT_DEPOSIT_CAP,
        };
        let governance = self.fx.governance.insecure_clone();
        let ix = self.sb.list_collateral_ix(governance.pubkey(), mint, args);
        self.sb.send(&[ix], &[&governance])?;
        self.sb.patch_zero_copy::<xmargin::state::HaircutRegistry>(&pda::registry(&pda::exchange()), |r| {
            r.collaterals[usize::from(index)].haircut.initial_asset_weight_bps = initial_bps;
        });
        let oracle = crate::oracles::sponsored_feed_account(feed);
        self.collaterals.push(crate::venue::VenueCollateral { index, mint, feed, oracle, price });
        self.publish();
        Ok(index)
    }

    /// Sets a listed collateral's oracle price and publishes.
    pub fn set_collateral_price(&mut self, index: u8, price: i64) {
        if let Some(c) = self.collaterals.iter_mut().find(|c| c.index == index) {
            c.price = price;
        }
        self.publish();
    }

    /// Deposits `amount` native units of collateral `index` (minted to the trader first).
    pub fn deposit_collateral(&mut self, trader: &Trader, index: u8, amount: u64) -> TxResult {
        let mint = self.collaterals.iter().find(|c| c.index == index).expect("listed").mint;
        let source = self.sb.create_token_account(&mint, &trader.owner.pubkey(), amount);
        let ix = self.sb.deposit_ix(trader.owner.pubkey(), trader.portfolio, mint, source, amount);
        self.sb.send(&[ix], &[&trader.owner])
    }

    /// Sends `liquidate_collateral` of `index` with the health accounts worked out: the
    /// target's as it is, the liquidator's as it will be (the collateral in its slot).
    pub fn liquidate_collateral(
        &mut self,
        liquidator: &Trader,
        target: &Pubkey,
        index: u8,
        max_amount: u64,
    ) -> TxResult {
        self.mark_all();
        let oracle =
            self.collaterals.iter().find(|c| c.index == index).map_or(Pubkey::default(), |c| c.oracle);
        let target_accounts = self.health_accounts(target, None);
        let mut after: xmargin::state::Portfolio =
            self.sb.portfolio(&liquidator.portfolio).expect("portfolio");
        if let Some(slot) = after.balance_mut_or_insert(index) {
            slot.amount = slot.amount.saturating_add(1);
        }
        let liquidator_accounts = self.health_accounts_of(&after, None);
        let ix = self.liquidate_collateral_ix(
            liquidator,
            target,
            index,
            oracle,
            max_amount,
            LiquidationAccounts { target: &target_accounts, liquidator: &liquidator_accounts },
        );
        let [a, b] = budget_ixs();
        self.sb.send(&[a, b, ix], &[&liquidator.owner])
    }

    /// `resolve_bankruptcy` of a portfolio, with its remaining accounts in the program's order:
    /// the oracles of its non-zero non-quote balances (equity needs no underlying: links are
    /// left out), then (vault,
    /// insurance account, mint, token program) of each leftover non-quote balance, slot order.
    pub fn resolve_bankruptcy_ix(&self, portfolio: &Pubkey) -> Instruction {
        let exchange = pda::exchange();
        let mut ix = instruction(
            xmargin::accounts::ResolveBankruptcy {
                exchange,
                registry: pda::registry(&exchange),
                quote_ledger: pda::quote_ledger(&exchange),
                portfolio: *portfolio,
                vaults: self.quote_vaults(),
            },
            xmargin::instruction::ResolveBankruptcy {},
        );
        let p: xmargin::state::Portfolio = self.sb.portfolio(portfolio).expect("portfolio");
        let registry = self.sb.registry().expect("registry");
        ix.accounts
            .extend(self.collateral_oracles_of(&p).into_iter().map(|k| AccountMeta::new_readonly(k, false)));
        for b in p.balances.iter().filter(|b| b.active == 1 && b.collateral != 0 && b.amount > 0) {
            let c = &registry.collaterals[usize::from(b.collateral)];
            ix.accounts.extend([
                AccountMeta::new(c.vault, false),
                AccountMeta::new(pda::collateral_insurance(&exchange, &c.mint), false),
                AccountMeta::new_readonly(c.mint, false),
                AccountMeta::new_readonly(c.token_program, false),
            ]);
        }
        // Every created market, ascending underlying: Σ positive quote balances is kept in
        // their shards too.
        let mask = self.sb.exchange().expect("exchange").market_mask;
        let markets = self.underlyings.iter().filter(|u| mask & (1 << u.index) != 0).map(|u| u.market);
        ix.accounts.extend(markets.map(|k| AccountMeta::new(k, false)));
        ix
    }

    /// Tops up the insurance vault with `amount` quote native units (a plain token transfer
    /// from a donor: anyone may fund it).
    pub fn fund_insurance(&mut self, amount: u64) -> TxResult {
        let donor = self.sb.funded_keypair();
        let mint = self.fx.quote_mint;
        let source = self.sb.create_token_account(&mint, &donor.pubkey(), amount);
        let token_program = self.sb.token_program_of(&mint);
        let ix = spl_token_interface::instruction::transfer(
            &token_program,
            &source,
            &pda::insurance_vault(&pda::exchange()),
            &donor.pubkey(),
            &[],
            amount,
        )
        .expect("transfer instruction");
        self.sb.send(&[ix], &[&donor])
    }
}
