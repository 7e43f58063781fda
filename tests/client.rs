//! The Salesforce client against `sfsim` over real HTTP: every sign-in flow, clear refusals that
//! never show a secret, paging, session renewal, retries, the API limit, broken bodies, and
//! sObject Collections / composite batching. Helpers live at the bottom of this file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pslwarden::salesforce::{
    ApiErrorCode, AuthFlow, Client, ConnectionSettings, NewRecord, RetryPolicy, SfError,
};
use pslwarden::secret::Secret;
use serde::Deserialize;
use serde_json::{Value, json};
use sfsim::{Faults, Org, RunningSim};

use crate::support::rogue::{Reply, Rogue};

const ORG_ID: &str = "00D5g000004SeedEAC";
const INTEGRATION_USER_ID: &str = "005000000000001AAA";
const INTEGRATION_USERNAME: &str = "pslwarden.integration@seed-example.org";
const CONSUMER_KEY: &str = "3MVG9demoOnlyConsumerKeyForTheSimulatedOrg";
const CLIENT_SECRET: &str = "demo-only-client-secret";
const REFRESH_TOKEN: &str = "5Aep861demoOnlyRefreshToken";
/// A permission set with no license, so assigning it to extra users needs no seat.
const LICENSE_FREE_PS: &str = "0PS000000000008GAA";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserRow {
    id: String,
    username: String,
}

#[tokio::test]
async fn jwt_sign_in_learns_org_user_and_instance() {
    let sim = start(seed()).await;
    let client = Client::new(settings(jwt(&sim.url, "demo-only-jwt-private.pem", None))).unwrap();
    client.sign_in().await.unwrap();
    let identity = client.token_identity().unwrap();
    assert_eq!(identity.org_id, ORG_ID);
    assert_eq!(identity.user_id, INTEGRATION_USER_ID);
    assert_eq!(identity.instance_url, sim.url.trim_end_matches('/'));
    sim.stop().await;
}

#[tokio::test]
async fn client_credentials_sign_in_reads_the_org() {
    let sim = start(seed()).await;
    let client = Client::new(settings(client_credentials(&sim.url, CLIENT_SECRET))).unwrap();
    client.sign_in().await.unwrap();
    let versions = client.versions().await.unwrap();
    assert!(versions.iter().any(|v| v.version == "65.0"), "{versions:?}");
    assert_eq!(
        client.token_identity().unwrap().user_id,
        INTEGRATION_USER_ID
    );
    sim.stop().await;
}

#[tokio::test]
async fn refresh_token_sign_in_reads_limits_and_usage() {
    let sim = start(seed()).await;
    let client = Client::new(settings(refresh_token(&sim.url))).unwrap();
    client.sign_in().await.unwrap();
    let limits = client.limits().await.unwrap();
    assert_eq!(limits.daily_api_max, 15000);
    let usage = client
        .api_usage()
        .expect("Sforce-Limit-Info on every answer");
    assert_eq!(usage.max, 15000);
    assert!(usage.used >= 1);
    sim.stop().await;
}

#[tokio::test]
async fn a_ready_access_token_is_used_as_given() {
    let sim = start(seed()).await;
    let token = raw_client_credentials_token(&sim.url).await;
    let client = Client::new(settings(AuthFlow::AccessToken {
        instance_url: sim.url.clone(),
        access_token: Secret::new(token),
    }))
    .unwrap();
    client.sign_in().await.unwrap();
    let users = client
        .query_count("SELECT COUNT() FROM User")
        .await
        .unwrap();
    assert_eq!(users, 4);
    assert_eq!(
        sim.org.stats().token_grants,
        1,
        "only the raw grant above, none by the client"
    );
    // The token's user and org come from the version resource's `identity` URL.
    let identity = client.token_identity().unwrap();
    assert_eq!(identity.org_id, "00D5g000004SeedEAC");
    assert_eq!(identity.user_id, "005000000000001AAA");
    sim.stop().await;
}

