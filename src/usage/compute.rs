//! Minutes from VoiceCall segments: sessions, Service Cloud Voice minutes, telephony minutes,
//! breakdowns, and the data-quality findings of the records.
//!
//! Owns the counting rules (pure: segments and rules in, numbers out):
//! * A **call** (session) is the segments linked by `PreviousCallId` / `NextCallId` (transfers and
//!   consults included), named by its first segment (the earliest start).
//! * **SCV seconds** of a call: the length of the union of its segments' active intervals (the
//!   Connect instance is active for the session once, however many legs overlap), IVR and queue
//!   included, rounded up to the next 10 seconds. Segments that left Service Cloud Voice (see
//!   [`TransferOut`]) do not count.
//! * **Telephony minutes**: each counted segment's duration rounded up to the next whole minute, so
//!   a consult or transfer adds its own leg. Internal calls only when
//!   [`UsageRules::internal_calls_telephony`] says so.
//! * A segment's **duration** is `CallDurationInSeconds`; without it, end − start. A segment with
//!   neither, or a negative one, counts 0 seconds and is listed in the data-quality section, as is
//!   one whose end is before its start or whose duration and start/end disagree by over a minute.
//!
//! Must not: fetch, read the clock or the config file.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

/// One `VoiceCall` record, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub id: String,
    /// `CallType` as Salesforce gives it (`Inbound`, `Outbound`, `Transfer`, `Callback`, `Consult`,
    /// `InternalCall`).
    pub call_type: Option<String>,
    pub duration_seconds: Option<i64>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub previous_id: Option<String>,
    pub next_id: Option<String>,
    pub queue: Option<String>,
    /// `UserId`: the agent on the segment (none for IVR-only, abandoned or external legs).
    pub user_id: Option<String>,
    /// `ToPhoneNumber`: for outbound legs, the destination (rates by country prefix).
    pub to_number: Option<String>,
}

/// How a transfer out of Service Cloud Voice shows in the data (the records cannot say it
/// directly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferOut {
    /// A `Transfer` segment with no agent (`UserId` empty) went to an outside number: it adds
    /// telephony, not SCV minutes. The default.
    NoAgent,
    /// Every segment stays in Service Cloud Voice.
    Never,
}

/// The counting choices the data cannot settle; each is an `[org.usage]` option.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageRules {
    /// Whether `InternalCall` segments (agent to agent) carry a telephony leg. Default false:
    /// no line to the telephone network is open.
    pub internal_calls_telephony: bool,
    /// How a transfer out of SCV is recognised.
    pub transfer_out: TransferOut,
}

impl Default for UsageRules {
    fn default() -> Self {
        UsageRules {
            internal_calls_telephony: false,
            transfer_out: TransferOut::NoAgent,
        }
    }
}

/// The call types reports group by.
pub const CALL_TYPES: [&str; 7] = [
    "inbound", "outbound", "callback", "transfer", "consult", "internal", "other",
];

/// `CallType` to a report key.
pub fn type_key(call_type: Option<&str>) -> &'static str {
    match call_type.map(str::to_ascii_lowercase).as_deref() {
        Some("inbound") => "inbound",
        Some("outbound") => "outbound",
        Some("callback") => "callback",
        Some("transfer") => "transfer",
        Some("consult") => "consult",
        Some("internalcall") | Some("internal") => "internal",
        _ => "other",
    }
}

/// A data-quality finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataIssue {
    /// The `VoiceCall` record.
    pub record_id: String,
    /// `no_duration`, `negative_duration`, `end_before_start`, `duration_mismatch`,
    /// `missing_link`, `unknown_call_type`, `starts_before_period`.
    pub issue: &'static str,
    /// What was found and how it was counted.
    pub detail: String,
}

/// One segment's contribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentUsage {
    pub id: String,
    /// Report key of its type.
    pub call_type: &'static str,
    /// The seconds counted (after the data-quality rules).
    pub seconds: i64,
    /// Counted for SCV (false: it left Service Cloud Voice).
    pub scv: bool,
    /// Its telephony minutes (0 for a leg without telephony).
    pub telephony_minutes: i64,
    pub to_number: Option<String>,
}

