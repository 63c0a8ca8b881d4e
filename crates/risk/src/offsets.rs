//! Correlation offsets across underlyings (CME SPAN's inter-commodity spread credit, in a
//! shape that keeps every property the engine relies on).
//!
//! Governance groups correlated underlyings (BTC and ETH) and gives each group a credit
//! ρ ∈ [0, 1]. For a group's underlyings u with requirements R_u (at one level) the group
//! needs
//!
//! ```text
//! R_group = Σ R_u − ρ · (Σ R_u − R_joint)
//! ```
//!
//! where R_joint (`grid::joint_requirement`) is the requirement when the group's
//! underlyings move together, each by the same fraction of its own shock. Why it is safe:
//!
//! - **Same-direction books get no credit.** A long/long book loses most when everything
//!   falls together, which is a joint scenario: R_joint = Σ R_u. Correlations go to one in a
//!   crash, so only books whose legs offset (long BTC / short ETH) earn the credit.
//! - **Never below the joint loss.** R_joint ≤ Σ R_u (every joint scenario is a scenario of
//!   each leg's own grid), so R_group ≥ R_joint: the requirement always covers the legs
//!   moving together by their full shocks.
//! - **Convex, subadditive, positively homogeneous** in the sizes: (1 − ρ)·Σ R_u + ρ·R_joint
//!   is a non-negative combination of functions that are. So splitting a book over two
//!   portfolios never lowers the total requirement, and liquidation's search (concave
//!   health) stays exact.
//! - **ρ = 0 reproduces the engine without offsets exactly** (nothing is computed).
//! - **On-chain ρ ≤ ½** (governance cap): for delta legs, taking one leg of an offsetting
//!   pair changes R_group by (2ρ − 1)·R_leg, which must not be positive, or a book under
//!   water could not be liquidated one leg at a time. The engine itself accepts ρ ≤ 1 (what-if
//!   books in the CLI).
//!
//! The part of Σ R_u that the credit does not remove, (1 − ρ)·(Σ R_u − R_joint), is what
//! covers the legs moving apart (the FTX week: SOL −85% against BTC −18% in a day); the
//! reference ρ per group is calibrated on crash data (`xmargin calibrate`).
//!
//! Groups are disjoint (an underlying is in at most one), so requirements stay additive
//! across groups.
use alloc::vec::Vec;

use crate::error::{Result, RiskError};
use crate::fx::{Checked, Fx, ONE, ZERO};
use crate::grid::{joint_requirement, JointLeg};

/// Most underlyings in one group.
pub const MAX_GROUP_MEMBERS: usize = 4;
/// Most groups in a table.
pub const MAX_GROUPS: usize = 4;

/// One offset group: its underlyings and its correlation credit ρ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OffsetGroup {
    pub members: [u16; MAX_GROUP_MEMBERS],
    /// Members used, 2..=`MAX_GROUP_MEMBERS`.
    pub count: u8,
    /// ρ, a fraction in [0, 1].
    pub credit: Fx,
}

impl OffsetGroup {
    pub fn new(members: &[u16], credit: Fx) -> Result<OffsetGroup> {
        if members.len() > MAX_GROUP_MEMBERS {
            return Err(RiskError::InvalidOffsetGroup);
        }
        let mut g = OffsetGroup { members: [0; MAX_GROUP_MEMBERS], count: 0, credit };
        g.members[..members.len()].copy_from_slice(members);
        g.count = u8::try_from(members.len()).map_err(|_| RiskError::InvalidOffsetGroup)?;
        g.validate()?;
        Ok(g)
    }

    pub fn members(&self) -> &[u16] {
        &self.members[..usize::from(self.count).min(MAX_GROUP_MEMBERS)]
    }

    pub fn contains(&self, underlying: u16) -> bool {
        self.members().contains(&underlying)
    }

