//! How much of the call history an export reads, which decides the shape of a derived
//! dataset's query ([`ReadShape`]): index probes per row pay per row read, the set-wise shape
//! pays a fixed read of whole tables, so a window covering a large share of the history's
//! time span is read set-wise.

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::PgConnection;

use crate::error::{Error, Result};
use crate::levels::Level;
use crate::timearg::Window;

use super::{ReadShape, list};

/// Which time of a leg a window is on.
#[derive(Clone, Copy, Debug)]
pub enum LegTime {
    Created,
    Stored,
}

/// `SetWise` when `windows` together cover at least `set_wise_share` of the time span of the
/// call history of `domains` (every domain when empty), `PerRow` otherwise and when those
/// domains hold no legs (nothing to build sets of). Windows that are all open cover it all.
pub async fn by_history_share(
    db: &mut PgConnection,
    level: Level,
    domains: &[i64],
    windows: &[(&Window, LegTime)],
    set_wise_share: f64,
) -> Result<ReadShape> {
    if windows.iter().all(|(w, _)| **w == Window::default()) {
        return Ok(ReadShape::SetWise);
    }
    let span =
        crate::levels::sql::calls_history_span::query!(db, level, HistorySpan, (list(domains)))
            .try_next()
            .await
            .map_err(|e| Error::database("reading the span of cc_calls_history", e))?;
    let Some(span) = span.filter(|s| s.created_first.is_some()) else {
        return Ok(ReadShape::PerRow);
    };
    let share = windows
        .iter()
        .map(|(window, time)| {
            let bounds = match time {
                LegTime::Created => (span.created_first, span.created_last),
                LegTime::Stored => (span.stored_first, span.stored_last),
            };
            window_share(window, bounds)
        })
        .fold(1.0, f64::min);
    Ok(if share >= set_wise_share {
        ReadShape::SetWise
    } else {
        ReadShape::PerRow
    })
}

/// Readies the transaction's memory for a read in `shape`: a narrow read (`narrow`: a window or
/// an id list) per row, which probes indexes, runs with the server's own work_mem; every other
/// read keeps `--work-mem`, which its hashes (or a per-row read of the whole table) want.
pub async fn ready_memory(db: &mut PgConnection, shape: ReadShape, narrow: bool) -> Result<()> {
    if narrow && shape == ReadShape::PerRow {
        crate::source::use_server_work_mem(db).await?;
    }
    Ok(())
}

/// The first and last `created_at` and `stored_at` of the legs of the domains read.
struct HistorySpan {
    created_first: Option<DateTime<Utc>>,
    created_last: Option<DateTime<Utc>>,
    stored_first: Option<DateTime<Utc>>,
    stored_last: Option<DateTime<Utc>>,
}

/// The share of `[first, last]` that `window` covers: 1 for an open window or an empty span.
fn window_share(
    window: &Window,
    (first, last): (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
) -> f64 {
    let (Some(first), Some(last)) = (first, last) else {
        return 1.0;
    };
    if *window == Window::default() || last <= first {
        return 1.0;
    }
    let from = window.from.map_or(first, |t| t.max(first));
    let to = window.to.map_or(last, |t| t.min(last));
    let covered = (to - from).num_milliseconds().max(0) as f64;
    covered / (last - first).num_milliseconds() as f64
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 9, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn a_window_covers_its_share_of_the_span_clipped_to_it() {
        let span = (Some(day(1)), Some(day(11)));
        let window = |from: Option<u32>, to: Option<u32>| Window {
            from: from.map(day),
            to: to.map(day),
        };
        assert_eq!(window_share(&window(None, None), span), 1.0);
        assert_eq!(window_share(&window(Some(6), None), span), 0.5);
        assert_eq!(window_share(&window(None, Some(3)), span), 0.2);
        // A window reaching past the history counts only what it covers of it.
        assert_eq!(window_share(&window(Some(9), Some(20)), span), 0.2);
        assert_eq!(window_share(&window(Some(20), Some(25)), span), 0.0);
        // No span to measure against: nothing is known to be narrow.
        assert_eq!(window_share(&window(Some(6), None), (None, None)), 1.0);
    }
}
