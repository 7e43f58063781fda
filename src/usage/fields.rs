//! Which `VoiceCall` fields `usage` reads, decided from the org's describe of the object rather
//! than assumed: orgs differ (API versions, Sales Dialer vs Service Cloud Voice, fields an admin
//! cannot see), and a field that is not there makes the whole SOQL query fail.
//!
//! Owns: the roles the counting rules need (start, type, duration, end, links, queue, agent,
//! destination), the names each role may carry (the documented one first), which roles are
//! required, and turning one row (a JSON object, keyed by the org's names) into a
//! [`Segment`]. Pure: describe field names in, a field map and notes out.
//!
//! Must not: fetch (the describe and the query are in `snapshot::fetch::fetch_voice_calls`), read
//! the clock, or decide how minutes are counted (`compute`).

use serde_json::{Map, Value};

use super::compute::Segment;

/// One thing the counting rules read from a `VoiceCall`.
struct Role {
    /// What it is, for messages.
    what: &'static str,
    /// The names it may carry, the Object Reference's first; matched case-insensitively.
    names: &'static [&'static str],
    /// Without it no call can be counted: a clear error, not a note.
    required: bool,
    /// What the report loses without it.
    without: &'static str,
}

const START: usize = 0;
const CALL_TYPE: usize = 1;
const DURATION: usize = 2;
const END: usize = 3;
const PREVIOUS: usize = 4;
const NEXT: usize = 5;
const QUEUE: usize = 6;
const USER: usize = 7;
const TO_NUMBER: usize = 8;

/// The roles, indexed by the constants above. Alternative names are those seen in variants of
/// the object; the Object Reference documents only the first of each.
const ROLES: [Role; 9] = [
    Role {
        what: "call start",
        names: &["CallStartDateTime"],
        required: true,
        without: "",
    },
    Role {
        what: "call type",
        names: &["CallType"],
        required: true,
        without: "",
    },
    Role {
        what: "duration",
        names: &["CallDurationInSeconds", "CallDuration"],
        required: false,
        without: "durations are taken as end minus start",
    },
    Role {
        what: "call end",
        names: &["CallEndDateTime"],
        required: false,
        without: "a segment without a duration counts 0 seconds",
    },
    Role {
        what: "previous segment",
        names: &["PreviousCallId"],
        required: false,
        without: "transfers and consults are counted as calls of their own",
    },
    Role {
        what: "next segment",
        names: &["NextCallId"],
        required: false,
        without: "transfers and consults are counted as calls of their own",
    },
    Role {
        what: "queue",
        names: &["QueueName", "Queue"],
        required: false,
        without: "there is no breakdown by queue",
    },
    Role {
        what: "agent",
        names: &["UserId", "OwnerId"],
        required: false,
        without: "transfers out of Service Cloud Voice cannot be told from other transfers",
    },
    Role {
        what: "destination number",
        names: &["ToPhoneNumber", "ToNumber", "RecipientPhoneNumber"],
        required: false,
        without: "outbound minutes are costed at the type's rate, without destination rates",
    },
];

/// This org's name for each role (`None`: the org has no such field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceCallFields {
    /// Indexed like [`ROLES`].
    names: Vec<Option<String>>,
}

/// A required field the org's `VoiceCall` lacks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "VoiceCall has no {what} field ({expected}), which usage cannot count without; the \
     integration user may lack read access to it (field-level security), or the org's VoiceCall \
     is not Service Cloud Voice's"
)]
pub struct MissingField {
    /// The role, e.g. "call start".
    pub what: &'static str,
    /// The names looked for, e.g. "CallStartDateTime".
    pub expected: String,
}

impl VoiceCallFields {
    /// Matches the roles against the fields a describe listed. Returns the map and one note per
    /// optional field missing or read under another name, or the first required field missing.
    pub fn resolve(described: &[String]) -> Result<(VoiceCallFields, Vec<String>), MissingField> {
        let mut names = Vec::with_capacity(ROLES.len());
        let mut notes = Vec::new();
        for role in &ROLES {
            let found = role.names.iter().find_map(|want| {
                described
                    .iter()
                    .find(|have| have.eq_ignore_ascii_case(want))
            });
            match found {
                Some(name) => {
                    if !name.eq_ignore_ascii_case(role.names[0]) {
                        notes.push(format!(
                            "VoiceCall has no {} here: the {} is read from {name}",
                            role.names[0], role.what
                        ));
                    }
                    names.push(Some(name.clone()));
                }
                None if role.required => {
                    return Err(MissingField {
                        what: role.what,
                        expected: role.names.join(" or "),
                    });
                }
                None => {
                    notes.push(format!(
                        "VoiceCall has no {} field ({}): {}",
                        role.what,
                        role.names.join(" or "),
                        role.without
                    ));
                    names.push(None);
                }
            }
        }
        Ok((VoiceCallFields { names }, notes))
    }