    pub fn validate(&self) -> Result<()> {
        let m = self.members();
        let distinct = m.iter().enumerate().all(|(i, a)| !m[..i].contains(a));
        let ok = (2..=MAX_GROUP_MEMBERS).contains(&usize::from(self.count))
            && distinct
            && self.credit >= ZERO
            && self.credit <= ONE;
        if ok {
            Ok(())
        } else {
            Err(RiskError::InvalidOffsetGroup)
        }
    }
}

/// The governed offset groups of a venue (at most `MAX_GROUPS`, disjoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OffsetTable {
    pub groups: [OffsetGroup; MAX_GROUPS],
    pub count: u8,
}

impl OffsetTable {
    /// No offsets: every underlying margined on its own.
    pub const NONE: OffsetTable = OffsetTable {
        groups: [OffsetGroup { members: [0; MAX_GROUP_MEMBERS], count: 0, credit: ZERO }; MAX_GROUPS],
        count: 0,
    };

    pub fn new(groups: &[OffsetGroup]) -> Result<OffsetTable> {
        if groups.len() > MAX_GROUPS {
            return Err(RiskError::InvalidOffsetGroup);
        }
        let mut t = OffsetTable::NONE;
        t.groups[..groups.len()].copy_from_slice(groups);
        t.count = u8::try_from(groups.len()).map_err(|_| RiskError::InvalidOffsetGroup)?;
        t.validate()?;
        Ok(t)
    }

    pub fn groups(&self) -> &[OffsetGroup] {
        &self.groups[..usize::from(self.count).min(MAX_GROUPS)]
    }

    /// Each group valid, no underlying in two groups.
    pub fn validate(&self) -> Result<()> {
        if usize::from(self.count) > MAX_GROUPS {
            return Err(RiskError::InvalidOffsetGroup);
        }
        let groups = self.groups();
        for (i, g) in groups.iter().enumerate() {
            g.validate()?;
            if groups[..i].iter().any(|h| g.members().iter().any(|u| h.contains(*u))) {
                return Err(RiskError::InvalidOffsetGroup);
            }
        }
        Ok(())
    }

    /// The group `underlying` belongs to, if any (with a credit: a ρ = 0 group offsets
    /// nothing and is treated as absent).
    pub fn group_of(&self, underlying: u16) -> Option<usize> {
        self.groups().iter().position(|g| g.credit > ZERO && g.contains(underlying))
    }
}

/// One underlying's requirement at a level and its joint-scenario terms.
#[derive(Debug, Clone, Copy)]
pub struct OffsetPart {
    pub underlying: u16,
    /// R_u: the requirement offsets apply to (without the stable-price charge, which is a
    /// valuation of gains, not a scenario loss).
    pub requirement: Fx,
    pub leg: JointLeg,
}

/// The credit of one group: ρ·max(0, Σ R_u − R_joint) over the parts in it (zero with fewer
/// than two). Rounded down (the fixed-point product rounds toward −∞).
pub fn group_credit(group: &OffsetGroup, parts: &[OffsetPart]) -> Result<Fx> {
    if group.credit <= ZERO {
        return Ok(ZERO);
    }
    // On the heap: a leg carries its tail table, and four of them would crowd the 4 KiB
    // sBPF stack frame.
    let mut legs: Vec<JointLeg> = Vec::with_capacity(MAX_GROUP_MEMBERS);
    let mut sum = ZERO;
    for p in parts.iter().filter(|p| group.contains(p.underlying)) {
        if legs.len() == MAX_GROUP_MEMBERS {
            return Err(RiskError::InvalidOffsetGroup);
        }
        legs.push(p.leg);
        sum = sum.add_c(p.requirement)?;
    }
    if legs.len() < 2 {
        return Ok(ZERO);
    }
    let joint = joint_requirement(&legs)?;
    group.credit.mul_c(sum.sub_c(joint)?.max(ZERO))
}

/// Σ of every group's credit over `parts` (one per underlying).
pub fn total_credit(table: &OffsetTable, parts: &[OffsetPart]) -> Result<Fx> {
    let mut total = ZERO;
    for g in table.groups() {
        total = total.add_c(group_credit(g, parts)?)?;
    }
    Ok(total)
}
