//! Time buckets, built in the report's time zone: a local day is [local midnight, next local
//! midnight), 23 or 25 hours on the days clocks change.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, Months, NaiveDate, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

use crate::error::{Error, Result};

/// More buckets than this is almost certainly a mistake (an hourly report over years).
const MAX_BUCKETS: usize = 100_000;

/// The calendar unit rows are grouped by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BucketUnit {
    /// Local clock hours.
    Hour,
    /// Local days, midnight to midnight (23 or 25 hours across a DST change).
    Day,
    /// ISO weeks, Monday 00:00 local.
    Week,
    /// Calendar months, the 1st 00:00 local.
    Month,
    /// One bucket: the whole window.
    None,
}

/// Contiguous buckets `[starts[i], ends[i])` covering the window, ascending; `ends[i] ==
/// starts[i + 1]`. The first and last are cut to the window; `labels` name the whole calendar
/// bucket (`2026-03-29`, `2026-W13`…).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Buckets {
    pub starts: Vec<DateTime<Utc>>,
    pub ends: Vec<DateTime<Utc>>,
    pub labels: Vec<String>,
}

impl Buckets {
    /// Splits `[from, to)` by `unit` in `tz`.
    pub fn split(from: DateTime<Utc>, to: DateTime<Utc>, unit: BucketUnit, tz: Tz) -> Result<Self> {
        let mut buckets = Buckets {
            starts: Vec::new(),
            ends: Vec::new(),
            labels: Vec::new(),
        };
        if unit == BucketUnit::None {
            let label = format!(
                "{}/{}",
                from.with_timezone(&tz).to_rfc3339(),
                to.with_timezone(&tz).to_rfc3339()
            );
            buckets.push(from, to, label);
            return Ok(buckets);
        }
        let mut at = from;
        while at < to {
            let (start, end, label) = calendar_bucket(unit, tz, at);
            debug_assert!(start <= at && at < end, "{at} not in [{start}, {end})");
            buckets.push(start.max(from), end.min(to), label);
            if buckets.starts.len() > MAX_BUCKETS {
                return Err(Error::input(format!(
                    "--bucket {unit:?} splits this window into more than {MAX_BUCKETS} buckets; \
                     use a larger bucket or a shorter window"
                )
                .to_lowercase()));
            }
            at = end;
        }
        Ok(buckets)
    }

    fn push(&mut self, start: DateTime<Utc>, end: DateTime<Utc>, label: String) {
        self.starts.push(start);
        self.ends.push(end);
        self.labels.push(label);
    }
}

/// The end of the last complete bucket at `bound`: the start of the bucket that contains it.
pub fn complete_until(unit: BucketUnit, tz: Tz, bound: DateTime<Utc>) -> DateTime<Utc> {
    match unit {
        BucketUnit::None => bound,
        unit => calendar_bucket(unit, tz, bound).0,
    }
}

/// The calendar bucket of `unit` in `tz` that contains `at`: its start, end and label.
fn calendar_bucket(
    unit: BucketUnit,
    tz: Tz,
    at: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>, String) {
    let local = at.with_timezone(&tz);
    let date = local.date_naive();
    match unit {
        BucketUnit::Hour => {
            // Every offset change in use is a whole number of hours away from UTC's hours
            // except a handful (Lord Howe's 30 minutes); hours are cut on the local clock.
            let into_hour = Duration::seconds(i64::from(local.minute() * 60 + local.second()))
                + Duration::nanoseconds(i64::from(local.nanosecond()));
            let start = at - into_hour;
            let label = start
                .with_timezone(&tz)
                .format("%Y-%m-%dT%H:%M%:z")
                .to_string();
            (start, start + Duration::hours(1), label)
        }
        BucketUnit::Day => {
            let next = date.succ_opt().expect("date in range");
            (
                day_start(tz, date),
                day_start(tz, next),
                date.format("%Y-%m-%d").to_string(),
            )
        }
        BucketUnit::Week => {
            let monday = date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
            let iso = monday.iso_week();
            let label = format!("{}-W{:02}", iso.year(), iso.week());
            (
                day_start(tz, monday),
                day_start(tz, monday + Duration::days(7)),
                label,
            )
        }
        BucketUnit::Month => {
            let first = date.with_day(1).expect("day 1 exists");
            let next = first + Months::new(1);
            (
                day_start(tz, first),
                day_start(tz, next),
                first.format("%Y-%m").to_string(),
            )
        }
        BucketUnit::None => unreachable!("the whole window is one bucket"),
    }
}

