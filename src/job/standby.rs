//! The bound of a run that reads a hot standby.
//!
//! On a primary, a run sees every transaction still writing (`pg_stat_activity`) and bounds
//! its windows by the oldest one's start. A standby cannot see the primary's sessions, and its
//! clock is not the one the rows were stamped with; what it does know is how far it has
//! replayed the primary's WAL (the primary's time there) and which transaction ids are still
//! open as of that point (`xmin` … `next_xid`).
//!
//! A transaction still open on the standby may commit rows stamped with any time since it
//! began. Its id says when it first wrote: after every position whose `next_xid` it is at
//! least. So each run keeps its position (a [`Mark`]), and a later run bounds its windows by
//! the replay time of the latest mark that the oldest open transaction is newer than. The
//! safety lag still covers a transaction's time between its start and its first write, as on
//! a primary. When no mark is old enough (the first run, or a transaction older than every
//! kept mark), the run probes again for a while and, if the transaction is still open, holds
//! every watermark where it is.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use crate::error::{Error, Result};

/// How many positions the state keeps: one per run, so this many runs back a transaction
/// still open can be placed.
const KEPT_MARKS: usize = 64;

/// The longest a run waits for the transactions open at its start to end.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// One run's position in the primary's history: transaction ids from `next_xid` on had not
/// written anything replayed by the primary's time `replayed_to`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mark {
    pub next_xid: i64,
    pub replayed_to: DateTime<Utc>,
}

/// What a snapshot knows of its place in the primary's history.
#[derive(Clone, Copy, Debug)]
pub struct Position {
    pub in_recovery: bool,
    /// The oldest transaction that may still be open.
    pub xmin: i64,
    /// The first transaction id not yet used by replayed WAL.
    pub next_xid: i64,
    /// The primary's clock at the replay point; `None` before anything was replayed.
    pub replayed_to: Option<DateTime<Utc>>,
}

/// The bound a standby run may use, or why it must hold its watermarks.
#[derive(Clone, Debug, PartialEq)]
pub enum Bound {
    At(DateTime<Utc>),
    Held(&'static str),
}

impl Position {
    /// Reads the position of the snapshot `db` is in (or of a fresh one outside a transaction).
    pub async fn read(db: &mut PgConnection) -> Result<Position> {
        let row = sqlx::query_file!("queries/standby_position.sql")
            .fetch_one(db)
            .await
            .map_err(|e| Error::database("reading the replay position", e))?;
        Ok(Position {
            in_recovery: row.in_recovery,
            xmin: row.xmin,
            next_xid: row.next_xid,
            replayed_to: row.replayed_to,
        })
    }

    /// This position as a mark for later runs.
    pub fn mark(&self) -> Option<Mark> {
        self.replayed_to.map(|replayed_to| Mark {
            next_xid: self.next_xid,
            replayed_to,
        })
    }