    /// The org's name of the call-start field (for the period's WHERE clause).
    pub fn start(&self) -> &str {
        self.names[START].as_deref().unwrap_or("CallStartDateTime")
    }

    /// `Id, <every field found>` for a SELECT.
    pub fn select_list(&self) -> String {
        let mut list = vec!["Id"];
        list.extend(self.names.iter().flatten().map(String::as_str));
        list.join(", ")
    }

    /// One row of the query (keyed by the org's names) as a segment.
    pub fn segment(&self, row: &Map<String, Value>) -> Option<Segment> {
        let text = |role: usize| -> Option<String> {
            let name = self.names[role].as_deref()?;
            row.get(name)?.as_str().map(str::to_string)
        };
        let duration = self.names[DURATION]
            .as_deref()
            .and_then(|name| row.get(name))
            .and_then(|v| {
                v.as_f64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            })
            .map(|d| d.round() as i64);
        Some(Segment {
            id: row.get("Id")?.as_str()?.to_string(),
            call_type: text(CALL_TYPE),
            duration_seconds: duration,
            start: text(START).as_deref().and_then(datetime),
            end: text(END).as_deref().and_then(datetime),
            previous_id: text(PREVIOUS),
            next_id: text(NEXT),
            queue: text(QUEUE),
            user_id: text(USER),
            to_number: text(TO_NUMBER),
        })
    }
}

/// Salesforce's datetime (`2026-03-15T08:00:00.000+0000`, or RFC 3339).
fn datetime(raw: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(raw))
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    const ALL: &[&str] = &[
        "Id",
        "CallType",
        "CallDurationInSeconds",
        "CallStartDateTime",
        "CallEndDateTime",
        "PreviousCallId",
        "NextCallId",
        "QueueName",
        "UserId",
        "ToPhoneNumber",
        "VendorCallKey",
    ];

    #[test]
    fn the_documented_names_give_no_notes() {
        let (fields, notes) = VoiceCallFields::resolve(&names(ALL)).expect("resolves");
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            fields.select_list(),
            "Id, CallStartDateTime, CallType, CallDurationInSeconds, CallEndDateTime, \
             PreviousCallId, NextCallId, QueueName, UserId, ToPhoneNumber"
        );
    }

    #[test]
    fn another_name_is_used_with_a_note_and_a_missing_optional_field_is_a_note() {
        let mut list: Vec<&str> = ALL
            .iter()
            .copied()
            .filter(|f| *f != "ToPhoneNumber" && *f != "QueueName")
            .collect();
        list.push("ToNumber");
        let (fields, notes) = VoiceCallFields::resolve(&names(&list)).expect("resolves");
        assert!(fields.select_list().ends_with("UserId, ToNumber"));
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes.iter().any(|n| n.contains("read from ToNumber")));
        assert!(notes.iter().any(|n| n.contains("QueueName")));
        let row = json!({"Id": "0LQ1", "CallType": "Outbound", "ToNumber": "+4420",
                         "CallStartDateTime": "2026-01-05T09:00:00.000+0000"});
        let segment = fields.segment(row.as_object().unwrap()).expect("a segment");
        assert_eq!(segment.to_number.as_deref(), Some("+4420"));
        assert_eq!(segment.queue, None);
        assert!(segment.start.is_some());
    }

    #[test]
    fn a_missing_required_field_is_an_error_naming_it() {
        let list: Vec<&str> = ALL
            .iter()
            .copied()
            .filter(|f| *f != "CallStartDateTime")
            .collect();
        let err = VoiceCallFields::resolve(&names(&list)).unwrap_err();
        assert!(err.to_string().contains("CallStartDateTime"), "{err}");
    }
}