#[tokio::test]
async fn an_expired_ready_access_token_says_to_get_a_new_one() {
    let sim = start(seed()).await;
    let token = raw_client_credentials_token(&sim.url).await;
    sim.org.set_faults(Faults {
        expire_session_every: Some(1),
        ..Faults::default()
    });
    let client = Client::new(settings(AuthFlow::AccessToken {
        instance_url: sim.url.clone(),
        access_token: Secret::new(token.clone()),
    }))
    .unwrap();
    let err = client
        .query_count("SELECT COUNT() FROM User")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, SfError::Auth(_)), "{err:?}");
    assert!(text.contains("Get a new access token"), "{text}");
    assert!(!text.contains(&token), "{text}");
    sim.stop().await;
}

#[tokio::test]
async fn a_wrong_jwt_key_is_refused_clearly_without_secrets() {
    let sim = start(seed()).await;
    let client = Client::new(settings(jwt(&sim.url, "demo-only-wrong-private.pem", None))).unwrap();
    let err = client.sign_in().await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "JWT bearer sign-in at {} failed",
            sim.url.trim_end_matches('/')
        )),
        "{text}"
    );
    assert!(text.contains("certificate"), "{text}");
    assert_no_secret(&text);
    sim.stop().await;
}

#[tokio::test]
async fn a_wrong_jwt_audience_is_refused_clearly() {
    let sim = start(seed()).await;
    let flow = jwt(
        &sim.url,
        "demo-only-jwt-private.pem",
        Some("https://wrong.example.com"),
    );
    let err = Client::new(settings(flow))
        .unwrap()
        .sign_in()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("audience is invalid"), "{text}");
    assert!(
        text.contains("audience (aud) must be the login server"),
        "{text}"
    );
    assert_no_secret(&text);
    sim.stop().await;
}

#[tokio::test]
async fn a_wrong_client_secret_is_refused_without_echoing_it() {
    let sim = start(seed()).await;
    let wrong = "wrong-secret-value-42";
    let err = Client::new(settings(client_credentials(&sim.url, wrong)))
        .unwrap()
        .sign_in()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("client credentials sign-in"), "{text}");
    assert!(text.contains("client secret"), "{text}");
    assert!(!text.contains(wrong), "{text}");
    assert_no_secret(&text);
    sim.stop().await;
}

#[tokio::test]
async fn pages_of_200_are_followed_to_the_end() {
    let sim = start(with_extra_users(seed(), 650)).await;
    // Page lengths are the point here: Salesforce's usual paging, whatever SFSIM_PAGING says.
    sim.org.set_paging(sfsim::Paging::default());
    let client = signed_in_client(&sim).await;
    let mut pager = client
        .query::<UserRow>("SELECT Id, Username FROM User")
        .batch_size(200);
    let mut page_sizes = Vec::new();
    let mut ids = HashSet::new();
    while let Some(page) = pager.next_page().await.unwrap() {
        page_sizes.push(page.len());
        ids.extend(page.into_iter().map(|u| u.id));
    }
    assert_eq!(page_sizes, vec![200, 200, 200, 54]);
    assert_eq!(pager.total_size(), Some(654));
    assert_eq!(ids.len(), 654);
    sim.stop().await;
}

#[tokio::test]
async fn a_session_expiring_mid_pagination_is_renewed_and_paging_continues() {
    let sim = start(with_extra_users(seed(), 650)).await;
    let client = signed_in_client(&sim).await;
    sim.org.set_faults(Faults {
        expire_session_every: Some(2),
        ..Faults::default()
    });
    let mut pager = client
        .query::<UserRow>("SELECT Id, Username FROM User")
        .batch_size(200);
    let mut rows = Vec::new();
    while let Some(page) = pager.next_page().await.unwrap() {
        rows.extend(page);
    }
    assert_eq!(rows.len(), 654);
    assert!(rows.iter().any(|r| r.username == INTEGRATION_USERNAME));
    let expired = sim
        .org
        .stats()
        .faults_injected
        .get("session_expired")
        .copied()
        .unwrap_or(0);
    assert!(expired > 0, "the test needs the session to expire mid-way");
    assert!(
        client.sign_ins() > expired,
        "each expired session was renewed"
    );
    sim.stop().await;
}

