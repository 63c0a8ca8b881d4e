//! A portfolio file — the `xmargin risk margin` JSON schema (examples/books/) — parsed with
//! field-named errors and evaluated by `crates/risk`: the margin report, the comparison with
//! naive-cross and isolated margin, and its JSON. One implementation for the CLI (text and
//! `--json`) and the web page (through crates/wasm), so both show the same numbers and the
//! same messages.
pub mod input;
pub mod report;

pub use report::{evaluate, margin_json, Evaluation};
