//! Compute-unit ceilings: every measured instruction is checked against its ceiling and
//! recorded for `make cu` (target/cu/measurements.jsonl → target/cu-report.json).
use std::io::Write;
use std::path::PathBuf;

/// Where measurements are appended, one JSON object per line.
pub fn measurements_path() -> PathBuf {
    if let Ok(dir) = std::env::var("XMARGIN_CU_DIR") {
        return PathBuf::from(dir).join("measurements.jsonl");
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/cu/measurements.jsonl")
}

/// Asserts `cu <= ceiling` and records the measurement. `instruction` is the IDL name.
pub fn record(instruction: &str, scenario: &str, cu: u64, ceiling: u64) {
    assert!(cu <= ceiling, "{instruction} ({scenario}) used {cu} CU, above its ceiling of {ceiling} CU");
    let line = format!(
        "{{\"instruction\":{},\"scenario\":{},\"cu\":{cu},\"ceiling\":{ceiling}}}\n",
        json_string(instruction),
        json_string(scenario)
    );
    let path = measurements_path();
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // One short O_APPEND write per line: concurrent tests do not interleave within a line.
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(&path) {
        let _ = file.write_all(line.as_bytes());
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
