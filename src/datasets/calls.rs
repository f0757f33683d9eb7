//! `calls`: call legs from `call_center.cc_calls_history`, filtered like Webitel's
//! CallService.SearchHistoryCall, with the derived columns of its `cc_calls_history_list`
//! view. Column meanings and formulas: docs/datasets.md.

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::export::{self, ExportOptions, Summary};
use crate::levels::Level;
use crate::source;

use super::{like_pattern, list};
use crate::timearg::{Window, parse_tz};

crate::record! {
    /// One call leg.
    pub struct CallRow {
        /// Leg id (FreeSWITCH uuid). `cc_calls_history.id`.
        id: String => Uuid,
        /// The A-leg this leg belongs to; empty on top-level legs. `parent_id`.
        parent_id: Option<String> => Uuid,
        /// The leg this leg was bridged to. `bridged_id`.
        bridged_id: Option<String> => Uuid,
        /// Attended transfer: the leg this one was transferred from. `transfer_from`.
        transfer_from: Option<String> => Uuid,
        /// Attended transfer target. For a child leg without its own `transfer_to` that is not
        /// the leg its parent was bridged to: the parent's `bridged_id` (as the engine's view).
        transfer_to: Option<String> => Uuid,
        /// Last blind-transfer destination number. `blind_transfer`.
        blind_transfer: Option<String> => Text,
        /// Tenant (`directory.wbt_domain.dc`). `domain_id`.
        domain_id: i64 => Int64,
        /// `inbound` or `outbound`. `direction`.
        direction: Option<String> => Text,
        /// Caller endpoint type: `user`, `gateway` or `dest`. `from_type`.
        from_type: Option<String> => Text,
        /// Caller number. `from_number`.
        from_number: Option<String> => Text,
        /// Caller display name. `from_name`.
        from_name: Option<String> => Text,
        /// Callee endpoint type. `to_type`.
        to_type: Option<String> => Text,
        /// Callee number. `to_number`.
        to_number: Option<String> => Text,
        /// Callee display name. `to_name`.
        to_name: Option<String> => Text,
        /// Dialed number / destination. `destination`.
        destination: Option<String> => Text,
        /// Leg start (ringing). `created_at`.
        created_at: DateTime<Utc> => Timestamp,
        /// Leg answered. `answered_at`.
        answered_at: Option<DateTime<Utc>> => Timestamp,
        /// Bridged to the other party. `bridged_at`.
        bridged_at: Option<DateTime<Utc>> => Timestamp,
        /// Leg end. `hangup_at` (may be empty on force-closed legs).
        hangup_at: Option<DateTime<Utc>> => Timestamp,
        /// When the leg was moved into history: the incremental cursor. `stored_at`.
        stored_at: DateTime<Utc> => Timestamp,
        /// Seconds from start to hangup: `round(hangup_at − created_at)`; empty without hangup.
        /// (The stored `duration` column is never written by Webitel.)
        duration_sec: Option<i64> => Int64,
        /// Seconds before answer: answered ? `answered_at − created_at` : `hangup_at − created_at`;
        /// 0 when neither is known.
        wait_sec: i64 => Int64,
        /// Billable seconds: answered ? `hangup_at − answered_at` : 0.
        bill_sec: Option<i64> => Int64,
        /// Talk seconds reported by FreeSWITCH at hangup. `talk_sec`.
        talk_sec: i32 => Int32,
        /// Total hold seconds. `coalesce(hold_sec, 0)`.
        hold_sec: i32 => Int32,
        /// FreeSWITCH hangup cause (NORMAL_CLEARING, NO_ANSWER, ORIGINATOR_CANCEL…). `cause`.
        cause: Option<String> => Text,
        /// Final SIP code. `sip_code`.
        sip_code: Option<i32> => Int32,
        /// Side that hung up: `A`, `B`, `F` or `service`. `hangup_by`.
        hangup_by: Option<String> => Text,
        /// The engine's outcome: `not_answered`, `cancelled`, `ended`, `agent_dropped`,
        /// `client_dropped`, `error`; `""` on child legs. Formula in docs/datasets.md.
        hangup_disposition: String => Text,
        /// The leg's user (`user_id` in `directory.wbt_user`), else the user of the agent that
        /// handled the attempt, as Webitel's UI shows it.
        user_id: Option<i64> => Int64,
        /// That user's `coalesce(name, username)`.
        user_name: Option<String> => Text,
        /// The agent that handled the attempt (`attempt_id` → `cc_member_attempt_history.agent_id`).
        agent_id: Option<i32> => Int32,
        /// That agent's user `coalesce(name, username)`.
        agent_name: Option<String> => Text,
        /// That agent's team (`cc_agent.team_id`).
        team_id: Option<i64> => Int64,
        /// That team's name.
        team_name: Option<String> => Text,
        /// Queue of the leg. `queue_id`.
        queue_id: Option<i32> => Int32,
        /// `cc_queue.name`.
        queue_name: Option<String> => Text,
        /// `cc_queue.type`: 0 offline, 1 inbound, 2 ivr, 3 preview, 4 progressive, 5 predictive…
        queue_type: Option<i32> => Int32,
        /// Dialer/queue member. `member_id`.
        member_id: Option<i64> => Int64,
        /// Queue attempt. `attempt_id`.
        attempt_id: Option<i64> => Int64,
        /// The attempt's result (success, abandoned, …). `cc_member_attempt_history.result`.
        attempt_result: Option<String> => Text,
        /// Trunk. `gateway_id`.
        gateway_id: Option<i64> => Int64,
        /// `directory.sip_gateway.name`.
        gateway_name: Option<String> => Text,
        /// Tags set in the flow. `tags`.
        tags: Option<Vec<String>> => TextList,
        /// Answering-machine detection: `coalesce(amd_result, amd_ai_result)`.
        amd_result: Option<String> => Text,
        /// Call variables (`payload` jsonb).
        variables: Option<String> => Json,
        /// Whether other legs have this leg as parent (top-level or blind-transferred legs only).
        has_children: bool => Bool,
        /// `storage.files.id` of the recordings of this leg or its parent, ascending: the files
        /// `recordings` exports by default (channel `call` or unset, not removed or missing).
        recording_file_ids: Option<Vec<i64>> => Int64List,
        /// Seconds in queue: attempt bridged ? `bridged_at − joined_at` : `leaving_at − joined_at`.
        queue_wait_sec: Option<i32> => Int32,
        /// The attempt's `description`, trimmed; empty when there is none.
        agent_description: Option<String> => Text,
    }
}

