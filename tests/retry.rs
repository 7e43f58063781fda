//! Retries end to end through the real binary: Salesforce answers from sfsim's one-shot faults
//! (`Faults::once`) and webhook receivers served by the test that ask to wait (`Retry-After`);
//! and, through the client library, a token endpoint that asks for too long a wait. The write
//! rules (what may be sent again after a 5xx) are in `client.rs`.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use sfsim::{Faults, OneShot};

use crate::apply::{INSIDE, cli, config_text, outcome};
use crate::support::{Sim, scratch_dir};

/// The `GET .../limits` (which `doctor` needs) answered 503 with this `Retry-After`, once.
fn one_503_on_a_get(retry_after: &str) -> Faults {
    Faults {
        once: vec![OneShot {
            method: Some("GET".into()),
            path: Some("/limits".into()),
            status: 503,
            retry_after: Some(retry_after.into()),
            after_handling: false,
        }],
        ..Faults::default()
    }
}

/// The test config's `[org.http]` waits at most 50 ms; these tests need room for a 1 s wait.
fn patient_config(
    dir: &std::path::Path,
    sim: &Sim,
    head: &str,
    tables: &str,
) -> std::path::PathBuf {
    let text = config_text(sim, head, tables).replace("max_delay_ms = 50", "max_delay_ms = 5000");
    let cfg = dir.join("pslwarden.toml");
    std::fs::write(&cfg, text).unwrap();
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_salesforce_503_asking_to_wait_a_second_is_waited_out_and_doctor_succeeds() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("retry_sf_503");
    let cfg = patient_config(&dir, &sim, "", "");
    sim.sim.org.set_faults(one_503_on_a_get("1"));
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["doctor"]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("Salesforce asked to wait 1s (Retry-After); retrying then"),
        "{stderr}"
    );
    let stats = sim.sim.org.stats();
    assert_eq!(stats.faults_injected.get("once"), Some(&1), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_salesforce_503_asking_for_an_hour_stops_at_once_naming_the_host_and_the_wait() {
    let sim = Sim::seed().await;
    let dir = scratch_dir("retry_sf_hour");
    let cfg = patient_config(&dir, &sim, "", "");
    sim.sim.org.set_faults(one_503_on_a_get("3600"));
    let (code, stdout, stderr) = outcome(&cli(&dir, &cfg, INSIDE, &["doctor"]).await);
    assert_ne!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(
            "Salesforce at 127.0.0.1 asked to wait 3600s before trying again (Retry-After), \
             longer than the 5s this retry policy allows"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("SERVER_UNAVAILABLE"),
        "the error is told: {stderr}"
    );
}

/// What the scripted receiver got: the status it answered and the body, per POST.
type Deliveries = Arc<Mutex<Vec<(u16, Value)>>>;

/// A webhook receiver on loopback answering the n-th POST with `replies[n]` (status and
/// `Retry-After`; the last one repeats). Returns its URL.
async fn scripted_receiver(replies: Vec<(u16, Option<String>)>) -> (String, Deliveries) {
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    type Script = (Deliveries, Arc<Vec<(u16, Option<String>)>>);
    let got: Deliveries = Arc::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |State((got, replies)): State<Script>, axum::Json(body): axum::Json<Value>| async move {
                    let mut got = got.lock().unwrap();
                    let (status, wait) = replies[got.len().min(replies.len() - 1)].clone();
                    got.push((status, body));
                    let mut response = StatusCode::from_u16(status).unwrap().into_response();
                    if let Some(wait) = wait {
                        response
                            .headers_mut()
                            .insert("retry-after", wait.parse().unwrap());
                    }
                    response
                },
            ),
        )
        .with_state((got.clone(), Arc::new(replies)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

/// Runs `daemon --once` (one scan of the seed org) with a JSON webhook for findings at `hook`.
async fn daemon_once_with_hook(name: &str, hook: &str) -> (Option<i32>, String, String) {
    let sim = Sim::seed().await;
    let dir = scratch_dir(name);
    let head = "[daemon]\nlisten = \"127.0.0.1:0\"\n\n[[daemon.webhook]]\nurl_env = \
                \"PSLWARDEN_TEST_RETRY_HOOK\"\nformat = \"json\"\nevents = [\"findings\"]\n";
    let tables = "\n[org.window]\nalways_open = true\n\n[org.schedule]\nscan = \"* * * * * *\"\n";
    let cfg = patient_config(&dir, &sim, head, tables);
    let hook = hook.to_string();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_pslwarden"))
            .args(["--config", cfg.to_str().unwrap(), "daemon", "--once"])
            .current_dir(&dir)
            .env_remove("PSLWARDEN_CONFIG")
            .env_remove("PSLWARDEN_FAKE_CLOCK")
            .env("RUST_LOG", "pslwarden=info")
            .env("PSLWARDEN_TEST_RETRY_HOOK", hook)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    outcome(&out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_429_asking_to_wait_a_second_is_delivered_once_on_the_second_attempt() {
    let (hook, got) = scripted_receiver(vec![(429, Some("1".into())), (200, None)]).await;
    let (code, stdout, stderr) = daemon_once_with_hook("retry_hook_429", &hook).await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let got = got.lock().unwrap();
    let statuses: Vec<u16> = got.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, [429, 200], "refused once, then delivered once");
    assert_eq!(got[0].1, got[1].1, "the same message was sent again");
    assert_eq!(got[1].1["event"], "findings");
    assert!(
        stderr.contains(
            "webhook host 127.0.0.1 asked to wait 1s (Retry-After); waiting as asked, then \
             retrying"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("webhook failed"), "{stderr}");
    assert!(
        !stderr.contains("/hook"),
        "a webhook URL is never logged: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_asking_to_wait_a_day_is_given_up_at_once_and_the_job_still_ends() {
    // The HTTP-date form, a day ahead.
    let tomorrow = httpdate::fmt_http_date(
        std::time::SystemTime::now() + std::time::Duration::from_secs(86_400),
    );
    let (hook, got) = scripted_receiver(vec![(429, Some(tomorrow))]).await;
    let (code, stdout, stderr) = daemon_once_with_hook("retry_hook_day", &hook).await;
    assert_eq!(code, Some(0), "the job ends normally: {stdout}\n{stderr}");
    assert_eq!(got.lock().unwrap().len(), 1, "not sent again");
    assert!(
        stderr.contains("webhook host 127.0.0.1 asked to wait 86"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "(Retry-After), longer than the 30s a webhook delivery may wait; giving up on this \
             message so the job goes on"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("webhook failed once"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_refusing_with_404_is_not_sent_again() {
    let (hook, got) = scripted_receiver(vec![(404, None)]).await;
    let (code, stdout, stderr) = daemon_once_with_hook("retry_hook_404", &hook).await;
    assert_eq!(code, Some(0), "the job ends normally: {stdout}\n{stderr}");
    assert_eq!(got.lock().unwrap().len(), 1, "a refusal is final: {stderr}");
    assert!(stderr.contains("webhook failed once"), "{stderr}");
    assert!(stderr.contains("HTTP 404"), "{stderr}");
}

#[tokio::test]
async fn a_token_endpoint_503_asking_for_longer_than_the_policy_allows_is_not_retried() {
    use pslwarden::salesforce::{AuthFlow, Client, ConnectionSettings, RetryPolicy};
    let seen = Arc::new(Mutex::new(0u32));
    let app = axum::Router::new()
        .route(
            "/services/oauth2/token",
            axum::routing::post(
                |axum::extract::State(seen): axum::extract::State<Arc<Mutex<u32>>>| async move {
                    *seen.lock().unwrap() += 1;
                    (
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        [("retry-after", "120")],
                        "down for maintenance",
                    )
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = Client::new(ConnectionSettings {
        api_version: "65.0".into(),
        auth: AuthFlow::ClientCredentials {
            login_url: url,
            client_id: "id".into(),
            client_secret: pslwarden::secret::Secret::new("secret"),
        },
        retry: RetryPolicy {
            max_attempts: 5,
            base_delay: std::time::Duration::from_millis(1),
            max_delay: std::time::Duration::from_secs(30),
        },
        request_timeout: std::time::Duration::from_secs(20),
        max_response_bytes: pslwarden::salesforce::settings::DEFAULT_MAX_RESPONSE_BYTES,
    })
    .unwrap();
    let err = client.sign_in().await.unwrap_err();
    assert!(err.to_string().contains("unavailable"), "{err}");
    assert_eq!(
        *seen.lock().unwrap(),
        1,
        "two minutes is more than the 30 s allowed"
    );
}
