//! One reading session: the only place that opens the read-only snapshot and learns the
//! database's schema. Every subcommand, `run` and `check` read through it, so what a session
//! guarantees (one `REPEATABLE READ READ ONLY` snapshot, the statement timeout, JIT off, the
//! `--domain` check, per-dataset schema levels, the release check) holds for all of them.

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use sqlx::Executor;
use sqlx::postgres::PgConnection;

use crate::datasets::{BlockSlice, Dataset};
use crate::error::{Error, Result};
use crate::export::{self, ExportOptions, Summary};
use crate::levels::{Fit, Level, Schema};
use crate::source::{
    ConnArgs, apply_transaction_settings, apply_work_mem, check_domains, join_snapshot,
};

/// A connection inside the export's read-only snapshot, with the schema it sees.
pub struct Session {
    args: ConnArgs,
    db: PgConnection,
    schema: Schema,
    /// Whether the transaction's work_mem is still `--work-mem` as the snapshot set it: true
    /// until a dataset starts, as its read may give the server's setting back.
    work_mem_as_set: bool,
}

impl Session {
    /// Connects and opens the snapshot. Fails with exit code 2 when any of `domains` (the
    /// `--domain` values) is not a Webitel domain.
    pub async fn open(args: &ConnArgs, domains: &[i64]) -> Result<Session> {
        let db = args.connect().await?;
        Session::begin(db, args, domains).await
    }

    /// Opens the snapshot on a connection the caller has used before it (`run` waits on a
    /// hot standby's replay first).
    pub async fn begin(mut db: PgConnection, args: &ConnArgs, domains: &[i64]) -> Result<Session> {
        db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(|e| Error::database("opening a read-only snapshot", e))?;
        apply_transaction_settings(&mut db, args).await?;
        check_domains(&mut db, domains).await?;
        let schema = Schema::detect(&mut db).await?;
        Ok(Session {
            args: args.clone(),
            db,
            schema,
            work_mem_as_set: true,
        })
    }

    /// The session's connection, inside the snapshot.
    pub fn db(&mut self) -> &mut PgConnection {
        &mut self.db
    }

    /// What the database has of the schema the tool reads.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// How `D`'s query reads this database.
    pub fn fit<D: Dataset>(&self) -> Result<Fit> {
        self.schema.fit(D::QUERY)
    }

    /// The level `D`'s query runs at, or an error naming what it needs and a later release of
    /// this database should have had (a gap).
    pub fn level<D: Dataset>(&self) -> Result<Level> {
        self.fit::<D>()?.require_whole(D::NAME)
    }

    /// `D`'s rows matching `filter`, on the session's connection: see [`Session::start`].
    pub async fn read<D: Dataset>(
        &mut self,
        filter: &D::Filter,
    ) -> Result<BoxStream<'_, Result<D::Row>>> {
        Ok(match self.start::<D>(filter).await? {
            Some(level) => D::rows(&mut self.db, level, filter),
            None => empty(),
        })
    }

    /// Before `D`'s rows are read: its level checked (a gap is an error), its server-side
    /// checks run ([`Dataset::prepare`]). `None` on a release older than [`Dataset::SINCE`],
    /// where the dataset has no rows.
    async fn start<D: Dataset>(&mut self, filter: &D::Filter) -> Result<Option<Level>> {
        let level = self.level::<D>()?;
        if level < D::SINCE {
            return Ok(None);
        }
        // Every dataset starts with --work-mem, whatever the one before gave back.
        if !std::mem::replace(&mut self.work_mem_as_set, false) {
            apply_work_mem(&mut self.db, &self.args).await?;
        }
        D::prepare(&mut self.db, filter).await?;
        Ok(Some(level))
    }

    /// `n` more connections that read the same snapshot (parallel reads).
    pub async fn helpers(&mut self, n: usize) -> Result<Vec<PgConnection>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let snapshot = sqlx::query_file_scalar!("queries/export_snapshot.sql")
            .fetch_one(&mut self.db)
            .await
            .map_err(|e| Error::database("exporting the snapshot", e))?;
        let mut helpers = Vec::with_capacity(n);
        for _ in 0..n {
            helpers.push(join_snapshot(&self.args, &snapshot).await?);
        }
        Ok(helpers)
    }

    /// Ends the snapshot. Nothing was written; ending the read-only transaction is a
    /// formality (a dropped session's connection ends it too).
    pub async fn close(mut self) {
        self.db.execute("ROLLBACK").await.ok();
    }
}

fn empty<'c, R: Send + 'c>() -> BoxStream<'c, Result<R>> {
    futures_util::stream::empty().boxed()
}

/// A dataset's subcommand: opens the destination (a bad path fails before the database is
/// contacted), reads `D`'s slices in one session, writes them, runs `D`'s after-step.
pub async fn export<D: Dataset>(
    conn: &ConnArgs,
    filter: &D::Filter,
    extra: &D::Extra,
    options: ExportOptions,
) -> Result<Summary> {
    D::check_extra(extra)?;
    let (destination, writer) = export::open_destination(&options)?;
    let mut session = Session::open(conn, D::domains(filter)).await?;
    let Some(level) = session.start::<D>(filter).await? else {
        let rows = empty::<D::Row>();
        let summary = export::write_all(D::NAME, rows, destination, writer, &options).await?;
        session.close().await;
        return Ok(summary);
    };
    let mut slices = D::slices(&mut session.db, filter, extra).await?;
    if slices.is_empty() {
        slices.push(BlockSlice::default());
    }
    let mut helpers = session.helpers(slices.len() - 1).await?;
    let mut streams = vec![D::slice_rows(&mut session.db, level, filter, &slices[0])];
    for (helper, slice) in helpers.iter_mut().zip(&slices[1..]) {
        streams.push(D::slice_rows(helper, level, filter, slice));
    }
    let rows = match D::SLICE_ORDER {
        Some(order) if streams.len() > 1 => crate::merge::merge_in_order(streams, order),
        _ => futures_util::stream::select_all(streams).boxed(),
    };
    let mut summary = export::write_all(D::NAME, rows, destination, writer, &options).await?;
    summary.connections = slices.len();
    D::after(&mut session.db, level, filter, extra, options.quiet).await?;
    session.close().await;
    Ok(summary)
}
