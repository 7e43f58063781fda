//! Voice calls of a generated org: four weeks of `VoiceCall` records by agents in contact
//! centers, with transfers and consults chained to an earlier call.
//!
//! Must not: change the rest of the org (calls come from their own stream).

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
    /// The customer's number.
    pub(super) customer: String,
    /// `PreviousCallId`.
    pub(super) previous: Option<String>,
    /// `NextCallId`.
    pub(super) next: Option<String>,
}

/// `count` voice calls over four weeks, spread over the agents in contact centers. Transfers and
/// consults chain to an earlier inbound call of the same center (`PreviousCallId`/`NextCallId`).
pub(super) fn voice_calls(
    count: usize,
    agents: &[Agent],
    catalog: &Catalog,
    rng: &mut Rng,
    ids: &mut IdFactory,
) -> Vec<Value> {
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
        let (center, agent) = if agents.is_empty() {
            (rng.below(catalog.centers.len()), None)
        } else {
            let agent = &agents[rng.below(agents.len())];
            (agent.center, Some(agent.id.clone()))
        };
        let def = &catalog.centers[center];
        let call_type = TYPES[rng.weighted(&TYPE_WEIGHTS)];
        let mut day = rng.between(0, 27) as i64;
        // Weekends carry about a third of a weekday's volume.
        if day % 7 >= 5 && rng.chance(0.7) {
            day -= rng.between(1, 4) as i64;
        }
        let local = rng.between(8 * 3600, 18 * 3600) as i64;
        let mut start = CALLS_EPOCH + day * 86_400 + local + def.region.utc_shift_hours() * 3600;
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
            customer: format!("+1555{:07}", rng.below(10_000_000)),
            previous: None,
            next: None,
        };
        drafts.push(draft);
        let this = drafts.len() - 1;
        if let Some(prev) = previous {
            let prev_id = drafts[prev].id.clone();
            let this_id = drafts[this].id.clone();
            drafts[prev].next = Some(this_id);
            drafts[this].previous = Some(prev_id);
        }
        if call_type == "Inbound" && !abandoned {
            chainable[center] = Some(this);
        }
    }

    drafts
        .into_iter()
        .map(|call| {
            let def = &catalog.centers[call.center];
            let (from, to) = match call.call_type {
                "Outbound" | "Callback" => (def.number.clone(), Some(call.customer.clone())),
                // Agent to agent inside the contact center: no outside number is dialled.
                "InternalCall" | "Consult" => (def.number.clone(), None),
                _ => (call.customer.clone(), Some(def.number.clone())),
            };
            let vendor_key = vendor_key(&call.id);
            record([
                ("Id", call.id.into()),
                ("CallType", call.call_type.into()),
                ("CallDurationInSeconds", call.duration.into()),
                ("CallStartDateTime", datetime(call.start).into()),
                (
                    "CallEndDateTime",
                    datetime(call.start + call.duration).into(),
                ),
                ("PreviousCallId", call.previous.into()),
                ("NextCallId", call.next.into()),
                ("QueueName", call.queue.into()),
                ("CallCenterId", def.id.clone().into()),
                ("UserId", call.user.into()),
                ("VendorCallKey", vendor_key.into()),
                ("FromPhoneNumber", from.into()),
                ("ToPhoneNumber", to.into()),
            ])
        })
        .collect()
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
