//! Errors of the risk engine. Every failure is specific; nothing panics or wraps.
use core::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskError {
    /// A fixed-point operation left the representable range (±2^79).
    Overflow,
    /// Division by zero.
    DivisionByZero,
    /// `ln` or `sqrt` of a value outside its domain (ln: x ≤ 0, sqrt: x < 0).
    MathDomain,
    /// A price (spot, strike, collateral price) is zero or negative.
    NonPositivePrice,
    /// A confidence interval is negative or not below the price.
    InvalidConfidence,
    /// An implied volatility is outside [MIN_VOL, MAX_VOL].
    VolatilityOutOfRange,
    /// A position refers to an underlying index with no market data.
    UnknownUnderlying(u16),
    /// A balance refers to a collateral index with no market data.
    UnknownCollateral(u16),
    /// Scenario-grid parameters are inconsistent (see `ScenarioParams::validate`).
    InvalidScenarioParams,
    /// Haircut schedule is inconsistent (see `HaircutSchedule::validate`).
    InvalidHaircutSchedule,
    /// Margin parameters are inconsistent (initial scale below 1).
    InvalidMarginParams,
    /// A perpetual has no entry price, or an option has no positive strike.
    InvalidInstrument,
    /// A volatility update is not later than the previous one.
    TimeNotIncreasing,
    /// An option series has never been marked (`marks.rs`).
    MarksMissing,
    /// An option series' marks are older than the policy's largest age (or from the future).
    MarksTooOld,
    /// The spot moved further from the marks' reference spot than the policy allows.
    MarksSpotDrift,
    /// The implied vol or the price-shock range changed beyond what the marks cover.
    MarksParamsChanged,
    /// A marks policy is outside its bounds (`MarksPolicy::validate`).
    InvalidMarksPolicy,
    /// Liquidation of a portfolio whose maintenance health is not negative.
    NotLiquidatable,
    /// The position to liquidate does not exist, is empty, or is smaller than a lot.
    NothingToLiquidate,
    /// Taking over the allowed size would not improve the target's maintenance health.
    LiquidationWouldNotImprove,
    /// Liquidation terms out of range (negative discount, non-positive buffer or lot, no lots).
    InvalidLiquidationTerms,
    /// A collateral link is out of range (ratio not in (0, 10], basis haircut not in [0, 1]
    /// or initial below maintenance).
    InvalidCollateralLink,
    /// Offset groups are inconsistent (credit not in [0, 1], fewer than 2 or more than
    /// `MAX_GROUP_MEMBERS` members, a member repeated or in two groups).
    InvalidOffsetGroup,
    /// A requirement was asked of a book at a margin level its add-ons were not summed for
    /// (`marks::marked_books_at`): an engine caller's mistake, refused rather than computed
    /// without the convexity add-ons.
    LevelNotBuilt,
}

impl fmt::Display for RiskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RiskError::Overflow => write!(f, "fixed-point overflow"),
            RiskError::DivisionByZero => write!(f, "division by zero"),
            RiskError::MathDomain => write!(f, "argument outside the function's domain"),
            RiskError::NonPositivePrice => write!(f, "price must be positive"),
            RiskError::InvalidConfidence => write!(f, "confidence must be in [0, price)"),
            RiskError::VolatilityOutOfRange => write!(f, "implied volatility out of range"),
            RiskError::UnknownUnderlying(i) => write!(f, "no market data for underlying {i}"),
            RiskError::UnknownCollateral(i) => write!(f, "no market data for collateral {i}"),
            RiskError::InvalidScenarioParams => write!(f, "invalid scenario-grid parameters"),
            RiskError::InvalidHaircutSchedule => write!(f, "invalid haircut schedule"),
            RiskError::InvalidMarginParams => write!(f, "invalid margin parameters"),
            RiskError::InvalidInstrument => write!(f, "invalid instrument"),
            RiskError::TimeNotIncreasing => write!(f, "observation time must increase"),
            RiskError::MarksMissing => write!(f, "option series has no marks"),
            RiskError::MarksTooOld => write!(f, "option series marks are too old"),
            RiskError::MarksSpotDrift => write!(f, "spot drifted too far from the marks' reference"),
            RiskError::MarksParamsChanged => write!(f, "vol or shock range changed since the marks"),
            RiskError::InvalidMarksPolicy => write!(f, "invalid marks policy"),
            RiskError::NotLiquidatable => write!(f, "maintenance health is not negative"),
            RiskError::NothingToLiquidate => write!(f, "no position of at least one lot to liquidate"),
            RiskError::LiquidationWouldNotImprove => {
                write!(f, "liquidating this position does not improve health")
            }
            RiskError::InvalidLiquidationTerms => write!(f, "invalid liquidation terms"),
            RiskError::InvalidCollateralLink => write!(f, "invalid collateral link"),
            RiskError::InvalidOffsetGroup => write!(f, "invalid offset groups"),
            RiskError::LevelNotBuilt => write!(f, "the book was not built for this margin level"),
        }
    }
}

pub type Result<T> = core::result::Result<T, RiskError>;
