//! sfsim over real HTTP: the seed org's license behaviour (the worked example of DOMAIN.md §1),
//! Salesforce's error answers, composite limits and usage counting. Every test starts its own
//! simulator on `127.0.0.1:0` and signs in with client_credentials by a plain form post.

use std::path::Path;

use serde_json::{Value, json};
use sfsim::{Faults, Org};

use crate::support::{CLIENT_ID, CLIENT_SECRET, Sim, V};

const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mocks/fixtures/seed-example.json"
);

const USER1: &str = "005000000000002AAA";
const USER3: &str = "005000000000004AAA";
const AGENT_PS: &str = "0PS000000000002GAA";
const VOICE_PS: &str = "0PS000000000007GAA";
const USER2_VOICE_PSA: &str = "0Pa000000000008CAA";
const USER1_VOICE_PSLA: &str = "2LA000000000001GAA";
const USER2_VOICE_PSLA: &str = "2LA000000000003GAA";
const AMAZON_CENTER: &str = "04v000000000001AAA";

fn error_code(body: &Value) -> &str {
    body[0]["errorCode"].as_str().unwrap_or("<none>")
}

#[tokio::test]
async fn seed_license_counts_come_back_from_soql() {
    let sim = Sim::seed().await;
    let (status, body) = sim
        .query("SELECT DeveloperName, UsedLicenses, TotalLicenses FROM PermissionSetLicense ORDER BY DeveloperName")
        .await;
    assert_eq!(status, 200);
    let counts: Vec<(String, u64, u64)> = body["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            (
                r["DeveloperName"].as_str().unwrap_or_default().to_string(),
                r["UsedLicenses"].as_u64().unwrap_or(99),
                r["TotalLicenses"].as_u64().unwrap_or(99),
            )
        })
        .collect();
    assert!(
        counts.contains(&("ServiceCloudVoicePsl".into(), 2, 2)),
        "{counts:?}"
    );
    assert!(
        counts.contains(&("ServiceCloudVoiceExternalTelephonyPsl".into(), 1, 1)),
        "{counts:?}"
    );
}

#[tokio::test]
async fn token_response_has_salesforce_fields_and_no_expires_in() {
    let sim = sfsim::start(Org::from_fixture_file(Path::new(SEED)).expect("seed"))
        .await
        .expect("start");
    let response = reqwest::Client::new()
        .post(format!("{}/services/oauth2/token", sim.url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .expect("sent");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["instance_url"], json!(sim.url));
    assert_eq!(body["token_type"], json!("Bearer"));
    assert!(
        body["id"]
            .as_str()
            .is_some_and(|id| id.ends_with("/id/00D5g000004SeedEAC/005000000000001AAA"))
    );
    assert!(body.get("expires_in").is_none());
}

#[tokio::test]
async fn a_wrong_client_secret_is_refused_without_echoing_it() {
    let sim = sfsim::start(Org::from_fixture_file(Path::new(SEED)).expect("seed"))
        .await
        .expect("start");
    let response = reqwest::Client::new()
        .post(format!("{}/services/oauth2/token", sim.url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", "not-the-secret-xyz"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 400);
    let text = response.text().await.expect("body");
    assert!(text.contains("\"invalid_client\""), "{text}");
    assert!(!text.contains("not-the-secret-xyz"));
}

#[tokio::test]
async fn jwt_bearer_accepts_the_demo_key_and_refuses_the_wrong_one() {
    let sim = sfsim::start(Org::from_fixture_file(Path::new(SEED)).expect("seed"))
        .await
        .expect("start");
    let sign = |key_file: &str| {
        let pem = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("mocks/keys")
                .join(key_file),
        )
        .expect("key");
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem).expect("rsa key");
        let claims = json!({
            "iss": CLIENT_ID,
            "sub": "pslwarden.integration@seed-example.org",
            "aud": "https://test.salesforce.com",
            "exp": jsonwebtoken::get_current_timestamp() + 120,
        });
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            &claims,
            &key,
        )
        .expect("signed")
    };
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for key in ["demo-only-jwt-private.pem", "demo-only-wrong-private.pem"] {
        let response = http
            .post(format!("{}/services/oauth2/token", sim.url))
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", sign(key).as_str()),
            ])
            .send()
            .await
            .expect("sent");
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("json");
        statuses.push((status, body["error"].as_str().map(str::to_string)));
    }
    assert_eq!(
        statuses,
        [(200, None), (400, Some("invalid_grant".to_string()))]
    );
}

