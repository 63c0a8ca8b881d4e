//! How the command line shows numbers to a person: token amounts in UI units (exact, grouped
//! by thousands), unix times as ISO 8601 UTC.

/// `native` with `decimals` places as an exact decimal in UI units, thousands grouped with
/// commas, trailing fraction zeros dropped: `ui_amount(1_500_000_000, 6)` is "1,500".
pub fn ui_amount(native: u64, decimals: u8) -> String {
    let scale = 10u128.pow(u32::from(decimals));
    let (whole, fraction) = (u128::from(native) / scale, u128::from(native) % scale);
    let digits = whole.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if fraction == 0 {
        return grouped;
    }
    let fraction = format!("{fraction:0width$}", width = usize::from(decimals));
    format!("{grouped}.{}", fraction.trim_end_matches('0'))
}

/// A unix time (seconds) as ISO 8601 UTC, e.g. "2026-01-01T13:37:00Z".
pub fn iso_utc(unix: i64) -> String {
    let (year, month, day, secs) = civil_from_unix(unix);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3_600, secs % 3_600 / 60, secs % 60)
}

/// A unix time (seconds) as the UTC civil date and the seconds into its day: `(year, month,
/// day, seconds)`. Days to a date by Howard Hinnant's `civil_from_days` (the proleptic
/// Gregorian calendar).
pub fn civil_from_unix(unix: i64) -> (i64, i64, i64, i64) {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_and_grouped() {
        assert_eq!(ui_amount(1_500_000_000, 6), "1,500");
        assert_eq!(ui_amount(1_000_000_000_000_000, 6), "1,000,000,000");
        assert_eq!(ui_amount(1_234_567, 6), "1.234567");
        assert_eq!(ui_amount(100, 0), "100");
        assert_eq!(ui_amount(0, 9), "0");
        assert_eq!(ui_amount(u64::MAX, 0), "18,446,744,073,709,551,615");
        assert_eq!(ui_amount(u64::MAX, 19), "1.8446744073709551615");
    }

    #[test]
    fn dates_are_iso_utc() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(1_767_274_620), "2026-01-01T13:37:00Z");
        assert_eq!(iso_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso_utc(-1), "1969-12-31T23:59:59Z");
        assert_eq!(iso_utc(4_102_444_800), "2100-01-01T00:00:00Z");
    }
}