/// Call direction filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    /// The value in `cc_calls_history.direction`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// The filters of `webitel-export calls`, as typed on the command line.
#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Filters")]
pub struct CallsArgs {
    /// Legs created at or after this instant (RFC 3339, or YYYY-MM-DD in --tz).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Legs created before this instant (exclusive).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Time zone for dates without an offset.
    #[arg(long, value_name = "IANA", default_value = "UTC")]
    pub tz: String,
    /// Legs stored into history at or after this instant.
    #[arg(long, value_name = "TIME")]
    pub stored_from: Option<String>,
    /// Legs stored into history before this instant.
    #[arg(long, value_name = "TIME")]
    pub stored_to: Option<String>,
    /// Legs answered at or after this instant.
    #[arg(long, value_name = "TIME")]
    pub answered_from: Option<String>,
    /// Legs answered before this instant.
    #[arg(long, value_name = "TIME")]
    pub answered_to: Option<String>,
    /// Only these domains (repeatable; default: all).
    #[arg(long = "domain", value_name = "ID")]
    pub domains: Vec<i64>,
    /// POSIX regular expression on the call's numbers (search_number, else
    /// destination|from|to); a leading + is literal.
    #[arg(long, value_name = "REGEX")]
    pub number: Option<String>,
    /// Pattern on destination, from or to number, or the exact leg id; * is a wildcard.
    #[arg(long, value_name = "PATTERN")]
    pub q: Option<String>,
    /// Variable equals value (repeatable; all must match).
    #[arg(long = "var", value_name = "KEY=VALUE")]
    pub vars: Vec<String>,
    /// Legs of these users: user_id or any user involved (repeatable).
    #[arg(long = "user", value_name = "ID")]
    pub users: Vec<i64>,
    /// Legs owned by these users: user_id only (repeatable).
    #[arg(long = "owner", value_name = "ID")]
    pub owners: Vec<i64>,
    /// Legs handled by these agents (repeatable).
    #[arg(long = "agent", value_name = "ID")]
    pub agents: Vec<i32>,
    /// Legs of these queues (repeatable).
    #[arg(long = "queue", value_name = "ID")]
    pub queues: Vec<i32>,
    /// Legs of these teams (repeatable).
    #[arg(long = "team", value_name = "ID")]
    pub teams: Vec<i32>,
    /// Legs of these dialer members (repeatable).
    #[arg(long = "member", value_name = "ID")]
    pub members: Vec<i64>,
    /// Legs through these gateways (repeatable).
    #[arg(long = "gateway", value_name = "ID")]
    pub gateways: Vec<i64>,
    /// Legs linked to these contacts (repeatable).
    #[arg(long = "contact", value_name = "ID")]
    pub contacts: Vec<i64>,
    /// Legs granted to these roles (repeatable).
    #[arg(long = "grantee", value_name = "ID")]
    pub grantees: Vec<i64>,
    /// These legs (repeatable).
    #[arg(long = "id", value_name = "UUID")]
    pub ids: Vec<Uuid>,
    /// Children of these legs (repeatable).
    #[arg(long = "parent-id", value_name = "UUID")]
    pub parent_ids: Vec<Uuid>,
    /// Every leg reachable from these legs through parent or transfer links, not the legs
    /// themselves (repeatable).
    #[arg(long = "dependency-id", value_name = "UUID")]
    pub dependency_ids: Vec<Uuid>,
    /// Only legs without a parent (A-legs).
    #[arg(long)]
    pub top_level: bool,
    /// Only legs with a recording.
    #[arg(long, conflicts_with = "no_file")]
    pub has_file: bool,
    /// Only legs without a recording.
    #[arg(long)]
    pub no_file: bool,
    /// Hangup causes (repeatable), e.g. NORMAL_CLEARING.
    #[arg(long = "cause", value_name = "CAUSE")]
    pub causes: Vec<String>,
    /// Minimum duration in seconds (hangup − created).
    #[arg(long, value_name = "SEC")]
    pub min_duration: Option<u32>,
    /// Maximum duration in seconds.
    #[arg(long, value_name = "SEC")]
    pub max_duration: Option<u32>,
    /// Minimum talk seconds.
    #[arg(long, value_name = "SEC")]
    pub min_talk: Option<u32>,
    /// Maximum talk seconds.
    #[arg(long, value_name = "SEC")]
    pub max_talk: Option<u32>,
    /// Only inbound or outbound legs.
    #[arg(long, value_enum)]
    pub direction: Option<Direction>,
    /// Only missed calls: inbound, never bridged, not hidden, parent not bridged.
    #[arg(long)]
    pub missed: bool,
    /// Legs with any of these tags (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// AMD results (repeatable; HUMAN, MACHINE, NOTSURE, CANCEL, SILENCE, VOICEMAIL, RINGING,
    /// TIMEOUT and their AI spellings).
    #[arg(long = "amd-result", value_name = "RESULT")]
    pub amd_results: Vec<String>,
    /// Only legs with a blind or attended transfer.
    #[arg(long, conflicts_with = "no_transfer")]
    pub has_transfer: bool,
    /// Only legs without any transfer.
    #[arg(long)]
    pub no_transfer: bool,
}

