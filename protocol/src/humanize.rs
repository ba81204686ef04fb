//! Human-readable durations as the 0.5x host writes them: Timex's "humanized" format
//! for uptimes, chrono-humanize's rough relative times for claims dates.

/// Seconds as Timex's humanized duration, e.g. `3723` → `"1 hour, 2 minutes, 3 seconds"`.
///
/// Units are years (365 days), months (30 days), weeks, days, hours, minutes and
/// seconds; zero units are left out, and `0` is `"0 seconds"`.
pub fn humanize_duration(secs: u64) -> String {
    const UNITS: [(u64, &str); 7] = [
        (365 * 86_400, "year"),
        (30 * 86_400, "month"),
        (7 * 86_400, "week"),
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    if secs == 0 {
        return "0 seconds".to_string();
    }
    let mut rest = secs;
    let mut parts = Vec::new();
    for (size, name) in UNITS {
        let n = rest / size;
        rest %= size;
        if n > 0 {
            parts.push(format!("{n} {name}{}", if n == 1 { "" } else { "s" }));
        }
    }
    parts.join(", ")
}

/// How far `unix_secs` is from now, in chrono-humanize's rough English: `"in 2 months"`,
/// `"3 hours ago"`, `"now"` (within 10 seconds).
///
/// Callers print `"never"` for a missing expiry and `"immediately"` for a missing
/// not-before, as the host does.
pub fn humanize_time_from_now(unix_secs: u64) -> String {
    let now = crate::claims::now_secs();
    humanize_relative(i128::from(unix_secs) - i128::from(now))
}

/// chrono-humanize `HumanTime` (rough accuracy, present tense) for a signed offset in
/// seconds: positive is the future.
pub(crate) fn humanize_relative(delta_secs: i128) -> String {
    const MINUTE: i128 = 60;
    const HOUR: i128 = 60 * MINUTE;
    const DAY: i128 = 24 * HOUR;
    const WEEK: i128 = 7 * DAY;
    const MONTH: i128 = 30 * DAY;
    const YEAR: i128 = 365 * DAY;
    let n = delta_secs.abs();
    let plural = |count: i128, unit: &str| format!("{count} {unit}s");
    let text = match n {
        n if n > 547 * DAY => plural((n / YEAR).max(2), "year"),
        n if n > 345 * DAY => "a year".to_string(),
        n if n > 45 * DAY => plural((n / MONTH).max(2), "month"),
        n if n > 29 * DAY => "a month".to_string(),
        n if n > 10 * DAY + 12 * HOUR => plural((n / WEEK).max(2), "week"),
        n if n > 6 * DAY + 12 * HOUR => "a week".to_string(),
        n if n > 36 * HOUR => plural((n / DAY).max(2), "day"),
        n if n > 22 * HOUR => "a day".to_string(),
        n if n > 90 * MINUTE => plural((n / HOUR).max(2), "hour"),
        n if n > 45 * MINUTE => "an hour".to_string(),
        n if n > 90 => plural((n / MINUTE).max(2), "minute"),
        n if n > 45 => "a minute".to_string(),
        n if n > 10 => plural(n, "second"),
        _ => return "now".to_string(),
    };
    if delta_secs > 0 {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors;

    #[test]
    fn durations_like_timex() {
        let sidecar = vectors::json("event_host_heartbeat.sidecar.json");
        let data = &sidecar["parsed"]["data"];
        assert_eq!(
            humanize_duration(data["uptime_seconds"].as_u64().unwrap()),
            data["uptime_human"]
        );
        assert_eq!(humanize_duration(73), "1 minute, 13 seconds"); // LATTICE.md §1.3 example
        assert_eq!(humanize_duration(3600), "1 hour");
        assert_eq!(humanize_duration(1), "1 second");
        assert_eq!(humanize_duration(0), "0 seconds");
        assert_eq!(
            humanize_duration(86_400 * 8 + 2),
            "1 week, 1 day, 2 seconds"
        );
        assert_eq!(humanize_duration(400 * 86_400), "1 year, 1 month, 5 days");
        assert!(!humanize_duration(u64::MAX).is_empty());
    }

    #[test]
    fn relative_times_like_chrono_humanize() {
        let cases: &[(i128, &str)] = &[
            (0, "now"),
            (10, "now"),
            (-10, "now"),
            (30, "in 30 seconds"),
            (-30, "30 seconds ago"),
            (60, "in a minute"),
            (600, "in 10 minutes"),
            (3600, "in an hour"),
            (-3 * 3600, "3 hours ago"),
            (86_400, "in a day"),
            (3 * 86_400, "in 3 days"),
            (7 * 86_400, "in a week"),
            (14 * 86_400, "in 2 weeks"),
            (30 * 86_400, "in a month"),
            (61 * 86_400, "in 2 months"),
            (365 * 86_400, "in a year"),
            (-3 * 365 * 86_400, "3 years ago"),
        ];
        for (delta, text) in cases {
            assert_eq!(humanize_relative(*delta), *text, "{delta}");
        }
        assert_eq!(
            humanize_time_from_now(0).split(' ').next_back(),
            Some("ago")
        );
        assert_eq!(
            humanize_time_from_now(u64::MAX).split(' ').next(),
            Some("in")
        );
    }
}
