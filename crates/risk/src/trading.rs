//! Trading arithmetic: fills, realized PnL, fees, open interest, funding and expiry
//! settlement. Integer where money moves (quote native units), so that every transfer
//! between two portfolios is exactly zero-sum; `Fx` only for rates and indices.
//!
//! Units (as in the program's `Market`): sizes in lots (1 lot = 1/`lots_per_unit` underlying
//! units); prices in quote native units per underlying unit, multiples of a tick that is a
//! multiple of `lots_per_unit`, so `lots × price / lots_per_unit` is an exact integer.
//!
//! ## Funding (perpetuals)
//!
//! ```text
//! premium_i   = clamp((fill price − oracle spot) / oracle spot, −max, +max)   per fill i
//! weight      = max(Σ |lots_i|, open interest)                                  lots
//! rate        = Σ premium_i × |lots_i| / weight       per interval, 0 without fills
//! slope       = rate × oracle TWAP / interval     quote units per underlying unit per second
//! index(t)    = index(t0) + slope × (t − t0)                       t0: the last funding update
//! payment     = size × (index(now) − snapshot)  paid by longs, received by shorts (size < 0)
//! ```
//!
//! A fill moves the rate in proportion to its size against the open interest, so one lot
//! traded far from the oracle barely moves it; a period without fills has rate 0 (nothing
//! carries over). The rate decided at a funding update applies **from then on** (as the
//! index's slope), so a position pays only for the time it is held: one opened a second
//! before an update pays one second of the previous slope.
//!
//! When perps trade above the oracle the index rises and longs pay shorts, pulling the perp
//! price back to the oracle. Each position's payment is rounded toward the venue (down in
//! the position's favour), so Σ payments ≥ 0: rounding can never create money.
use crate::bs::OptionKind;
use crate::error::{Result, RiskError};
use crate::fx::{Checked, Fx, ZERO};

/// Basis points per 1.
pub const BPS: u64 = 10_000;

/// `lots × price / lots_per_unit`, signed like `lots`, exact: errors unless `price` is a
/// multiple of `lots_per_unit` (the market's tick rule guarantees it).
pub fn notional(lots: i64, price: u64, lots_per_unit: u64) -> Result<i64> {
    if lots_per_unit == 0 || !price.is_multiple_of(lots_per_unit) {
        return Err(RiskError::InvalidInstrument);
    }
    let per_lot = i128::from(price.checked_div(lots_per_unit).ok_or(RiskError::DivisionByZero)?);
    let value = i128::from(lots).checked_mul(per_lot).ok_or(RiskError::Overflow)?;
    i64::try_from(value).map_err(|_| RiskError::Overflow)
}

/// A perpetual position: size (lots) and cost basis (quote native units; see the program's
/// `PositionSlot::quote_basis`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PerpPosition {
    pub size: i64,
    pub basis: i64,
}

/// The position after a fill of `lots` (signed, + buys) at `price`, and the PnL realized into
/// the quote balance. The fill's cash flow is −notional; the part of the basis belonging to
/// the closed size is realized (pro rata, rounded toward zero), the rest stays. The sum
/// basis + realized changes by exactly the fill's cash flow, so fills are zero-sum.
pub fn apply_perp_fill(
    p: PerpPosition,
    lots: i64,
    price: u64,
    lots_per_unit: u64,
) -> Result<(PerpPosition, i64)> {
    let flow = notional(lots, price, lots_per_unit)?.checked_neg().ok_or(RiskError::Overflow)?;
    let size = p.size.checked_add(lots).ok_or(RiskError::Overflow)?;
    let total = p.basis.checked_add(flow).ok_or(RiskError::Overflow)?;
    let same_side = p.size != 0 && size != 0 && (p.size > 0) == (size > 0);
    let basis = if size == 0 {
        0
    } else if same_side && size.unsigned_abs() <= p.size.unsigned_abs() {
        // Reduction: the remaining size keeps its share of the old basis.
        let kept = i128::from(p.basis)
            .checked_mul(i128::from(size.unsigned_abs()))
            .and_then(|x| x.checked_div(i128::from(p.size.unsigned_abs())))
            .ok_or(RiskError::Overflow)?;
        i64::try_from(kept).map_err(|_| RiskError::Overflow)?
    } else if same_side || p.size == 0 {
        // Increase (or a new position): the whole flow joins the basis.
        total
    } else {
        // Flip: the old size closes at `price`, the new size opens at `price`.
        notional(size, price, lots_per_unit)?.checked_neg().ok_or(RiskError::Overflow)?
    };
    let realized = total.checked_sub(basis).ok_or(RiskError::Overflow)?;
    Ok((PerpPosition { size, basis }, realized))
}

