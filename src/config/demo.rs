//! The built-in simulated org: the seed example fixture, its demo-only JWT key pair and the
//! settings a run uses when no config is given or found.
//!
//! Owns: everything compiled into the binary for the demo. The whole module exists only with the
//! cargo feature `demo` (on by default), so a production build (`--no-default-features`) carries
//! no demo key and no fixture.
//!
//! Must not: be used for `[org.simulator]` orgs of a config file; those read their own fixture
//! and key files and work in every build.

use std::path::PathBuf;
use std::time::Duration;

use super::{ApplyLimits, CronSchedule, Mode, OrgSchedule};
use super::{
    AuthSpec, DEFAULT_API_VERSION, DaemonSettings, OrgSettings, Origin, SecretSpec, Settings,
    SimulatorSpec,
};
use crate::plan::PlanOptions;
use crate::rules::RuleContext;
use crate::salesforce::settings::{DEFAULT_MAX_RESPONSE_BYTES, RetryPolicy};
use crate::usage::UsageSettings;
use crate::window::Window;

/// The built-in demo fixture and its demo-only key pair, so a fresh machine needs no file.
pub mod builtin {
    /// The seed example of DOMAIN.md §1.
    pub const SEED_FIXTURE: &str = include_str!("../../mocks/fixtures/seed-example.json");
    /// Demo-only private key: it signs in to the simulator and nothing else.
    pub const DEMO_PRIVATE_KEY: &str = include_str!("../../mocks/keys/demo-only-jwt-private.pem");
    /// The matching public key, given to the simulator.
    pub const DEMO_PUBLIC_KEY: &str = include_str!("../../mocks/keys/demo-only-jwt-public.pem");
    /// Consumer key and user of the seed fixture's connected app.
    pub const DEMO_CONSUMER_KEY: &str = "3MVG9demoOnlyConsumerKeyForTheSimulatedOrg";
    pub const DEMO_USERNAME: &str = "pslwarden.integration@seed-example.org";
}

/// The built-in demo's schedules: a scan every minute, an apply attempt every five.
pub const DEMO_SCAN_SCHEDULE: &str = "0 * * * * *";
pub const DEMO_APPLY_SCHEDULE: &str = "30 */5 * * * *";

impl Settings {
    /// The built-in demo: the seed example org, simulated, signed in with the JWT flow.
    pub fn builtin_demo() -> Settings {
        Settings {
            source: None,
            reports_dir: PathBuf::from("reports"),
            state_path: PathBuf::from("state/pslwarden.sqlite"),
            daemon: DaemonSettings::defaults(builtin_origin()),
            orgs: vec![OrgSettings {
                name: "seed-demo".to_string(),
                api_version: DEFAULT_API_VERSION.to_string(),
                auth: AuthSpec::Jwt {
                    login_url: None,
                    consumer_key: builtin::DEMO_CONSUMER_KEY.to_string(),
                    username: builtin::DEMO_USERNAME.to_string(),
                    audience: None,
                    private_key: SecretSpec::Builtin(builtin::DEMO_PRIVATE_KEY),
                },
                simulator: Some(SimulatorSpec::BuiltinSeed),
                retry: RetryPolicy::default(),
                request_timeout: Duration::from_secs(60),
                max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
                rules: RuleContext::default(),
                plan: PlanOptions::default(),
                // The simulated org is a sandbox: always open, so the demo can apply.
                window: Window::AlwaysOpen,
                mode: Mode::Apply,
                apply: ApplyLimits::default(),
                schedule: OrgSchedule {
                    scan: CronSchedule::parse(DEMO_SCAN_SCHEDULE).ok(),
                    apply: CronSchedule::parse(DEMO_APPLY_SCHEDULE).ok(),
                },
                usage: UsageSettings::default(),
                prices: None,
                natterbox: Some(std::sync::Arc::new(crate::rules::natterbox::Pack::builtin())),
                natterbox_fixes: Default::default(),
                origin: builtin_origin(),
            }],
        }
    }
}

/// Where the built-in demo's settings "come from", for messages.
fn builtin_origin() -> Origin {
    Origin {
        path: PathBuf::from("(built-in demo config)"),
        text: "".into(),
        base_dir: PathBuf::from("."),
    }
}
