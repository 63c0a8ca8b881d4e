//! Properties of the margin requirement (proptest): zero for an exactly offsetting pair,
//! subadditive across portfolios, positively homogeneous, monotone in shock size, never
//! negative.
mod common;

use common::*;
use proptest::prelude::*;
use xmargin_risk::fx::Fx;
use xmargin_risk::{Position, UnderlyingMarket};

fn markets() -> [UnderlyingMarket; 2] {
    two_markets()
}

use common::requirement_pair as req;

fn negated(p: &Position) -> Position {
    Position { size: -p.size, ..*p }
}

fn scaled(p: &Position, k: i64) -> Position {
    Position { size: p.size.checked_mul_int(i128::from(k)).unwrap(), ..*p }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn offsetting_pair_needs_nothing(p in position_strategy()) {
        let (i, m) = req(&[p, negated(&p)], &markets());
        prop_assert_eq!((i, m), (0.0, 0.0));
    }

    #[test]
    fn offsetting_books_need_nothing(a in book()) {
        let mut both = a.clone();
        both.extend(a.iter().map(negated));
        prop_assert_eq!(req(&both, &markets()), (0.0, 0.0));
    }

    #[test]
    fn subadditive(a in book(), b in book()) {
        let u = markets();
        let (ia, ma) = req(&a, &u);
        let (ib, mb) = req(&b, &u);
        let mut ab = a.clone();
        ab.extend_from_slice(&b);
        let (iab, mab) = req(&ab, &u);
        prop_assert!(iab <= ia + ib + tol(ia + ib), "initial {} > {} + {}", iab, ia, ib);
        prop_assert!(mab <= ma + mb + tol(ma + mb), "maintenance {} > {} + {}", mab, ma, mb);
    }

    #[test]
    fn positively_homogeneous(a in book(), k in 2i64..5) {
        let u = markets();
        let (i1, m1) = req(&a, &u);
        let big: Vec<Position> = a.iter().map(|p| scaled(p, k)).collect();
        let (ik, mk) = req(&big, &u);
        let kf = k as f64;
        prop_assert!((ik - kf * i1).abs() <= tol(ik) * 10.0, "initial {} vs {}×{}", ik, k, i1);
        prop_assert!((mk - kf * m1).abs() <= tol(mk) * 10.0, "maintenance {} vs {}×{}", mk, k, m1);
    }

    #[test]
    fn monotone_in_shock_size(a in book(), grow in 1.0f64..2.0) {
        let small = markets();
        let mut large = small;
        for u in &mut large {
            u.scenario = u.scenario.scaled(Fx::from_num(grow)).unwrap();
        }
        let (is, ms) = req(&a, &small);
        let (il, ml) = req(&a, &large);
        prop_assert!(il + tol(il) >= is, "initial {} < {}", il, is);
        prop_assert!(ml + tol(ml) >= ms, "maintenance {} < {}", ml, ms);
    }

    #[test]
    fn never_negative_and_initial_at_least_maintenance(a in book()) {
        let (i, m) = req(&a, &markets());
        prop_assert!(m >= 0.0);
        prop_assert!(i + tol(i) >= m, "initial {} < maintenance {}", i, m);
    }
}
