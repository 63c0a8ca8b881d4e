//! The worst expansion loss over the grid's rectangle and over each tail row's path in
//! 64-bit integers: an **upper bound** of the exact (`Fx`) computation in `grid.rs`, larger
//! by at most a documented, tested amount. Health runs this for every underlying at every
//! level; on sBPF a native 64-bit multiply costs ~7 compute units and a 64-bit division ~30,
//! against ~85 and ~540 for the 128-bit fixed-point ones, which is what made the grid the
//! largest part of an on-chain health check.
//!
//! **Representation.** The loss is L(p, v) = −(a·p + b·p² + c·v + d·v² + f·p·v)
//! (`grid::Quadratic`). Per book, the five coefficients are expressed in a quantum
//! Q = 2^k `Fx` bits chosen so that the largest is below 2^`COEF_BITS` (k = 0 when they
//! already are): A = ⌊a/Q⌋, … Shocks are integers in units of 2^−`SHOCK_BITS`, rounded
//! outward (the rectangle's edges and the tail paths' ends away from the spot, so the
//! integer domain contains the exact one). Bounds proved by the checks in [`Scaled::of`] and
//! [`Shocks::fill`]: |A…F| ≤ 2^30, |p| ≤ 2^24, |v| < 2^27, hence every intermediate is below
//! 2^62 (see `eval`); inputs outside them return `None` and the caller uses the exact path.
//!
//! **Error.** At one (p, v), with V = max|v| (vol units) over the candidates:
//! - coefficients floored: each off by < 1 Q, times |p|, p², |v|, v², |p·v| ≤ 1, 1, V, V², V;
//! - the two floored shifts in each Horner factor: < 2 Q · |p| + 1 Q · |v|;
//! - a candidate computed at a rounded vertex is below the true vertex by b·δ² with
//!   δ ≤ 2^−24, under 2^−18 Q; a tail row's vol rounded to 2^−24 moves its loss by at most
//!   (|C| + |F| + 2|D|·V) · 2^−24 Q (added per row, from the book's own coefficients).
//!
//! The margin added to every result is (6 + 3V + V²) Q (and the row term), so the result is
//! never below the exact supremum (nor below `grid.rs`'s, whose own rounding is ~2^−47 of the
//! largest coefficient, well inside one Q ≤ 2^−29 of it), and above it by at most twice the
//! margins plus the loss over the outward rounding of the domain (2^−24 of a shock; a tail
//! row's end, multiple × P, under 2.1 · 2^−24: P is taken to 2^−33 there). With
//! Q ≤ 2^−29 of the largest coefficient and V ≤ 3 this is about 2.5·10^−6 of the book's
//! largest coefficient, the row term dominating; `tests/grid64.rs` asserts both sides (at
//! most 4·10^−6) over random books from dust to 10^12 quote units.
use crate::fx::{narrow_bits, Fx, FRAC_BITS};
use crate::grid::{LevelShocks, Quadratic, MAX_SHOCK};
use crate::scenarios::{TailRow, TailTable, MAX_TAIL_ROWS};

/// Fractional bits of the integer shocks.
const SHOCK_BITS: u32 = 24;
const SHOCK_ONE: i64 = 1 << SHOCK_BITS;
/// The coefficients' magnitude bound, in quanta.
const COEF_BITS: u32 = 30;
/// Largest |vol shock| of the integer path: 8 vol units (800 points), beyond any governed
/// shock (tail vol moves are at most 3).
const MAX_VOL: i64 = 1 << 27;
/// Largest |price multiple| of a tail row, in shock units (`scenarios::MAX_TAIL_MULTIPLE`).
const MAX_MULTIPLE: i64 = 25 << SHOCK_BITS;
/// Fractional bits of P in a tail row's end (multiple × P): rounding P to 2^−24 there would
/// move a 25 × P end by up to 25 · 2^−24; at 2^−33 the product is still below 2^62.
const FINE_BITS: u32 = 33;
const FINE_DROP: u32 = FRAC_BITS - FINE_BITS;
const FINE_ROUND_UP: i128 = (1 << FINE_DROP) - 1;
const FINE_ONE_LESS: i64 = (1 << FINE_BITS) - 1;
/// Bits an `Fx` shock drops, and half of its last kept unit.
const DROP: u32 = FRAC_BITS - SHOCK_BITS;
const ROUND_UP: i128 = (1 << DROP) - 1;
const HALF_SHOCK: Fx = Fx::from_bits(1 << (DROP - 1));