#[tokio::test]
async fn assigning_contact_center_agent_to_user3_hits_the_license_limit() {
    let sim = Sim::seed().await;
    let (status, body) = sim.assign(USER3, AGENT_PS).await;
    assert_eq!(
        (status, error_code(&body)),
        (400, "LICENSE_LIMIT_EXCEEDED"),
        "{body}"
    );
    assert_eq!(sim.sim.org.used_licenses("ServiceCloudVoicePsl"), Some(2));
}

#[tokio::test]
async fn removing_user2s_voice_set_frees_the_seat_user3_then_gets() {
    let sim = Sim::seed().await;
    let (status, _) = sim
        .delete(&format!(
            "sobjects/PermissionSetAssignment/{USER2_VOICE_PSA}"
        ))
        .await;
    assert_eq!(status, 204);
    assert_eq!(sim.sim.org.used_licenses("ServiceCloudVoicePsl"), Some(1));
    let (status, body) = sim.assign(USER3, AGENT_PS).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["success"], json!(true));
    assert_eq!(sim.sim.org.used_licenses("ServiceCloudVoicePsl"), Some(2));
}

#[tokio::test]
async fn joining_the_amazon_center_auto_assigns_the_voice_permission_set() {
    let sim = Sim::seed().await;
    // User-1 holds the seat already (worked example step 2): leave the center, then rejoin.
    let (status, _) = sim
        .patch(
            &format!("sobjects/User/{USER1}"),
            json!({"CallCenterId": null}),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = sim
        .patch(
            &format!("sobjects/User/{USER1}"),
            json!({"CallCenterId": AMAZON_CENTER}),
        )
        .await;
    assert_eq!(status, 204);
    let (_, body) = sim
        .query(&format!(
            "SELECT PermissionSet.Name FROM PermissionSetAssignment WHERE AssigneeId = '{USER1}' AND PermissionSetId = '{VOICE_PS}'"
        ))
        .await;
    assert_eq!(body["totalSize"], json!(1), "{body}");
    assert_eq!(
        sim.sim.org.used_licenses("ServiceCloudVoicePsl"),
        Some(2),
        "no extra seat for User-1"
    );
}

#[tokio::test]
async fn a_psl_assignment_still_needed_cannot_be_deleted() {
    let sim = Sim::seed().await;
    let (status, body) = sim
        .delete(&format!(
            "sobjects/PermissionSetLicenseAssign/{USER1_VOICE_PSLA}"
        ))
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (400, "FIELD_INTEGRITY_EXCEPTION"),
        "{body}"
    );
    assert_eq!(sim.sim.org.used_licenses("ServiceCloudVoicePsl"), Some(2));
}

#[tokio::test]
async fn assigning_a_set_twice_answers_duplicate_value() {
    let sim = Sim::seed().await;
    let (status, body) = sim.assign(USER1, AGENT_PS).await;
    assert_eq!(
        (status, error_code(&body)),
        (400, "DUPLICATE_VALUE"),
        "{body}"
    );
    assert!(
        body[0]["message"]
            .as_str()
            .is_some_and(|m| m.ends_with("0Pa000000000005CAA"))
    );
}

