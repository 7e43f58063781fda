//! Connecting to an org: settings in, signed-in client out.
//!
//! Owns: starting the built-in simulated org (`sfsim`, in-process on loopback) for a simulated
//! org, reading the org's secrets, and the first sign-in. The returned [`OrgSession`] keeps the
//! simulator alive for as long as the client is used.
//!
//! Must not: query or change anything in the org; that is the commands' business.

use std::path::Path;

use crate::config::{OrgSettings, SecretError, SimulatorSpec, builtin};
use crate::salesforce::{Client, SfError};

/// A signed-in client for one org, with the simulator it talks to when the org is simulated.
pub struct OrgSession {
    /// The client, signed in.
    pub client: Client,
    /// The org's settings (name, API version) for messages and reports.
    pub org: OrgSettings,
    /// The in-process simulator; dropping it stops the server, so it lives as long as the session.
    pub simulator: Option<sfsim::RunningSim>,
}

/// Why an org could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot start the simulated org: {0}")]
    SimulatorFixture(#[from] sfsim::FixtureError),
    #[error("cannot start the simulated org on loopback: {0}")]
    SimulatorIo(#[from] std::io::Error),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("org `{org}`: {source}")]
    Salesforce { org: String, source: SfError },
}

/// Starts the simulator when the org is simulated, reads secrets, signs in.
pub async fn connect(org: &OrgSettings) -> Result<OrgSession, ConnectError> {
    let simulator = match &org.simulator {
        Some(spec) => Some(sfsim::start(simulated_org(spec)?).await?),
        None => None,
    };
    let settings = org.connection_settings(simulator.as_ref().map(|s| s.url.as_str()))?;
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

/// Loads the simulator's org: a fixture file, or the seed example compiled into the binary with
/// the demo public key inlined (so no file at all is needed).
fn simulated_org(spec: &SimulatorSpec) -> Result<sfsim::Org, sfsim::FixtureError> {
    match spec {
        SimulatorSpec::Fixture(path) => sfsim::Org::from_fixture_file(path),
        SimulatorSpec::BuiltinSeed => {
            let fixture = builtin::SEED_FIXTURE.replace(
                r#""jwt_public_key_file": "../keys/demo-only-jwt-public.pem""#,
                &format!(
                    r#""jwt_public_key": {}"#,
                    serde_json::Value::String(builtin::DEMO_PUBLIC_KEY.to_string())
                ),
            );
            sfsim::Org::from_fixture_str(&fixture, Path::new("."))
        }
    }
}