#[tokio::test]
async fn server_unavailable_answers_are_retried_until_they_pass() {
    let sim = start(seed()).await;
    // Enough attempts that half the answers failing cannot exhaust them by chance.
    let mut patient = settings(jwt(&sim.url, "demo-only-jwt-private.pem", None));
    patient.retry.max_attempts = 16;
    let client = Client::new(patient).unwrap();
    client.sign_in().await.unwrap();
    sim.org.set_faults(Faults {
        seed: 7,
        http_503_rate: 0.5,
        ..Faults::default()
    });
    for _ in 0..4 {
        let users: Vec<UserRow> = client
            .query_all("SELECT Id, Username FROM User")
            .await
            .unwrap();
        assert_eq!(users.len(), 4);
    }
    let injected = sim
        .org
        .stats()
        .faults_injected
        .get("http_503")
        .copied()
        .unwrap_or(0);
    assert!(
        injected > 0,
        "the test needs at least one 503 to prove anything"
    );
    sim.stop().await;
}

#[tokio::test]
async fn the_daily_api_limit_stops_work_at_once_with_a_clear_message() {
    let mut fixture = seed();
    fixture["_org"]["daily_api_limit"] = json!(3);
    let sim = start(fixture).await;
    let client = signed_in_client(&sim).await;
    let mut failure = None;
    for _ in 0..10 {
        let before = client.calls_made();
        if let Err(err) = client.query_count("SELECT COUNT() FROM User").await {
            failure = Some((err, client.calls_made() - before));
            break;
        }
    }
    let (err, calls) = failure.expect("the limit of 3 requests is reached within 10 calls");
    assert!(err.is_request_limit(), "{err:?}");
    assert_eq!(calls, 1, "REQUEST_LIMIT_EXCEEDED must not be retried");
    let text = err.to_string();
    assert!(text.contains("REQUEST_LIMIT_EXCEEDED"), "{text}");
    assert!(text.contains("stopped at once"), "{text}");
    sim.stop().await;
}

#[tokio::test]
async fn a_broken_json_body_is_retried_then_reported_with_the_endpoint() {
    let sim = start(seed()).await;
    let client = signed_in_client(&sim).await;
    sim.org.set_faults(Faults {
        malformed_json_rate: 1.0,
        ..Faults::default()
    });
    let before = client.calls_made();
    let err = client
        .query_count("SELECT COUNT() FROM User")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "the server's answer to GET /services/data/v65.0/query was not valid JSON"
        ),
        "{text}"
    );
    assert_eq!(
        client.calls_made() - before,
        u64::from(fast_retry().max_attempts)
    );
    sim.stop().await;
}

#[tokio::test]
async fn deleting_450_records_takes_exactly_three_collection_calls() {
    let (fixture, assignment_ids) = with_extra_assignments(seed(), 450);
    let sim = start(fixture).await;
    let client = signed_in_client(&sim).await;
    let outcomes = client.delete_records(&assignment_ids, false).await.unwrap();
    assert_eq!(outcomes.len(), 450);
    assert!(outcomes.iter().all(|o| o.success && !o.already_done));
    let ids_back: Vec<_> = outcomes.iter().filter_map(|o| o.id.clone()).collect();
    assert_eq!(ids_back, assignment_ids, "outcomes in input order");
    let stats = sim.org.stats();
    assert_eq!(
        stats.requests.get("DELETE composite/sobjects").copied(),
        Some(3)
    );
    let left: HashSet<String> = sim
        .org
        .records("PermissionSetAssignment")
        .iter()
        .filter_map(|r| r["Id"].as_str().map(str::to_string))
        .collect();
    assert!(assignment_ids.iter().all(|id| !left.contains(id)));
    sim.stop().await;
}

