//! Governance of collateral links and correlation offset groups on a [`Venue`]: a link or a
//! group proposed by governance and executed after the timelock, the guardian's unlinking
//! (`tighten_risk`) and offset tightening (`tighten_offsets`). Each helper sends what the
//! program would receive from the real keys, so tests see the program's own checks.
use solana_signer::Signer;
use xmargin::instructions::{RiskChangeArgs, TightenOffsetsArgs, TightenRiskArgs};
use xmargin::state::{CollateralLink, CollateralRiskParams, OffsetGroupConfig};

use crate::venue::Venue;
use crate::{TxFailure, TxResult, DEFAULT_TIMELOCK_SECS};

impl Venue {
    /// The governed parameters of collateral `index` as they are now.
    pub fn collateral_params(&self, index: u8) -> CollateralRiskParams {
        CollateralRiskParams::of(&self.sb.registry().expect("registry").collaterals[usize::from(index)])
    }

    /// Offset group `index` as it is now.
    pub fn offset_group(&self, index: u8) -> OffsetGroupConfig {
        self.sb.registry().expect("registry").offset_groups[usize::from(index)]
    }

    /// Sends `propose_risk_change` signed by governance; returns the proposal id.
    pub fn propose(&mut self, args: RiskChangeArgs) -> Result<u64, TxFailure> {
        let governance = self.fx.governance.insecure_clone();
        let (ix, id) = self.sb.propose_risk_change_ix(governance.pubkey(), args);
        self.sb.send(&[ix], &[&governance])?;
        Ok(id)
    }

    /// Sends `execute_risk_change` of proposal `id` (no warp).
    pub fn execute(&mut self, id: u64) -> TxResult {
        let ix = self.sb.execute_risk_change_ix(id);
        self.sb.send(&[ix], &[])
    }

    /// Proposes collateral `index`'s current parameters with `link` (an inactive, all-zero
    /// link unlinks); returns the proposal id.
    pub fn propose_collateral_link(&mut self, index: u8, link: CollateralLink) -> Result<u64, TxFailure> {
        let params = CollateralRiskParams { link, ..self.collateral_params(index) };
        self.propose(RiskChangeArgs::Collateral { index, params })
    }

    /// Proposes offset group `index`; returns the proposal id.
    pub fn propose_offset_group(&mut self, index: u8, group: OffsetGroupConfig) -> Result<u64, TxFailure> {
        self.propose(RiskChangeArgs::OffsetGroup { index, group })
    }

    /// Proposes `link` for collateral `index`, warps past the timelock (oracles re-published)
    /// and executes it.
    pub fn link_collateral(&mut self, index: u8, link: CollateralLink) -> TxResult {
        let id = self.propose_collateral_link(index, link)?;
        self.warp(DEFAULT_TIMELOCK_SECS);
        self.execute(id)
    }

    /// Proposes offset group `index`, warps past the timelock and executes it.
    pub fn set_offset_group(&mut self, index: u8, group: OffsetGroupConfig) -> TxResult {
        let id = self.propose_offset_group(index, group)?;
        self.warp(DEFAULT_TIMELOCK_SECS);
        self.execute(id)
    }

    /// The guardian unlinks collateral `index` at once (`tighten_risk` with every other
    /// parameter unchanged).
    pub fn unlink_collateral(&mut self, index: u8) -> TxResult {
        let params =
            CollateralRiskParams { link: CollateralLink::default(), ..self.collateral_params(index) };
        self.tighten_risk(index, params)
    }

    /// `tighten_risk` of collateral `index` signed by the guardian.
    pub fn tighten_risk(&mut self, collateral: u8, params: CollateralRiskParams) -> TxResult {
        let guardian = self.fx.guardian.insecure_clone();
        let ix = self.sb.tighten_risk_ix(guardian.pubkey(), TightenRiskArgs { collateral, params });
        self.sb.send(&[ix], &[&guardian])
    }

    /// `tighten_offsets` signed by the guardian: group `group` becomes `config` (its members
    /// with a credit no higher; a credit of 0 dissolves it).
    pub fn tighten_offsets(&mut self, group: u8, config: OffsetGroupConfig) -> TxResult {
        let guardian = self.fx.guardian.insecure_clone();
        let ix = self.sb.tighten_offsets_ix(guardian.pubkey(), TightenOffsetsArgs { group, config });
        self.sb.send(&[ix], &[&guardian])
    }

    /// The guardian lowers group `group`'s credit to `credit_bps` (0 dissolves it).
    pub fn lower_offset_credit(&mut self, group: u8, credit_bps: u16) -> TxResult {
        let config = OffsetGroupConfig { credit_bps, ..self.offset_group(group) };
        self.tighten_offsets(group, config)
    }
}
