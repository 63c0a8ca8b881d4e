//! Quote depeg contingency. Prices come in USD while positions settle in the quote asset
//! (USDC), which the engine treats as exactly 1. While the quote's own USD price q is below a
//! governed threshold (Derive charges below 0.99), every USD price is misstated in quote
//! units by the depeg and the peg may move further or snap back, in a direction no book
//! chooses. The contingency charges, per underlying,
//!
//! ```text
//! add-on = factor · max(0, threshold − q) · S · Σ |position size|
//! ```
//!
//! Gross units bound every position's |delta| (≤ 1 per option unit, 1 per perp unit), so
//! the add-on covers a move of the peg by factor × the depeg whatever the book's mix; it is
//! convex and positively homogeneous in the sizes, zero at or above the threshold, and
//! grows linearly with the depeg (a book with USDC at 0.95 is charged more than at 1.00).
//! The initial level scales it like the shocks. The program feeds q from the quote asset's
//! oracle (a keeper crank) and follows the action table in docs/risk-model.md when that oracle fails.
use crate::error::{Result, RiskError};
use crate::fx::{Checked, Fx, ONE, ZERO};

/// Governed depeg contingency of the quote asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotePeg {
    /// q below which the add-on applies, in (0, 1] (0.99 at Derive); 0 = no contingency.
    pub threshold: Fx,
    /// Multiple of the depeg charged per unit of gross notional, in [0, 20].
    pub factor: Fx,
}

impl QuotePeg {
    pub const NONE: QuotePeg = QuotePeg { threshold: ZERO, factor: ZERO };
    /// Reference: below 0.99, twice the depeg (a peg at 0.95 charges 8% of gross notional).
    pub const REFERENCE: QuotePeg = QuotePeg { threshold: Fx::lit("0.99"), factor: Fx::lit("2") };
    pub const MAX_FACTOR: Fx = Fx::lit("20");

    pub fn validate(&self) -> Result<()> {
        let ok = self.threshold >= ZERO
            && self.threshold <= ONE
            && self.factor >= ZERO
            && self.factor <= Self::MAX_FACTOR;
        if ok {
            Ok(())
        } else {
            Err(RiskError::InvalidMarginParams)
        }
    }

    /// The charge per unit of gross notional (maintenance) at quote price `q` (USD per quote
    /// unit, > 0): factor · max(0, threshold − q), at most 1 (the whole notional: beyond it a
    /// deeper depeg adds nothing the add-on could cover, and `MarginParams` accepts no more).
    pub fn charge(&self, q: Fx) -> Result<Fx> {
        self.validate()?;
        if q <= ZERO {
            return Err(RiskError::NonPositivePrice);
        }
        Ok(self.factor.mul_c(self.threshold.sub_c(q)?.max(ZERO))?.min(ONE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charge_grows_with_the_depeg_and_vanishes_at_the_threshold() {
        let p = QuotePeg::REFERENCE;
        assert_eq!(p.charge(Fx::ONE).unwrap(), ZERO);
        assert_eq!(p.charge(Fx::lit("0.99")).unwrap(), ZERO);
        assert_eq!(p.charge(Fx::lit("0.95")).unwrap(), Fx::lit("0.08"));
        assert!(p.charge(Fx::lit("0.90")).unwrap() > p.charge(Fx::lit("0.95")).unwrap());
        assert_eq!(QuotePeg::NONE.charge(Fx::lit("0.5")).unwrap(), ZERO);
        assert!(p.charge(ZERO).is_err());
        // A deep depeg with a large factor charges the whole notional, never more.
        let steep = QuotePeg { threshold: Fx::lit("0.99"), factor: Fx::lit("20") };
        assert_eq!(steep.charge(Fx::lit("0.93")).unwrap(), ONE);
        assert_eq!(steep.charge(Fx::lit("0.000001")).unwrap(), ONE);
        assert!(QuotePeg { threshold: Fx::lit("1.1"), factor: ONE }.validate().is_err());
        assert!(QuotePeg { threshold: ONE, factor: Fx::lit("21") }.validate().is_err());
    }
}