    /// The bound of a run at this position, given earlier runs' marks.
    pub fn bound(&self, marks: &[Mark], lag: chrono::Duration) -> Bound {
        let Some(replayed_to) = self.replayed_to else {
            return Bound::Held("the standby has not replayed a transaction yet");
        };
        let nothing_open = self.xmin >= self.next_xid;
        if nothing_open {
            return Bound::At(replayed_to - lag);
        }
        // The latest mark the oldest open transaction is newer than: it first wrote after it.
        let placed = marks
            .iter()
            .filter(|m| m.next_xid <= self.xmin && m.replayed_to <= replayed_to)
            .map(|m| m.replayed_to)
            .max();
        match placed {
            Some(first_write_after) => Bound::At(first_write_after.min(replayed_to) - lag),
            None => Bound::Held(
                "a transaction of the primary that began before every position this root \
                 remembers is still open",
            ),
        }
    }
}

/// Probes the standby until the transactions open at the run's start have ended, at most
/// `min(safety lag, 30 s)`; returns the marks to bound the run with: the kept ones and, when
/// it had to wait, the first probe's (transactions that began after it are placed by it; it
/// is the one mark a run adds besides its own, so a long wait does not crowd out older marks).
/// On a primary it returns at once.
pub async fn settle(db: &mut PgConnection, kept: &[Mark], lag: Duration) -> Result<Vec<Mark>> {
    let mut marks = kept.to_vec();
    let started = Instant::now();
    let wait = lag.min(MAX_WAIT);
    let lag = chrono::Duration::from_std(lag).unwrap_or_default();
    let mut first_probe = true;
    loop {
        let position = Position::read(db).await?;
        if !position.in_recovery {
            return Ok(marks);
        }
        // Marks from another cluster (a rebuilt standby) cannot be ahead of this one.
        marks.retain(|m| m.next_xid <= position.next_xid);
        let resolved = matches!(position.bound(&marks, lag), Bound::At(_));
        if resolved || started.elapsed() >= wait {
            return Ok(marks);
        }
        if first_probe {
            marks.extend(position.mark());
            first_probe = false;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The marks to keep after a committed run at `position`: the newest [`KEPT_MARKS`].
pub fn keep(mut marks: Vec<Mark>, position: &Position) -> Vec<Mark> {
    marks.extend(position.mark());
    marks.sort_by_key(|m| (m.replayed_to, m.next_xid));
    marks.dedup();
    let excess = marks.len().saturating_sub(KEPT_MARKS);
    marks.drain(..excess);
    marks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn position(xmin: i64, next_xid: i64, replayed_to: Option<&str>) -> Position {
        Position {
            in_recovery: true,
            xmin,
            next_xid,
            replayed_to: replayed_to.map(at),
        }
    }

    const LAG: chrono::Duration = chrono::Duration::seconds(60);

    #[test]
    fn with_nothing_open_the_bound_is_the_replay_time_less_the_lag() {
        let p = position(900, 900, Some("2026-12-01T10:00:00Z"));
        assert_eq!(p.bound(&[], LAG), Bound::At(at("2026-12-01T09:59:00Z")));
    }

    #[test]
    fn nothing_replayed_holds() {
        let p = position(900, 900, None);
        assert!(matches!(p.bound(&[], LAG), Bound::Held(_)));
    }

    #[test]
    fn an_open_transaction_is_placed_after_the_latest_mark_it_is_newer_than() {
        let marks = [
            Mark {
                next_xid: 700,
                replayed_to: at("2026-12-01T08:00:00Z"),
            },
            Mark {
                next_xid: 800,
                replayed_to: at("2026-12-01T09:00:00Z"),
            },
            Mark {
                next_xid: 950,
                replayed_to: at("2026-12-01T09:30:00Z"),
            },
        ];
        // 850 first wrote after 09:00 (it is ≥ 800), maybe before 09:30 (it is < 950).
        let p = position(850, 1000, Some("2026-12-01T10:00:00Z"));
        assert_eq!(p.bound(&marks, LAG), Bound::At(at("2026-12-01T08:59:00Z")));
        // Older than every mark: hold.
        let p = position(650, 1000, Some("2026-12-01T10:00:00Z"));
        assert!(matches!(p.bound(&marks, LAG), Bound::Held(_)));
    }

    #[test]
    fn kept_marks_are_the_newest_and_include_this_run() {
        let marks: Vec<Mark> = (0..100)
            .map(|i| Mark {
                next_xid: 100 + i,
                replayed_to: at("2026-12-01T00:00:00Z") + chrono::Duration::minutes(i),
            })
            .collect();
        let p = position(500, 500, Some("2026-12-02T00:00:00Z"));
        let kept = keep(marks, &p);
        assert_eq!(kept.len(), KEPT_MARKS);
        assert_eq!(kept.last().unwrap().next_xid, 500);
        assert_eq!(
            kept.first().unwrap().next_xid,
            100 + 100 - (i64::try_from(KEPT_MARKS).unwrap() - 1)
        );
    }
}
