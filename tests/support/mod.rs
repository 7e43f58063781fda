//! Helpers shared by the test modules.

#![allow(dead_code)]

pub mod rogue;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use sfsim::{Org, RunningSim};

/// REST API version the tests speak.
pub const V: &str = "v65.0";
/// The demo connected app of every fixture.
pub const CLIENT_ID: &str = "3MVG9demoOnlyConsumerKeyForTheSimulatedOrg";
pub const CLIENT_SECRET: &str = "demo-only-client-secret";

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The seed example fixture of DOMAIN.md §1.
pub fn seed_fixture() -> PathBuf {
    repo_root().join("mocks/fixtures/seed-example.json")
}

/// A fresh empty directory under the target dir, unique per test name.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Runs the real `pslwarden` binary in `cwd` with `args`, no inherited config.
/// The newest report folder of the org `sim` under `dir/reports` (folder names are UTC stamps,
/// so the newest sorts last).
pub fn newest_report_folder(dir: &Path) -> PathBuf {
    newest_folder_with(dir, None)
}

/// `name` in the newest report folder of the org `sim` that has it (an apply writes its own
/// folder without `report.json`, a scan one without `apply.md`).
pub fn newest_report_file(dir: &Path, name: &str) -> PathBuf {
    newest_folder_with(dir, Some(name)).join(name)
}

/// The newest `report.json` of the org `sim`, parsed.
pub fn newest_report_json(dir: &Path) -> Value {
    let path = newest_report_file(dir, "report.json");
    serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .expect("report.json is JSON")
}

fn newest_folder_with(dir: &Path, file: Option<&str>) -> PathBuf {
    let base = dir.join("reports/sim");
    let mut runs: Vec<PathBuf> = std::fs::read_dir(&base)
        .unwrap_or_else(|e| panic!("no reports in {}: {e}", base.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_dir() && file.is_none_or(|f| p.join(f).exists()))
        .collect();
    runs.sort();
    runs.pop().expect("a report folder")
}

pub fn pslwarden(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pslwarden"))
        .args(args)
        .current_dir(cwd)
        .env_remove("PSLWARDEN_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .expect("run pslwarden")
}

/// stdout and stderr of a finished command, for assertion messages.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running seed org and a signed-in HTTP client.
pub struct Sim {
    pub sim: RunningSim,
    pub http: reqwest::Client,
    pub token: String,
}

impl Sim {
    pub async fn seed() -> Sim {
        Sim::with(Org::from_fixture_file(&seed_fixture()).expect("seed fixture loads")).await
    }

    pub async fn with(org: Org) -> Sim {
        let sim = start(org).await;
        let http = reqwest::Client::new();
        let token = sign_in(&http, &sim.url).await;
        Sim { sim, http, token }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/services/data/{V}/{path}", self.sim.url)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body read");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON body")
        };
        (status, body)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn query(&self, soql: &str) -> (u16, Value) {
        self.send(self.http.get(self.url("query")).query(&[("q", soql)]))
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.http.post(self.url(path)).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.http.patch(self.url(path)).json(&body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.http.delete(self.url(path))).await
    }

    pub async fn assign(&self, user: &str, permission_set: &str) -> (u16, Value) {
        self.post(
            "sobjects/PermissionSetAssignment",
            json!({"AssigneeId": user, "PermissionSetId": permission_set}),
        )
        .await
    }
}

/// Starts a simulator for `org` in the paging modes of `SFSIM_PAGING` (Salesforce's usual paging
/// when unset), so the whole suite can run against the strict modes. A test that depends on one
/// mode sets it on `RunningSim::org` afterwards.
pub async fn start(org: Org) -> RunningSim {
    match sfsim::Paging::from_env() {
        Ok(paging) => org.set_paging(paging),
        Err(e) => panic!("{e}"),
    }
    sfsim::start(org).await.expect("sim starts")
}

pub async fn sign_in(http: &reqwest::Client, base: &str) -> String {
    let response = http
        .post(format!("{base}/services/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .expect("token request sent");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.expect("token JSON");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// The first line a child process prints (a daemon prints its URLs there), read off the async
/// threads.
pub async fn first_line(stdout: std::process::ChildStdout) -> String {
    tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the child's first line");
        line
    })
    .await
    .expect("the reading task ends")
}