/// Fee on a fill, quote native units (rounded up): `fee_bps` of the underlying notional
/// |lots| × spot; for an option at most `option_cap_bps` of its premium (|lots| × price).
pub fn fee(
    lots: i64,
    spot: u64,
    price: u64,
    lots_per_unit: u64,
    fee_bps: u16,
    option_cap_bps: Option<u64>,
) -> Result<u64> {
    let ceil_div = |num: u128, den: u128| -> Result<u128> {
        num.checked_add(den.checked_sub(1).ok_or(RiskError::DivisionByZero)?)
            .and_then(|n| n.checked_div(den))
            .ok_or(RiskError::Overflow)
    };
    let size = u128::from(lots.unsigned_abs());
    let den = u128::from(lots_per_unit).checked_mul(u128::from(BPS)).ok_or(RiskError::Overflow)?;
    let notional_fee = size
        .checked_mul(u128::from(spot))
        .and_then(|x| x.checked_mul(u128::from(fee_bps)))
        .ok_or(RiskError::Overflow)?;
    let mut fee = ceil_div(notional_fee, den)?;
    if let Some(cap_bps) = option_cap_bps {
        let premium_cap = size
            .checked_mul(u128::from(price))
            .and_then(|x| x.checked_mul(u128::from(cap_bps)))
            .ok_or(RiskError::Overflow)?
            .checked_div(den)
            .ok_or(RiskError::DivisionByZero)?;
        fee = fee.min(premium_cap);
    }
    u64::try_from(fee).map_err(|_| RiskError::Overflow)
}

/// Whether a holder moving from `before` to `after` (signed sizes) only reduces its position,
/// what a reduce-only instrument allows: toward zero, neither growing nor crossing to the
/// other side (a flip opens a new position in an instrument being wound down).
pub fn only_reduces(before: i64, after: i64) -> bool {
    after.unsigned_abs() <= before.unsigned_abs() && (after == 0 || (after < 0) == (before < 0))
}

/// Open interest (Σ long sizes, lots) after a fill that moves one holder from `a_before` to
/// `a_after` and the other from `b_before` to `b_after`.
pub fn open_interest_after(oi: u64, a_before: i64, a_after: i64, b_before: i64, b_after: i64) -> Result<u64> {
    let long = |s: i64| i128::from(s.max(0));
    let short = |s: i64| i128::from(s.max(0)).wrapping_neg(); // in (−2^63, 0]: cannot wrap
    let after = [long(a_after), short(a_before), long(b_after), short(b_before)]
        .into_iter()
        .try_fold(i128::from(oi), |acc, x| acc.checked_add(x))
        .ok_or(RiskError::Overflow)?;
    u64::try_from(after).map_err(|_| RiskError::Overflow)
}

/// The premium of one perp fill, fraction of the oracle price, truncated toward zero and
/// clamped to ±`max_rate`: (price − oracle) / oracle. Prices in quote native units per
/// underlying unit.
pub fn fill_premium(price: u64, oracle: u64, max_rate: Fx) -> Result<Fx> {
    if oracle == 0 {
        return Err(RiskError::NonPositivePrice);
    }
    let diff = i128::from(price).checked_sub(i128::from(oracle)).ok_or(RiskError::Overflow)?;
    // |diff| < 2^64, so diff · 2^48 fits an i128.
    let bits = diff.checked_mul(1i128 << crate::fx::FRAC_BITS).ok_or(RiskError::Overflow)?;
    let premium = Fx::from_bits(bits.checked_div(i128::from(oracle)).ok_or(RiskError::DivisionByZero)?);
    let max = max_rate.abs_c()?;
    Ok(premium.clamp(max.neg_c()?, max))
}