/// Validated filters, ready to bind. Empty lists mean "not filtered".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallsFilter {
    pub domains: Vec<i64>,
    pub created: Window,
    pub stored: Window,
    pub answered: Window,
    pub number_regex: Option<String>,
    pub q: Option<String>,
    pub variables_json: Option<String>,
    pub users: Vec<i64>,
    pub owners: Vec<i64>,
    pub agents: Vec<i32>,
    pub queues: Vec<i32>,
    pub teams: Vec<i32>,
    pub members: Vec<i64>,
    pub gateways: Vec<i64>,
    pub contacts: Vec<i64>,
    pub grantees: Vec<i64>,
    pub ids: Vec<Uuid>,
    pub parent_ids: Vec<Uuid>,
    pub dependency_ids: Vec<Uuid>,
    pub top_level: bool,
    pub has_file: Option<bool>,
    pub causes: Vec<String>,
    pub min_duration: Option<i64>,
    pub max_duration: Option<i64>,
    pub min_talk: Option<i32>,
    pub max_talk: Option<i32>,
    pub direction: Option<Direction>,
    pub missed: bool,
    pub tags: Vec<String>,
    pub amd_results: Vec<String>,
    pub has_transfer: Option<bool>,
}

impl CallsArgs {
    /// Checks every filter that can be checked without the database.
    pub fn to_filter(&self) -> Result<CallsFilter> {
        let tz = parse_tz(&self.tz)?;
        let window = |from: (&'static str, &Option<String>),
                      to: (&'static str, &Option<String>)| {
            Window::parse((from.0, from.1.as_deref()), (to.0, to.1.as_deref()), tz)
        };
        let (min_duration, max_duration) = ordered(
            "--min-duration",
            self.min_duration,
            "--max-duration",
            self.max_duration,
        )?;
        let (min_talk, max_talk) =
            ordered("--min-talk", self.min_talk, "--max-talk", self.max_talk)?;
        Ok(CallsFilter {
            domains: self.domains.clone(),
            created: window(("--from", &self.from), ("--to", &self.to))?,
            stored: window(
                ("--stored-from", &self.stored_from),
                ("--stored-to", &self.stored_to),
            )?,
            answered: window(
                ("--answered-from", &self.answered_from),
                ("--answered-to", &self.answered_to),
            )?,
            number_regex: self.number.as_deref().map(number_regex).transpose()?,
            q: self.q.as_deref().map(like_pattern),
            variables_json: variables_json(&self.vars)?,
            users: self.users.clone(),
            owners: self.owners.clone(),
            agents: self.agents.clone(),
            queues: self.queues.clone(),
            teams: self.teams.clone(),
            members: self.members.clone(),
            gateways: self.gateways.clone(),
            contacts: self.contacts.clone(),
            grantees: self.grantees.clone(),
            ids: self.ids.clone(),
            parent_ids: self.parent_ids.clone(),
            dependency_ids: self.dependency_ids.clone(),
            top_level: self.top_level,
            has_file: flag_pair(self.has_file, self.no_file),
            causes: self.causes.clone(),
            min_duration: min_duration.map(i64::from),
            max_duration: max_duration.map(i64::from),
            min_talk: min_talk.map(to_i32).transpose()?,
            max_talk: max_talk.map(to_i32).transpose()?,
            direction: self.direction,
            missed: self.missed,
            tags: self.tags.clone(),
            amd_results: expand_amd_aliases(&self.amd_results),
            has_transfer: flag_pair(self.has_transfer, self.no_transfer),
        })
    }
}

fn ordered(
    min_flag: &str,
    min: Option<u32>,
    max_flag: &str,
    max: Option<u32>,
) -> Result<(Option<u32>, Option<u32>)> {
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        return Err(Error::input(format!(
            "{min_flag} {lo} is greater than {max_flag} {hi}"
        )));
    }
    Ok((min, max))
}

