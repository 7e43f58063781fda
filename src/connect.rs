//! Connecting to an org: settings in, signed-in client out.
//!
//! Owns: starting the simulator (`sfsim`, in-process on loopback) for a simulated org — an
//! `[org.simulator]` fixture in any build, the built-in seed org only in `demo` builds — reading the org's secrets, and the first sign-in. The returned [`OrgSession`] keeps the
//! simulator alive for as long as the client is used.
//!
//! Must not: query or change anything in the org; that is the commands' business.

use std::collections::HashMap;

#[cfg(feature = "demo")]
use crate::config::builtin;
use crate::config::{OrgSettings, SecretError, SimulatorSpec};
use crate::salesforce::{Client, SfError};

/// A signed-in client for one org, with the simulator it talks to when the org is simulated.
pub struct OrgSession {
    /// The client, signed in.
    pub client: Client,
    /// The org's settings (name, API version) for messages and reports.
    pub org: OrgSettings,
    /// The in-process simulator; dropping it stops the server, so it lives as long as the session
    /// (`None` for a real org, and for a simulated one kept for the whole process).
    pub simulator: Option<sfsim::RunningSim>,
}

/// Why an org could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot start the simulated org: {0}")]
    SimulatorFixture(#[from] sfsim::FixtureError),
    #[error("cannot start the simulated org: {0}")]
    SimulatorPaging(String),
    #[error("cannot start the simulated org on loopback: {0}")]
    SimulatorIo(#[from] std::io::Error),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("org `{org}`: {source}")]
    Salesforce { org: String, source: SfError },
}

/// Simulated orgs kept running for the life of the process, by org name, once
/// [`keep_simulated_orgs`] was called: a long-lived daemon must see its own changes to the
/// built-in demo org, where a one-shot command starts it afresh.
static KEPT: std::sync::OnceLock<tokio::sync::Mutex<HashMap<String, sfsim::RunningSim>>> =
    std::sync::OnceLock::new();

/// From now on, a simulated org is started once per process and reused by every `connect`.
pub fn keep_simulated_orgs() {
    KEPT.get_or_init(|| tokio::sync::Mutex::new(HashMap::new()));
}

/// Starts the simulator when the org is simulated, reads secrets, signs in.
pub async fn connect(org: &OrgSettings) -> Result<OrgSession, ConnectError> {
    let mut kept_url = None;
    let simulator = match (&org.simulator, KEPT.get()) {
        (Some(spec), Some(kept)) => {
            let mut kept = kept.lock().await;
            if !kept.contains_key(&org.name) {
                let sim = sfsim::start(simulated_org(spec)?).await?;
                kept.insert(org.name.clone(), sim);
            }
            kept_url = kept.get(&org.name).map(|s| s.url.clone());
            None
        }
        (Some(spec), None) => Some(sfsim::start(simulated_org(spec)?).await?),
        (None, _) => None,
    };
    let sim_url = kept_url.or_else(|| simulator.as_ref().map(|s| s.url.clone()));
    let settings = org.connection_settings(sim_url.as_deref())?;
    let salesforce = |source| ConnectError::Salesforce {
        org: org.name.clone(),
        source,
    };
    let client = Client::new(settings).map_err(salesforce)?;
    client.sign_in().await.map_err(salesforce)?;
    Ok(OrgSession {
        client,
        org: org.clone(),
        simulator,
    })
}

/// Loads the simulator's org (see [`load_simulated_org`]) with the paging modes of
/// `SFSIM_PAGING`, so a test run in the strict modes reaches the in-process simulator too.
fn simulated_org(spec: &SimulatorSpec) -> Result<sfsim::Org, ConnectError> {
    let paging = sfsim::Paging::from_env().map_err(ConnectError::SimulatorPaging)?;
    let org = load_simulated_org(spec)?;
    org.set_paging(paging);
    Ok(org)
}

/// Loads the simulator's org: a fixture file, or the seed example compiled into the binary with
/// the demo public key inlined (so no file at all is needed; `demo` builds only).
fn load_simulated_org(spec: &SimulatorSpec) -> Result<sfsim::Org, sfsim::FixtureError> {
    match spec {
        SimulatorSpec::Fixture(path) => sfsim::Org::from_fixture_file(path),
        #[cfg(feature = "demo")]
        SimulatorSpec::BuiltinSeed => {
            let fixture = builtin::SEED_FIXTURE.replace(
                r#""jwt_public_key_file": "../keys/demo-only-jwt-public.pem""#,
                &format!(
                    r#""jwt_public_key": {}"#,
                    serde_json::Value::String(builtin::DEMO_PUBLIC_KEY.to_string())
                ),
            );
            sfsim::Org::from_fixture_str(&fixture, std::path::Path::new("."))
        }
    }
}