/// The loss's coefficients in quanta of 2^`shift` `Fx` bits, each at most 2^30 in magnitude.
/// The same at every margin level: computed once per book (`grid::BookTerms`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scaled {
    a: i64,
    b: i64,
    c: i64,
    d: i64,
    f: i64,
    shift: u32,
}

impl Scaled {
    /// `None` when a coefficient is beyond the integer path's bounds.
    pub(crate) fn of(q: &Quadratic) -> Option<Scaled> {
        let all = [q.a, q.b, q.c, q.d, q.f].map(Fx::to_bits);
        let largest = all.iter().map(|x| x.unsigned_abs()).max().unwrap_or(0);
        let bits = u128::BITS.saturating_sub(largest.leading_zeros());
        let shift = bits.saturating_sub(COEF_BITS);
        // `>>` floors (toward −∞): each coefficient is at most one quantum below its value.
        let [a, b, c, d, f] = all.map(|x| narrow_bits(x >> shift).unwrap_or(i64::MAX));
        let within = [a, b, c, d, f].iter().all(|x| x.unsigned_abs() <= 1 << COEF_BITS);
        within.then_some(Scaled { a, b, c, d, f, shift })
    }

    /// L(p, v) in quanta × 2^−24: −(p·(A + B·p + F·v) + v·(C + D·v)), each product shifted
    /// back once. With |A…F| ≤ 2^30, |p| ≤ 2^24 and |v| < 2^27: B·p < 2^54, F·v < 2^57, the
    /// first factor < 2^34 and times p < 2^58; D·v < 2^57, the second factor < 2^34 and
    /// times v < 2^61; the sum < 2^62.
    fn eval(&self, p: i64, v: i64) -> i64 {
        let price = self
            .a
            .wrapping_add(self.b.wrapping_mul(p) >> SHOCK_BITS)
            .wrapping_add(self.f.wrapping_mul(v) >> SHOCK_BITS);
        let vol = self.c.wrapping_add(self.d.wrapping_mul(v) >> SHOCK_BITS);
        price.wrapping_mul(p).wrapping_add(vol.wrapping_mul(v)).wrapping_neg()
    }

    /// The p where L(·, v) peaks (b > 0): −(A + F·v)/(2B), in shock units (|numerator| <
    /// 2^58).
    fn price_vertex(&self, v: i64) -> Option<i64> {
        (self.b > 0).then(|| {
            let numerator = (self.a << SHOCK_BITS).wrapping_add(self.f.wrapping_mul(v));
            div_nearest(numerator.wrapping_neg(), self.b.wrapping_mul(2))
        })
    }
}

/// n / d rounded to nearest for d > 0 (unsigned division: sBPF has no signed one).
fn div_nearest(n: i64, d: i64) -> i64 {
    let (m, d) = (n.unsigned_abs(), d.unsigned_abs());
    // d > 0 and |n| < 2^62 (callers): no overflow, and the quotient fits an i64.
    #[allow(clippy::cast_possible_wrap, clippy::integer_division)]
    let q = (m.wrapping_add(d >> 1).checked_div(d).unwrap_or(0)) as i64;
    if n < 0 {
        q.wrapping_neg()
    } else {
        q
    }
}

/// An `Fx` shock in 2^−24 units, rounded toward −∞ (`up`: toward +∞).
fn shock(x: Fx, up: bool) -> Option<i64> {
    let bits = x.to_bits();
    let bits = if up { bits.checked_add(ROUND_UP)? } else { bits };
    narrow_bits(bits >> DROP)
}

fn shock_fx(x: i64) -> Fx {
    Fx::from_bits(i128::from(x) << DROP)
}

/// The rectangle's edges and the tail rows' paths and vols, in shock units.
struct Shocks {
    p_max: i64,
    v_lo: i64,
    v_hi: i64,
    rows: [(i64, i64, i64); MAX_TAIL_ROWS],
    row_count: usize,
    /// ⌈max |v|⌉ in vol units over every vol used.
    v_bound: i64,
}

