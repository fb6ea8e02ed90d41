//! Numbers and durations written for people: `1,234`, `850 ms`, `3.2 s`,
//! `2 min 05 s`, clocks like `00:03.2`, and cutting text to a width.

use std::time::Duration;

/// A duration in the largest unit that keeps it short.
///
/// Below a second: whole milliseconds. Below a minute: seconds with one
/// decimal, the decimal dropped when it is zero. Below an hour: minutes and
/// two-digit seconds. Above: hours and two-digit minutes.
///
/// ```
/// use std::time::Duration;
/// use render::humanize::duration;
/// assert_eq!(duration(Duration::from_millis(850)), "850 ms");
/// assert_eq!(duration(Duration::from_millis(3_210)), "3.2 s");
/// assert_eq!(duration(Duration::from_secs(13)), "13 s");
/// assert_eq!(duration(Duration::from_secs(125)), "2 min 05 s");
/// assert_eq!(duration(Duration::from_secs(3_720)), "1 h 02 min");
/// ```
pub fn duration(value: Duration) -> String {
    let millis = value.as_millis();
    if millis < 1_000 {
        return format!("{millis} ms");
    }
    let tenths = (millis + 50) / 100;
    if tenths < 600 {
        let (whole, tenth) = (tenths / 10, tenths % 10);
        return if tenth == 0 {
            format!("{whole} s")
        } else {
            format!("{whole}.{tenth} s")
        };
    }
    let seconds = (millis + 500) / 1_000;
    if seconds < 3_600 {
        return format!("{} min {:02} s", seconds / 60, seconds % 60);
    }
    let minutes = seconds / 60;
    format!("{} h {:02} min", minutes / 60, minutes % 60)
}

/// An elapsed time as a stopwatch reading: `MM:SS.t`, or `H:MM:SS.t` from
/// one hour on. Tenths are truncated so the clock never runs ahead.
///
/// ```
/// use std::time::Duration;
/// use render::humanize::clock;
/// assert_eq!(clock(Duration::from_millis(3_250)), "00:03.2");
/// assert_eq!(clock(Duration::from_secs(3_725)), "1:02:05.0");
/// ```
pub fn clock(elapsed: Duration) -> String {
    let tenths = elapsed.as_millis() / 100;
    let (seconds, tenth) = (tenths / 10, tenths % 10);
    let (minutes, second) = (seconds / 60, seconds % 60);
    if minutes < 60 {
        format!("{minutes:02}:{second:02}.{tenth}")
    } else {
        format!("{}:{:02}:{second:02}.{tenth}", minutes / 60, minutes % 60)
    }
}

/// A count with `,` between thousands.
///
/// ```
/// assert_eq!(render::humanize::count(1_234_567), "1,234,567");
/// assert_eq!(render::humanize::count(42), "42");
/// ```
pub fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `text` cut to at most `width` terminal columns, ending in `…` when
/// anything was cut. Widths are display widths (an emoji counts two).
///
/// ```
/// assert_eq!(render::humanize::truncate("Implement Login Endpoint", 10), "Implement…");
/// assert_eq!(render::humanize::truncate("short", 10), "short");
/// ```
pub fn truncate(text: &str, width: usize) -> String {
    crate::text::truncate(text, width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_a_unit() {
        let cases = [
            (0, "0 ms"),
            (1, "1 ms"),
            (999, "999 ms"),
            (1_000, "1 s"),
            (1_049, "1 s"),
            (1_050, "1.1 s"),
            (3_200, "3.2 s"),
            (59_940, "59.9 s"),
            (59_950, "1 min 00 s"),
            (125_000, "2 min 05 s"),
            (3_599_000, "59 min 59 s"),
            (3_600_000, "1 h 00 min"),
            (90_061_000, "25 h 01 min"),
        ];
        for (millis, expected) in cases {
            assert_eq!(
                duration(Duration::from_millis(millis)),
                expected,
                "{millis} ms"
            );
        }
    }

    #[test]
    fn clocks_truncate_tenths() {
        assert_eq!(clock(Duration::ZERO), "00:00.0");
        assert_eq!(clock(Duration::from_millis(3_299)), "00:03.2");
        assert_eq!(clock(Duration::from_secs(61)), "01:01.0");
        assert_eq!(clock(Duration::from_secs(3_600)), "1:00:00.0");
    }

    #[test]
    fn counts_group_thousands() {
        let cases = [
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (12_345, "12,345"),
            (123_456, "123,456"),
            (1_234_567, "1,234,567"),
            (u64::MAX, "18,446,744,073,709,551,615"),
        ];
        for (value, expected) in cases {
            assert_eq!(count(value), expected);
        }
    }
}