/// The first instant of a local date. A few zones move their clocks at midnight (no 00:00 that
/// day): the day then starts at the first local time that exists.
fn day_start(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut local = date.and_hms_opt(0, 0, 0).expect("midnight");
    loop {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(earliest, _) => return earliest.with_timezone(&Utc),
            LocalResult::None => local += Duration::minutes(15),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::ReportWindowArgs;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn hours(b: &Buckets) -> Vec<i64> {
        b.starts
            .iter()
            .zip(&b.ends)
            .map(|(s, e)| (*e - *s).num_hours())
            .collect()
    }

    #[test]
    fn kyiv_days_have_23_and_25_hours_when_clocks_change() {
        let kyiv: Tz = "Europe/Kyiv".parse().unwrap();
        // 2026-03-29: clocks jump 03:00 → 04:00; 2026-10-25: 04:00 → 03:00.
        let spring = Buckets::split(
            utc("2026-03-27T22:00:00Z"),
            utc("2026-03-30T21:00:00Z"),
            BucketUnit::Day,
            kyiv,
        )
        .unwrap();
        assert_eq!(spring.labels, ["2026-03-28", "2026-03-29", "2026-03-30"]);
        assert_eq!(hours(&spring), [24, 23, 24]);
        assert_eq!(spring.starts[1], utc("2026-03-28T22:00:00Z"));
        assert_eq!(spring.ends[1], utc("2026-03-29T21:00:00Z"));

        let autumn = Buckets::split(
            utc("2026-10-24T21:00:00Z"),
            utc("2026-10-25T22:00:00Z"),
            BucketUnit::Day,
            kyiv,
        )
        .unwrap();
        assert_eq!(autumn.labels, ["2026-10-25"]);
        assert_eq!(hours(&autumn), [25]);
    }

    #[test]
    fn hours_follow_the_local_clock_and_label_the_repeated_hour_by_offset() {
        let kyiv: Tz = "Europe/Kyiv".parse().unwrap();
        let b = Buckets::split(
            utc("2026-10-24T23:00:00Z"),
            utc("2026-10-25T02:00:00Z"),
            BucketUnit::Hour,
            kyiv,
        )
        .unwrap();
        assert_eq!(
            b.labels,
            [
                "2026-10-25T02:00+03:00",
                "2026-10-25T03:00+03:00",
                "2026-10-25T03:00+02:00"
            ]
        );
        // Half-hour zones cut hours on their own clock.
        let india: Tz = "Asia/Kolkata".parse().unwrap();
        let b = Buckets::split(
            utc("2026-01-01T00:00:00Z"),
            utc("2026-01-01T01:00:00Z"),
            BucketUnit::Hour,
            india,
        )
        .unwrap();
        assert_eq!(
            b.starts,
            [utc("2026-01-01T00:00:00Z"), utc("2026-01-01T00:30:00Z")]
        );
        assert_eq!(
            b.labels,
            ["2026-01-01T05:00+05:30", "2026-01-01T06:00+05:30"]
        );
    }

    #[test]
    fn partial_buckets_are_cut_to_the_window_and_keep_the_calendar_label() {
        let b = Buckets::split(
            utc("2026-09-30T18:00:00Z"),
            utc("2026-10-02T06:00:00Z"),
            BucketUnit::Day,
            Tz::UTC,
        )
        .unwrap();
        assert_eq!(b.labels, ["2026-09-30", "2026-10-01", "2026-10-02"]);
        assert_eq!(b.starts[0], utc("2026-09-30T18:00:00Z"));
        assert_eq!(b.ends[2], utc("2026-10-02T06:00:00Z"));
        // Contiguous: each bucket ends where the next starts.
        assert_eq!(b.ends[..2], b.starts[1..]);
    }

    #[test]
    fn weeks_are_iso_weeks_and_months_calendar_months() {
        let kyiv: Tz = "Europe/Kyiv".parse().unwrap();
        let w = Buckets::split(
            utc("2026-03-25T00:00:00Z"),
            utc("2026-04-02T00:00:00Z"),
            BucketUnit::Week,
            kyiv,
        )
        .unwrap();
        assert_eq!(w.labels, ["2026-W13", "2026-W14"]);
        assert_eq!(w.ends[0], utc("2026-03-29T21:00:00Z")); // Monday 30 March 00:00 +03:00
        let m = Buckets::split(
            utc("2026-01-15T00:00:00Z"),
            utc("2026-03-02T00:00:00Z"),
            BucketUnit::Month,
            Tz::UTC,
        )
        .unwrap();
        assert_eq!(m.labels, ["2026-01", "2026-02", "2026-03"]);
        assert_eq!(m.ends[1], utc("2026-03-01T00:00:00Z"));
    }

    #[test]
    fn too_many_buckets_and_future_windows_are_refused() {
        let e = Buckets::split(
            utc("2000-01-01T00:00:00Z"),
            utc("2026-01-01T00:00:00Z"),
            BucketUnit::Hour,
            Tz::UTC,
        )
        .unwrap_err();
        assert!(
            e.one_line().contains("more than 100000 buckets"),
            "{}",
            e.one_line()
        );
        let args = ReportWindowArgs::new("2030-01-01");
        let e = args.buckets(utc("2026-01-01T00:00:00Z")).unwrap_err();
        assert!(e.one_line().contains("give --to"), "{}", e.one_line());
    }
}
