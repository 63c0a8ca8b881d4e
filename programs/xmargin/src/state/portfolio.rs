//! A trader's portfolio: collateral balances and positions, margined together.
use anchor_lang::prelude::*;

use super::{StoredFx, MAX_UNDERLYINGS};

pub const PORTFOLIO_VERSION: u8 = 1;
pub const MAX_BALANCES: usize = 16;
pub const MAX_POSITIONS: usize = 32;

/// A signed balance of one listed collateral asset, native token units (negative: owed).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CollateralBalance {
    pub amount: i64,
    /// Index in `HaircutRegistry::collaterals`.
    pub collateral: u8,
    /// 1 when the slot is in use.
    pub active: u8,
    pub _padding: [u8; 6],
}

/// A position in one instrument. The instrument identity is compact (underlying, series);
/// kind, strike, expiry and lot decimals are copied from the market so that the health
/// computation needs no market lookup to build the engine's positions.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PositionSlot {
    /// Underlying index in the registry.
    pub underlying: u16,
    /// `instrument_kind::*` (0 perp, 1 call, 2 put).
    pub kind: u8,
    /// 1 when the slot is in use.
    pub active: u8,
    /// Option series index in the market (`PERP_INSTRUMENT` for the perp).
    pub series: u8,
    /// The market's lot decimals (1 lot = 10^−lot_decimals underlying units).
    pub lot_decimals: u8,
    pub _padding: [u8; 2],
    /// Options: strike, quote native units per underlying unit.
    pub strike: u64,
    /// Options: expiry, unix seconds.
    pub expiry: i64,
    /// Signed size, lots (negative = short).
    pub size: i64,
    /// Perps: cost basis, quote native units: Σ of the fills' cash flows not yet realized
    /// (a long bought for 100 has −100). The perp's value is size × spot + basis.
    pub quote_basis: i64,
    /// Perps: the market's funding index when funding was last settled, quote units per
    /// underlying unit.
    pub funding_snapshot: StoredFx,
    pub reserved: [u8; 8],
}

impl PositionSlot {
    pub fn is_perp(&self) -> bool {
        self.kind == super::instrument_kind::PERP
    }

    pub fn funding_snapshot(&self) -> xmargin_risk::Fx {
        self.funding_snapshot.get()
    }
}

#[account(zero_copy)]
#[repr(C)]
pub struct Portfolio {
    /// `PORTFOLIO_VERSION`.
    pub version: u8,
    /// Bump of `[PORTFOLIO_SEED, owner, index]`.
    pub bump: u8,
    /// `liquidation_state::*`: being liquidated from the first liquidation until maintenance
    /// health is back at the buffer; meanwhile no withdrawal and no trade that adds risk.
    pub liquidation_state: u8,
    pub _padding0: u8,
    /// The owner's portfolio number (several portfolios per owner).
    pub index: u16,
    pub _padding1: [u8; 2],
    pub owner: Pubkey,
    /// May trade for the owner, never withdraw, and only within `delegate_max_slippage_bps`
    /// of the mark. `Pubkey::default()` = none.
    pub delegate: Pubkey,
    pub exchange: Pubkey,
    pub balances: [CollateralBalance; MAX_BALANCES],
    pub positions: [PositionSlot; MAX_POSITIONS],
    /// The registry's `quote_loss_index` when the quote balance was last written (zero bits
    /// mean 1.0: read it with `StoredFx::get_or_one`).
    pub quote_loss_snapshot: StoredFx,
    /// The most a delegate-signed fill may be worse than the venue's mark (oracle for perps,
    /// model price for options) for this portfolio, basis points of spot, plus one tick of
    /// rounding. Set by the owner with the delegate; 0 (the default): at the mark.
    pub delegate_max_slippage_bps: u16,
    pub _padding2: [u8; 6],
    pub reserved: [u8; 232],
}

