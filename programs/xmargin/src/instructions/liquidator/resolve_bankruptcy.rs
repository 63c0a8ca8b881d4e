//! `resolve_bankruptcy` (permissionless): closes the deficit of a portfolio with no positions
//! and a quote liability, once nothing else of it can be liquidated.
//!
//! **Leftover collateral.** When the portfolio still holds non-quote collateral (dust no
//! liquidation could sell, or what its owner added), the resolution proceeds only if the
//! portfolio is insolvent: its equity (Σ balance × oracle price, the quote liability
//! included: `refresh_health`'s equity), computed with every oracle failure a hard error
//! (`OracleMode::Strict`), must be negative. Otherwise it fails with
//! `BankruptcyCollateralRemains`: liquidate the collateral instead. If the insurance vault
//! holds less than the whole quote liability it fails with
//! `InsuranceCannotTakeOverCollateral` (liquidate the collateral first): the fund takes
//! collateral in kind only when it pays the whole liability, so a socialized loss never
//! makes quote holders pay for collateral the fund keeps. The insurance fund then
//! takes the leftover collateral over: each balance is zeroed and its tokens moved from the asset's vault to the asset's insurance account
//! (`[INSURANCE_SEED, exchange, mint]`, created by `list_collateral`, owned by the exchange
//! PDA); one `CollateralTakenOver` event each. So no deposit blocks a resolution: whatever
//! collateral is there is taken over (and a third party cannot open a non-quote balance in
//! someone else's portfolio at all, see `deposit`).
//!
//! **The deficit** (unchanged by the above). The insurance vault pays what it can into the
//! quote vault. Any remainder is socialized over every positive quote balance: the registry's
//! `quote_loss_index` is multiplied by (1 − remainder / Σ positive quote balances) and Σ is
//! lowered by the remainder, so no loop over accounts is needed. Σ is kept in shards so that
//! no trade writes a venue-wide account: the quote ledger's (`QuoteLedger`) plus every
//! market's `positive_quote_delta` (`positions::PositiveQuote`); this instruction sums them
//! and folds the markets' shards into the ledger's (each set to 0). First of all it moves what
//! the fund is owed — the fees and insurance shares accrued in the markets and the ledger and
//! not yet swept (`sweep_fees`) — to the insurance vault, so a deficit is never socialized,
//! nor a takeover refused, while the fund waits for a keeper; each portfolio's balance
//! takes the haircut when it is next read or written (`positions::apply_quote_losses`). The
//! insurance fund is not credited with the taken-over collateral's value: it holds the tokens
//! instead, having paid the whole deficit. Always emits `BankruptcyResolved`.
//!
//! **Pauses.** Refused while liquidations are paused (`LiquidationsPaused`); the other pause
//! flags do not stop it. Resolution is the last step of a liquidation and its effects are
//! irreversible (a socialized loss cannot be undone; the collateral takeover rests on oracle
//! prices), and the guardian pauses liquidations precisely when prices or the liquidation
//! path are in doubt, so it waits for governance to lift the pause. Waiting costs nothing: a
//! portfolio with no positions owes a fixed quote amount. (A guardian that also wants quote
//! holders to share a pending loss pauses withdrawals too.)
//!
//! **Remaining accounts**, in this order:
//! 1. the oracle of every non-quote balance with a non-zero amount, in balance-slot order
//!    (`health.rs`'s order; with no positions there are no market accounts);
//! 2. for the first k ≥ 1 of those balances (same order), four accounts each: the asset's
//!    vault (writable), its insurance account (writable), its mint, its token program;
//! 3. the `Market` account of every created market (`Exchange::market_mask`), by ascending
//!    underlying, writable (`BankruptcyMarketsMismatch` when one is missing, extra, read-only
//!    or out of order).
//!
//! Without leftover collateral, only the markets. When k is below the number of leftover balances (all of
//! them do not fit in one transaction: 4 accounts each), those k are taken over and the call
//! ends there; a next call, with the oracles of those left, takes over the rest and resolves
//! the deficit.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{transfer_checked, TransferChecked};
use xmargin_risk::socialized::index_after_loss;
use xmargin_risk::Fx;

