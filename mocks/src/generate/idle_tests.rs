//! The idle Voice seats of a generated org: the expected lists are recounted from the records
//! alone (for a scan at any time of the as-of day), every planted kind is there, and the
//! simulator's own aggregate query over the generated calls agrees.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use axum::http::Method;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::Value;

use super::*;
use crate::Org;
use crate::api::{ApiRequest, Body, Caller, dispatch};

const AS_OF: NaiveDate = match NaiveDate::from_ymd_opt(2026, 6, 30) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

fn org_with_calls(users: usize, calls: usize, seed: u64) -> Generated {
    generate_as_of(
        &GenerateOptions {
            users,
            seed,
            affected_fraction: 0.02,
            voice_calls: calls,
        },
        AS_OF,
    )
}

fn records<'a>(fixture: &'a Value, object: &str) -> &'a [Value] {
    fixture
        .get(object)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn text<'a>(record: &'a Value, field: &str) -> Option<&'a str> {
    record.get(field).and_then(Value::as_str)
}

fn instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.3f%z")
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The idle rule worked out from the records for a scan at `now`: (idle, deactivated, idle
/// with a login in the last 30 days).
fn recount(fixture: &Value, now: DateTime<Utc>) -> (Vec<String>, Vec<String>, Vec<String>) {
    let period = now - Duration::days(60);
    let voice: BTreeSet<&str> = records(fixture, "PermissionSetLicense")
        .iter()
        .filter(|p| matches!(text(p, "DeveloperName"), Some(VOICE_PSL | PARTNER_PSL)))
        .filter_map(|p| text(p, "Id"))
        .collect();
    let holders: BTreeSet<&str> = records(fixture, "PermissionSetLicenseAssign")
        .iter()
        .filter(|a| text(a, "PermissionSetLicenseId").is_some_and(|p| voice.contains(p)))
        .filter_map(|a| text(a, "AssigneeId"))
        .collect();
    let called: HashSet<&str> = records(fixture, "VoiceCall")
        .iter()
        .filter(|c| text(c, "CallStartDateTime").is_some_and(|s| instant(s) >= period))
        .filter_map(|c| text(c, "UserId"))
        .collect();
    let set = records(fixture, "PermissionSet")
        .iter()
        .find(|p| text(p, "Name") == Some(SUPERVISOR_SET))
        .and_then(|p| text(p, "Id"));
    let group = records(fixture, "PermissionSetGroup")
        .iter()
        .find(|g| text(g, "DeveloperName") == Some(SUPERVISOR_GROUP))
        .and_then(|g| text(g, "Id"));
    let exempt: HashSet<&str> = records(fixture, "PermissionSetAssignment")
        .iter()
        .filter(|a| {
            (set.is_some() && text(a, "PermissionSetId") == set)
                || (group.is_some() && text(a, "PermissionSetGroupId") == group)
        })
        .filter_map(|a| text(a, "AssigneeId"))
        .collect();
    let (mut idle, mut gone, mut recent) = (Vec::new(), Vec::new(), Vec::new());
    for user in records(fixture, "User") {
        let Some(id) = text(user, "Id").filter(|id| holders.contains(id)) else {
            continue;
        };
        if user["IsActive"] == false {
            gone.push(id.to_string());
            continue;
        }
        let created = text(user, "CreatedDate").map(instant);
        if called.contains(id) || exempt.contains(id) || created.is_some_and(|c| c >= period) {
            continue;
        }
        idle.push(id.to_string());
        if text(user, "LastLoginDate").is_some_and(|l| instant(l) >= now - Duration::days(30)) {
            recent.push(id.to_string());
        }
    }
    idle.sort();
    gone.sort();
    recent.sort();
    (idle, gone, recent)
}

#[test]
fn the_idle_lists_are_what_the_records_say_at_any_time_of_the_as_of_day() {
    let generated = org_with_calls(2_000, 8_000, 11);
    let e = &generated.expected;
    assert_eq!(e.as_of, Some(AS_OF));
    let midnight = AS_OF.and_hms_opt(0, 0, 0).expect("time").and_utc();
    for now in [
        midnight,
        midnight + Duration::hours(12),
        midnight + Duration::seconds(86_399),
    ] {
        let (idle, gone, recent) = recount(&generated.fixture, now);
        assert_eq!(idle, e.idle_voice_seat_user_ids, "idle at {now}");
        assert_eq!(gone, e.idle_voice_seat_deactivated_user_ids, "at {now}");
        assert_eq!(recent, e.idle_voice_seat_recent_login_user_ids, "at {now}");
    }
}

#[test]
fn every_planted_kind_is_there() {
    let generated = org_with_calls(2_000, 8_000, 12);
    let e = &generated.expected;
    let fixture = &generated.fixture;
    let calls_of: BTreeMap<&str, usize> = records(fixture, "VoiceCall")
        .iter()
        .filter_map(|c| text(c, "UserId"))
        .fold(BTreeMap::new(), |mut m, u| {
            *m.entry(u).or_default() += 1;
            m
        });
    let idle_with_old_calls = e
        .idle_voice_seat_user_ids
        .iter()
        .filter(|u| calls_of.contains_key(u.as_str()))
        .count();
    let idle_without_calls = e.idle_voice_seat_user_ids.len() - idle_with_old_calls;
    assert!(idle_with_old_calls >= 10, "{idle_with_old_calls}");
    assert!(idle_without_calls >= 10, "{idle_without_calls}");
    assert!(e.idle_voice_seat_recent_login_user_ids.len() >= 5);
    assert!(!e.idle_voice_seat_deactivated_user_ids.is_empty());
    assert!(e.population.idle_voice_seat_exceptions >= 5);

    let as_of = AS_OF.and_hms_opt(0, 0, 0).expect("time").and_utc();
    let users = records(fixture, "User");
    let new_users = users
        .iter()
        .filter(|u| {
            text(u, "CreatedDate").is_some_and(|c| instant(c) >= as_of - Duration::days(60))
        })
        .count();
    assert!(new_users >= 5, "{new_users}");
    let old_logins = e
        .idle_voice_seat_user_ids
        .iter()
        .filter(|id| {
            users.iter().any(|u| {
                text(u, "Id") == Some(id.as_str())
                    && text(u, "LastLoginDate")
                        .is_some_and(|l| instant(l) < as_of - Duration::days(90))
            })
        })
        .count();
    assert!(old_logins >= 5, "{old_logins}");
    // Every call is in the 120 days before the as-of day, none in its future.
    for call in records(fixture, "VoiceCall") {
        let start = instant(text(call, "CallStartDateTime").expect("start"));
        assert!(
            start < as_of && start >= as_of - Duration::days(121),
            "{start}"
        );
    }
}

#[test]
fn the_simulators_aggregate_over_the_generated_calls_agrees() {
    let generated = org_with_calls(1_000, 4_000, 13);
    let mut json = Vec::new();
    write_fixture(&generated.fixture, &mut json).expect("in memory");
    let org = Org::from_fixture_str(&String::from_utf8(json).expect("utf8"), Path::new("."))
        .expect("the generated org loads");
    let e = &generated.expected;
    let integration = records(&generated.fixture, "User")[0]["Id"]
        .as_str()
        .expect("id")
        .to_string();
    // Everyone with a Voice seat the rule is not told to skip: the idle ones and the callers.
    let seated: Vec<String> = org
        .records("PermissionSetLicenseAssign")
        .iter()
        .filter_map(|a| a["AssigneeId"].as_str().map(str::to_string))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut answered: BTreeSet<String> = BTreeSet::new();
    let mut state = org.lock();
    for chunk in seated.chunks(300) {
        let list = chunk
            .iter()
            .map(|id| format!("'{id}'"))
            .collect::<Vec<_>>()
            .join(",");
        let soql = format!(
            "SELECT UserId, MAX(CallStartDateTime) lastCall FROM VoiceCall WHERE UserId IN \
             ({list}) AND CallStartDateTime >= 2026-05-01T00:00:00Z GROUP BY UserId"
        );
        let request = ApiRequest {
            method: Method::GET,
            path: "/services/data/v65.0/query".into(),
            query: vec![("q".into(), soql)],
            headers: [(
                "sforce-query-options".to_string(),
                "batchSize=2000".to_string(),
            )]
            .into(),
            body: Vec::new(),
        };
        let caller = Caller {
            user_id: integration.clone(),
            in_composite: false,
        };
        let response = dispatch(&mut state, &request, &caller);
        let Body::Json(page) = response.body else {
            panic!("a JSON page")
        };
        assert_eq!(response.status, 200, "{page}");
        for row in page["records"].as_array().into_iter().flatten() {
            assert_eq!(row["attributes"]["type"], "AggregateResult");
            answered.insert(row["UserId"].as_str().expect("grouped user").to_string());
        }
    }
    for idle in &e.idle_voice_seat_user_ids {
        assert!(
            !answered.contains(idle),
            "{idle} took no call in the period"
        );
    }
    assert!(!answered.is_empty());
}

#[test]
fn the_written_fixture_is_the_generated_one_byte_for_byte() {
    let opts = GenerateOptions {
        users: 300,
        seed: 14,
        affected_fraction: 0.02,
        voice_calls: 900,
    };
    let dir = std::env::temp_dir().join(format!("sfsim-idle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = dir.join("org.json");
    generate_to_as_of(&opts, AS_OF, Some(&out)).expect("written");
    let written = std::fs::read(&out).expect("read back");
    let mut in_memory = Vec::new();
    write_fixture(&generate_as_of(&opts, AS_OF).fixture, &mut in_memory).expect("in memory");
    assert_eq!(written, in_memory);
    let summary: Expected = serde_json::from_slice(
        &std::fs::read(dir.join("org.json.expected.json")).expect("summary"),
    )
    .expect("summary is JSON");
    assert_eq!(summary, generate_as_of(&opts, AS_OF).expected);
    assert_eq!(summary.population.voice_calls, 900);
    let _ = std::fs::remove_dir_all(&dir);
}
