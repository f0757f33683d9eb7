//! Parsing of user-supplied instants, time zones and durations.
//!
//! `--from 2026-09-01` means local midnight in `--tz`; an RFC 3339 value carries its own offset.
//! Errors name the flag and the value, so the one-line message is actionable.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::{Error, Result};

/// Parses an IANA time zone name (`Europe/Kyiv`, `UTC`).
pub fn parse_tz(value: &str) -> Result<Tz> {
    value.parse::<Tz>().map_err(|_| {
        Error::input(format!(
            "invalid --tz '{value}': expected an IANA time zone name such as UTC or Europe/Kyiv"
        ))
    })
}

/// `--tz`: an IANA zone, parsed once, when the flags are (clap reads it with `FromStr`); UTC
/// by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zone(pub Tz);

impl Default for Zone {
    fn default() -> Self {
        Zone(chrono_tz::UTC)
    }
}

impl std::str::FromStr for Zone {
    type Err = String;
    fn from_str(value: &str) -> std::result::Result<Self, String> {
        value
            .parse::<Tz>()
            .map(Zone)
            .map_err(|_| "expected an IANA time zone name such as UTC or Europe/Kyiv".to_string())
    }
}

/// Parses an instant for `flag`: RFC 3339 (`2026-09-01T08:00:00Z`, `…+03:00`), or a local
/// date / date-time (`2026-09-01`, `2026-09-01T08:00`, `2026-09-01 08:00:00`) read in `tz`.
pub fn parse_instant(flag: &str, value: &str, tz: Tz) -> Result<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    let local = parse_local(value).ok_or_else(|| {
        Error::input(format!(
            "invalid {flag} '{value}': expected RFC 3339 (2026-09-01T08:00:00Z) or a date YYYY-MM-DD"
        ))
    })?;
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        // A repeated hour (DST end): the earlier instant, so a window never skips time.
        LocalResult::Ambiguous(earliest, _) => Ok(earliest.with_timezone(&Utc)),
        LocalResult::None => Err(Error::input(format!(
            "invalid {flag} '{value}': that local time does not exist in {tz} (DST gap)"
        ))),
    }
}

fn parse_local(value: &str) -> Option<NaiveDateTime> {
    if let Ok(d) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0);
    }
    const FORMATS: [&str; 4] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ];
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(value, f).ok())
}

/// A half-open window `[from, to)`; either side may be open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Window {
    /// Parses both bounds and checks that `from` is before `to`.
    pub fn parse(
        (from_flag, from): (&str, Option<&str>),
        (to_flag, to): (&str, Option<&str>),
        tz: Tz,
    ) -> Result<Window> {
        let from = from.map(|v| parse_instant(from_flag, v, tz)).transpose()?;
        let to = to.map(|v| parse_instant(to_flag, v, tz)).transpose()?;
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            return Err(Error::input(format!(
                "{from_flag} ({}) must be before {to_flag} ({})",
                f.to_rfc3339(),
                t.to_rfc3339()
            )));
        }
        Ok(Window { from, to })
    }
}

/// A duration flag (`30s`, `5m`, `1h`, `1500ms` or a bare number of seconds), parsed once,
/// when the flags are (clap reads it with `FromStr`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span(pub std::time::Duration);

impl std::str::FromStr for Span {
    type Err = String;
    fn from_str(value: &str) -> std::result::Result<Self, String> {
        duration(value)
            .map(Span)
            .ok_or_else(|| DURATION_EXPECTED.to_string())
    }
}

const DURATION_EXPECTED: &str = "expected a duration like 30s, 5m, 1h or 1500ms";

/// Parses a duration such as `30s`, `5m`, `1h`, `1500ms` or a bare number of seconds given
/// for `flag` (a config key).
pub fn parse_duration(flag: &str, value: &str) -> Result<std::time::Duration> {
    duration(value)
        .ok_or_else(|| Error::input(format!("invalid {flag} '{value}': {DURATION_EXPECTED}")))
}

fn duration(value: &str) -> Option<std::time::Duration> {
    let v = value.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (digits, unit) = v.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let ms = match unit {
        "" | "s" => n.checked_mul(1000),
        "ms" => Some(n),
        "m" | "min" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        _ => None,
    }?;
    Some(std::time::Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_is_local_midnight_in_tz() {
        let kyiv = parse_tz("Europe/Kyiv").unwrap();
        let t = parse_instant("--from", "2026-07-01", kyiv).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-06-30T21:00:00+00:00");
        let utc = parse_instant("--from", "2026-07-01", Tz::UTC).unwrap();
        assert_eq!(utc.to_rfc3339(), "2026-07-01T00:00:00+00:00");
    }

    #[test]
    fn rfc3339_keeps_its_offset() {
        let t = parse_instant("--to", "2026-07-01T10:00:00+03:00", Tz::UTC).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-07-01T07:00:00+00:00");
    }

    #[test]
    fn dst_gap_is_rejected_and_names_the_flag() {
        let kyiv = parse_tz("Europe/Kyiv").unwrap();
        let err = parse_instant("--from", "2026-03-29T03:30", kyiv).unwrap_err();
        assert!(err.to_string().contains("--from"), "{err}");
    }

    #[test]
    fn bad_values_are_input_errors() {
        for v in ["2026-13-01", "yesterday", "2026-02-30", ""] {
            let err = parse_instant("--from", v, Tz::UTC).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{v}");
            assert!(err.to_string().contains("--from"));
        }
        assert!(parse_tz("Mars/Base").is_err());
    }

    #[test]
    fn window_must_be_ordered() {
        let ok = Window::parse(
            ("--from", Some("2026-01-01")),
            ("--to", Some("2026-01-02")),
            Tz::UTC,
        );
        assert!(ok.is_ok());
        let err = Window::parse(
            ("--from", Some("2026-01-02")),
            ("--to", Some("2026-01-02")),
            Tz::UTC,
        )
        .unwrap_err();
        assert!(err.to_string().contains("must be before"));
    }

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("--statement-timeout", "30s")
                .unwrap()
                .as_secs(),
            30
        );
        assert_eq!(
            parse_duration("--statement-timeout", "5m")
                .unwrap()
                .as_secs(),
            300
        );
        assert_eq!(
            parse_duration("--statement-timeout", "250ms")
                .unwrap()
                .as_millis(),
            250
        );
        assert_eq!(
            parse_duration("--statement-timeout", "12")
                .unwrap()
                .as_secs(),
            12
        );
        assert!(parse_duration("--statement-timeout", "5 parsecs").is_err());
        assert!(parse_duration("--statement-timeout", "-1s").is_err());
    }
}