/// `Portfolio::liquidation_state`.
pub mod liquidation_state {
    pub const NORMAL: u8 = 0;
    pub const BEING_LIQUIDATED: u8 = 1;
}

const _: () = assert!(core::mem::size_of::<CollateralBalance>() == 16);
const _: () = assert!(core::mem::size_of::<PositionSlot>() == 64);
const _: () =
    assert!(core::mem::size_of::<Portfolio>() == 8 + 3 * 32 + MAX_BALANCES * 16 + MAX_POSITIONS * 64 + 256);

impl Portfolio {
    pub const SPACE: usize = 8 + core::mem::size_of::<Portfolio>();

    /// The balance slot of a collateral index, if any.
    pub fn balance(&self, collateral: u8) -> Option<&CollateralBalance> {
        self.balances.iter().find(|b| b.active == 1 && b.collateral == collateral)
    }

    /// The balance slot of `collateral`, taking a free slot if it has none yet.
    pub fn balance_mut_or_insert(&mut self, collateral: u8) -> Option<&mut CollateralBalance> {
        let slot = match self.balances.iter().position(|b| b.active == 1 && b.collateral == collateral) {
            Some(i) => i,
            None => {
                let i = self.balances.iter().position(|b| b.active == 0)?;
                self.balances[i] = CollateralBalance { amount: 0, collateral, active: 1, _padding: [0; 6] };
                i
            }
        };
        Some(&mut self.balances[slot])
    }

    pub fn active_balances(&self) -> impl Iterator<Item = &CollateralBalance> {
        self.balances.iter().filter(|b| b.active == 1)
    }

    pub fn active_positions(&self) -> impl Iterator<Item = &PositionSlot> {
        self.positions.iter().filter(|p| p.active == 1)
    }

    /// The active slots grouped by underlying (`None` when a slot names an underlying beyond
    /// `MAX_UNDERLYINGS`, which no listing creates).
    pub fn positions_by_underlying(&self) -> Option<PositionsByUnderlying> {
        // One pass, a bit per slot in its underlying's mask. Scanning the 32 slots once per
        // underlying instead cost health ~2.4k compute units at 8 underlyings (measured).
        let mut grouped = PositionsByUnderlying { slots: [0; MAX_UNDERLYINGS], held: 0, count: 0 };
        for (bit, p) in (0..u32::BITS).zip(&self.positions).filter(|(_, p)| p.active == 1) {
            let mask = grouped.slots.get_mut(usize::from(p.underlying))?;
            *mask |= 1u32.checked_shl(bit)?;
            grouped.held |= 1u16.checked_shl(u32::from(p.underlying))?;
            grouped.count = grouped.count.checked_add(1)?;
        }
        Some(grouped)
    }

    /// The slot of an instrument (underlying, series), if held.
    pub fn position_index(&self, underlying: u16, series: u8) -> Option<usize> {
        self.positions.iter().position(|p| p.active == 1 && p.underlying == underlying && p.series == series)
    }

    pub fn is_being_liquidated(&self) -> bool {
        self.liquidation_state == liquidation_state::BEING_LIQUIDATED
    }

    pub fn is_empty(&self) -> bool {
        self.balances.iter().all(|b| b.active == 0 || b.amount == 0)
            && self.positions.iter().all(|p| p.active == 0)
    }
}

/// A portfolio's active position slots grouped by underlying, each group in slot order (the
/// order `active_positions` yields them in).
pub struct PositionsByUnderlying {
    /// Per underlying, bit `i` set when slot `i` is an active position on it.
    slots: [u32; MAX_UNDERLYINGS],
    /// Bit `u` set when underlying `u` has an active slot.
    held: u16,
    /// Active slots.
    count: u8,
}

// A bit per slot and per underlying.
const _: () = assert!(MAX_POSITIONS <= u32::BITS as usize && MAX_UNDERLYINGS <= u16::BITS as usize);

impl PositionsByUnderlying {
    /// The number of active slots.
    pub fn count(&self) -> usize {
        usize::from(self.count)
    }