/// The size-weighted fill premium of the current funding period (reset at every update).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FundingPremium {
    /// Σ premium_i × |lots_i| over the period's perp fills (fraction × lots).
    pub premium_lots: Fx,
    /// Σ |lots_i| over the period's perp fills, lots.
    pub fill_lots: u64,
}

impl FundingPremium {
    /// Records a perp fill of `lots` (either sign) at `price`, the oracle spot at `oracle`
    /// (both quote native units per underlying unit).
    pub fn record(&mut self, lots: i64, price: u64, oracle: u64, max_rate: Fx) -> Result<()> {
        let size = lots.unsigned_abs();
        let premium = fill_premium(price, oracle, max_rate)?;
        let weighted = premium.checked_mul_int(i128::from(size)).ok_or(RiskError::Overflow)?;
        self.premium_lots = self.premium_lots.add_c(weighted)?;
        self.fill_lots = self.fill_lots.checked_add(size).ok_or(RiskError::Overflow)?;
        Ok(())
    }

    /// max(Σ |fill lots|, open interest), lots: what the premium is normalised by.
    pub fn weight(&self, open_interest: u64) -> u64 {
        self.fill_lots.max(open_interest)
    }

    /// The period's funding rate, fraction per interval: Σ premium × |lots| / weight,
    /// truncated toward zero and clamped to ±`max_rate`; 0 without fills.
    pub fn rate(&self, open_interest: u64, max_rate: Fx) -> Result<Fx> {
        let weight = self.weight(open_interest);
        if self.fill_lots == 0 || weight == 0 {
            return Ok(ZERO);
        }
        let rate = self.premium_lots.checked_div_int(i128::from(weight)).ok_or(RiskError::Overflow)?;
        let max = max_rate.abs_c()?;
        Ok(rate.clamp(max.neg_c()?, max))
    }
}

/// The funding index slope, quote units per underlying unit per second:
/// rate × oracle TWAP / interval.
pub fn funding_slope(rate: Fx, oracle_twap: Fx, interval_secs: i64) -> Result<Fx> {
    if interval_secs <= 0 {
        return Err(RiskError::DivisionByZero);
    }
    if oracle_twap <= ZERO {
        return Err(RiskError::NonPositivePrice);
    }
    rate.mul_c(oracle_twap)?.div_i(interval_secs)
}

/// The funding index at `now` (quote units per underlying unit): `index` (its value at
/// `since`, unix seconds) plus `slope` × (now − since); no time passes before `since`.
pub fn funding_index_at(index: Fx, slope: Fx, since: i64, now: i64) -> Result<Fx> {
    let elapsed = now.checked_sub(since).ok_or(RiskError::Overflow)?.max(0);
    index.add_c(slope.mul_i(elapsed)?)
}

/// Funding owed to the position since its snapshot, quote native units (negative: paid),
/// rounded down: −size × (index − snapshot) × 10^decimals.
pub fn pending_funding(size_units: Fx, index: Fx, snapshot: Fx, quote_decimals: u8) -> Result<i64> {
    let scale = 10i64.checked_pow(u32::from(quote_decimals)).ok_or(RiskError::Overflow)?;
    let owed = size_units.mul_c(index.sub_c(snapshot)?)?.neg_c()?.mul_i(scale)?;
    crate::fx::narrow_bits(owed.floor().to_bits() >> crate::fx::FRAC_BITS).ok_or(RiskError::Overflow)
}

/// A price rounded to the nearest multiple of `tick` (halves up), at least one tick.
pub fn round_to_tick(price: u64, tick: u64) -> Result<u64> {
    if tick == 0 {
        return Err(RiskError::DivisionByZero);
    }
    let half = tick.checked_div(2).ok_or(RiskError::DivisionByZero)?;
    let rounded = price
        .checked_add(half)
        .and_then(|p| p.checked_div(tick))
        .and_then(|n| n.checked_mul(tick))
        .ok_or(RiskError::Overflow)?;
    Ok(rounded.max(tick))
}

