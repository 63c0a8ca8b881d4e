//! A trader's portfolio: collateral balances and positions, margined together.
use anchor_lang::prelude::*;

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

/// A position slot (filled by the trading issue).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PositionSlot {
    /// Underlying index in the registry.
    pub underlying: u16,
    /// 0 perp, 1 call, 2 put.
    pub kind: u8,
    /// 1 when the slot is in use.
    pub active: u8,
    pub _padding: [u8; 4],
    /// Options: strike, quote native units per underlying unit.
    pub strike: u64,
    /// Options: expiry, unix seconds.
    pub expiry: i64,
    /// Signed size in the instrument's base lots.
    pub size: i64,
    /// Perps: average entry price, quote native units per underlying unit.
    pub entry_price: u64,
    /// Perps: funding index at the last settlement (quote native units per lot, 1e9 scale).
    pub funding_snapshot: i64,
    pub reserved: [u8; 16],
}

#[account(zero_copy)]
#[repr(C)]
pub struct Portfolio {
    /// `PORTFOLIO_VERSION`.
    pub version: u8,
    /// Bump of `[PORTFOLIO_SEED, owner, index]`.
    pub bump: u8,
    /// 0 normal, 1 being liquidated (set by the liquidation issue).
    pub liquidation_state: u8,
    pub _padding0: u8,
    /// The owner's portfolio number (several portfolios per owner).
    pub index: u16,
    pub _padding1: [u8; 2],
    pub owner: Pubkey,
    /// May trade for the owner, never withdraw. `Pubkey::default()` = none.
    pub delegate: Pubkey,
    pub exchange: Pubkey,
    pub balances: [CollateralBalance; MAX_BALANCES],
    pub positions: [PositionSlot; MAX_POSITIONS],
    pub reserved: [u8; 256],
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

    pub fn is_empty(&self) -> bool {
        self.balances.iter().all(|b| b.active == 0 || b.amount == 0)
            && self.positions.iter().all(|p| p.active == 0)
    }
}
