//! The `calls` filters: the command-line arguments and what they become once checked (the
//! windows resolved, the number pattern escaped, the variables as JSON, the AMD aliases
//! expanded), before anything is read.

use uuid::Uuid;

use crate::datasets::{Direction, WindowArgs, like_pattern};
use crate::error::{Error, Result};
use crate::timearg::Window;

/// The filters of `webitel-export calls`, as typed on the command line.
#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Filters")]
#[command(mut_arg("from", |a| a.help("Legs created at or after this instant (RFC 3339, or YYYY-MM-DD in --tz)")))]
#[command(mut_arg("to", |a| a.help("Legs created before this instant (exclusive)")))]
pub struct CallsArgs {
    // --from/--to: when the leg was created.
    #[command(flatten)]
    pub window: WindowArgs,
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
    /// The derived parts of a leg the export writes ([`Dataset::narrow`](crate::datasets::Dataset::narrow)).
    pub reads: LegReads,
}

/// The derived parts of a leg that cost a read of another table: each is read only when one
/// of its columns is written (or, for recordings, `--has-file` filters by them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LegReads {
    /// `recording_file_ids`: storage.files, per leg or aggregated.
    pub recordings: bool,
    /// `has_children`: the parent_id index, per leg or as one set.
    pub children: bool,
    /// The attempt's columns (agent, team, attempt_result, queue_wait_sec,
    /// agent_description, and the agent's user as user_id/user_name's fallback).
    pub attempts: bool,
}

impl Default for LegReads {
    fn default() -> Self {
        LegReads {
            recordings: true,
            children: true,
            attempts: true,
        }
    }
}

/// The columns read from the leg's attempt and the agent, team and user it leads to.
pub const ATTEMPT_COLUMNS: [&str; 9] = [
    "user_id",
    "user_name",
    "agent_id",
    "agent_name",
    "team_id",
    "team_name",
    "attempt_result",
    "queue_wait_sec",
    "agent_description",
];

impl LegReads {
    /// What a view of the calls' columns writes.
    pub fn of(view: &crate::view::View) -> LegReads {
        LegReads {
            recordings: view.reads("recording_file_ids"),
            children: view.reads("has_children"),
            attempts: ATTEMPT_COLUMNS.iter().any(|name| view.reads(name)),
        }
    }
}

impl CallsFilter {
    /// Whether the query reads the leg's recordings: written, or filtered by (`--has-file`).
    pub fn reads_recordings(&self) -> bool {
        self.reads.recordings || self.has_file.is_some()
    }
}

impl CallsArgs {
    /// Checks every filter that can be checked without the database.
    pub fn to_filter(&self) -> Result<CallsFilter> {
        let window = |from, to| self.window.other(from, to);
        let (min_duration, max_duration) = ordered(
            "--min-duration",
            self.min_duration,
            "--max-duration",
            self.max_duration,
        )?;
        let (min_talk, max_talk) =
            ordered("--min-talk", self.min_talk, "--max-talk", self.max_talk)?;
        Ok(CallsFilter {
            domains: self.window.domains.clone(),
            created: self.window.window()?,
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
            reads: LegReads::default(),
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