/// One call (session) and its minutes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallUsage {
    /// Id of its first segment.
    pub id: String,
    pub start: DateTime<Utc>,
    /// Local date (in the usage time zone) the call is counted on.
    pub day: NaiveDate,
    /// Type of its first segment.
    pub call_type: &'static str,
    /// First queue among its segments.
    pub queue: Option<String>,
    /// SCV seconds, rounded up to 10.
    pub scv_seconds: i64,
    /// Sum of its segments' telephony minutes.
    pub telephony_minutes: i64,
    pub segments: Vec<SegmentUsage>,
}

/// Totals of one group (a call type, a queue, a day, or all).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    pub calls: u64,
    pub segments: u64,
    pub scv_seconds: i64,
    pub telephony_minutes: i64,
}

impl Totals {
    fn add(&mut self, call: &CallUsage) {
        self.calls += 1;
        self.segments += call.segments.len() as u64;
        self.scv_seconds += call.scv_seconds;
        self.telephony_minutes += call.telephony_minutes;
    }

    /// SCV minutes, as a decimal (SCV is counted in 10-second steps).
    pub fn scv_minutes(&self) -> f64 {
        self.scv_seconds as f64 / 60.0
    }
}

/// Everything counted for a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Usage {
    pub calls: Vec<CallUsage>,
    pub total: Totals,
    /// By the first segment's type (calls, SCV) — telephony by each segment's own type is in
    /// `telephony_by_segment_type`.
    pub by_type: BTreeMap<&'static str, Totals>,
    /// Telephony minutes by each segment's own type (a consult leg counts as `consult`).
    pub telephony_by_segment_type: BTreeMap<&'static str, i64>,
    /// By queue (`(none)` for calls without one).
    pub by_queue: BTreeMap<String, Totals>,
    /// By local day.
    pub by_day: BTreeMap<NaiveDate, Totals>,
    pub data_quality: Vec<DataIssue>,
}

/// `seconds` rounded up to the next multiple of `step`.
fn round_up(seconds: i64, step: i64) -> i64 {
    if seconds <= 0 {
        0
    } else {
        (seconds + step - 1) / step * step
    }
}

/// The seconds to count for a segment, and the issues found on the way.
fn duration_of(s: &Segment, issues: &mut Vec<DataIssue>) -> i64 {
    let span = match (s.start, s.end) {
        (Some(a), Some(b)) => Some((b - a).num_seconds()),
        _ => None,
    };
    if let Some(span) = span.filter(|v| *v < 0) {
        issues.push(DataIssue {
            record_id: s.id.clone(),
            issue: "end_before_start",
            detail: format!(
                "CallEndDateTime is {}s before CallStartDateTime; {}",
                -span,
                match s.duration_seconds {
                    Some(d) if d >= 0 => format!("CallDurationInSeconds ({d}s) is counted"),
                    _ => "counted as 0 seconds".to_string(),
                }
            ),
        });
    }
    match s.duration_seconds {
        Some(d) if d < 0 => {
            issues.push(DataIssue {
                record_id: s.id.clone(),
                issue: "negative_duration",
                detail: format!("CallDurationInSeconds is {d}; counted as 0 seconds"),
            });
            0
        }
        Some(d) => {
            if let Some(span) = span.filter(|v| *v >= 0 && (v - d).abs() > 60) {
                issues.push(DataIssue {
                    record_id: s.id.clone(),
                    issue: "duration_mismatch",
                    detail: format!(
                        "CallDurationInSeconds is {d}s but end - start is {span}s; the duration \
                         is counted"
                    ),
                });
            }
            d
        }
        None => match span {
            Some(span) if span >= 0 => {
                issues.push(DataIssue {
                    record_id: s.id.clone(),
                    issue: "no_duration",
                    detail: format!(
                        "CallDurationInSeconds is empty; end - start ({span}s) is counted"
                    ),
                });
                span
            }
            _ => {
                issues.push(DataIssue {
                    record_id: s.id.clone(),
                    issue: "no_duration",
                    detail: "CallDurationInSeconds is empty and the end time is missing or before \
                             the start; counted as 0 seconds"
                        .to_string(),
                });
                0
            }
        },
    }
}

