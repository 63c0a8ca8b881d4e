//! The governed shapes of an underlying's stress beyond the grid's rectangle: the
//! tail-scenario table and the expiry scaling of implied-vol shocks.
//!
//! **Tail table.** Up to `MAX_TAIL_ROWS` rows, each a price move (a signed multiple of the
//! grid's largest price shock P, capped at `MAX_SHOCK`, one way or both ways), an
//! implied-vol move (absolute, vol units) and a weight w in (0, 1]. A row's loss is the worst
//! expansion loss over the move's whole path at the row's vol — every price between the spot
//! and the move (a one-way row: [0, p]; both ways: [−p, p]) — counted at w, plus the
//! convexity add-on over the largest tail range, also at w; the requirement takes the worst
//! row. A supremum over a segment of losses linear in the sizes: convex, subadditive and
//! positively homogeneous, and exact (a quadratic's ends and vertex). Moves are multiples of P, CME SPAN's
//! convention for its extreme moves (3 × the price scan range at 35%): the tail follows the
//! adaptive shock and the initial level's scale, and the stressed weight of the adaptive
//! shock (`vol.rs`) keeps it from shrinking in calm markets. The table `{(−m, 0, w), (+m, 0,
//! w)}` is the single extreme move of earlier versions, bit for bit. Deribit's extended
//! table and Paradex's SCAN add larger crash moves with vol up at smaller weights; any such
//! row fits here.
//!
//! **Expiry-scaled vol shocks.** A series with D days to expiry has its vol shocks (grid and
//! tail rows) multiplied by s = (D_ref / max(D, D_floor))^p (the form Deribit, Derive and
//! Paradex use: a 1-day option's implied vol moves far more than a 90-day one's). The
//! engine applies s to the series' vega and vanna and s² to its volga, so the netted book
//! has one quadratic per underlying and the grid is unchanged. p = 0 gives s = 1 exactly.
use crate::error::{Result, RiskError};
use crate::fx::{Checked, Fx, ONE, ZERO};
use crate::math::{exp, ln};

/// A scenario-table parameter held in 64 bits: the `Fx` bits of a value with |x| < 2^15
/// (I16F48, the same 48 fractional bits), so widening to `Fx` is exact and free. Scenario
/// parameters travel inside every netted exposure; at 16 bytes each they would overflow the
/// 4 KiB sBPF stack frames the health computation runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Compact(i64);

impl Compact {
    /// `x` in 64 bits (for constants: |x| < 2^15 is checked at compile time).
    pub const fn of(x: Fx) -> Compact {
        let bits = x.to_bits();
        assert!(bits >= i64::MIN as i128 && bits <= i64::MAX as i128, "scenario parameter out of range");
        #[allow(clippy::cast_possible_truncation)] // range asserted above
        Compact(bits as i64)
    }

    /// `x` in 64 bits, or `InvalidScenarioParams` when |x| ≥ 2^15.
    pub fn new(x: Fx) -> Result<Compact> {
        i64::try_from(x.to_bits()).map(Compact).map_err(|_| RiskError::InvalidScenarioParams)
    }

    pub const fn fx(self) -> Fx {
        Fx::from_bits(self.0 as i128)
    }

    /// n / d truncated toward zero (the bits of `Fx::from_num(n).div_i(d)`, which the stored
    /// integer units — hundredths, basis points, hours — were converted with), in 64-bit
    /// integers: |n| < 2^16, so |n|·2^48 < 2^64, and d ≥ 2 keeps the quotient below 2^63.
    /// A scenario is rebuilt from the registry's integers for every underlying of every
    /// health check; this is one native division per value instead of 128-bit conversions.
    pub const fn ratio(n: i32, d: u16) -> Compact {
        let magnitude = n.unsigned_abs() as u64;
        // d = 0 or 1 cannot be passed by the callers (constants ≥ 24); guarded all the same.
        let d = if d < 2 { 2 } else { d as u64 };
        let numerator = if magnitude < 1 << 16 { magnitude << 48 } else { u64::MAX };
        // d ≥ 2: never `None`.
        let q = match numerator.checked_div(d) {
            Some(q) => q,
            None => 0,
        };
        #[allow(clippy::cast_possible_wrap)] // q < 2^63 (see above)
        let q = q as i64;
        Compact(if n < 0 { q.wrapping_neg() } else { q })
    }
}