#[tokio::test]
async fn per_record_outcomes_say_what_happened_to_each_record() {
    let (fixture, ids) = with_extra_assignments(seed(), 3);
    let sim = start(fixture).await;
    let client = signed_in_client(&sim).await;
    client.delete_records(&ids[..1], false).await.unwrap();
    let outcomes = client.delete_records(&ids, false).await.unwrap();
    // An assignment deleted for good answers like an unknown id: flagged for a read-back, not
    // counted as done on the code alone (a seat in the Recycle Bin answers ENTITY_IS_DELETED,
    // which is).
    assert!(
        !outcomes[0].success && !outcomes[0].already_done && outcomes[0].may_be_gone(),
        "{:?}",
        outcomes[0]
    );
    assert!(outcomes[1].success && !outcomes[1].already_done);
    assert!(outcomes[2].success && !outcomes[2].already_done);

    let user = "005000000000004AAA";
    let created = client
        .create_records(
            &[
                assignment(user, "0PS000000000008GAA"),
                assignment(user, "0PS000000000100GAA"),
            ],
            false,
        )
        .await
        .unwrap();
    assert!(
        !created[0].success,
        "user 3 already holds Service_Console_Users"
    );
    assert_eq!(created[0].errors[0].code, ApiErrorCode::DuplicateValue);
    assert!(
        !created[1].success,
        "a profile-owned permission set cannot be assigned"
    );
    assert_eq!(created[1].id, None);
    sim.stop().await;
}

#[tokio::test]
async fn locked_rows_are_resent_until_every_record_is_created() {
    let sim = start(with_extra_users(seed(), 40)).await;
    let client = signed_in_client(&sim).await;
    let before = sim.org.records("PermissionSetAssignment").len();
    sim.org.set_faults(Faults {
        seed: 3,
        lock_row_rate: 0.3,
        ..Faults::default()
    });
    let records: Vec<NewRecord> = (1..=40)
        .map(|n| assignment(&user_id(n), LICENSE_FREE_PS))
        .collect();
    let outcomes = client.create_records(&records, false).await.unwrap();
    assert!(outcomes.iter().all(|o| o.success), "{outcomes:?}");
    let stats = sim.org.stats();
    assert!(stats.faults_injected.get("lock_row").copied().unwrap_or(0) > 0);
    let after = sim.org.records("PermissionSetAssignment").len();
    assert_eq!(after - before, 40, "no record was created twice");
    sim.stop().await;
}

/// The next request of `method` is carried out, then answered 500: the server acted, but its
/// answer says it failed.
fn a_500_after_handling(method: &str) -> Faults {
    Faults {
        once: vec![sfsim::OneShot {
            method: Some(method.into()),
            path: None,
            status: 500,
            retry_after: None,
            after_handling: true,
        }],
        ..Faults::default()
    }
}

#[tokio::test]
async fn a_create_answered_500_after_it_was_carried_out_is_not_sent_again() {
    let sim = start(with_extra_users(seed(), 3)).await;
    let client = signed_in_client(&sim).await;
    let before = sim.org.records("PermissionSetAssignment").len();
    sim.org.set_faults(a_500_after_handling("POST"));
    let records: Vec<NewRecord> = (1..=3)
        .map(|n| assignment(&user_id(n), LICENSE_FREE_PS))
        .collect();
    let err = client.create_records(&records, false).await.unwrap_err();
    assert!(err.to_string().contains("UNKNOWN_EXCEPTION"), "{err}");
    let stats = sim.org.stats();
    assert_eq!(stats.faults_injected.get("once"), Some(&1), "{stats:?}");
    assert_eq!(
        stats.requests.get("POST composite/sobjects"),
        Some(&1),
        "a create whose outcome is unknown is never resent: {stats:?}"
    );
    let after = sim.org.records("PermissionSetAssignment").len();
    assert_eq!(after - before, 3, "created once, not twice");
    sim.stop().await;
}

#[tokio::test]
async fn a_delete_answered_500_after_it_was_carried_out_is_resent_and_finds_the_records_gone() {
    let (fixture, ids) = with_extra_assignments(seed(), 3);
    let sim = start(fixture).await;
    let client = signed_in_client(&sim).await;
    sim.org.set_faults(a_500_after_handling("DELETE"));
    let outcomes = client.delete_records(&ids, false).await.unwrap();
    // Sending a delete twice does no harm: the second answer says the records are gone (the
    // apply engine reads such records back before it counts them done).
    assert!(outcomes.iter().all(|o| o.may_be_gone()), "{outcomes:?}");
    let left = sim.org.records("PermissionSetAssignment");
    assert!(
        ids.iter()
            .all(|id| !left.iter().any(|r| r["Id"] == id.as_str())),
        "the records are deleted"
    );
    let stats = sim.org.stats();
    assert_eq!(
        stats.requests.get("DELETE composite/sobjects"),
        Some(&2),
        "{stats:?}"
    );
    sim.stop().await;
}