fn to_i32(v: u32) -> Result<i32> {
    i32::try_from(v).map_err(|_| Error::input(format!("talk seconds {v} out of range")))
}

/// `--has-x` / `--no-x` → Some(true) / Some(false); neither → None.
fn flag_pair(yes: bool, no: bool) -> Option<bool> {
    match (yes, no) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

/// Escapes a leading `+` (a phone number's, meant literally) as the engine does; the rest is
/// a PostgreSQL regular expression, checked by the server before the export starts.
pub fn number_regex(value: &str) -> Result<String> {
    if value.is_empty() {
        return Err(Error::input("invalid --number '': empty pattern"));
    }
    Ok(match value.strip_prefix('+') {
        Some(rest) => format!("\\+{rest}"),
        None => value.to_string(),
    })
}

/// `--var k=v` pairs → a JSON object of strings for jsonb containment (`payload @> {…}`).
pub fn variables_json(pairs: &[String]) -> Result<Option<String>> {
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut object = serde_json::Map::new();
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| Error::input(format!("invalid --var '{pair}': expected KEY=VALUE")))?;
        if key.is_empty() {
            return Err(Error::input(format!("invalid --var '{pair}': empty key")));
        }
        object.insert(
            key.to_string(),
            serde_json::Value::String(value.to_string()),
        );
    }
    Ok(Some(serde_json::Value::Object(object).to_string()))
}

