//! `call-quality`: RTP quality of call legs (`call_center.cc_calls_media_stats`, Webitel
//! v26.02+): MOS, jitter, packet loss, round trip. Column meanings: docs/datasets.md.

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::PgConnection;

use crate::error::{Error, Result};
use crate::levels::Level;
use crate::levels::sql::call_quality as sql;
use crate::timearg::Window;

use super::{Dataset, Incremental, NoFlags, WindowArgs, Windowed, list};

crate::record! {
    /// The quality of one leg's media.
    pub struct CallQualityRow {
        /// The leg's SIP call id. `sip_id`.
        sip_id: String => Text,
        /// Tenant. `domain_id`.
        domain_id: Option<i64> => Int64,
        /// The leg measured (`cc_calls_history.id` whose `params->>'sip_id'` is `sip_id`).
        call_id: Option<String> => Uuid,
        /// When that leg was created. `cc_calls_history.created_at`.
        call_created_at: Option<DateTime<Utc>> => Timestamp,
        /// The user on the leg. `user_id`.
        user_id: Option<i64> => Int64,
        /// When the statistics were written. `created_at`.
        created_at: Option<DateTime<Utc>> => Timestamp,
        /// Mean opinion score, average over the call (1–5). `mos_avg`.
        mos_avg: Option<f64> => Float64,
        /// Lowest MOS. `mos_min`.
        mos_min: Option<f64> => Float64,
        /// Second of the call with the lowest MOS. `mos_min_at`.
        mos_min_at_sec: Option<f64> => Float64,
        /// Highest MOS. `mos_max`.
        mos_max: Option<f64> => Float64,
        /// Second of the call with the highest MOS. `mos_max_at`.
        mos_max_at_sec: Option<f64> => Float64,
        /// Jitter, average (ms). `jitter_avg`.
        jitter_avg: Option<f64> => Float64,
        /// Jitter, minimum. `jitter_min`.
        jitter_min: Option<f64> => Float64,
        /// Jitter, maximum. `jitter_max`.
        jitter_max: Option<f64> => Float64,
        /// Packet loss, average (%). `packetloss_avg`.
        packet_loss_avg: Option<f64> => Float64,
        /// Packet loss, minimum. `packetloss_min`.
        packet_loss_min: Option<f64> => Float64,
        /// Packet loss, maximum. `packetloss_max`.
        packet_loss_max: Option<f64> => Float64,
        /// Round-trip time, average (ms). `roundtrip_avg`.
        round_trip_avg: Option<f64> => Float64,
        /// Round-trip time, minimum. `roundtrip_min`.
        round_trip_min: Option<f64> => Float64,
        /// Round-trip time, maximum. `roundtrip_max`.
        round_trip_max: Option<f64> => Float64,
    }
}

/// The filters of `webitel-export call-quality`.
#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Filters")]
pub struct CallQualityArgs {
    #[command(flatten)]
    pub window: WindowArgs,
    /// These SIP call ids (repeatable).
    #[arg(long = "sip-id", value_name = "ID")]
    pub sip_ids: Vec<String>,
}

/// The call-quality filters, parsed.
#[derive(Clone, Debug)]
pub struct CallQualityFilter {
    pub args: CallQualityArgs,
    pub created: Window,
}

/// The statistics matching `f`, streamed from `db` (inside the caller's snapshot).
pub fn rows<'c>(
    db: &'c mut PgConnection,
    f: &CallQualityFilter,
) -> BoxStream<'c, Result<CallQualityRow>> {
    let args = &f.args;
    sql::query!(
        db,
        crate::levels::BASELINE,
        CallQualityRow,
        (
            list(&args.window.domains),
            f.created.from,
            f.created.to,
            list(&args.sip_ids),
        )
    )
    .map_err(|e| Error::database("reading call-quality", e))
    .boxed()
}

/// `webitel-export call-quality`.
pub struct CallQuality;

impl Dataset for CallQuality {
    const NAME: &'static str = "call-quality";
    const ABOUT: &'static str = "Export RTP quality of call legs (call_center.cc_calls_media_stats): MOS, jitter, loss, RTT";
    const SOURCE: &'static str = "call_center.cc_calls_media_stats (one row per measured leg, Webitel v26.02+), with the leg; --from/--to: created_at (when the statistics were written)";
    const QUERY: &'static str = sql::TEMPLATE;
    const SINCE: Level = Level::new(26, 2);
    const INCREMENTAL: Option<Windowed<CallQualityFilter>> = Some(Windowed {
        incremental: Incremental {
            column: "created_at",
            flags: ["--from", "--to"],
            partition_by: "created_at",
            window: "when the statistics were written",
            revised: false,
        },
        set: |filter, window| {
            filter.created = window;
            Ok(())
        },
        set_partition: |filter, window| {
            filter.created = window;
            Ok(())
        },
    });
    type Args = CallQualityArgs;
    type Extra = NoFlags;
    type Filter = CallQualityFilter;
    type Row = CallQualityRow;

    fn filter(args: &CallQualityArgs) -> Result<CallQualityFilter> {
        let created = args.window.window()?;
        Ok(CallQualityFilter {
            args: args.clone(),
            created,
        })
    }
    fn time_zone(args: &Self::Args) -> chrono_tz::Tz {
        args.window.tz.0
    }
    fn domains(filter: &CallQualityFilter) -> &[i64] {
        &filter.args.window.domains
    }
    fn rows<'c>(
        db: &'c mut PgConnection,
        _level: Level,
        filter: &CallQualityFilter,
    ) -> BoxStream<'c, Result<CallQualityRow>> {
        rows(db, filter)
    }
}
