//! Voice calls of a generated org: `VoiceCall` records by agents in contact centers over the
//! 120 days before the as-of day, with transfers and consults chained to an earlier call, and
//! the idle plan honoured (agents planted with old calls only get calls 62 to 120 days back,
//! agents planted with none or new users get none; no call starts 59 to 61 days back).
//!
//! Must not: change the rest of the org (calls come from their own stream).

use std::collections::HashSet;

use super::idle::{FIRST_CALL_DAY, IdlePlan, LAST_CALL_DAY, PERIOD_DAYS, Plant, QUIET_DAYS};
use super::*;

/// One call before it becomes a record.
pub(super) struct CallDraft {
    /// Record id.
    pub(super) id: String,
    /// `CallType`.
    pub(super) call_type: &'static str,
    /// Start, in seconds since the Unix epoch.
    pub(super) start: i64,
    /// `CallDurationInSeconds`.
    pub(super) duration: i64,
    /// Index into `Catalog::centers`.
    pub(super) center: usize,
    /// `UserId`: none for calls abandoned in the IVR or queue.
    pub(super) user: Option<String>,
    /// `QueueName`.
    pub(super) queue: Option<&'static str>,
    /// The customer's number: `+1555` and these seven digits (formatted when written, so a
    /// million drafts stay small).
    pub(super) customer: u32,
    /// `PreviousCallId`: index of the earlier draft.
    pub(super) previous: Option<usize>,
    /// `NextCallId`: index of the later draft.
    pub(super) next: Option<usize>,
}

/// The calls as compact drafts (a `VoiceCall` record is built only when written: a million of
/// them as JSON maps would take gigabytes), and who took a call in the idle period.
pub(super) struct Calls {
    /// The calls, in record order.
    drafts: Vec<CallDraft>,
    /// `Id` and phone number of each contact center, parallel to `Catalog::centers`.
    centers: Vec<(String, String)>,
    /// Users with a call in the 60 days before the as-of day.
    pub(super) in_period: HashSet<String>,
}

impl Calls {
    /// How many calls.
    pub(super) fn len(&self) -> usize {
        self.drafts.len()
    }

    /// The `VoiceCall` record of every call, in order.
    pub(super) fn records(&self) -> impl Iterator<Item = Value> + '_ {
        self.drafts.iter().map(|call| self.record(call))
    }

    fn record(&self, call: &CallDraft) -> Value {
        let (center_id, number) = &self.centers[call.center];
        let customer = format!("+1555{:07}", call.customer);
        let (from, to) = match call.call_type {
            "Outbound" | "Callback" => (number.clone(), Some(customer)),
            // Agent to agent inside the contact center: no outside number is dialled.
            "InternalCall" | "Consult" => (number.clone(), None),
            _ => (customer, Some(number.clone())),
        };
        let id_of = |i: Option<usize>| i.map(|i| self.drafts[i].id.clone());
        record([
            ("Id", call.id.clone().into()),
            ("CallType", call.call_type.into()),
            ("CallDurationInSeconds", call.duration.into()),
            ("CallStartDateTime", datetime(call.start).into()),
            (
                "CallEndDateTime",
                datetime(call.start + call.duration).into(),
            ),
            ("PreviousCallId", id_of(call.previous).into()),
            ("NextCallId", id_of(call.next).into()),
            ("QueueName", call.queue.into()),
            ("CallCenterId", center_id.clone().into()),
            ("UserId", call.user.clone().into()),
            ("VendorCallKey", vendor_key(&call.id).into()),
            ("FromPhoneNumber", from.into()),
            ("ToPhoneNumber", to.into()),
        ])
    }
}

/// A day `days_back` before the as-of day for a call: in 2..=120, never in the quiet band,
/// and weekends carry about a third of a weekday's volume; `old` keeps it before the period.
fn call_day(rng: &mut Rng, as_of: i64, old: bool) -> i64 {
    let first = if old {
        QUIET_DAYS.end() + 1
    } else {
        FIRST_CALL_DAY
    };
    let mut back = first;
    for _ in 0..16 {
        back = rng.between(first as u64, LAST_CALL_DAY as u64) as i64;
        if QUIET_DAYS.contains(&back) {
            continue;
        }
        // 1970-01-01 was a Thursday: day 0 of the week is Thursday, 2 and 3 the weekend.
        let weekday = ((as_of / 86_400 - back) % 7 + 7) % 7;
        if matches!(weekday, 2 | 3) && rng.chance(0.7) {
            continue;
        }
        return back;
    }
    if QUIET_DAYS.contains(&back) {
        QUIET_DAYS.end() + 1
    } else {
        back
    }
}

