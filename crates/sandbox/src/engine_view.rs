//! The venue's on-chain state as `crates/risk` inputs, for off-chain views (the demo's
//! Greeks, grids and isolated / naive-cross comparisons) and for pricing fills at the model
//! price. Everything is read from the accounts: the registry's implied vol and scenario grid,
//! the published oracle price, the portfolio's slots and the market's series.
use xmargin::state::units::bps;
use xmargin::state::{instrument_kind, PositionSlot};
use xmargin_risk::bs::{greeks, OptionKind};
use xmargin_risk::fx::{from_native, years_from_seconds, Fx};
use xmargin_risk::portfolio::{Instrument, InstrumentKind, Position, UnderlyingMarket};

use crate::venue::{Trader, Venue, PRICE_EXPO};

/// Native quote units per quote unit (the 6-decimal quote mint).
const QUOTE_DECIMALS: u8 = 6;

fn fx_native(amount: i128, decimals: u8) -> Fx {
    from_native(amount, decimals).expect("amount within the engine's range")
}

impl Venue {
    /// An underlying's market data as the program reads it: the published price and
    /// confidence, the registry's implied vol and current (maintenance) grid (its adaptive
    /// shock the market's).
    pub fn engine_market(&self, underlying: u8) -> UnderlyingMarket {
        let registry = self.sb.registry().expect("registry");
        let config = registry.underlyings[usize::from(underlying)];
        let u = &self.underlyings[usize::from(underlying)];
        let decimals = PRICE_EXPO.unsigned_abs() as u8;
        UnderlyingMarket {
            index: u16::from(underlying),
            spot: fx_native(i128::from(u.price), decimals),
            conf: fx_native(i128::from((u.price / 10_000).max(1)), decimals),
            vol: bps(config.implied_vol_bps).expect("registry vol"),
            scenario: config.scenario(self.market(underlying).volatility.shock.get()).expect("registry grid"),
        }
    }

    /// Every underlying's market data, in index order.
    pub fn engine_markets(&self) -> Vec<UnderlyingMarket> {
        (0..self.underlyings.len()).map(|u| self.engine_market(u as u8)).collect()
    }

    /// A trader's positions as engine positions (a perp's entry price from its cost basis).
    pub fn engine_positions(&self, trader: &Trader) -> Vec<Position> {
        self.portfolio(trader).active_positions().map(engine_position).collect()
    }

    /// The Black-Scholes value of one unit of an option series at the oracle price and the
    /// registry's implied vol, in quote native units rounded to the tick (what a maker
    /// quotes; the program accepts fills within its option band of it).
    pub fn model_price(&self, underlying: u8, series: u8) -> u64 {
        let s = self.market(underlying).series[usize::from(series)];
        let kind = if s.kind == instrument_kind::CALL { OptionKind::Call } else { OptionKind::Put };
        let m = self.engine_market(underlying);
        let t = years_from_seconds(s.expiry - self.sb.now().0).expect("time to expiry");
        let strike = fx_native(i128::from(s.strike), QUOTE_DECIMALS);
        let g = greeks(kind, m.spot, strike, m.vol, t).expect("model price");
        self.tick_price((g.price * 1_000_000).to_num::<u64>())
    }
}

fn engine_position(slot: &PositionSlot) -> Position {
    let size = fx_native(i128::from(slot.size), slot.lot_decimals);
    let kind = match slot.kind {
        instrument_kind::CALL => InstrumentKind::Call,
        instrument_kind::PUT => InstrumentKind::Put,
        _ => InstrumentKind::Perp,
    };
    // A long bought for 100 has basis −100: entry = −basis / size.
    let entry_price = if slot.is_perp() && slot.size != 0 {
        fx_native(-i128::from(slot.quote_basis), QUOTE_DECIMALS) / size
    } else {
        Fx::ZERO
    };
    Position {
        instrument: Instrument {
            underlying: slot.underlying,
            kind,
            strike: fx_native(i128::from(slot.strike), QUOTE_DECIMALS),
            expiry: slot.expiry,
        },
        size,
        entry_price,
    }
}