/// Finds the root of `i` (path halving).
fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Counts `segments` (every segment of the period, and the ones they link to) into calls.
/// Calls whose first segment starts before `period_start` belong to the previous period and are
/// left out (listed as `starts_before_period`). Days are local dates in `tz`.
pub fn compute(
    segments: &[Segment],
    rules: &UsageRules,
    tz: Tz,
    period_start: DateTime<Utc>,
) -> Usage {
    let mut usage = Usage::default();
    let index: HashMap<&str, usize> = segments
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut parent: Vec<usize> = (0..segments.len()).collect();
    for (i, s) in segments.iter().enumerate() {
        for link in [&s.previous_id, &s.next_id].into_iter().flatten() {
            match index.get(link.as_str()) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    if a != b {
                        parent[a] = b;
                    }
                }
                None => usage.data_quality.push(DataIssue {
                    record_id: s.id.clone(),
                    issue: "missing_link",
                    detail: format!(
                        "links to VoiceCall {link}, which could not be read; counted without it"
                    ),
                }),
            }
        }
        if type_key(s.call_type.as_deref()) == "other" {
            usage.data_quality.push(DataIssue {
                record_id: s.id.clone(),
                issue: "unknown_call_type",
                detail: format!(
                    "CallType {:?} is none of Inbound, Outbound, Callback, Transfer, Consult, \
                     InternalCall; counted as `other`",
                    s.call_type.as_deref().unwrap_or("")
                ),
            });
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..segments.len() {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(i);
    }
    let mut calls = Vec::with_capacity(groups.len());
    for members in groups.into_values() {
        let mut members: Vec<&Segment> = members.iter().map(|&i| &segments[i]).collect();
        members.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.id.cmp(&b.id)));
        let first = members[0];
        let Some(start) = first.start else {
            continue;
        };
        if start < period_start {
            usage.data_quality.push(DataIssue {
                record_id: first.id.clone(),
                issue: "starts_before_period",
                detail: "the call began before the period, so it is counted in the previous one"
                    .to_string(),
            });
            continue;
        }
        let mut seg_usage = Vec::with_capacity(members.len());
        let mut intervals: Vec<(i64, i64)> = Vec::new();
        for s in &members {
            let seconds = duration_of(s, &mut usage.data_quality);
            let kind = type_key(s.call_type.as_deref());
            let scv = !(kind == "transfer"
                && s.user_id.is_none()
                && rules.transfer_out == TransferOut::NoAgent);
            let telephony = kind != "internal" || rules.internal_calls_telephony;
            if scv && let Some(at) = s.start {
                let from = at.timestamp();
                intervals.push((from, from + seconds));
            }
            let minutes = if telephony {
                round_up(seconds, 60) / 60
            } else {
                0
            };
            seg_usage.push(SegmentUsage {
                id: s.id.clone(),
                call_type: kind,
                seconds,
                scv,
                telephony_minutes: minutes,
                to_number: s.to_number.clone(),
            });
        }
        // The union of the active intervals: overlapping legs count once.
        intervals.sort_unstable();
        let mut active = 0;
        let mut current: Option<(i64, i64)> = None;
        for (a, b) in intervals {
            match &mut current {
                Some((_, end)) if a <= *end => *end = (*end).max(b),
                _ => {
                    if let Some((x, y)) = current {
                        active += y - x;
                    }
                    current = Some((a, b));
                }
            }
        }
        if let Some((x, y)) = current {
            active += y - x;
        }
        calls.push(CallUsage {
            id: first.id.clone(),
            start,
            day: start.with_timezone(&tz).date_naive(),
            call_type: type_key(first.call_type.as_deref()),
            queue: members.iter().find_map(|s| s.queue.clone()),
            scv_seconds: round_up(active, 10),
            telephony_minutes: seg_usage.iter().map(|s| s.telephony_minutes).sum(),
            segments: seg_usage,
        });
    }
    calls.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.id.cmp(&b.id)));
    usage.calls = calls;
    usage.summarize();
    usage
}