use super::set_liquidation_state;
use crate::error::XmarginError;
use crate::events::{BankruptcyResolved, CollateralTakenOver};
use crate::health::equity_inputs;
use crate::instructions::keeper::take_owed;
// Glob: a nested `#[derive(Accounts)]` needs its generated items (`QuoteVaultsBumps`, ...).
use crate::instructions::positions::{apply_quote_losses, credit_quote, engine, PositiveQuote, QUOTE_INDEX};
use crate::instructions::quote_vaults::*;
use crate::seeds::{EXCHANGE_SEED, INSURANCE_SEED, REGISTRY_SEED};
use crate::state::LoadChecked;
use crate::state::{pause, Exchange, HaircutRegistry, Market, Portfolio, QuoteLedger};

/// Accounts per leftover asset after the oracles: vault, insurance account, mint, token
/// program.
pub const TAKEOVER_ACCOUNTS: usize = 4;

#[derive(Accounts)]
pub struct ResolveBankruptcy<'info> {
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    /// The quote asset's ledger: the markets' shards of Σ positive quote balances are folded
    /// into it.
    #[account(mut, address = exchange.load_checked()?.quote_ledger @ XmarginError::QuoteLedgerMismatch)]
    pub quote_ledger: AccountLoader<'info, QuoteLedger>,
    #[account(mut, constraint = portfolio.load_checked()?.exchange == exchange.key() @ XmarginError::PortfolioExchangeMismatch)]
    pub portfolio: AccountLoader<'info, Portfolio>,
    #[account(constraint = vaults.check(&exchange, &registry)?)]
    pub vaults: QuoteVaults<'info>,
}

/// A leftover non-quote balance: its slot, collateral index and amount (native units, > 0).
struct Leftover {
    slot: usize,
    collateral: u8,
    amount: u64,
}

impl ResolveBankruptcy<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(
            !self.exchange.load_checked()?.is_paused(pause::LIQUIDATIONS),
            XmarginError::LiquidationsPaused
        );
        let p = self.portfolio.load_checked()?;
        require!(p.active_positions().next().is_none(), XmarginError::BankruptcyPositionsRemain);
        require!(p.balance(QUOTE_INDEX).is_some_and(|b| b.amount < 0), XmarginError::NotBankrupt);
        Ok(())
    }

    pub fn handler<'info>(ctx: Context<'info, ResolveBankruptcy<'info>>) -> Result<()> {
        let remaining = ctx.remaining_accounts;
        let count = usize::try_from(ctx.accounts.exchange.load_checked()?.market_mask.count_ones())
            .unwrap_or(usize::MAX);
        let split = remaining.len().checked_sub(count).ok_or(XmarginError::BankruptcyMarketsMismatch)?;
        let (accounts, markets) = remaining.split_at(split);
        let markets = created_markets(ctx.accounts, markets)?;
        // What the fund is owed (fees and insurance shares not yet swept) is the fund's: moved
        // first, so no loss is socialized, and no takeover refused, while it waits.
        sweep_owed(ctx.accounts, &markets)?;
        ctx.accounts.vaults.reload()?;
        let a = &ctx.accounts;
        let leftover = leftover_collateral(&*a.portfolio.load_checked()?);
        if leftover.is_empty() {
            require!(accounts.is_empty(), XmarginError::BankruptcyAccountsMismatch);
        } else if take_over_collateral(a, accounts, &leftover)? < leftover.len() {
            // The rest in a next call (see the module documentation).
            return Ok(());
        }
        resolve_deficit(a, &markets)
    }
}

/// The portfolio's non-quote balances with a positive amount, in slot order (non-quote
/// balances are never negative: withdrawals and liquidations stop at zero).
fn leftover_collateral(p: &Portfolio) -> Vec<Leftover> {
    p.balances
        .iter()
        .enumerate()
        .filter(|(_, b)| b.active == 1 && b.collateral != QUOTE_INDEX && b.amount > 0)
        .map(|(slot, b)| Leftover { slot, collateral: b.collateral, amount: b.amount.unsigned_abs() })
        .collect()
}