/// `count` voice calls over the 120 days before the as-of day, spread over the agents in
/// contact centers that the plan lets take calls. Transfers and consults chain to an earlier
/// inbound call of the same center (`PreviousCallId`/`NextCallId`), except for agents planted
/// with old calls only, whose calls stay before the period.
pub(super) fn voice_calls(
    count: usize,
    agents: &[Agent],
    catalog: &Catalog,
    rng: &mut Rng,
    ids: &mut IdFactory,
    plan: &IdlePlan,
) -> Calls {
    let callers: Vec<&Agent> = agents
        .iter()
        .filter(|a| matches!(plan.plant(&a.id), Plant::Normal | Plant::OldCalls))
        .collect();
    const TYPES: [&str; 6] = [
        "Inbound",
        "Outbound",
        "Transfer",
        "Callback",
        "Consult",
        "InternalCall",
    ];
    const TYPE_WEIGHTS: [u32; 6] = [55, 25, 6, 5, 5, 4];
    let mut drafts: Vec<CallDraft> = Vec::with_capacity(count);
    // Per center, the last answered inbound call still free to chain a transfer or consult to.
    let mut chainable: Vec<Option<usize>> = vec![None; catalog.centers.len()];
    for _ in 0..count {
        let (center, agent) = if callers.is_empty() {
            (rng.below(catalog.centers.len()), None)
        } else {
            let agent = callers[rng.below(callers.len())];
            (agent.center, Some(agent.id.clone()))
        };
        let old_only = agent
            .as_deref()
            .is_some_and(|a| plan.plant(a) == Plant::OldCalls);
        let def = &catalog.centers[center];
        let call_type = TYPES[rng.weighted(&TYPE_WEIGHTS)];
        let back = call_day(rng, plan.as_of, old_only);
        let local = rng.between(8 * 3600, 18 * 3600) as i64;
        let mut start = plan.as_of - back * 86_400 + local + def.region.utc_shift_hours() * 3600;
        let abandoned = call_type == "Inbound" && rng.chance(0.06);
        let duration = match call_type {
            "Inbound" if abandoned => rng.between(10, 120),
            // IVR, then queue, then talk.
            "Inbound" => rng.between(20, 180) + rng.between(0, 600) + rng.between(60, 1200),
            "Outbound" | "Callback" => rng.between(20, 900),
            "Transfer" => rng.between(60, 900),
            "Consult" => rng.between(30, 400),
            _ => rng.between(20, 300),
        } as i64;
        let queue = match call_type {
            "Inbound" | "Transfer" | "Callback" => Some(def.queues[rng.below(def.queues.len())]),
            _ => None,
        };
        let mut previous = None;
        if matches!(call_type, "Transfer" | "Consult")
            && !old_only
            && let Some(prev) = chainable[center].take()
        {
            let prev_draft = &drafts[prev];
            start = prev_draft.start + prev_draft.duration / 2;
            previous = Some(prev);
        }
        let draft = CallDraft {
            id: ids.next("0LQ"),
            call_type,
            start,
            duration,
            center,
            user: if abandoned { None } else { agent },
            queue,
            customer: rng.below(10_000_000) as u32,
            previous: None,
            next: None,
        };
        drafts.push(draft);
        let this = drafts.len() - 1;
        if let Some(prev) = previous {
            drafts[prev].next = Some(this);
            drafts[this].previous = Some(prev);
        }
        if call_type == "Inbound" && !abandoned {
            chainable[center] = Some(this);
        }
    }

    let period_start = plan.as_of - PERIOD_DAYS * 86_400;
    let in_period = drafts
        .iter()
        .filter(|d| d.start >= period_start)
        .filter_map(|d| d.user.clone())
        .collect();
    Calls {
        drafts,
        centers: catalog
            .centers
            .iter()
            .map(|c| (c.id.clone(), c.number.clone()))
            .collect(),
        in_period,
    }
}

/// Salesforce's datetime form for epoch seconds.
pub(super) fn datetime(secs: i64) -> String {
    let dt = DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    values::format_datetime(dt)
}

/// A UUID-shaped contact id derived from the call id (Amazon Connect contact ids are UUIDs).
pub(super) fn vendor_key(call_id: &str) -> String {
    let mut mix = SplitMix64::new(call_id.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    }));
    let (a, b) = (mix.next_u64(), mix.next_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0x0FFF,
        0x8000 | (b >> 48) & 0x3FFF,
        b & 0xFFFF_FFFF_FFFF
    )
}