#[tokio::test]
async fn a_deleted_record_answers_as_its_object_is_deleted() {
    let sim = Sim::seed().await;
    // The seat goes to the Recycle Bin with the unassignment: ENTITY_IS_DELETED.
    let path = format!("sobjects/PermissionSetAssignment/{USER2_VOICE_PSA}");
    assert_eq!(sim.delete(&path).await.0, 204);
    let seat = format!("sobjects/PermissionSetLicenseAssign/{USER2_VOICE_PSLA}");
    let (status, body) = sim.get(&seat).await;
    assert_eq!((status, error_code(&body)), (404, "ENTITY_IS_DELETED"));
    let (status, body) = sim.delete(&seat).await;
    assert_eq!((status, error_code(&body)), (404, "ENTITY_IS_DELETED"));
    // An assignment has no IsDeleted field: it is gone for good, like an id never seen.
    let (status, body) = sim.get(&path).await;
    assert_eq!((status, error_code(&body)), (404, "NOT_FOUND"));
    let (status, body) = sim.delete(&path).await;
    assert_eq!((status, error_code(&body)), (404, "NOT_FOUND"));
    // In a collection, both kinds answer per record.
    let (status, body) = sim
        .send(sim.http.delete(sim.url(&format!(
            "composite/sobjects?ids={USER2_VOICE_PSA},{USER2_VOICE_PSLA},{USER1_VOICE_PSLA}"
        ))))
        .await;
    assert_eq!(status, 200, "{body}");
    let codes: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["errors"][0]["statusCode"].as_str().unwrap_or("<none>"))
        .collect();
    assert_eq!(
        codes,
        vec![
            "INVALID_CROSS_REFERENCE_KEY",
            "ENTITY_IS_DELETED",
            "FIELD_INTEGRITY_EXCEPTION"
        ]
    );
}

#[tokio::test]
async fn unassigning_a_group_frees_the_seat_nothing_else_needs() {
    let org = Org::from_fixture_file(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/mocks/fixtures/scan-voice-via-group.json"
    )))
    .unwrap();
    let sim = Sim::with(org).await;
    assert_eq!(sim.sim.org.used_licenses("ServiceCloudVoicePsl"), Some(2));
    // User-2 holds the Voice set only through group VoiceAccess (assignment ...8CAA).
    let (status, _) = sim
        .delete("sobjects/PermissionSetAssignment/0Pa000000000008CAA")
        .await;
    assert_eq!(status, 204);
    assert_eq!(sim.sim.org.used_licenses("ServiceCloudVoicePsl"), Some(1));
    assert_eq!(
        sim.sim
            .org
            .used_licenses("ServiceCloudVoiceExternalTelephonyPsl"),
        Some(1),
        "the partner seat is still needed"
    );
}

#[tokio::test]
async fn an_assignment_expiry_can_be_changed_but_not_its_user() {
    let sim = Sim::seed().await;
    let path = format!("sobjects/PermissionSetAssignment/{USER2_VOICE_PSA}");
    let (status, body) = sim
        .patch(&path, json!({"ExpirationDate": "2027-01-31T09:30:00Z"}))
        .await;
    assert_eq!(status, 204, "{body}");
    let (_, row) = sim.get(&path).await;
    assert_eq!(row["ExpirationDate"], "2027-01-31T09:30:00.000+0000");
    let (status, body) = sim.patch(&path, json!({"AssigneeId": USER3})).await;
    assert_eq!(
        (status, error_code(&body)),
        (400, "INVALID_FIELD_FOR_INSERT_UPDATE"),
        "{body}"
    );
}

#[tokio::test]
async fn a_query_error_carries_code_and_position() {
    let sim = Sim::seed().await;
    let (status, body) = sim.query("SELECT Id, Foo FROM User").await;
    assert_eq!((status, error_code(&body)), (400, "INVALID_FIELD"));
    let message = body[0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("ERROR at Row:1:Column:12"), "{message}");
}