impl Usage {
    /// Recomputes the totals and breakdowns from `calls`.
    fn summarize(&mut self) {
        self.total = Totals::default();
        self.by_type.clear();
        self.by_queue.clear();
        self.by_day.clear();
        self.telephony_by_segment_type.clear();
        for call in &self.calls {
            self.total.add(call);
            self.by_type.entry(call.call_type).or_default().add(call);
            self.by_queue
                .entry(call.queue.clone().unwrap_or_else(|| "(none)".to_string()))
                .or_default()
                .add(call);
            self.by_day.entry(call.day).or_default().add(call);
            for s in &call.segments {
                *self
                    .telephony_by_segment_type
                    .entry(s.call_type)
                    .or_default() += s.telephony_minutes;
            }
        }
    }

    /// The calls that start in `[from, to)`, with their totals and the data-quality findings
    /// of their records (and of records in no call at all).
    pub fn within(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Usage {
        let calls: Vec<CallUsage> = self
            .calls
            .iter()
            .filter(|c| c.start >= from && c.start < to)
            .cloned()
            .collect();
        let kept: std::collections::HashSet<&str> = calls
            .iter()
            .flat_map(|c| c.segments.iter().map(|s| s.id.as_str()))
            .collect();
        let placed: std::collections::HashSet<&str> = self
            .calls
            .iter()
            .flat_map(|c| c.segments.iter().map(|s| s.id.as_str()))
            .collect();
        let data_quality = self
            .data_quality
            .iter()
            .filter(|d| {
                kept.contains(d.record_id.as_str()) || !placed.contains(d.record_id.as_str())
            })
            .cloned()
            .collect();
        let mut part = Usage {
            calls,
            data_quality,
            ..Usage::default()
        };
        part.summarize();
        part
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn seg(id: &str, kind: &str, start: &str, seconds: i64) -> Segment {
        let start = at(start);
        Segment {
            id: id.into(),
            call_type: Some(kind.into()),
            duration_seconds: Some(seconds),
            start: Some(start),
            end: Some(start + chrono::Duration::seconds(seconds)),
            previous_id: None,
            next_id: None,
            queue: None,
            user_id: Some("005A".into()),
            to_number: None,
        }
    }

    fn run(segments: &[Segment]) -> Usage {
        compute(
            segments,
            &UsageRules::default(),
            chrono_tz::UTC,
            at("2026-01-01T00:00:00Z"),
        )
    }

    #[test]
    fn the_seeds_scenarios_count_as_salesforce_says() {
        // Inbound: 2 min IVR + 3 min queue + 5 min talk = one 10-minute segment.
        let inbound = seg("A", "Inbound", "2026-01-05T09:00:00Z", 600);
        // Abandoned after a 1-minute message.
        let mut abandoned = seg("B", "Inbound", "2026-01-05T10:00:00Z", 60);
        abandoned.user_id = None;
        // 5 min talk, then a 5-minute consult with the customer on hold: the customer's leg lasts
        // 10 minutes, the consult leg 5 of them.
        let mut talk = seg("C1", "Inbound", "2026-01-05T11:00:00Z", 600);
        let mut consult = seg("C2", "Consult", "2026-01-05T11:05:00Z", 300);
        talk.next_id = Some("C2".into());
        consult.previous_id = Some("C1".into());
        let outbound = seg("D", "Outbound", "2026-01-05T12:00:00Z", 300);
        let odd = seg("E", "Inbound", "2026-01-05T13:00:00Z", 603);
        let usage = run(&[inbound, abandoned, talk, consult, outbound, odd]);
        let by_id: BTreeMap<&str, (i64, i64)> = usage
            .calls
            .iter()
            .map(|c| (c.id.as_str(), (c.scv_seconds, c.telephony_minutes)))
            .collect();
        assert_eq!(by_id["A"], (600, 10));
        assert_eq!(by_id["B"], (60, 1));
        assert_eq!(by_id["C1"], (600, 15));
        assert_eq!(by_id["D"], (300, 5));
        assert_eq!(
            by_id["E"],
            (610, 11),
            "10 min 3 s: SCV 10 min 10 s, telephony 11"
        );
        assert_eq!(usage.total.calls, 5);
        assert_eq!(usage.total.segments, 6);
        assert_eq!(usage.telephony_by_segment_type["consult"], 5);
    }

    #[test]
    fn a_transfer_out_of_scv_adds_telephony_only() {
        let mut a = seg("A", "Inbound", "2026-01-05T09:00:00Z", 300);
        let mut t = seg("T", "Transfer", "2026-01-05T09:05:00Z", 600);
        t.user_id = None;
        a.next_id = Some("T".into());
        t.previous_id = Some("A".into());
        let usage = run(&[a.clone(), t.clone()]);
        assert_eq!(
            (usage.calls[0].scv_seconds, usage.calls[0].telephony_minutes),
            (300, 15)
        );
        let keep = compute(
            &[a, t],
            &UsageRules {
                transfer_out: TransferOut::Never,
                ..UsageRules::default()
            },
            chrono_tz::UTC,
            at("2026-01-01T00:00:00Z"),
        );
        assert_eq!(keep.calls[0].scv_seconds, 900);
    }

    #[test]
    fn internal_calls_carry_telephony_only_when_configured() {
        let call = seg("I", "InternalCall", "2026-01-05T09:00:00Z", 90);
        assert_eq!(
            run(std::slice::from_ref(&call)).calls[0].telephony_minutes,
            0
        );
        let with = compute(
            &[call],
            &UsageRules {
                internal_calls_telephony: true,
                ..UsageRules::default()
            },
            chrono_tz::UTC,
            at("2026-01-01T00:00:00Z"),
        );
        assert_eq!(with.calls[0].telephony_minutes, 2);
        assert_eq!(with.calls[0].scv_seconds, 90);
    }

    #[test]
    fn bad_records_are_counted_by_the_rule_and_listed() {
        let mut backwards = seg("X", "Inbound", "2026-01-05T09:00:00Z", 120);
        backwards.end = Some(at("2026-01-05T08:59:00Z"));
        let mut no_duration = seg("Y", "Inbound", "2026-01-05T10:00:00Z", 0);
        no_duration.duration_seconds = None;
        no_duration.end = Some(at("2026-01-05T10:02:30Z"));
        let mut nothing = seg("Z", "Inbound", "2026-01-05T11:00:00Z", 0);
        nothing.duration_seconds = None;
        nothing.end = None;
        let usage = run(&[backwards, no_duration, nothing]);
        let calls: BTreeMap<&str, (i64, i64)> = usage
            .calls
            .iter()
            .map(|c| (c.id.as_str(), (c.scv_seconds, c.telephony_minutes)))
            .collect();
        assert_eq!(calls["X"], (120, 2), "the duration is counted");
        assert_eq!(calls["Y"], (150, 3), "end - start is counted");
        assert_eq!(calls["Z"], (0, 0), "nothing to count: 0, and listed");
        let issues: Vec<(&str, &str)> = usage
            .data_quality
            .iter()
            .map(|i| (i.record_id.as_str(), i.issue))
            .collect();
        assert!(issues.contains(&("X", "end_before_start")), "{issues:?}");
        assert!(issues.contains(&("Y", "no_duration")), "{issues:?}");
        assert!(issues.contains(&("Z", "no_duration")), "{issues:?}");
        assert_eq!(usage.total.calls, 3, "never silently dropped");
    }

    #[test]
    fn a_call_begun_before_the_period_is_left_to_it() {
        let mut a = seg("A", "Inbound", "2025-12-31T23:58:00Z", 300);
        let mut b = seg("B", "Transfer", "2026-01-01T00:01:00Z", 120);
        a.next_id = Some("B".into());
        b.previous_id = Some("A".into());
        let usage = run(&[a, b]);
        assert_eq!(usage.total.calls, 0);
        assert_eq!(usage.data_quality[0].issue, "starts_before_period");
    }
}