impl Shocks {
    const EMPTY: Shocks =
        Shocks { p_max: 0, v_lo: 0, v_hi: 0, rows: [(0, 0, 0); MAX_TAIL_ROWS], row_count: 0, v_bound: 0 };

    /// Sets every field from the level's shocks and the tail table; `None` when one is
    /// outside the integer path's bounds. Filled in place: returning the struct built
    /// inside moved its rows between stack slots on sBPF.
    fn fill(&mut self, params: &LevelShocks, tail: &TailTable) -> Option<()> {
        let p_max = shock(params.max_price_shock, true)?;
        let v_lo = shock(params.vol_shock_down, true)?.wrapping_neg();
        let v_hi = shock(params.vol_shock_up, true)?;
        let cap = shock(MAX_SHOCK, true)?;
        // P in 2^−33 units, rounded up (≤ 2^33 exactly when `p_max` ≤ 2^24, checked below).
        let p_fine = narrow_bits(params.max_price_shock.to_bits().checked_add(FINE_ROUND_UP)? >> FINE_DROP)?;
        let mut largest = v_lo.unsigned_abs().max(v_hi.unsigned_abs());
        let table = tail.rows();
        for (out, row) in self.rows.iter_mut().zip(table) {
            let (lo, hi) = row_path(row, p_fine, cap)?;
            // The row's vol is a point, not an edge: rounded to nearest (its error is in the margin).
            let v = shock(row.vol_move().checked_add(HALF_SHOCK)?, false)?;
            largest = largest.max(v.unsigned_abs());
            *out = (lo, hi, v);
        }
        let ok =
            p_max <= SHOCK_ONE && largest < MAX_VOL.unsigned_abs() && p_max >= 0 && v_lo <= 0 && v_hi >= 0;
        let v_bound = i64::try_from(largest.div_ceil(SHOCK_ONE.unsigned_abs())).ok()?;
        (self.p_max, self.v_lo, self.v_hi, self.row_count, self.v_bound) =
            (p_max, v_lo, v_hi, table.len(), v_bound);
        ok.then_some(())
    }
}

/// A tail row's price path [lo, hi] in shock units, its end multiple × P rounded away from
/// the spot (`p_fine`: P in 2^−`FINE_BITS` units, rounded up) and capped at `MAX_SHOCK`
/// (rounded up).
fn row_path(row: &TailRow, p_fine: i64, cap: i64) -> Option<(i64, i64)> {
    let multiple = shock(row.price_multiple().abs(), true)?;
    if multiple > MAX_MULTIPLE {
        return None;
    }
    // ≤ 25·2^24 × 2^33 < 2^62 when P ≤ 1 (beyond, `Shocks::fill` refuses the result).
    let end = multiple.wrapping_mul(p_fine).wrapping_add(FINE_ONE_LESS) >> FINE_BITS;
    let end = end.min(cap);
    Some(if row.both_ways {
        (end.wrapping_neg(), end)
    } else if row.price_multiple() < Fx::ZERO {
        (end.wrapping_neg(), 0)
    } else {
        (0, end)
    })
}

/// The integer results, before conversion: the rectangle's worst loss and where, and each
/// tail row's worst path loss, in quanta × 2^−24, margins included.
pub(crate) struct Worst {
    /// Worst loss over the rectangle (≥ 0: the spot itself is a scenario), its price shock
    /// and vol shock.
    pub grid: (Fx, Fx, Fx),
    /// Each tail row's worst path loss (unweighted).
    pub rows: [Fx; MAX_TAIL_ROWS],
    pub row_count: usize,
}