#[tokio::test]
async fn composite_refuses_more_than_five_queries() {
    let sim = Sim::seed().await;
    let subrequests: Vec<Value> = (0..6)
        .map(|i| json!({"method": "GET", "url": format!("/services/data/{V}/query?q=SELECT+Id+FROM+User"), "referenceId": format!("q{i}")}))
        .collect();
    let (status, body) = sim
        .post("composite", json!({"compositeRequest": subrequests}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["compositeResponse"][0]["body"][0]["errorCode"],
        json!("LIMIT_EXCEEDED"),
        "{body}"
    );
}

#[tokio::test]
async fn composite_refuses_more_than_25_subrequests() {
    let sim = Sim::seed().await;
    let subrequests: Vec<Value> = (0..26)
        .map(|i| json!({"method": "GET", "url": format!("/services/data/{V}/sobjects/User/{USER1}"), "referenceId": format!("r{i}")}))
        .collect();
    let (status, body) = sim
        .post("composite", json!({"compositeRequest": subrequests}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["compositeResponse"][0]["body"][0]["errorCode"],
        json!("LIMIT_EXCEEDED")
    );
}

#[tokio::test]
async fn composite_runs_subrequests_with_references_as_one_api_call() {
    let sim = Sim::seed().await;
    let before = sim.sim.org.stats().api_calls;
    let (status, body) = sim
        .post(
            "composite",
            json!({"allOrNone": true, "compositeRequest": [
                {"method": "GET", "referenceId": "u1",
                 "url": format!("/services/data/{V}/query?q=SELECT+Id+FROM+User+WHERE+Username='user1@seed-example.org'")},
                {"method": "POST", "referenceId": "psa", "url": format!("/services/data/{V}/sobjects/PermissionSetAssignment"),
                 "body": {"AssigneeId": "@{u1.records[0].Id}", "PermissionSetId": "0PS000000000008GAA"}}
            ]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["compositeResponse"][1]["httpStatusCode"],
        json!(201),
        "{body}"
    );
    assert_eq!(sim.sim.org.stats().api_calls, before + 1);
}

#[tokio::test]
async fn collections_all_or_none_rolls_back_every_record() {
    let sim = Sim::seed().await;
    let (status, body) = sim
        .send(sim.http.delete(sim.url("composite/sobjects")).query(&[
            ("ids", format!("{USER2_VOICE_PSA},{USER1_VOICE_PSLA}")),
            ("allOrNone", "true".into()),
        ]))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body[0]["errors"][0]["statusCode"],
        json!("ALL_OR_NONE_OPERATION_ROLLED_BACK"),
        "{body}"
    );
    assert_eq!(
        body[1]["errors"][0]["statusCode"],
        json!("FIELD_INTEGRITY_EXCEPTION")
    );
    assert_eq!(
        sim.sim.org.records("PermissionSetAssignment").len(),
        10,
        "nothing was deleted (9 of the users' and the integration user's Pslwarden_Integration)"
    );
}

#[tokio::test]
async fn collections_refuse_more_than_200_ids() {
    let sim = Sim::seed().await;
    let ids = vec![USER2_VOICE_PSA; 201].join(",");
    let (status, body) = sim
        .send(
            sim.http
                .delete(sim.url("composite/sobjects"))
                .query(&[("ids", ids)]),
        )
        .await;
    assert_eq!((status, error_code(&body)), (400, "EXCEEDED_ID_LIMIT"));
}

#[tokio::test]
async fn stats_count_api_calls_and_write_calls() {
    let sim = Sim::seed().await;
    sim.query("SELECT Id FROM User").await;
    sim.delete(&format!(
        "sobjects/PermissionSetAssignment/{USER2_VOICE_PSA}"
    ))
    .await;
    let stats: sfsim::Stats = reqwest::get(format!("{}/__sim/stats", sim.sim.url))
        .await
        .expect("stats sent")
        .json()
        .await
        .expect("stats JSON");
    assert_eq!(
        (stats.api_calls, stats.write_calls, stats.token_grants),
        (2, 1, 1)
    );
    assert_eq!(stats.requests.get("GET query"), Some(&1));
    assert_eq!(
        stats
            .requests
            .get("DELETE sobjects/PermissionSetAssignment/{id}"),
        Some(&1)
    );
}

#[tokio::test]
async fn every_api_response_reports_usage() {
    let sim = Sim::seed().await;
    let response = sim
        .http
        .get(sim.url("limits"))
        .bearer_auth(&sim.token)
        .send()
        .await
        .expect("sent");
    let usage = response
        .headers()
        .get("sforce-limit-info")
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    assert_eq!(usage.as_deref(), Some("api-usage=1/15000"));
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["DailyApiRequests"],
        json!({"Max": 15000, "Remaining": 14999})
    );
}

#[tokio::test]
async fn requests_without_a_token_get_invalid_session_id() {
    let sim = Sim::seed().await;
    let response = sim.http.get(sim.url("limits")).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 401);
    let body: Value = response.json().await.expect("json");
    assert_eq!(error_code(&body), "INVALID_SESSION_ID");
}

#[tokio::test]
async fn the_daily_limit_answers_request_limit_exceeded() {
    let text = std::fs::read_to_string(SEED).expect("seed text");
    let mut fixture: Value = serde_json::from_str(&text).expect("seed JSON");
    fixture["_org"]["daily_api_limit"] = json!(1);
    let base = Path::new(SEED).parent().expect("fixture dir");
    let sim = Sim::with(Org::from_fixture_str(&fixture.to_string(), base).expect("fixture")).await;
    assert_eq!(sim.get("limits").await.0, 200);
    let (status, body) = sim.get("limits").await;
    assert_eq!((status, error_code(&body)), (403, "REQUEST_LIMIT_EXCEEDED"));
}

#[tokio::test]
async fn query_pages_follow_next_records_url_over_a_snapshot() {
    let mut calls = Vec::new();
    for n in 0..450u32 {
        let id15 = format!("0LQ{n:012}");
        let id = format!("{id15}{}", sfsim::ids::checksum_suffix(&id15));
        calls.push(json!({"Id": id, "CallType": "Inbound", "CallDurationInSeconds": n}));
    }
    let text = std::fs::read_to_string(SEED).expect("seed text");
    let mut fixture: Value = serde_json::from_str(&text).expect("seed JSON");
    fixture["VoiceCall"] = Value::Array(calls);
    let base = Path::new(SEED).parent().expect("fixture dir");
    let sim = Sim::with(Org::from_fixture_str(&fixture.to_string(), base).expect("fixture")).await;

    let first = sim
        .send(
            sim.http
                .get(sim.url("query"))
                .query(&[("q", "SELECT Id FROM VoiceCall")])
                .header("Sforce-Query-Options", "batchSize=200"),
        )
        .await
        .1;
    assert_eq!(
        (first["totalSize"].as_u64(), first["done"].as_bool()),
        (Some(450), Some(false))
    );
    let mut seen = first["records"].as_array().map_or(0, Vec::len);
    let mut next = first["nextRecordsUrl"].as_str().map(str::to_string);
    while let Some(path) = next {
        let (status, page) = sim
            .send(sim.http.get(format!("{}{path}", sim.sim.url)))
            .await;
        assert_eq!(status, 200);
        seen += page["records"].as_array().map_or(0, Vec::len);
        next = page["nextRecordsUrl"].as_str().map(str::to_string);
    }
    assert_eq!(seen, 450);
}

#[tokio::test]
async fn an_unknown_query_locator_is_refused() {
    let sim = Sim::seed().await;
    let (status, body) = sim.get("query/01gSIM000000999AAA-2000").await;
    assert_eq!((status, error_code(&body)), (400, "INVALID_QUERY_LOCATOR"));
}

#[tokio::test]
async fn malformed_json_fault_cuts_the_body() {
    let sim = Sim::seed().await;
    sim.sim.org.set_faults(Faults {
        malformed_json_rate: 1.0,
        ..Faults::default()
    });
    let response = sim
        .http
        .get(sim.url("limits"))
        .bearer_auth(&sim.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.expect("body");
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    assert_eq!(
        sim.sim.org.stats().faults_injected.get("malformed_json"),
        Some(&1)
    );
}

#[tokio::test]
async fn faults_set_over_http_expire_sessions() {
    let sim = Sim::seed().await;
    let response = sim
        .http
        .post(format!("{}/__sim/faults", sim.sim.url))
        .json(&json!({"expire_session_every": 2}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(sim.get("limits").await.0, 200);
    let (status, body) = sim.get("limits").await;
    assert_eq!((status, error_code(&body)), (401, "INVALID_SESSION_ID"));
}

/// A `SELECT Id FROM User WHERE Id IN (...)` whose encoded request URI (the whole
/// `/services/data/vNN.N/query?q=...`) is exactly `bytes` long, padded with a space run.
fn query_path_of_length(bytes: usize) -> String {
    let head = format!("/services/data/{V}/query?q=");
    let soql = format!("SELECT Id FROM User WHERE Id IN ('{USER1}', '{USER3}')");
    let encoded: String = url::form_urlencoded::byte_serialize(soql.as_bytes()).collect();
    // Each space encodes as one '+', so padding adds exactly one byte per space.
    let pad = "+".repeat(bytes - head.len() - encoded.len());
    format!("{head}{encoded}{pad}")
}

#[tokio::test]
async fn a_request_uri_over_16384_bytes_answers_414_and_is_not_counted() {
    let sim = Sim::seed().await;
    let at_limit = query_path_of_length(16_384);
    let (status, body) = sim
        .send(sim.http.get(format!("{}{at_limit}", sim.sim.url)))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["totalSize"], json!(2));
    let calls = sim.sim.org.stats().api_calls;

    let over = query_path_of_length(16_385);
    let response = sim
        .http
        .get(format!("{}{over}", sim.sim.url))
        .bearer_auth(&sim.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 414);
    let text = response.text().await.expect("body");
    assert!(text.contains("URI Too Long"), "{text}");
    assert_eq!(sim.sim.org.stats().api_calls, calls);
}

#[tokio::test]
async fn a_composite_subrequest_url_over_16384_bytes_answers_414_alone() {
    let sim = Sim::seed().await;
    let subrequests = json!([
        {"method": "GET", "url": query_path_of_length(16_385), "referenceId": "long"},
        {"method": "GET", "url": query_path_of_length(16_384), "referenceId": "fits"},
    ]);
    let (status, body) = sim
        .post("composite", json!({"compositeRequest": subrequests}))
        .await;
    assert_eq!(status, 200, "{body}");
    let subs = &body["compositeResponse"];
    assert_eq!(subs[0]["httpStatusCode"], json!(414), "{body}");
    assert_eq!(subs[0]["body"][0]["errorCode"], json!("URI_TOO_LONG"));
    assert_eq!(subs[1]["httpStatusCode"], json!(200), "{body}");
    assert_eq!(subs[1]["body"]["totalSize"], json!(2));
}

#[tokio::test]
async fn semi_join_rules_and_long_where_strings_are_refused_like_salesforce() {
    let sim = Sim::seed().await;
    let cases = [
        (
            "SELECT Id FROM User WHERE IsActive = false OR Id IN (SELECT AssigneeId FROM \
             PermissionSetAssignment)"
                .to_string(),
            "MALFORMED_QUERY",
            "not allowed with the 'OR' operator",
        ),
        (
            "SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment) \
             AND Id IN (SELECT AssigneeId FROM PermissionSetLicenseAssign) AND Id NOT IN \
             (SELECT AssigneeId FROM PermissionSetAssignment WHERE IsActive = false)"
                .to_string(),
            "MALFORMED_QUERY",
            "Maximum 2 semi join sub-selects are allowed",
        ),
        (
            "SELECT Id FROM PermissionSetAssignment WHERE AssigneeId IN (SELECT AssigneeId FROM \
             PermissionSetAssignment)"
                .to_string(),
            "INVALID_QUERY_FILTER_OPERATOR",
            "should not be on the same object type",
        ),
        (
            format!(
                "SELECT Id FROM User WHERE Username = '{}'",
                "u".repeat(4_001)
            ),
            "MALFORMED_QUERY",
            "cannot be longer than 4000 characters",
        ),
    ];
    for (soql, code, says) in cases {
        let (status, body) = sim.query(&soql).await;
        assert_eq!((status, error_code(&body)), (400, code), "{soql}: {body}");
        let message = body[0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{message}");
        assert!(message.contains("ERROR at Row:1:Column:"), "{message}");
    }
}
// ---- OAuth as strict as Salesforce -----------------------------------------------------------

/// Posts a token request to `base` and returns the status and JSON answer.
async fn token_request(
    base: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/services/oauth2/token"))
        .form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("OAuth JSON"))
}

/// A JWT bearer assertion for the seed's integration user, signed with the demo key.
fn seed_assertion(aud: &str, exp: Value) -> String {
    let pem = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("mocks/keys/demo-only-jwt-private.pem"),
    )
    .expect("key");
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem).expect("rsa key");
    let claims = json!({
        "iss": CLIENT_ID,
        "sub": "pslwarden.integration@seed-example.org",
        "aud": aud,
        "exp": exp,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .expect("signed")
}

fn jwt_form(assertion: &str) -> [(&str, &str); 2] {
    [
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", assertion),
    ]
}

#[tokio::test]
async fn the_login_host_refuses_client_credentials_and_signs_jwt_in_to_the_my_domain() {
    let sim = sfsim::start(Org::from_fixture_file(Path::new(SEED)).expect("seed"))
        .await
        .expect("start");
    let (status, body) = token_request(
        &sim.login_url,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ],
    )
    .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"error": "invalid_grant", "error_description": "request not supported on this domain"})
        )
    );
    let assertion = seed_assertion(
        "https://test.salesforce.com",
        json!(jsonwebtoken::get_current_timestamp() + 120),
    );
    let (status, body) = token_request(&sim.login_url, None, &jwt_form(&assertion)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["instance_url"],
        json!(sim.url),
        "REST calls go to My Domain"
    );
    let rest = reqwest::Client::new()
        .get(format!("{}/services/data/{V}/limits", sim.login_url))
        .send()
        .await
        .expect("sent");
    assert_eq!(rest.status().as_u16(), 404, "the login host serves no REST");
}