/// FreeSWITCH's AMD writes upper case (HUMAN), the AI AMD lower case and other words
/// (cancelled, ringback); Webitel's filter accepts either spelling for both columns.
pub fn expand_amd_aliases(values: &[String]) -> Vec<String> {
    const ALIASES: [(&str, &str); 8] = [
        ("HUMAN", "human"),
        ("MACHINE", "machine"),
        ("NOTSURE", "notsure"),
        ("CANCEL", "cancelled"),
        ("SILENCE", "silence"),
        ("VOICEMAIL", "voicemail"),
        ("RINGING", "ringback"),
        ("TIMEOUT", "timeout"),
    ];
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    for value in values {
        push(value.clone());
        push(value.to_uppercase());
        push(value.to_lowercase());
        for (fs, ai) in ALIASES {
            if value.eq_ignore_ascii_case(fs) || value.eq_ignore_ascii_case(ai) {
                push(fs.to_string());
                push(ai.to_string());
            }
        }
    }
    out
}

/// Checks, inside the snapshot, what only the server can check: that the --number regex is
/// one PostgreSQL accepts.
pub async fn check(db: &mut PgConnection, filter: &CallsFilter) -> Result<()> {
    if let Some(regex) = &filter.number_regex {
        sqlx::query_file_scalar!("queries/check_regex.sql", regex)
            .fetch_one(db)
            .await
            .map_err(|e| Error::database(format!("invalid --number '{regex}'"), e))?;
    }
    Ok(())
}

/// The legs matching `f`, streamed from `db` (inside the caller's snapshot).
pub fn rows<'c>(
    db: &'c mut PgConnection,
    level: Level,
    f: &CallsFilter,
    slice: &BlockSlice,
) -> BoxStream<'c, Result<CallRow>> {
    crate::leveled_query_as!(
        db,
        level,
        CallRow,
        (
            list(&f.domains),
            f.created.from,
            f.created.to,
            f.stored.from,
            f.stored.to,
            f.answered.from,
            f.answered.to,
            f.number_regex.as_deref(),
            f.q.as_deref(),
            f.variables_json.as_deref(),
            list(&f.users),
            list(&f.owners),
            list(&f.agents),
            list(&f.queues),
            list(&f.teams),
            list(&f.members),
            list(&f.gateways),
            list(&f.contacts),
            list(&f.grantees),
            list(&f.ids),
            list(&f.parent_ids),
            list(&f.dependency_ids),
            f.top_level,
            f.has_file,
            list(&f.causes),
            f.min_duration,
            f.max_duration,
            f.min_talk,
            f.max_talk,
            f.direction.map(Direction::as_str),
            f.missed,
            list(&f.tags),
            list(&f.amd_results),
            f.has_transfer,
            slice.from.as_deref(),
            slice.to.as_deref(),
        ),
        {
            "v22.05" => "queries/levels/calls.v22_05.sql",
            "v22.12" => "queries/levels/calls.v22_12.sql",
            "v23.05" => "queries/levels/calls.v23_05.sql",
            "v23.09" => "queries/levels/calls.v23_09.sql",
            "v23.12" => "queries/levels/calls.v23_12.sql",
            "v24.02" => "queries/levels/calls.v24_02.sql",
            "v24.10" => "queries/calls.sql",
        }
    )
    .map_err(|e| Error::database("reading calls", e))
    .boxed()
}

/// A range of the table's blocks, `ctid` in `['(from,0)', '(to,0)')`; `None` is open.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockSlice {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Slices smaller than this many blocks (8 KiB each, so 4 MiB) are not worth another connection.
const MIN_SLICE_BLOCKS: i64 = 512;