/// Upper bounds of `grid::worst_on_rectangle` and of each `grid::tail_row_loss` for the
/// loss `s` (`Scaled::of`) under a level's shocks and tail table, or `None` when an input is
/// outside the integer path's bounds (the caller computes them exactly).
pub(crate) fn worst(s: &Scaled, params: &LevelShocks, tail: &TailTable) -> Option<Worst> {
    let mut k = Shocks::EMPTY;
    k.fill(params, tail)?;
    // (6 + 3V + V²) quanta, in quanta × 2^−24.
    let vb = k.v_bound;
    let margin = vb.wrapping_mul(vb).wrapping_add(vb.wrapping_mul(3)).wrapping_add(6) << SHOCK_BITS;
    let (mut best, mut at) = (0i64, (0i64, 0i64));
    let mut consider = |p: i64, v: i64| {
        let loss = s.eval(p, v);
        if loss > best {
            best = loss;
            at = (p, v);
        }
    };
    for p in [k.p_max.wrapping_neg(), k.p_max] {
        for v in [k.v_lo, k.v_hi] {
            consider(p, v);
        }
        if s.d > 0 {
            // Along p fixed: the top of −(D·v² + (C + F·p)·v).
            let numerator = (s.c << SHOCK_BITS).wrapping_add(s.f.wrapping_mul(p));
            let v = div_nearest(numerator.wrapping_neg(), s.d.wrapping_mul(2));
            if (k.v_lo..=k.v_hi).contains(&v) {
                consider(p, v);
            }
        }
    }
    for v in [k.v_lo, 0, k.v_hi] {
        if let Some(p) = s.price_vertex(v).filter(|p| p.unsigned_abs() <= k.p_max.unsigned_abs()) {
            consider(p, v);
        }
    }
    // Interior (jointly concave: b > 0 and 4bd > f²): [2b f; f 2d]·(p, v) = −(a, c). The
    // determinant is below 2^62, the numerators below 2^62 (shifted in 128 bits).
    if s.b > 0 && s.d > 0 {
        let det = s.b.wrapping_mul(s.d).wrapping_mul(4).wrapping_sub(s.f.wrapping_mul(s.f));
        if det > 0 {
            let solve = |n: i64| narrow_bits((i128::from(n) << SHOCK_BITS).checked_div(i128::from(det))?);
            let p = solve(s.f.wrapping_mul(s.c).wrapping_sub(s.a.wrapping_mul(s.d).wrapping_mul(2)));
            let v = solve(s.f.wrapping_mul(s.a).wrapping_sub(s.c.wrapping_mul(s.b).wrapping_mul(2)));
            if let (Some(p), Some(v)) = (p, v) {
                if p.unsigned_abs() <= k.p_max.unsigned_abs() && (k.v_lo..=k.v_hi).contains(&v) {
                    consider(p, v);
                }
            }
        }
    }
    let grid = (to_fx(best.wrapping_add(margin), s.shift)?, shock_fx(at.0), shock_fx(at.1));
    let mut rows = [Fx::ZERO; MAX_TAIL_ROWS];
    for (out, &(lo, hi, v)) in rows.iter_mut().zip(&k.rows[..k.row_count]) {
        // Without vol exposure the row's vol changes nothing (as in `grid::tail_row_loss`).
        let v = if s.c == 0 && s.d == 0 && s.f == 0 { 0 } else { v };
        let mut worst = s.eval(lo, v).max(s.eval(hi, v));
        if let Some(p) = s.price_vertex(v).filter(|p| (lo..=hi).contains(p)) {
            worst = worst.max(s.eval(p, v));
        }
        // The row's vol rounded to 2^−24: (|C| + |F| + 2|D|·V) quanta × 2^−24 at most.
        let rounding =
            s.c.wrapping_abs()
                .wrapping_add(s.f.wrapping_abs())
                .wrapping_add(s.d.wrapping_abs().wrapping_mul(2).wrapping_mul(vb));
        *out = to_fx(worst.wrapping_add(margin).wrapping_add(rounding), s.shift)?;
    }
    Some(Worst { grid, rows, row_count: k.row_count })
}

/// `x` quanta × 2^−24 as an `Fx`, rounded up.
fn to_fx(x: i64, shift: u32) -> Option<Fx> {
    let x = i128::from(x);
    let bits = if shift >= SHOCK_BITS {
        let up = shift.wrapping_sub(SHOCK_BITS);
        // |x| < 2^63: representable when shifted by at most 127 − 63 bits.
        if up > 64 {
            return None;
        }
        x << up
    } else {
        let down = SHOCK_BITS.wrapping_sub(shift);
        x.wrapping_add((1i128 << down).wrapping_sub(1)) >> down
    };
    Some(Fx::from_bits(bits))
}