#[tokio::test]
async fn independent_queries_are_batched_five_to_a_composite_call() {
    let sim = start(seed()).await;
    let client = signed_in_client(&sim).await;
    let mut soqls = vec!["SELECT Id FROM User"; 6];
    soqls.push("SELECT NoSuchField__c FROM User");
    let pages = client.composite_queries::<Value>(&soqls).await.unwrap();
    assert_eq!(pages.len(), 7);
    for page in &pages[..6] {
        assert_eq!(page.as_ref().unwrap().records.len(), 4);
    }
    let err = pages[6].as_ref().unwrap_err();
    assert_eq!(err.api_code(), Some(&ApiErrorCode::InvalidField), "{err}");
    assert_eq!(
        sim.org.stats().requests.get("POST composite").copied(),
        Some(2)
    );
    sim.stop().await;
}

// ---- OAuth hosts, audiences and transport rules -----------------------------------------------

#[tokio::test]
async fn client_credentials_on_the_login_host_is_refused_with_the_my_domain_fix() {
    let sim = start(seed()).await;
    let err = Client::new(settings(client_credentials(&sim.login_url, CLIENT_SECRET)))
        .unwrap()
        .sign_in()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("request not supported on this domain"),
        "{text}"
    );
    assert!(text.contains("My Domain URL"), "{text}");
    assert!(text.contains("set `login_url`"), "{text}");
    assert_no_secret(&text);
    sim.stop().await;
}

#[tokio::test]
async fn jwt_on_the_login_host_with_the_default_audience_works_on_sandbox_and_production() {
    for sandbox in [true, false] {
        let mut fixture = seed();
        fixture["_org"]["is_sandbox"] = json!(sandbox);
        let sim = start(fixture).await;
        let client = Client::new(settings(jwt(
            &sim.login_url,
            "demo-only-jwt-private.pem",
            None,
        )))
        .unwrap();
        client.sign_in().await.unwrap();
        assert_eq!(
            client.token_identity().unwrap().instance_url,
            sim.url,
            "REST calls go to the instance_url, not the login host"
        );
        assert_eq!(
            client
                .query_count("SELECT COUNT() FROM User")
                .await
                .unwrap(),
            4
        );
        sim.stop().await;
    }
}

#[tokio::test]
async fn the_audience_that_worked_is_kept_for_every_later_sign_in() {
    // The seed is a sandbox on a loopback URL: the default audience (production) is refused once,
    // the sandbox one works, and renewals go straight to it.
    let sim = start(seed()).await;
    let token_requests = || {
        sim.org
            .stats()
            .requests
            .get("POST /services/oauth2/token")
            .copied()
            .unwrap_or(0)
    };
    let client = Client::new(settings(jwt(&sim.url, "demo-only-jwt-private.pem", None))).unwrap();
    client.sign_in().await.unwrap();
    assert_eq!(
        token_requests(),
        2,
        "default refused, the other login server accepted"
    );
    sim.org.set_faults(Faults {
        expire_session_every: Some(1),
        ..Faults::default()
    });
    let _ = client.query_count("SELECT COUNT() FROM User").await;
    assert_eq!(
        token_requests(),
        3,
        "one renewal, with the remembered audience"
    );
    assert_eq!(sim.org.stats().token_grants, 2);
    sim.stop().await;
}

/// Signs in with a ready token to a test server answering `reply`, under the 1 MiB limit;
/// returns the server (to count what it saw) and the error's text.
async fn sign_in_error<F>(reply: F) -> (Rogue, String)
where
    F: Fn(&str) -> Reply + Send + Sync + 'static,
{
    let rogue = Rogue::start(reply).await;
    let err = Client::new(limited(AuthFlow::AccessToken {
        instance_url: rogue.url.clone(),
        access_token: Secret::new("00Dx!AQready"),
    }))
    .unwrap()
    .sign_in()
    .await
    .unwrap_err();
    (rogue, err.to_string())
}