impl CallsFilter {
    /// Whether the export reads most of the table (no time window, no id list), where reading
    /// block slices in parallel pays; a narrow window is an index scan and stays on one
    /// connection.
    fn is_bulk(&self) -> bool {
        self.created == Window::default()
            && self.stored == Window::default()
            && self.answered == Window::default()
            && self.ids.is_empty()
            && self.parent_ids.is_empty()
            && self.dependency_ids.is_empty()
    }
}

/// Splits the table into up to `parallel` block slices (one, the whole table, when slicing
/// does not pay or the table is partitioned).
async fn plan_slices(
    db: &mut PgConnection,
    f: &CallsFilter,
    parallel: usize,
) -> Result<Vec<BlockSlice>> {
    if parallel < 2 || !f.is_bulk() {
        return Ok(vec![BlockSlice::default()]);
    }
    let table = sqlx::query_file!("queries/calls_table_blocks.sql")
        .fetch_one(&mut *db)
        .await
        .map_err(|e| Error::database("reading the size of cc_calls_history", e))?;
    let n = i64::try_from(parallel)
        .unwrap_or(1)
        .min(table.blocks / MIN_SLICE_BLOCKS)
        .max(1);
    if table.partitioned || n < 2 {
        return Ok(vec![BlockSlice::default()]);
    }
    let bound = |i: i64| (i > 0 && i < n).then(|| format!("({},0)", table.blocks * i / n));
    Ok((0..n)
        .map(|i| BlockSlice {
            from: bound(i),
            to: bound(i + 1),
        })
        .collect())
}

/// Exports the legs matching `filter`; a bulk export reads `parallel` block slices over as
/// many connections, all in the same snapshot.
pub async fn export(
    conn: &source::ConnArgs,
    filter: &CallsFilter,
    options: ExportOptions,
    parallel: usize,
) -> Result<Summary> {
    let (destination, writer, mut db) = export::prepare(conn, &options).await?;
    let mut tx = source::begin_snapshot(&mut db, conn, &filter.domains).await?;
    check(&mut tx, filter).await?;
    let level = crate::levels::detect(&mut tx).await?;
    let slices = plan_slices(&mut tx, filter, parallel).await?;
    let mut helpers = Vec::new();
    if slices.len() > 1 {
        let snapshot = sqlx::query_file_scalar!("queries/export_snapshot.sql")
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| Error::database("exporting the snapshot", e))?;
        for _ in 1..slices.len() {
            helpers.push(source::join_snapshot(conn, &snapshot).await?);
        }
    }
    let mut streams = vec![rows(&mut tx, level, filter, &slices[0])];
    for (helper, slice) in helpers.iter_mut().zip(&slices[1..]) {
        streams.push(rows(helper, level, filter, slice));
    }
    let rows = futures_util::stream::select_all(streams);
    let mut summary = export::write_all("calls", rows, destination, writer, &options).await?;
    summary.connections = slices.len();
    // Nothing was written to the database; ending the read-only transaction is a formality.
    tx.rollback().await.ok();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_plus_is_literal() {
        assert_eq!(number_regex("+380").unwrap(), "\\+380");
        assert_eq!(number_regex("^380").unwrap(), "^380");
    }

    #[test]
    fn variables_become_a_json_object() {
        let json = variables_json(&["lang=uk".into(), "місто=Київ".into()])
            .unwrap()
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["lang"], "uk");
        assert_eq!(v["місто"], "Київ");
        assert!(variables_json(&["novalue".into()]).is_err());
        assert!(variables_json(&["=x".into()]).is_err());
    }

    #[test]
    fn amd_aliases_cover_both_spellings() {
        let v = expand_amd_aliases(&["cancel".into()]);
        assert!(v.contains(&"CANCEL".to_string()) && v.contains(&"cancelled".to_string()));
        let v = expand_amd_aliases(&["ringback".into()]);
        assert!(v.contains(&"RINGING".to_string()));
        let v = expand_amd_aliases(&["HUMAN".into()]);
        assert!(v.contains(&"human".to_string()));
    }

    #[test]
    fn min_above_max_is_rejected() {
        let args = CallsArgs {
            tz: "UTC".into(),
            min_talk: Some(10),
            max_talk: Some(5),
            ..Default::default()
        };
        assert!(
            args.to_filter()
                .unwrap_err()
                .to_string()
                .contains("--min-talk")
        );
    }
}