#[tokio::test]
async fn a_jwt_naming_the_sims_own_url_as_audience_is_refused() {
    let sim = sfsim::start(Org::from_fixture_file(Path::new(SEED)).expect("seed"))
        .await
        .expect("start");
    let exp = json!(jsonwebtoken::get_current_timestamp() + 120);
    for aud in [
        sim.url.as_str(),
        sim.login_url.as_str(),
        "https://login.salesforce.com",
    ] {
        let assertion = seed_assertion(aud, exp.clone());
        let (status, body) = token_request(&sim.url, None, &jwt_form(&assertion)).await;
        assert_eq!(
            (status, &body["error_description"]),
            (400, &json!("audience is invalid")),
            "aud {aud} on a sandbox: {body}"
        );
    }
}

#[tokio::test]
async fn a_jwt_expiry_may_be_a_numeric_string_but_not_beyond_three_minutes() {
    let sim = sfsim::start(Org::from_fixture_file(Path::new(SEED)).expect("seed"))
        .await
        .expect("start");
    let now = jsonwebtoken::get_current_timestamp();
    let as_string = seed_assertion(
        "https://test.salesforce.com",
        json!((now + 120).to_string()),
    );
    let (status, body) = token_request(&sim.url, None, &jwt_form(&as_string)).await;
    assert_eq!(status, 200, "{body}");
    let too_far = seed_assertion("https://test.salesforce.com", json!(now + 300));
    let (status, body) = token_request(&sim.url, None, &jwt_form(&too_far)).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")));
}

#[tokio::test]
async fn the_client_may_authenticate_with_http_basic_and_bad_clients_get_salesforces_codes() {
    let sim = sfsim::start(Org::from_fixture_file(Path::new(SEED)).expect("seed"))
        .await
        .expect("start");
    let grant = [("grant_type", "client_credentials")];
    let (status, body) = token_request(&sim.url, Some((CLIENT_ID, CLIENT_SECRET)), &grant).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = token_request(&sim.url, Some(("3MVGnobody", CLIENT_SECRET)), &grant).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"error": "invalid_client_id", "error_description": "client identifier invalid"})
        )
    );
    let (status, body) = token_request(&sim.url, Some((CLIENT_ID, "wrong")), &grant).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"error": "invalid_client", "error_description": "invalid client credentials"})
        )
    );
}