/// What an option position receives (negative: pays) at expiry, quote native units, exact:
/// size × intrinsic(settlement price) / lots_per_unit.
pub fn settlement_payoff(
    kind: OptionKind,
    lots: i64,
    strike: u64,
    settlement: u64,
    lots_per_unit: u64,
) -> Result<i64> {
    let intrinsic = match kind {
        OptionKind::Call => settlement.saturating_sub(strike),
        OptionKind::Put => strike.saturating_sub(settlement),
    };
    notional(lots, intrinsic, lots_per_unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LPU: u64 = 100; // 0.01-unit lots

    #[test]
    fn reduce_only_moves_toward_zero_without_crossing() {
        for (before, after, ok) in [
            (10, 4, true),
            (10, 0, true),
            (-10, -10, true),
            (10, 11, false),
            (10, -9, false),
            (0, 1, false),
            (-3, 2, false),
        ] {
            assert_eq!(only_reduces(before, after), ok, "{before} -> {after}");
        }
    }

    #[test]
    fn fills_are_exact_and_realize_pro_rata() {
        // Buy 3 units at 100 (price in native units, multiple of LPU).
        let p0 = PerpPosition::default();
        let (p1, r1) = apply_perp_fill(p0, 300, 100_000, LPU).unwrap();
        assert_eq!((p1, r1), (PerpPosition { size: 300, basis: -300_000 }, 0));
        // Sell 1 unit at 110: realize 1/3 of the basis + 110_000.
        let (p2, r2) = apply_perp_fill(p1, -100, 110_000, LPU).unwrap();
        assert_eq!(p2, PerpPosition { size: 200, basis: -200_000 });
        assert_eq!(r2, 10_000);
        // Flip: sell 5 at 90 → close 2 (realize −20_000), open short 3 at 90.
        let (p3, r3) = apply_perp_fill(p2, -500, 90_000, LPU).unwrap();
        assert_eq!(p3, PerpPosition { size: -300, basis: 270_000 });
        assert_eq!(r3, -20_000);
        // Close.
        let (p4, r4) = apply_perp_fill(p3, 300, 80_000, LPU).unwrap();
        assert_eq!((p4, r4), (PerpPosition::default(), 30_000));
        assert!(notional(1, 150, LPU).is_err(), "off-tick price");
    }

    #[test]
    fn fees_round_up_and_option_fees_are_capped() {
        // 2 units × 50_000 × 5 bps = 50.
        assert_eq!(fee(200, 50_000, 0, LPU, 5, None).unwrap(), 50);
        assert_eq!(fee(1, 50_000, 0, LPU, 5, None).unwrap(), 1, "rounded up");
        // Option premium 2 × 100 = 200; cap 12.5% = 25 < 50.
        assert_eq!(fee(200, 50_000, 100, LPU, 5, Some(1_250)).unwrap(), 25);
    }

    #[test]
    fn open_interest_counts_longs() {
        assert_eq!(open_interest_after(0, 0, 5, 0, -5).unwrap(), 5);
        assert_eq!(open_interest_after(5, 5, 0, -5, 0).unwrap(), 0);
        assert_eq!(open_interest_after(5, 5, 2, -5, -2).unwrap(), 2);
        assert_eq!(open_interest_after(5, -3, 2, 3, -2).unwrap(), 4);
    }

    #[test]
    fn fill_premium_is_relative_to_the_oracle_and_capped() {
        let max = Fx::from_num(0.001);
        let p = fill_premium(100_050, 100_000, max).unwrap();
        assert!((p - Fx::from_num(0.0005)).abs() < Fx::from_num(1e-12), "{p}");
        assert_eq!(fill_premium(110_000, 100_000, max).unwrap(), max, "capped");
        assert_eq!(fill_premium(90_000, 100_000, max).unwrap(), -max, "capped below");
        assert_eq!(fill_premium(100_000, 100_000, max).unwrap(), ZERO);
        assert!(fill_premium(1, 0, max).is_err());
    }

    #[test]
    fn funding_rate_is_size_weighted_against_open_interest() {
        let max = Fx::from_num(0.001);
        // No fill: rate 0 whatever the open interest.
        assert_eq!(FundingPremium::default().rate(1_000, max).unwrap(), ZERO);
        assert_eq!(FundingPremium::default().rate(0, max).unwrap(), ZERO);
        // One lot at +5% (capped at 0.1%) against 1_000 lots of open interest: 0.1% / 1_000.
        let mut one = FundingPremium::default();
        one.record(1, 105_000, 100_000, max).unwrap();
        assert_eq!(one.weight(1_000), 1_000);
        let r = one.rate(1_000, max).unwrap();
        assert!((r - Fx::from_num(0.000001)).abs() < Fx::from_num(1e-12), "{r}");
        // Fills larger than the open interest are normalised by their own size.
        let mut big = FundingPremium::default();
        big.record(-300, 100_050, 100_000, max).unwrap(); // +0.05%, either side
        big.record(100, 100_000, 100_000, max).unwrap(); // at the oracle
        assert_eq!(big.weight(200), 400);
        let r = big.rate(200, max).unwrap();
        assert!((r - Fx::from_num(0.0005 * 300.0 / 400.0)).abs() < Fx::from_num(1e-12), "{r}");
        // Rich and cheap fills offset.
        let mut both = FundingPremium::default();
        both.record(50, 100_050, 100_000, max).unwrap();
        both.record(50, 99_950, 100_000, max).unwrap();
        assert!(both.rate(10, max).unwrap().abs() < Fx::from_num(1e-12));
    }

    #[test]
    fn funding_accrues_per_second_from_the_update_on() {
        let max = Fx::from_num(0.001);
        let mut period = FundingPremium::default();
        period.record(100, 100_050, 100_000, max).unwrap();
        let rate = period.rate(100, max).unwrap();
        // 0.05% × 100 per hour.
        let slope = funding_slope(rate, Fx::from_num(100), 3_600).unwrap();
        let index = funding_index_at(ZERO, slope, 1_000, 1_000 + 3_600).unwrap();
        assert!((index - Fx::from_num(0.05)).abs() < Fx::from_num(1e-9), "{index}");
        assert_eq!(funding_index_at(Fx::from_num(7), slope, 1_000, 1_000).unwrap(), Fx::from_num(7));
        assert_eq!(funding_index_at(Fx::from_num(7), slope, 1_000, 900).unwrap(), Fx::from_num(7));
        let one_second = funding_index_at(ZERO, slope, 1_000, 1_001).unwrap();
        assert!((one_second - Fx::from_num(0.05 / 3_600.0)).abs() < Fx::from_num(1e-12));
        assert!(funding_slope(rate, ZERO, 3_600).is_err());
        assert!(funding_slope(rate, Fx::from_num(100), 0).is_err());
        // A long of 2 units pays 0.1 quote = 100_000 native (6 decimals); the short receives.
        let long = pending_funding(Fx::from_num(2), index, ZERO, 6).unwrap();
        let short = pending_funding(Fx::from_num(-2), index, ZERO, 6).unwrap();
        assert!((-100_001..=-99_999).contains(&long), "{long}");
        assert!(long + short <= 0, "rounding never creates money");
    }

    #[test]
    fn settlement_itm_otm_atm() {
        assert_eq!(settlement_payoff(OptionKind::Call, 200, 100_000, 130_000, LPU).unwrap(), 60_000);
        assert_eq!(settlement_payoff(OptionKind::Call, -200, 100_000, 130_000, LPU).unwrap(), -60_000);
        assert_eq!(settlement_payoff(OptionKind::Put, 200, 100_000, 130_000, LPU).unwrap(), 0);
        assert_eq!(settlement_payoff(OptionKind::Put, 200, 100_000, 100_000, LPU).unwrap(), 0);
        assert_eq!(round_to_tick(123_456, 100).unwrap(), 123_500);
    }
}