/// Checks insolvency, then moves the first k leftover balances to the insurance fund.
/// Returns k.
fn take_over_collateral<'info>(
    a: &ResolveBankruptcy<'info>,
    accounts: &'info [AccountInfo<'info>],
    leftover: &[Leftover],
) -> Result<usize> {
    let n = leftover.len();
    require!(accounts.len() > n, XmarginError::BankruptcyAccountsMismatch);
    let (oracles, groups) = accounts.split_at(n);
    let k = groups.len() / TAKEOVER_ACCOUNTS;
    require!(groups.len() % TAKEOVER_ACCOUNTS == 0 && k <= n, XmarginError::BankruptcyAccountsMismatch);

    let equity = {
        let (registry, p) = (a.registry.load_checked()?, a.portfolio.load_checked()?);
        let clock = Clock::get()?;
        equity_inputs(&p, &registry, oracles, &clock)?.totals()?.equity
    };
    require!(equity < Fx::ZERO, XmarginError::BankruptcyCollateralRemains);
    // The fund takes the collateral in kind only if it pays the whole quote liability: were
    // the liability socialized, quote holders would pay for collateral the fund keeps.
    let liability = {
        let registry = a.registry.load_checked()?;
        let mut p = a.portfolio.load_mut_checked()?;
        apply_quote_losses(&mut p, &registry)?;
        p.balance(QUOTE_INDEX).map_or(0, |b| b.amount.min(0).unsigned_abs())
    };
    if a.vaults.insurance_vault.amount < liability {
        msg!(
            "insurance {} < quote liability {}: liquidate the collateral first",
            a.vaults.insurance_vault.amount,
            liability
        );
        return err!(XmarginError::InsuranceCannotTakeOverCollateral);
    }

    let exchange_key = a.exchange.key();
    let bump = a.exchange.load_checked()?.bump;
    for (left, [vault, insurance, mint, token_program]) in
        leftover.iter().zip(groups.as_chunks::<TAKEOVER_ACCOUNTS>().0)
    {
        let config = a.registry.load_checked()?.collaterals[usize::from(left.collateral)];
        require_keys_eq!(*mint.key, config.mint, XmarginError::BankruptcyAccountsMismatch);
        require_keys_eq!(*vault.key, config.vault, XmarginError::VaultMismatch);
        require_keys_eq!(*token_program.key, config.token_program, XmarginError::TokenProgramMismatch);
        let (expected, _) = Pubkey::find_program_address(
            &[INSURANCE_SEED, exchange_key.as_ref(), mint.key.as_ref()],
            &crate::ID,
        );
        require_keys_eq!(*insurance.key, expected, XmarginError::InsuranceVaultMismatch);
        transfer_checked(
            CpiContext::new_with_signer(
                config.token_program,
                TransferChecked {
                    from: vault.clone(),
                    mint: mint.clone(),
                    to: insurance.clone(),
                    authority: a.exchange.to_account_info(),
                },
                &[&[EXCHANGE_SEED, &[bump]]],
            ),
            left.amount,
            config.decimals,
        )?;

        let mut p = a.portfolio.load_mut_checked()?;
        let balance_before = p.balances[left.slot].amount;
        p.balances[left.slot].amount = 0;
        let vault_balance_after = token_amount(vault)?;
        emit!(CollateralTakenOver {
            portfolio: a.portfolio.key(),
            collateral: left.collateral,
            mint: config.mint,
            insurance_vault: expected,
            amount: left.amount,
            balance_before,
            balance_after: 0,
            vault_balance_after,
            insurance_balance_after: token_amount(insurance)?,
        });
    }
    Ok(k)
}

/// The amount of an SPL Token or Token-2022 account (bytes 64..72 of either layout: mint,
/// owner, amount).
fn token_amount(info: &AccountInfo) -> Result<u64> {
    let data = info.try_borrow_data()?;
    let bytes: [u8; 8] =
        data.get(64..72).and_then(|b| b.try_into().ok()).ok_or(XmarginError::BankruptcyAccountsMismatch)?;
    Ok(u64::from_le_bytes(bytes))
}

/// `markets` checked to be exactly the created markets (`Exchange::market_mask`), writable,
/// by ascending underlying.
fn created_markets<'info>(
    a: &ResolveBankruptcy<'info>,
    markets: &'info [AccountInfo<'info>],
) -> Result<Vec<AccountLoader<'info, Market>>> {
    let mask = a.exchange.load_checked()?.market_mask;
    let mut expected = (0u8..16).filter(|u| mask & (1 << u) != 0);
    let mut out = Vec::with_capacity(markets.len());
    for info in markets {
        let loader =
            AccountLoader::<Market>::try_from(info).map_err(|_| XmarginError::BankruptcyMarketsMismatch)?;
        require!(info.is_writable, XmarginError::BankruptcyMarketsMismatch);
        let ok = {
            let m = loader.load_checked()?;
            m.exchange == a.exchange.key() && expected.next() == Some(m.underlying)
        };
        require!(ok, XmarginError::BankruptcyMarketsMismatch);
        out.push(loader);
    }
    require!(expected.next().is_none(), XmarginError::BankruptcyMarketsMismatch);
    Ok(out)
}

