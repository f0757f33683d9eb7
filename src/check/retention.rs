//! `check --config`: for each `recordings` job of a run configuration that archives files,
//! whether the storage service will delete files before the job archives them.
//!
//! A job archives from its watermark on. Files uploaded since then are deleted by the storage
//! service either `expire_day` days after upload (a profile setting, which storage releases
//! before November 2024 act on) or at their own `retention_until` (file policies, v24.10+).
//! Both are compared with the job's watermark (or its `since`, before its first run).

use std::path::Path;

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::PgConnection;

use crate::error::{Error, Result};
use crate::job::config::{Config, Job};
use crate::job::state::State;
use crate::levels::{Level, Schema};

/// Files of a job's window that the storage service deletes soon.
struct PendingDeletion {
    files: i64,
    earliest: Option<DateTime<Utc>>,
}

/// How far ahead a file's retention counts as "about to be deleted": a nightly run's period.
const HORIZON: chrono::Duration = chrono::Duration::days(1);

/// The warnings for every archiving job of the configuration at `path`.
pub async fn warnings(db: &mut PgConnection, schema: &Schema, path: &Path) -> Result<Vec<String>> {
    let level = schema
        .fit(crate::levels::sql::retention_files::TEMPLATE)?
        .require_whole("the retention check")?;
    let config = Config::load(path)?;
    let state = State::load(&config.root)?;
    let now = Utc::now();
    let mut warnings = Vec::new();
    for job in config.jobs.iter().filter(|j| j.archive.is_some()) {
        let archived_until = state.jobs.get(&job.name).map(|w| w.watermark).or(job.since);
        warnings.extend(expiring_profiles(db, job, archived_until, now).await?);
        warnings.extend(expiring_files(db, level, job, archived_until, now).await?);
    }
    Ok(warnings)
}

fn domains(job: &Job) -> Option<Vec<i64>> {
    let domains = job.source.domains();
    (!domains.is_empty()).then(|| domains.to_vec())
}

async fn expiring_profiles(
    db: &mut PgConnection,
    job: &Job,
    archived_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let domains = domains(job);
    let profiles = sqlx::query_file!("queries/retention_profiles.sql", domains.as_deref())
        .fetch_all(&mut *db)
        .await
        .map_err(|e| Error::database("reading storage profiles", e))?;
    let mut warnings = Vec::new();
    for p in profiles {
        let keeps = chrono::Duration::days(i64::from(p.expire_day));
        let behind = match archived_until {
            Some(t) if now - t <= keeps => continue,
            Some(t) => format!(
                "has archived files only up to {} ({} days ago)",
                t.to_rfc3339(),
                (now - t).num_days()
            ),
            None => "has not archived anything yet".to_string(),
        };
        warnings.push(format!(
            "storage profile '{}' (id {}) deletes files {} days after upload (expire_day), and \
             job '{}' {behind}: files uploaded before {} may be deleted before they are archived",
            p.name,
            p.id,
            p.expire_day,
            job.name,
            (now - keeps).to_rfc3339()
        ));
    }
    Ok(warnings)
}

async fn expiring_files(
    db: &mut PgConnection,
    level: Level,
    job: &Job,
    archived_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let domains = domains(job);
    let pending: Vec<PendingDeletion> = crate::levels::query_retention_files!(
        &mut *db,
        level,
        PendingDeletion,
        (domains.as_deref(), archived_until, now + HORIZON)
    )
    .try_collect()
    .await
    .map_err(|e| Error::database("reading file retention", e))?;
    Ok(pending
        .into_iter()
        .filter(|p| p.files > 0)
        .map(|p| {
            let earliest = p.earliest.map_or(String::new(), |t| t.to_rfc3339());
            format!(
                "{} file(s) job '{}' has not archived yet reach their retention_until (file \
                 policies) by tomorrow, the first at {earliest}: run the job before then",
                p.files, job.name
            )
        })
        .collect())
}
