//! The risk model's governed parameters on a [`Venue`] (issue 15): an underlying's tail table,
//! vol-shock expiry scaling and stressed shock through the timelock or the guardian
//! (`tighten_scenario`), and the quote's depeg contingency with its own USD feed
//! (`propose_risk_change` `QuotePeg`, `update_quote_peg`), and the initial-margin scale
//! (`MarginScale`). The peg's feed is published only when a test asks (`post_quote_price`),
//! so a test controls its age.
use anchor_lang::prelude::Pubkey;
use solana_instruction::Instruction;
use solana_signer::Signer;
use xmargin::instructions::{RiskChangeArgs, TightenScenarioArgs};
use xmargin::state::{MarginScaleParams, QuotePegConfig, QuotePegParams, UnderlyingConfig};

use crate::ix::instruction;
use crate::venue::{pull_oracle, Venue, PRICE_EXPO};
use crate::{pda, TxFailure, TxResult, DEFAULT_TIMELOCK_SECS};

/// The quote's USD feed id in the sandbox (USDC/USD).
pub const QUOTE_PEG_FEED: [u8; 32] = [0x51; 32];

/// The peg's oracle configuration: the sandbox USDC/USD pull feed, 60 s staleness.
pub fn quote_peg_params(threshold_bps: u16, factor_hundredths: u16) -> QuotePegParams {
    QuotePegParams { oracle: pull_oracle(QUOTE_PEG_FEED), threshold_bps, factor_hundredths, _padding: [0; 4] }
}

/// An initial-margin scale of `bps` (15_000 = 1.5× the maintenance grid).
pub fn margin_scale(bps: u16) -> MarginScaleParams {
    MarginScaleParams { initial_scale_bps: bps, _padding: [0; 6] }
}

impl Venue {
    /// The initial-margin scale as stored.
    pub fn margin_scale(&self) -> MarginScaleParams {
        self.sb.registry().expect("registry").margin_scale
    }

    /// Proposes the initial-margin scale `params`; returns the proposal id.
    pub fn propose_margin_scale(&mut self, params: MarginScaleParams) -> Result<u64, TxFailure> {
        self.propose(RiskChangeArgs::MarginScale { params })
    }

    /// Underlying `index`'s governed parameters (estimator state zeroed).
    pub fn underlying_config(&self, index: u8) -> UnderlyingConfig {
        self.sb.registry().expect("registry").underlyings[usize::from(index)].governed()
    }

    /// The quote peg as stored.
    pub fn quote_peg(&self) -> QuotePegConfig {
        self.sb.registry().expect("registry").quote_peg
    }

    /// Proposes new governed parameters for underlying `index`, warps past the timelock and
    /// executes them.
    pub fn change_underlying(&mut self, index: u8, config: UnderlyingConfig) -> TxResult {
        let id = self.propose(RiskChangeArgs::Underlying { index, config })?;
        self.warp(DEFAULT_TIMELOCK_SECS);
        self.execute(id)
    }

    /// Proposes the quote peg `params`; returns the proposal id.
    pub fn propose_quote_peg(&mut self, params: QuotePegParams) -> Result<u64, TxFailure> {
        self.propose(RiskChangeArgs::QuotePeg { params })
    }

    /// Proposes the quote peg `params`, warps past the timelock and executes it.
    pub fn set_quote_peg(&mut self, params: QuotePegParams) -> TxResult {
        let id = self.propose_quote_peg(params)?;
        self.warp(DEFAULT_TIMELOCK_SECS);
        self.execute(id)
    }

    /// `tighten_scenario` with `guardian` as the signing key.
    pub fn tighten_scenario_ix(&self, guardian: Pubkey, args: TightenScenarioArgs) -> Instruction {
        let exchange = pda::exchange();
        instruction(
            xmargin::accounts::TightenScenario { guardian, exchange, registry: pda::registry(&exchange) },
            xmargin::instruction::TightenScenario { args },
        )
    }

    /// `tighten_scenario` signed by the guardian.
    pub fn tighten_scenario(&mut self, args: TightenScenarioArgs) -> TxResult {
        let guardian = self.fx.guardian.insecure_clone();
        let ix = self.tighten_scenario_ix(guardian.pubkey(), args);
        self.sb.send(&[ix], &[&guardian])
    }

    /// Publishes the quote's USD price (USD × 10^6, e.g. 950_000 = 0.95) on the peg feed at
    /// the current clock, with a confidence of 0.01%.
    pub fn post_quote_price(&mut self, price_e6: i64) {
        let q = self.sb.quote(price_e6, (price_e6 / 10_000).max(1) as u64, PRICE_EXPO);
        let oracle = crate::oracles::sponsored_feed_account(QUOTE_PEG_FEED);
        self.sb.put_pull_oracle(oracle, QUOTE_PEG_FEED, &q, true);
    }

    /// `update_quote_peg` from the peg feed (anyone may send it; the payer signs).
    pub fn update_quote_peg(&mut self) -> TxResult {
        let exchange = pda::exchange();
        let ix = instruction(
            xmargin::accounts::UpdateQuotePeg {
                exchange,
                registry: pda::registry(&exchange),
                oracle: crate::oracles::sponsored_feed_account(QUOTE_PEG_FEED),
            },
            xmargin::instruction::UpdateQuotePeg {},
        );
        self.sb.send(&[ix], &[])
    }
}