    /// The underlyings with an active slot, ascending.
    pub fn underlyings(&self) -> impl Iterator<Item = u16> {
        let mut held = self.held;
        core::iter::from_fn(move || {
            let u =
                u16::try_from(held.trailing_zeros()).ok().filter(|u| usize::from(*u) < MAX_UNDERLYINGS)?;
            held &= held.wrapping_sub(1);
            Some(u)
        })
    }

    /// The active slots of `portfolio` (the one these were grouped from) on `underlying`, in
    /// slot order.
    pub fn of<'a>(
        &self,
        portfolio: &'a Portfolio,
        underlying: u16,
    ) -> impl Iterator<Item = &'a PositionSlot> {
        let mut mask = self.slots.get(usize::from(underlying)).copied().unwrap_or(0);
        core::iter::from_fn(move || {
            let slot = mask.trailing_zeros();
            // Clears the lowest set bit (a no-op on zero, where the iteration has ended).
            mask &= mask.wrapping_sub(1);
            portfolio.positions.get(usize::try_from(slot).ok()?)
        })
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
mod tests {
    use super::*;

    fn portfolio(slots: &[(usize, u16)]) -> Portfolio {
        let mut p: Portfolio = bytemuck::Zeroable::zeroed();
        for &(i, u) in slots {
            p.positions[i] =
                PositionSlot { underlying: u, active: 1, size: i as i64 + 1, ..Default::default() };
        }
        p
    }

    /// Each underlying's slots as the per-underlying scan yields them.
    fn scanned(p: &Portfolio, u: u16) -> Vec<i64> {
        p.active_positions().filter(|s| s.underlying == u).map(|s| s.size).collect()
    }

    #[test]
    fn grouping_equals_the_scan_of_each_underlying() {
        // A deterministic spread of portfolios: slots free and used in any order, any
        // underlying up to the last one, inactive slots that still name an underlying.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        for _ in 0..500 {
            let mut p = portfolio(&[]);
            for (i, slot) in p.positions.iter_mut().enumerate() {
                slot.underlying = next(MAX_UNDERLYINGS as u64) as u16;
                slot.active = u8::from(next(3) != 0);
                slot.size = i as i64 + 1;
            }
            let g = p.positions_by_underlying().unwrap();
            for u in 0..(MAX_UNDERLYINGS as u16 + 2) {
                let grouped: Vec<i64> = g.of(&p, u).map(|s| s.size).collect();
                assert_eq!(grouped, scanned(&p, u), "underlying {u}");
            }
            let mut held: Vec<u16> = p.active_positions().map(|s| s.underlying).collect();
            held.sort_unstable();
            held.dedup();
            assert_eq!(g.underlyings().collect::<Vec<_>>(), held);
            assert_eq!(g.count(), p.active_positions().count());
        }
    }

    #[test]
    fn grouping_edges() {
        let empty = portfolio(&[]).positions_by_underlying().unwrap();
        assert_eq!(empty.underlyings().count(), 0);
        let full = portfolio(&(0..MAX_POSITIONS).map(|i| (i, 15)).collect::<Vec<_>>());
        let g = full.positions_by_underlying().unwrap();
        assert_eq!(g.of(&full, 15).count(), MAX_POSITIONS);
        assert_eq!(g.underlyings().collect::<Vec<_>>(), vec![15]);
        // An underlying beyond the registry's range is refused, not dropped from health...
        assert!(portfolio(&[(3, 2), (7, MAX_UNDERLYINGS as u16)]).positions_by_underlying().is_none());
        // ...unless the slot is free.
        let mut freed = portfolio(&[(3, 2), (7, MAX_UNDERLYINGS as u16 + 4)]);
        freed.positions[7].active = 0;
        let g = freed.positions_by_underlying().unwrap();
        assert_eq!(g.underlyings().collect::<Vec<_>>(), vec![2]);
        assert_eq!(g.count(), 1);
    }
}