/// Rows of a tail table (the registry stores this many per underlying).
pub const MAX_TAIL_ROWS: usize = 4;
/// Largest |price multiple| of a row: 25 × P (P ≥ 0.04 already reaches `MAX_SHOCK`).
pub const MAX_TAIL_MULTIPLE: Fx = Fx::lit("25");
/// Largest |vol move| of a row: 300 vol points.
pub const MAX_TAIL_VOL_MOVE: Fx = Fx::lit("3");

/// One tail scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TailRow {
    price_multiple: Compact,
    vol_move: Compact,
    weight: Compact,
    /// The move both ways (±price_multiple·P), as the old extreme move.
    pub both_ways: bool,
}

impl TailRow {
    pub const EMPTY: TailRow = TailRow::new(ZERO, ZERO, ZERO);

    /// A one-way row (values beyond 2^15 do not compile in constants; at run time, use
    /// `TailTable::new`, which validates far tighter bounds).
    pub const fn new(price_multiple: Fx, vol_move: Fx, weight: Fx) -> TailRow {
        TailRow {
            price_multiple: Compact::of(price_multiple),
            vol_move: Compact::of(vol_move),
            weight: Compact::of(weight),
            both_ways: false,
        }
    }

    /// A row both ways: ±`multiple`·P.
    pub const fn both_ways(multiple: Fx, vol_move: Fx, weight: Fx) -> TailRow {
        let mut row = TailRow::new(multiple, vol_move, weight);
        row.both_ways = true;
        row
    }

    /// A row from its stored integers (the registry's): the price multiple in hundredths,
    /// the vol move and the weight in basis points; the same bits as converting each to an
    /// `Fx` and dividing (`Compact::ratio`). Not validated: build the table with
    /// `TailTable::new`.
    pub const fn from_stored(
        multiple_hundredths: i16,
        vol_move_bps: i16,
        weight_bps: u16,
        both_ways: bool,
    ) -> TailRow {
        TailRow {
            price_multiple: Compact::ratio(multiple_hundredths as i32, 100),
            vol_move: Compact::ratio(vol_move_bps as i32, 10_000),
            weight: Compact::ratio(weight_bps as i32, 10_000),
            both_ways,
        }
    }

    /// A row from run-time values (`InvalidScenarioParams` when a value is beyond 2^15).
    pub fn checked(price_multiple: Fx, vol_move: Fx, weight: Fx, both_ways: bool) -> Result<TailRow> {
        Ok(TailRow {
            price_multiple: Compact::new(price_multiple)?,
            vol_move: Compact::new(vol_move)?,
            weight: Compact::new(weight)?,
            both_ways,
        })
    }

    /// Price move as a signed multiple of the grid's largest price shock P (−3 = down 3·P);
    /// positive for a row both ways.
    pub const fn price_multiple(&self) -> Fx {
        self.price_multiple.fx()
    }

    /// Implied-vol move, absolute (0.2 = +20 vol points), signed.
    pub const fn vol_move(&self) -> Fx {
        self.vol_move.fx()
    }

    /// Weight of the row's loss, in (0, 1].
    pub const fn weight(&self) -> Fx {
        self.weight.fx()
    }
}

/// The tail-scenario table of one underlying (rows beyond `len` are `TailRow::EMPTY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TailTable {
    rows: [TailRow; MAX_TAIL_ROWS],
    len: u8,
}

impl TailTable {
    /// The single extreme move of CME SPAN (and of this engine before the table): ±3·P at
    /// 35%, flat vol.
    pub const SPAN_EXTREME: TailTable = TailTable::extreme_move(Fx::lit("3"), Fx::lit("0.35"));

    /// One flat-vol row ±m·P at weight w: the old extreme move.
    pub const fn extreme_move(multiple: Fx, weight: Fx) -> TailTable {
        TailTable::from_rows([TailRow::both_ways(multiple, ZERO, weight)])
    }

