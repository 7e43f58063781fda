//! Reading `VoiceCall` for the `idle-voice-seat` rule: bounded aggregate queries, never every
//! call.
//!
//! Two query shapes, each cut by [`split_in_lists_at_most`] and sent five per composite call
//! like the rest of the snapshot (`super::paging`):
//!
//! 1. activity, for every user looked at: `SELECT UserId, MAX(CallStartDateTime) lastCall FROM
//!    VoiceCall WHERE UserId IN (...) AND CallStartDateTime >= <since> GROUP BY UserId` — one
//!    row per user at most, so [`AGGREGATE_MAX_ROWS`] users per query keep every answer in
//!    one batch (Salesforce gives aggregate queries no `queryMore`);
//! 2. evidence, only for the users with no call in the period: their latest call before it, per
//!    call type (`GROUP BY UserId, CallType`), at most [`AGGREGATE_MAX_ROWS`] / 8 users per
//!    query so even every call type for every user stays under 2 000 rows.
//!
//! Where Salesforce measures "one batch" by something smaller than 2 000 rows (the documentation
//! does not say; sfsim's strict paging mode does), an aggregate refused with `EXCEEDED_ID_LIMIT`
//! is sent again with half the users per query, down to one, and the smaller size is kept for
//! the rest of the read.
//!
//! An org where the integration user cannot read `VoiceCall` (no Service Cloud Voice, no
//! access, a field missing) is not an error: the activity comes back `absent` with the reason,
//! and the rule says so in a note while the rest of the scan goes on.
//!
//! Must not: judge anything (the rule does), read the clock (`as_of` comes in), or read call
//! rows one by one.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::value::RawValue;

use super::fetch::{FetchError, FetchStats};
use super::model::{LastCall, VoiceActivity};
use super::paging::{PagedQuery, fetch_pages};
use super::soql::split_in_lists_at_most;
use super::wire::normalize_datetime;
use crate::salesforce::{ApiErrorCode, Client};

/// The most rows Salesforce returns in one batch of a query (the default and largest batch
/// size); an aggregate query must fit in it, since it cannot be continued with `queryMore`.
pub const AGGREGATE_MAX_ROWS: usize = 2_000;

/// Call types counted on per user in the evidence query. `VoiceCall.CallType` is a picklist
/// with six values in the Object Reference (Inbound, Outbound, Callback, Transfer, Consult,
/// Internal); room for two more an org or a release may add.
const MAX_CALL_TYPES: usize = 8;

/// The alias of the aggregate column (without one Salesforce names it `expr0`).
const LAST_CALL: &str = "lastCall";

/// One row of either aggregate query.
struct Row {
    user_id: Option<String>,
    last_call: Option<String>,
    call_type: Option<String>,
}

fn row(v: &RawValue) -> Result<Row, serde_json::Error> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(v.get())?;
    let text = |key: &str| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_string)
    };
    Ok(Row {
        user_id: text("UserId"),
        last_call: text(LAST_CALL).or_else(|| text("expr0")),
        call_type: text("CallType"),
    })
}