#[tokio::test]
async fn an_endless_rest_answer_stops_at_the_size_limit_naming_path_and_limit() {
    let (rogue, text) = sign_in_error(|_| Reply::Endless).await;
    assert!(
        text.contains("GET /services/data/v65.0/ was too large"),
        "{text}"
    );
    assert!(text.contains("limit of 1 MiB"), "{text}");
    assert_eq!(rogue.seen().len(), 1, "too large is not retried");
}

#[tokio::test]
async fn an_announced_oversized_answer_is_refused_before_reading_it() {
    let (_rogue, text) = sign_in_error(|_| Reply::Announce(5 * 1024 * 1024 * 1024)).await;
    assert!(
        text.contains("/services/data/v65.0/ was too large"),
        "{text}"
    );
    assert!(text.contains("1 MiB"), "{text}");
}

#[tokio::test]
async fn an_endless_token_answer_stops_at_the_size_limit() {
    let rogue = Rogue::start(|_| Reply::Endless).await;
    let err = Client::new(limited(client_credentials(&rogue.url, CLIENT_SECRET)))
        .unwrap()
        .sign_in()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("POST /services/oauth2/token was too large"),
        "{text}"
    );
    assert!(text.contains("limit of 1 MiB"), "{text}");
    assert_no_secret(&text);
}

#[tokio::test]
async fn a_token_answer_naming_a_plain_http_instance_elsewhere_is_refused_before_any_call() {
    for instance in ["http://example.invalid", "http://192.0.2.7:8080"] {
        let answer = json!({
            "access_token": "00D5g000004SeedEAC!AQsecretToken",
            "instance_url": instance,
            "id": format!("{instance}/id/{ORG_ID}/{INTEGRATION_USER_ID}"),
            "token_type": "Bearer",
            "issued_at": "1700000000000",
            "signature": "c2lnbmF0dXJl",
        })
        .to_string();
        let rogue = Rogue::start(move |_| Reply::Json(answer.clone())).await;
        let client = Client::new(settings(client_credentials(&rogue.url, CLIENT_SECRET))).unwrap();
        let err = client.sign_in().await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, SfError::Auth(_)), "{err:?}");
        assert!(text.contains(&format!("instance_url {instance}")), "{text}");
        assert!(text.contains("plain http"), "{text}");
        assert!(!text.contains("AQsecretToken"), "{text}");
        assert_eq!(client.calls_made(), 0, "no REST request was sent anywhere");
        assert_eq!(
            rogue.seen(),
            ["POST /services/oauth2/token HTTP/1.1"],
            "only the token request"
        );
    }
}

// ---- helpers ---------------------------------------------------------------------------------

fn mocks_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("mocks")
}