    /// A table of the `N` rows given (`N` ≤ `MAX_TAIL_ROWS`), for constants.
    pub const fn from_rows<const N: usize>(given: [TailRow; N]) -> TailTable {
        assert!(N <= MAX_TAIL_ROWS, "too many tail rows");
        let mut rows = [TailRow::EMPTY; MAX_TAIL_ROWS];
        let mut i = 0;
        while i < N {
            rows[i] = given[i];
            // i < N ≤ MAX_TAIL_ROWS: no overflow.
            i = i.saturating_add(1);
        }
        #[allow(clippy::cast_possible_truncation)] // N ≤ MAX_TAIL_ROWS (asserted above)
        TailTable { rows, len: N as u8 }
    }

    /// A table of `rows` (at most `MAX_TAIL_ROWS`; validated by `validate`).
    pub fn new(rows: &[TailRow]) -> Result<TailTable> {
        if rows.len() > MAX_TAIL_ROWS {
            return Err(RiskError::InvalidScenarioParams);
        }
        let table = TailTable::from_validated(rows);
        table.validate()?;
        Ok(table)
    }

    /// The table of `rows` as they are (at most `MAX_TAIL_ROWS` are taken), **not
    /// validated**: for tables read back from state that was validated when it was written
    /// (the registry's, `validate` on every governed change), rebuilt for every underlying of
    /// every health check. Anything else goes through [`TailTable::new`].
    pub fn from_validated(rows: &[TailRow]) -> TailTable {
        let mut table = TailTable { rows: [TailRow::EMPTY; MAX_TAIL_ROWS], len: 0 };
        for (slot, row) in table.rows.iter_mut().zip(rows) {
            *slot = *row;
            table.len = table.len.saturating_add(1);
        }
        table
    }

    pub fn rows(&self) -> &[TailRow] {
        &self.rows[..usize::from(self.len).min(MAX_TAIL_ROWS)]
    }

    /// Every row: 0 < |multiple| ≤ `MAX_TAIL_MULTIPLE` (positive both ways), |vol move| ≤
    /// `MAX_TAIL_VOL_MOVE`, weight in (0, 1]; unused rows empty.
    pub fn validate(&self) -> Result<()> {
        let rows_ok = self.rows().iter().all(|r| {
            let (m, v, w) = (r.price_multiple(), r.vol_move(), r.weight());
            m != ZERO
                && (!r.both_ways || m > ZERO)
                && m.abs() <= MAX_TAIL_MULTIPLE
                && v.abs() <= MAX_TAIL_VOL_MOVE
                && w > ZERO
                && w <= ONE
        });
        let rest_empty = self.rows.iter().skip(self.rows().len()).all(|r| *r == TailRow::EMPTY);
        if rows_ok && rest_empty && usize::from(self.len) <= MAX_TAIL_ROWS {
            Ok(())
        } else {
            Err(RiskError::InvalidScenarioParams)
        }
    }

    /// The largest |price multiple| (0 for an empty table).
    pub fn largest_multiple(&self) -> Fx {
        self.rows().iter().fold(ZERO, |m, r| m.max(r.price_multiple().abs()))
    }
}

/// Bounds of an expiry scale s: a series' vol shocks are between a quarter and five times the
/// base shocks (the reference, p = 0.3 over 1 to 365 days, spans 2.77 to 0.47).
pub const MIN_SCALE: Fx = Fx::lit("0.25");
pub const MAX_SCALE: Fx = Fx::lit("5");

/// Largest reference days of an expiry scaling (ten years). A constant, not an inline
/// `Fx::lit`: outside a const context that parses the decimal string at run time, which cost
/// ~1k compute units per validation on sBPF (twice per underlying per health check).
const MAX_REFERENCE_DAYS: Fx = Fx::lit("3650");

/// Expiry scaling of an underlying's vol shocks: s = (reference_days / max(days,
/// floor_days))^exponent, within [`MIN_SCALE`, `MAX_SCALE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VolScaling {
    reference_days: Compact,
    floor_days: Compact,
    exponent: Compact,
}

impl VolScaling {
    /// No scaling (s = 1 for every series).
    pub const FLAT: VolScaling = VolScaling::of(Fx::lit("30"), ONE, ZERO);

