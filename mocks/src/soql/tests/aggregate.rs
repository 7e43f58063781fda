//! Aggregate queries (GROUP BY, COUNT(Id), MIN/MAX/SUM/AVG, COUNT_DISTINCT) and their
//! refusals, against the parent module's in-memory org: four voice calls (U1 twice, U2 once,
//! one without a user), three users.

use serde_json::{Value, json};

use super::{U1, U2, U3, err, rows};
use crate::soql::SoqlErrorCode;

/// The 15-character form Salesforce would also accept; output keeps the stored 18.
fn row_keys(row: &Value) -> Vec<String> {
    row.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn last_call_per_agent_in_a_period_groups_by_user() {
    let r = rows(&format!(
        "SELECT UserId, MAX(CallStartDateTime) lastCall FROM VoiceCall \
         WHERE UserId IN ('{U1}', '{U2}', '{U3}') AND CallStartDateTime >= 2026-03-01T00:00:00Z \
         GROUP BY UserId"
    ));
    assert_eq!(
        r,
        vec![
            json!({"attributes": {"type": "AggregateResult"}, "UserId": U1,
                   "lastCall": "2026-03-15T08:00:00.000+0000"}),
            json!({"attributes": {"type": "AggregateResult"}, "UserId": U2,
                   "lastCall": "2026-03-14T23:59:59.000+0000"}),
        ]
    );
    // Key order as the REST API writes it: attributes, then the SELECT list.
    assert_eq!(row_keys(&r[0]), ["attributes", "UserId", "lastCall"]);
}

#[test]
fn two_grouped_fields_make_one_row_per_pair_and_unaliased_aggregates_are_expr_n() {
    let r = rows(
        "SELECT UserId, CallType, COUNT(Id), MAX(CallStartDateTime) FROM VoiceCall \
         GROUP BY UserId, CallType ORDER BY UserId, CallType",
    );
    let got: Vec<(Value, Value, Value)> = r
        .iter()
        .map(|row| {
            (
                row["UserId"].clone(),
                row["CallType"].clone(),
                row["expr0"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            // Nulls sort first in ascending order.
            (Value::Null, json!("inbound"), json!(1)),
            (json!(U1), json!("Inbound"), json!(1)),
            (json!(U1), json!("Transfer"), json!(1)),
            (json!(U2), json!("Outbound"), json!(1)),
        ]
    );
    assert_eq!(r[1]["expr1"], "2026-03-15T08:00:00.000+0000");
}

#[test]
fn calls_without_a_user_are_one_group_with_null() {
    let r = rows("SELECT UserId, COUNT(Id) n FROM VoiceCall GROUP BY UserId");
    assert_eq!(r.len(), 3);
    let null_group: Vec<&Value> = r.iter().filter(|row| row["UserId"].is_null()).collect();
    assert_eq!(null_group.len(), 1);
    assert_eq!(null_group[0]["n"], 1);
    let u1 = r
        .iter()
        .find(|row| row["UserId"] == U1)
        .expect("U1's group");
    assert_eq!(u1["n"], 2);
}

#[test]
fn without_group_by_there_is_exactly_one_row_even_when_nothing_matches() {
    let r = rows(
        "SELECT COUNT(Id), COUNT(CallDurationInSeconds), MIN(CallStartDateTime), \
         MAX(CallDurationInSeconds), SUM(CallDurationInSeconds), AVG(CallDurationInSeconds), \
         COUNT_DISTINCT(UserId) FROM VoiceCall",
    );
    assert_eq!(r.len(), 1);
    let row = &r[0];
    assert_eq!(row["expr0"], 4, "COUNT(Id) counts every row");
    assert_eq!(row["expr1"], 3, "COUNT(field) skips the null duration");
    assert_eq!(row["expr2"], "2026-02-10T12:00:00.000+0000");
    assert_eq!(row["expr3"], 603);
    assert_eq!(row["expr4"].as_f64(), Some(963.0));
    assert_eq!(row["expr5"].as_f64(), Some(321.0));
    assert_eq!(row["expr6"], 2, "COUNT_DISTINCT ignores null");

    let none = rows(&format!(
        "SELECT COUNT(Id), MAX(CallStartDateTime) FROM VoiceCall WHERE UserId = '{U3}'"
    ));
    assert_eq!(
        none,
        vec![json!({"attributes": {"type": "AggregateResult"}, "expr0": 0, "expr1": null})]
    );
    let grouped_none = rows(&format!(
        "SELECT UserId, COUNT(Id) FROM VoiceCall WHERE UserId = '{U3}' GROUP BY UserId"
    ));
    assert!(grouped_none.is_empty());
}

#[test]
fn group_by_without_aggregates_lists_distinct_values_case_insensitively() {
    let r = rows("SELECT CallType FROM VoiceCall GROUP BY CallType ORDER BY CallType DESC");
    let types: Vec<&str> = r
        .iter()
        .filter_map(|row| row["CallType"].as_str())
        .collect();
    // 'Inbound' and 'inbound' are one group, shown as the first one stored.
    assert_eq!(types, ["Transfer", "Outbound", "Inbound"]);
}

#[test]
fn grouped_fields_and_parent_fields_answer_under_their_field_name_or_alias() {
    let r = rows(
        "SELECT User.Username, COUNT(Id) FROM VoiceCall WHERE UserId != null \
         GROUP BY User.Username ORDER BY User.Username",
    );
    assert_eq!(r[0]["Username"], "user1@example.org");
    assert_eq!(r[0]["expr0"], 2);
    let r = rows("SELECT UserId agent, COUNT(Id) calls FROM VoiceCall GROUP BY UserId");
    assert_eq!(row_keys(&r[0]), ["attributes", "agent", "calls"]);
}

#[test]
fn limit_and_offset_apply_to_groups() {
    let r = rows("SELECT UserId FROM VoiceCall GROUP BY UserId ORDER BY UserId LIMIT 1 OFFSET 1");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["UserId"], U1);
}

/// Asserts a MALFORMED_QUERY whose message ends with `tail` and is positioned.
fn refused(q: &str, tail: &str) {
    let e = err(q);
    assert_eq!(e.code, SoqlErrorCode::MalformedQuery, "{q}: {}", e.message);
    assert!(e.message.ends_with(tail), "{q}: {}", e.message);
    assert!(e.message.contains("ERROR at Row:1"), "{q}: {}", e.message);
}

#[test]
fn a_selected_field_must_be_grouped_or_aggregated() {
    refused(
        "SELECT UserId, CallType, COUNT(Id) FROM VoiceCall GROUP BY UserId",
        "Field must be grouped or aggregated: CallType",
    );
    refused(
        "SELECT Id, MAX(CallStartDateTime) FROM VoiceCall",
        "Field must be grouped or aggregated: Id",
    );
    refused(
        "SELECT UserId FROM VoiceCall GROUP BY UserId ORDER BY CallType",
        "Ordered field must be grouped or aggregated: CallType",
    );
}

#[test]
fn aggregates_take_only_the_field_types_the_reference_lists() {
    refused(
        "SELECT MAX(IsActive) FROM User",
        "field IsActive does not support aggregate operator MAX",
    );
    refused(
        "SELECT SUM(CallStartDateTime) FROM VoiceCall",
        "field CallStartDateTime does not support aggregate operator SUM",
    );
    refused(
        "SELECT AVG(Username) FROM User",
        "field Username does not support aggregate operator AVG",
    );
    refused(
        "SELECT COUNT(IsActive) FROM User",
        "field IsActive does not support aggregate operator COUNT",
    );
}

#[test]
fn datetimes_and_doubles_cannot_be_grouped() {
    refused(
        "SELECT CallStartDateTime, COUNT(Id) FROM VoiceCall GROUP BY CallStartDateTime",
        "field 'CallStartDateTime' can not be grouped in a query call",
    );
    refused(
        "SELECT COUNT(Id) FROM VoiceCall GROUP BY CallDurationInSeconds",
        "field 'CallDurationInSeconds' can not be grouped in a query call",
    );
}

#[test]
fn aliases_belong_to_aggregate_queries_and_are_unique() {
    refused(
        "SELECT Username u FROM User",
        "Only aggregate expressions use field aliasing",
    );
    refused(
        "SELECT UserId x, COUNT(Id) x FROM VoiceCall GROUP BY UserId",
        "duplicate alias: x",
    );
}

#[test]
fn count_without_a_field_cannot_be_grouped_and_limit_needs_group_by() {
    refused(
        "SELECT COUNT() FROM VoiceCall GROUP BY UserId",
        "use COUNT(Id) or COUNT(fieldName)",
    );
    refused(
        "SELECT MAX(CallStartDateTime) FROM VoiceCall LIMIT 1",
        "needs a GROUP BY clause (SOQL and SOSL Reference, Considerations for GROUP BY)",
    );
}

#[test]
fn unknown_fields_in_aggregates_are_invalid_field() {
    let e = err("SELECT MAX(NoSuchField__c) FROM VoiceCall");
    assert_eq!(e.code, SoqlErrorCode::InvalidField);
    let e = err("SELECT COUNT(Id) FROM VoiceCall GROUP BY Nope");
    assert_eq!(e.code, SoqlErrorCode::InvalidField);
}