fn seed() -> Value {
    let path = mocks_dir().join("fixtures/seed-example.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn start(fixture: Value) -> RunningSim {
    let org = Org::from_fixture_str(&fixture.to_string(), &mocks_dir().join("fixtures")).unwrap();
    crate::support::start(org).await
}

/// Retries fast enough for tests.
fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

/// Settings with a 1 MiB response size limit.
fn limited(auth: AuthFlow) -> ConnectionSettings {
    ConnectionSettings {
        max_response_bytes: 1024 * 1024,
        ..settings(auth)
    }
}

fn settings(auth: AuthFlow) -> ConnectionSettings {
    ConnectionSettings {
        api_version: "65.0".into(),
        auth,
        retry: fast_retry(),
        request_timeout: Duration::from_secs(20),
        max_response_bytes: pslwarden::salesforce::settings::DEFAULT_MAX_RESPONSE_BYTES,
    }
}

fn key(name: &str) -> Secret {
    Secret::new(std::fs::read_to_string(mocks_dir().join("keys").join(name)).unwrap())
}

/// The JWT flow; `audience: None` is pslwarden's default audience.
fn jwt(url: &str, key_file: &str, audience: Option<&str>) -> AuthFlow {
    AuthFlow::Jwt {
        login_url: url.to_string(),
        consumer_key: CONSUMER_KEY.into(),
        username: INTEGRATION_USERNAME.into(),
        audience: audience.map(str::to_string),
        private_key_pem: key(key_file),
    }
}

fn client_credentials(url: &str, secret: &str) -> AuthFlow {
    AuthFlow::ClientCredentials {
        login_url: url.to_string(),
        client_id: CONSUMER_KEY.into(),
        client_secret: Secret::new(secret),
    }
}

fn refresh_token(url: &str) -> AuthFlow {
    AuthFlow::RefreshToken {
        login_url: url.to_string(),
        client_id: CONSUMER_KEY.into(),
        client_secret: Some(Secret::new(CLIENT_SECRET)),
        refresh_token: Secret::new(REFRESH_TOKEN),
    }
}

async fn signed_in_client(sim: &RunningSim) -> Client {
    let client = Client::new(settings(jwt(&sim.url, "demo-only-jwt-private.pem", None))).unwrap();
    client.sign_in().await.unwrap();
    client
}

/// An access token obtained outside the client, as `sf org display` would hand one over.
async fn raw_client_credentials_token(url: &str) -> String {
    let answer: Value = reqwest::Client::new()
        .post(format!(
            "{}/services/oauth2/token",
            url.trim_end_matches('/')
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CONSUMER_KEY),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"].as_str().unwrap().to_string()
}

/// No secret of the seed org, nor any line of either private key, appears in `text`.
fn assert_no_secret(text: &str) {
    assert!(!text.contains(CLIENT_SECRET), "{text}");
    assert!(!text.contains(REFRESH_TOKEN), "{text}");
    for file in ["demo-only-jwt-private.pem", "demo-only-wrong-private.pem"] {
        let pem = key(file);
        for line in pem.expose().lines().filter(|l| !l.starts_with("-----")) {
            assert!(!text.contains(line), "key material in: {text}");
        }
    }
}

/// The 18-character form of a 15-character Salesforce id (standard case-checksum suffix).
fn id18(id15: &str) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    let suffix: String = id15
        .as_bytes()
        .chunks(5)
        .map(|chunk| {
            let mask = chunk
                .iter()
                .enumerate()
                .filter(|(_, b)| b.is_ascii_uppercase())
                .fold(0, |acc, (i, _)| acc | (1 << i));
            char::from(ALPHABET[mask])
        })
        .collect();
    format!("{id15}{suffix}")
}

fn user_id(n: usize) -> String {
    id18(&format!("005Tst{n:09}"))
}

/// Adds `n` active users, ids `user_id(1..=n)`, none in a contact center and none licensed.
fn with_extra_users(mut fixture: Value, n: usize) -> Value {
    let users = fixture["User"].as_array_mut().unwrap();
    for i in 1..=n {
        users.push(json!({
            "Id": user_id(i),
            "Username": format!("extra{i}@seed-example.org"),
            "Name": format!("Extra {i}"),
            "IsActive": true,
            "ProfileId": "00e5g000001StdUAAS",
            "CallCenterId": null,
            "TimeZoneSidKey": "Europe/London"
        }));
    }
    fixture
}

/// Adds `n` users each assigned the license-free permission set; returns the assignment ids.
fn with_extra_assignments(fixture: Value, n: usize) -> (Value, Vec<String>) {
    let mut fixture = with_extra_users(fixture, n);
    let ids: Vec<String> = (1..=n).map(|i| id18(&format!("0PaTst{i:09}"))).collect();
    let assignments = fixture["PermissionSetAssignment"].as_array_mut().unwrap();
    for (i, id) in ids.iter().enumerate() {
        assignments.push(json!({
            "Id": id,
            "AssigneeId": user_id(i + 1),
            "PermissionSetId": LICENSE_FREE_PS,
            "PermissionSetGroupId": null,
            "IsActive": true,
            "ExpirationDate": null
        }));
    }
    (fixture, ids)
}

fn assignment(user: &str, permission_set: &str) -> NewRecord {
    NewRecord::new("PermissionSetAssignment")
        .field("AssigneeId", user)
        .field("PermissionSetId", permission_set)
}