    /// For constants (values beyond 2^15 do not compile).
    pub const fn of(reference_days: Fx, floor_days: Fx, exponent: Fx) -> VolScaling {
        VolScaling {
            reference_days: Compact::of(reference_days),
            floor_days: Compact::of(floor_days),
            exponent: Compact::of(exponent),
        }
    }

    /// From run-time values, validated (`validate`).
    pub fn new(reference_days: Fx, floor_days: Fx, exponent: Fx) -> Result<VolScaling> {
        let s = VolScaling::from_parts(reference_days, floor_days, exponent)?;
        s.validate()?;
        Ok(s)
    }

    /// From its stored integers: reference days, floor hours, exponent in basis points (the
    /// bits of converting each to an `Fx`: days exact, hours / 24 and bps / 10,000 truncated,
    /// `Compact::ratio`); `InvalidScenarioParams` when the reference is beyond 2^15 days.
    /// Not validated (`validate`).
    pub fn from_stored(reference_days: u16, floor_hours: u16, exponent_bps: u16) -> Result<VolScaling> {
        if reference_days >= 1 << 15 {
            return Err(RiskError::InvalidScenarioParams);
        }
        Ok(VolScaling {
            reference_days: Compact(i64::from(reference_days) << 48),
            floor_days: Compact::ratio(i32::from(floor_hours), 24),
            exponent: Compact::ratio(i32::from(exponent_bps), 10_000),
        })
    }

    /// From run-time values, not validated (what a record says it was computed under, only
    /// compared with the parameters in force: a never-written record is all zero).
    pub fn from_parts(reference_days: Fx, floor_days: Fx, exponent: Fx) -> Result<VolScaling> {
        Ok(VolScaling {
            reference_days: Compact::new(reference_days)?,
            floor_days: Compact::new(floor_days)?,
            exponent: Compact::new(exponent)?,
        })
    }

    /// Days to expiry at which s = 1 (30 at Deribit and Derive). > 0.
    pub const fn reference_days(&self) -> Fx {
        self.reference_days.fx()
    }

    /// Shorter times to expiry count as this many days (so s stays finite at expiry). > 0.
    pub const fn floor_days(&self) -> Fx {
        self.floor_days.fx()
    }

    /// p, in [0, 1]; 0 = no scaling.
    pub const fn exponent(&self) -> Fx {
        self.exponent.fx()
    }

    pub fn validate(&self) -> Result<()> {
        let (reference, floor, p) = (self.reference_days(), self.floor_days(), self.exponent());
        let ok = reference > ZERO
            && reference <= MAX_REFERENCE_DAYS
            && floor > ZERO
            && floor <= reference
            && p >= ZERO
            && p <= ONE;
        if ok {
            Ok(())
        } else {
            Err(RiskError::InvalidScenarioParams)
        }
    }

