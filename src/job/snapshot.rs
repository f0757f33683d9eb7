//! The run's snapshot: when it was taken, the bound no late commit can cross, the run's id.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::config::Config;
use super::standby;
use crate::error::{Error, Result};

/// The run's snapshot: when it was taken, the bound no late commit can cross, the run's id.
pub(super) struct Snapshot {
    pub(super) at: DateTime<Utc>,
    pub(super) bound: DateTime<Utc>,
    pub(super) run_id: String,
    /// On a hot standby: where the snapshot stands in the primary's history.
    pub(super) standby: Option<standby::Position>,
    pub(super) held: Option<&'static str>,
}

impl Snapshot {
    /// On a primary, the bound is the snapshot time less the safety lag, and never later than
    /// the start of the oldest transaction still writing: rows it commits later are still
    /// before the bound. On a standby it is what [`standby`] can place (see there).
    pub(super) async fn read(
        db: &mut PgConnection,
        config: &Config,
        marks: &[standby::Mark],
    ) -> Result<Snapshot> {
        let snapshot = sqlx::query_file!("queries/run_snapshot.sql")
            .fetch_one(&mut *db)
            .await
            .map_err(|e| Error::database("reading the snapshot time", e))?;
        let position = standby::Position::read(db).await?;
        let lag = chrono::Duration::from_std(config.safety_lag).unwrap_or_default();
        let on_primary = || {
            let lagged = snapshot.snapshot_at - lag;
            snapshot
                .oldest_writer_start
                .map_or(lagged, |t| t.min(lagged))
        };
        let (bound, held) = match position.in_recovery.then(|| position.bound(marks, lag)) {
            None => (on_primary(), None),
            Some(standby::Bound::At(t)) => (t, None),
            // Before every watermark: each job exports nothing and keeps its place.
            Some(standby::Bound::Held(why)) => (DateTime::<Utc>::UNIX_EPOCH, Some(why)),
        };
        Ok(Snapshot {
            at: snapshot.snapshot_at,
            bound,
            run_id: format!(
                "{}-{:05x}",
                snapshot.snapshot_at.format("%Y%m%dT%H%M%SZ"),
                std::process::id() & 0xfffff
            ),
            standby: position.in_recovery.then_some(position),
            held,
        })
    }

    /// What a run on a standby says about its bound.
    pub(super) fn standby_line(&self) -> Option<String> {
        let position = self.standby.as_ref()?;
        let replayed = position
            .replayed_to
            .map_or("nothing".to_string(), |t| t.to_rfc3339());
        Some(match self.held {
            Some(why) => format!(
                "hot standby (replayed to {replayed}): watermarks held, {why}; the next run \
                 exports what this one leaves"
            ),
            None => format!(
                "hot standby (replayed to {replayed}): exporting up to {}",
                self.bound.to_rfc3339()
            ),
        })
    }
}