/// Moves what the fund is owed — the quote ledger's and every market's accrued fees and
/// insurance shares — to the insurance vault (at most the quote vault's balance,
/// `sweep_fees::take_owed`).
fn sweep_owed<'info>(a: &ResolveBankruptcy<'info>, markets: &[AccountLoader<'info, Market>]) -> Result<()> {
    let mut ledger = a.quote_ledger.load_mut_checked()?;
    let mut loaded = markets.iter().map(|m| m.load_mut_checked()).collect::<Result<Vec<_>>>()?;
    let mut records: Vec<&mut u64> = core::iter::once(&mut ledger.fees_accrued)
        .chain(loaded.iter_mut().map(|m| &mut m.fees_accrued))
        .collect();
    let amount = take_owed(a.vaults.quote_vault.amount, &mut records);
    drop(records);
    drop(loaded);
    drop(ledger);
    a.vaults.pay_insurance(&a.exchange, amount)
}

/// Σ positive quote balances: the quote ledger's shard plus every market's; each market's
/// shard is folded into the returned sum and set to 0 (the caller writes the sum into the
/// ledger).
fn fold_market_shards(ledger_shard: i64, markets: &[AccountLoader<'_, Market>]) -> Result<u64> {
    let mut total = i128::from(ledger_shard);
    for loader in markets {
        let mut m = loader.load_mut_checked()?;
        total = total.saturating_add(i128::from(m.positive_quote_delta));
        m.positive_quote_delta = 0;
    }
    // A sum of positive balances: never negative unless the bookkeeping is wrong.
    u64::try_from(total).map_err(|_| error!(XmarginError::AmountTooLarge))
}

/// Covers the quote deficit from the insurance vault, socializing any remainder.
fn resolve_deficit<'info>(
    a: &ResolveBankruptcy<'info>,
    markets: &[AccountLoader<'info, Market>],
) -> Result<()> {
    let deficit = {
        let registry = a.registry.load_checked()?;
        let mut p = a.portfolio.load_mut_checked()?;
        apply_quote_losses(&mut p, &registry)?;
        p.balance(QUOTE_INDEX).map_or(0, |b| b.amount.min(0).unsigned_abs())
    };
    let insurance_paid = deficit.min(a.vaults.insurance_vault.amount);
    a.vaults.draw_insurance(&a.exchange, insurance_paid)?;
    let socialized = deficit.saturating_sub(insurance_paid);

    let total_before = fold_market_shards(a.quote_ledger.load_checked()?.positive_quote_delta, markets)?;
    let signed_total = |t: u64| i64::try_from(t).map_err(|_| error!(XmarginError::AmountTooLarge));
    let mut ledger = a.quote_ledger.load_mut_checked()?;
    ledger.positive_quote_delta = signed_total(total_before)?;
    let mut registry = a.registry.load_mut_checked()?;
    let index_before = registry.quote_loss_index();
    let mut index_after = index_before;
    let mut total_after = total_before;
    if socialized > 0 {
        require!(socialized < total_before, XmarginError::LossExceedsDeposits);
        index_after = engine(index_after_loss(index_before, total_before, socialized))?;
        registry.quote_loss_index.set(index_after);
        total_after = total_before.saturating_sub(socialized);
        ledger.positive_quote_delta = signed_total(total_after)?;
    }
    {
        let mut p = a.portfolio.load_mut_checked()?;
        let signed = i64::try_from(deficit).map_err(|_| XmarginError::AmountTooLarge)?;
        // From −deficit to 0: no change of Σ positive balances, recorded all the same.
        credit_quote(&mut p, &registry, &mut PositiveQuote(&mut ledger.positive_quote_delta), signed)?;
        p.quote_loss_snapshot.set(index_after);
    }
    drop(registry);
    drop(ledger);
    set_liquidation_state(&a.portfolio, false)?;
    emit!(BankruptcyResolved {
        portfolio: a.portfolio.key(),
        deficit,
        insurance_paid,
        socialized,
        insurance_balance_after: a.vaults.insurance_vault.amount.saturating_sub(insurance_paid),
        total_quote_deposits_before: total_before,
        total_quote_deposits_after: total_after,
        loss_index_before: index_before.to_bits(),
        loss_index_after: index_after.to_bits(),
    });
    Ok(())
}