    /// s for a series with `seconds` to expiry (≤ 0: expired, counted at the floor), clamped
    /// to [`MIN_SCALE`, `MAX_SCALE`]: the power law is a model of how implied vols move, and
    /// the quadratic expansion has no error bound in the vol dimension, so neither a tiny
    /// shock for long-dated series nor a huge one (volga × s²) is taken at face value.
    pub fn scale(&self, seconds: i64) -> Result<Fx> {
        let p = self.exponent();
        if p == ZERO {
            return Ok(ONE);
        }
        let days = crate::fx::from_int(seconds.max(0)).div_i(86_400)?.max(self.floor_days());
        Ok(exp(p.mul_c(ln(self.reference_days().div_c(days)?)?)?)?.clamp(MIN_SCALE, MAX_SCALE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::any;

    #[test]
    fn flat_scaling_is_exactly_one() {
        for secs in [-5, 0, 3600, 86_400 * 400] {
            assert_eq!(VolScaling::FLAT.scale(secs).unwrap(), ONE);
        }
    }

    #[test]
    fn scaling_follows_the_power_law() {
        let s = VolScaling::of(Fx::lit("30"), ONE, Fx::lit("0.3"));
        let at = |days: f64| s.scale((days * 86_400.0) as i64).unwrap().to_num::<f64>();
        assert!((at(30.0) - 1.0).abs() < 1e-9);
        assert!((at(1.0) - 30f64.powf(0.3)).abs() < 1e-6, "{}", at(1.0));
        assert!((at(90.0) - (1.0f64 / 3.0).powf(0.3)).abs() < 1e-6);
        assert_eq!(at(0.1), at(1.0), "below the floor: the floor");
        assert_eq!(s.scale(-100).unwrap(), s.scale(0).unwrap(), "expired: the floor");
        let steep = VolScaling::of(Fx::lit("365"), Fx::lit("0.05"), ONE);
        assert_eq!(steep.scale(0).unwrap(), MAX_SCALE, "clamped above");
        let flat_long = VolScaling::of(Fx::lit("1"), Fx::lit("1"), ONE);
        assert_eq!(flat_long.scale(3650 * 86_400).unwrap(), MIN_SCALE, "clamped below");
    }

    proptest::proptest! {
        #[test]
        fn stored_rows_convert_as_fx_division(m in any::<i16>(), v in any::<i16>(), w in any::<u16>(), both in any::<bool>()) {
            let div = |n: i32, d: i64| {
                let q = Fx::from_num(n.unsigned_abs()).div_i(d).unwrap();
                if n < 0 { q.neg_c().unwrap() } else { q }
            };
            let row = TailRow::from_stored(m, v, w, both);
            proptest::prop_assert_eq!(row.price_multiple(), div(i32::from(m), 100));
            proptest::prop_assert_eq!(row.vol_move(), div(i32::from(v), 10_000));
            proptest::prop_assert_eq!(row.weight(), div(i32::from(w), 10_000));
            proptest::prop_assert_eq!(row.both_ways, both);
        }

        #[test]
        fn stored_scalings_convert_as_fx_division(r in 0u16..(1 << 15), f in any::<u16>(), p in any::<u16>()) {
            let s = VolScaling::from_stored(r, f, p).unwrap();
            proptest::prop_assert_eq!(s.reference_days(), Fx::from_num(r));
            proptest::prop_assert_eq!(s.floor_days(), Fx::from_num(f).div_i(24).unwrap());
            proptest::prop_assert_eq!(s.exponent(), Fx::from_num(p).div_i(10_000).unwrap());
        }
    }

    #[test]
    fn a_reference_beyond_the_compact_range_is_refused() {
        assert_eq!(VolScaling::from_stored(1 << 15, 24, 0), Err(RiskError::InvalidScenarioParams));
    }

    #[test]
    fn tables_validate_their_rows() {
        assert!(TailTable::SPAN_EXTREME.validate().is_ok());
        assert_eq!(TailTable::SPAN_EXTREME.rows()[0].price_multiple(), Fx::from_num(3));
        assert!(TailTable::SPAN_EXTREME.rows()[0].both_ways);
        let row = |m: f64, v: f64, w: f64| TailRow::new(Fx::from_num(m), Fx::from_num(v), Fx::from_num(w));
        assert!(TailTable::new(&[row(-4.0, 0.5, 0.2), row(6.0, 0.3, 0.1)]).is_ok());
        assert!(TailTable::new(&[row(0.0, 0.5, 0.2)]).is_err(), "no move");
        assert!(TailTable::new(&[row(-4.0, 0.5, 0.0)]).is_err(), "zero weight");
        assert!(TailTable::new(&[row(-4.0, 0.5, 1.1)]).is_err(), "weight above 1");
        assert!(TailTable::new(&[row(-26.0, 0.5, 0.1)]).is_err(), "beyond 25×P");
        assert!(TailTable::new(&[row(-2.0, 3.5, 0.1)]).is_err(), "vol move beyond 300 points");
        assert!(TailTable::new(&[row(-2.0, 0.1, 0.1); 5]).is_err(), "too many rows");
        let both = TailRow::both_ways(Fx::from_num(-2), ZERO, Fx::from_num(0.3));
        assert!(TailTable::new(&[both]).is_err(), "both ways with a negative multiple");
        assert!(TailTable::new(&[]).unwrap().rows().is_empty());
    }
}