/// SOQL dateTime literal (UTC, no quotes).
fn literal(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Whether an error of a `VoiceCall` query means "cannot be read here" (reported as absent)
/// rather than a failure of the scan.
fn is_no_access(code: Option<&ApiErrorCode>) -> bool {
    matches!(
        code,
        Some(
            ApiErrorCode::InvalidType
                | ApiErrorCode::InvalidField
                | ApiErrorCode::InsufficientAccess
                | ApiErrorCode::NotFound
        )
    )
}

/// Which fields of `VoiceCall` the org has, by describing it: `Err(why)` when the object or a
/// field the rule needs is missing; `Ok(has CallType)` otherwise.
async fn describe(client: &Client) -> Result<Result<bool, String>, FetchError> {
    let describe = match client.get_json("sobjects/VoiceCall/describe").await {
        Ok(d) => d,
        Err(e) if is_no_access(e.api_code()) => {
            return Ok(Err(
                "the integration user cannot read VoiceCall (Service Cloud Voice is not \
                 enabled in the org, or the user lacks Read on Voice Calls): grant it to judge \
                 idle Voice seats"
                    .to_string(),
            ));
        }
        Err(source) => {
            return Err(FetchError::Query {
                what: "the VoiceCall describe",
                source,
            });
        }
    };
    let fields: Vec<String> = describe["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str().map(str::to_ascii_lowercase))
        .collect();
    let has = |name: &str| fields.iter().any(|f| f == &name.to_ascii_lowercase());
    let missing: Vec<&str> = ["UserId", "CallStartDateTime"]
        .into_iter()
        .filter(|f| !has(f))
        .collect();
    if !missing.is_empty() {
        return Ok(Err(format!(
            "VoiceCall has no field {} for the integration user: grant field access to judge \
             idle Voice seats",
            missing.join(", ")
        )));
    }
    Ok(Ok(has("CallType")))
}

/// Reads the activity of `users` over `[as_of - after_days, as_of]`. `evidence`: also read the
/// last call before the period of those without one (the scan does; an apply's re-check only
/// needs the activity).
pub async fn fetch_voice_activity(
    client: &Client,
    users: &[String],
    as_of: DateTime<Utc>,
    since: DateTime<Utc>,
    evidence: bool,
    stats: &mut FetchStats,
) -> Result<VoiceActivity, FetchError> {
    let mut activity = VoiceActivity {
        as_of: literal(as_of),
        since: literal(since),
        absent: None,
        users: users.to_vec(),
        last_call_in_period: BTreeMap::new(),
        last_call_before: BTreeMap::new(),
    };
    if users.is_empty() {
        return Ok(activity);
    }
    let has_call_type = match describe(client).await? {
        Ok(has) => has,
        Err(why) => {
            activity.absent = Some(why);
            return Ok(activity);
        }
    };
    let since_literal = literal(since);
    // Rows one batch holds, as learnt from the org (see the module header).
    let mut batch_rows = AGGREGATE_MAX_ROWS;
    let activity_query = |l: &[String]| {
        format!(
            "SELECT UserId, MAX(CallStartDateTime) {LAST_CALL} FROM VoiceCall WHERE UserId IN \
             ({}) AND CallStartDateTime >= {since_literal} GROUP BY UserId",
            l[0]
        )
    };
    let rows = match run_shape(
        client,
        users,
        1,
        &mut batch_rows,
        &activity_query,
        "voice call activity",
        stats,
    )
    .await?
    {
        Ok(rows) => rows,
        Err(why) => {
            activity.absent = Some(why);
            return Ok(activity);
        }
    };
    for r in rows {
        if let (Some(user), Some(at)) = (r.user_id, r.last_call) {
            activity
                .last_call_in_period
                .insert(user, normalize_datetime(&at));
        }
    }
    if !evidence {
        return Ok(activity);
    }
    let quiet: Vec<String> = users
        .iter()
        .filter(|u| !activity.last_call_in_period.contains_key(*u))
        .cloned()
        .collect();
    let (select, group) = if has_call_type {
        ("UserId, CallType", "UserId, CallType")
    } else {
        ("UserId", "UserId")
    };
    let evidence_query = |l: &[String]| {
        format!(
            "SELECT {select}, MAX(CallStartDateTime) {LAST_CALL} FROM VoiceCall WHERE UserId \
             IN ({}) AND CallStartDateTime < {since_literal} GROUP BY {group}",
            l[0]
        )
    };
    let rows_per_user = if has_call_type { MAX_CALL_TYPES } else { 1 };
    let rows = match run_shape(
        client,
        &quiet,
        rows_per_user,
        &mut batch_rows,
        &evidence_query,
        "voice calls before the period",
        stats,
    )
    .await?
    {
        Ok(rows) => rows,
        Err(why) => {
            activity.absent = Some(why);
            return Ok(activity);
        }
    };
    for r in rows {
        let (Some(user), Some(at)) = (r.user_id, r.last_call) else {
            continue;
        };
        let at = normalize_datetime(&at);
        let newer = activity
            .last_call_before
            .get(&user)
            .is_none_or(|known| known.at < at);
        if newer {
            activity.last_call_before.insert(
                user,
                LastCall {
                    at,
                    call_type: r.call_type,
                },
            );
        }
    }
    Ok(activity)
}

/// The period's start for `after_days` ending at `as_of`.
pub fn period_start(as_of: DateTime<Utc>, after_days: u32) -> DateTime<Utc> {
    as_of - Duration::days(i64::from(after_days))
}

/// Runs one aggregate query shape over `users`, at most `*batch_rows / rows_per_user` users per
/// query (and whatever the URI allows). When the org refuses a query as larger than one batch
/// (`EXCEEDED_ID_LIMIT`), halves `*batch_rows` and runs the shape again, down to one user per
/// query; the smaller size stays for the caller's next shape.
async fn run_shape(
    client: &Client,
    users: &[String],
    rows_per_user: usize,
    batch_rows: &mut usize,
    build: &(dyn Fn(&[String]) -> String + Sync),
    what: &'static str,
    stats: &mut FetchStats,
) -> Result<Result<Vec<Row>, String>, FetchError> {
    loop {
        let per_query = (*batch_rows / rows_per_user).max(1);
        let queries = split_in_lists_at_most(&[users], per_query, build).map_err(|source| {
            FetchError::TooLong {
                what: "voice call activity",
                source,
            }
        })?;
        match run(client, &queries, what, stats).await {
            Err(FetchError::Query { source, .. })
                if is_over_one_batch(source.api_code()) && per_query > 1 =>
            {
                *batch_rows = (*batch_rows / 2).max(rows_per_user);
                tracing::warn!(
                    what,
                    users_per_query = (*batch_rows / rows_per_user).max(1),
                    "Salesforce refused an aggregate query as larger than one batch; \
                     asking again with fewer users per query"
                );
            }
            other => return other,
        }
    }
}

/// `EXCEEDED_ID_LIMIT`: Salesforce's answer to an aggregate query with more rows than one batch.
fn is_over_one_batch(code: Option<&ApiErrorCode>) -> bool {
    code.is_some_and(|c| c.as_str() == "EXCEEDED_ID_LIMIT")
}

/// Runs the aggregate queries; `Ok(Err(why))` when the org refuses them for lack of access.
async fn run(
    client: &Client,
    queries: &[String],
    what: &'static str,
    stats: &mut FetchStats,
) -> Result<Result<Vec<Row>, String>, FetchError> {
    let paged: Vec<PagedQuery<'_, Row>> = queries
        .iter()
        .map(|soql| PagedQuery {
            what,
            soql,
            convert: row,
        })
        .collect();
    match fetch_pages(client, &paged, stats, &|_| {}).await {
        Ok(rows) => Ok(Ok(rows.into_iter().flatten().collect())),
        Err(FetchError::Query { source, .. }) if is_no_access(source.api_code()) => Ok(Err(
            format!("reading VoiceCall failed ({source}): grant Read on Voice Calls"),
        )),
        Err(e) => Err(e),
    }
}
