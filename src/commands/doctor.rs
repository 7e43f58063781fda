//! `pslwarden doctor`: signs in, shows who and where pslwarden is, and runs the preflight
//! (`crate::preflight`): every permission, object and field the org's mode needs, each with a
//! verdict and the fix, so an admin can check a new config before the first night run.
//!
//! Only reads. API calls: the sign-in, then `versions`, `Organization` and `User` queries,
//! `limits`, one composite call for `UserPermissionAccess` and every describe, and one for the
//! Voice set-up (licenses, licensed permission sets, contact centers).

use serde::{Deserialize, Serialize};

use super::CommandError;
use crate::config::Mode;
use crate::config::OrgSettings;
use crate::connect::connect;
use crate::preflight::{self, judge};
use crate::report::number::grouped;

/// `Organization` as the query answers it (wire type).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OrganizationRow {
    name: Option<String>,
    is_sandbox: Option<bool>,
}

/// `User` as the query answers it (wire type).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserRow {
    username: String,
}

/// What `doctor` found.
#[derive(Debug, Serialize)]
pub struct DoctorReport {
    /// Org name from the config.
    pub org: String,
    /// 18-character org id from the identity URL.
    pub org_id: String,
    /// The org's name in Salesforce, when the integration user may read `Organization`.
    pub org_display_name: Option<String>,
    pub is_sandbox: Option<bool>,
    /// The integration user's id and username.
    pub user_id: String,
    pub username: Option<String>,
    pub instance_url: String,
    /// True when the org is a simulator (built-in or `[org.simulator]`), so nobody mistakes it
    /// for production.
    pub simulated: bool,
    /// The API version the config asks for.
    pub api_version: String,
    /// The newest version the org offers (a hint to upgrade the config).
    pub latest_api_version: Option<String>,
    /// Daily API requests used and allowed.
    pub api_used: Option<u64>,
    pub api_max: Option<u64>,
    /// The org's mode, which decides whether write permissions are errors or warnings.
    pub mode: &'static str,
    /// The preflight's verdicts, in the order shown.
    #[serde(skip)]
    pub checks: Vec<judge::Check>,
}

/// Below this share of the daily API allowance left, doctor warns: a scan of a large org needs
/// a few hundred calls, an apply a few more.
const API_HEADROOM_WARN: f64 = 0.10;

/// Signs in and gathers the facts.
pub async fn run(org: &OrgSettings) -> Result<DoctorReport, CommandError> {
    let session = connect(org).await?;
    let client = &session.client;
    let sf = |source| CommandError::Salesforce {
        org: org.name.clone(),
        source,
    };
    let identity = client.token_identity().map_err(sf)?;
    let natterbox = org.natterbox.as_ref().map(|pack| {
        let mut fields = vec!["Id".to_string(), pack.user_field.clone()];
        fields.extend(pack.licenses.values().cloned());
        (pack.object.clone(), fields)
    });
    let found = preflight::read(client, natterbox).await.map_err(sf)?;
    let mut checks = vec![judge::Check {
        name: "sign-in".to_string(),
        status: judge::Status::Ok,
        found: format!("signed in as user {}", identity.user_id),
        fix: String::new(),
    }];
    if found.api_disabled {
        checks.extend(judge::judge(&found, org.mode));
        return Ok(DoctorReport {
            org: org.name.clone(),
            org_id: identity.org_id.clone(),
            org_display_name: None,
            is_sandbox: None,
            user_id: identity.user_id.clone(),
            username: None,
            instance_url: identity.instance_url.clone(),
            simulated: session.simulator.is_some(),
            api_version: org.api_version.clone(),
            latest_api_version: None,
            api_used: None,
            api_max: None,
            mode: mode_name(org.mode),
            checks,
        });
    }
    let versions = client.versions().await.map_err(sf)?;
    let orgs: Vec<OrganizationRow> = client
        .query_all("SELECT Id, Name, IsSandbox FROM Organization")
        .await
        .map_err(sf)?;
    let users: Vec<UserRow> = client
        .query_all(&format!(
            "SELECT Id, Username FROM User WHERE Id = {}",
            crate::snapshot::soql::quote(&identity.user_id)
        ))
        .await
        .map_err(sf)?;
    let limits = client.limits().await.map_err(sf)?;
    let organization = orgs.into_iter().next();
    let offered: Vec<String> = versions.iter().map(|v| v.version.clone()).collect();
    let version_ok = offered.contains(&org.api_version);
    checks.push(judge::Check {
        name: "API version".to_string(),
        status: if version_ok {
            judge::Status::Ok
        } else {
            judge::Status::Missing
        },
        found: if version_ok {
            format!("v{} is available", org.api_version)
        } else {
            format!(
                "v{} is not offered; the org offers {}",
                org.api_version,
                offered.join(", ")
            )
        },
        fix: if version_ok {
            String::new()
        } else {
            "set api_version in the org's config block to one the org offers".to_string()
        },
    });
    let remaining = limits.daily_api_remaining;
    let max = limits.daily_api_max;
    let headroom_ok = max == 0 || (remaining as f64) >= (max as f64) * API_HEADROOM_WARN;
    checks.push(judge::Check {
        name: "daily API headroom".to_string(),
        status: if headroom_ok {
            judge::Status::Ok
        } else {
            judge::Status::Warning
        },
        found: format!(
            "{} of {} daily API requests left",
            grouped(remaining),
            grouped(max)
        ),
        fix: if headroom_ok {
            String::new()
        } else {
            "run when the org's 24-hour API usage has dropped (Setup > Company Information > API \
             Requests, Last 24 Hours), or lower other integrations' usage"
                .to_string()
        },
    });
    checks.extend(judge::judge(&found, org.mode));
    let voice = crate::snapshot::fetch::fetch_voice_setup(client).await;
    checks.push(preflight::voice::voice_check(
        voice.as_ref().map_err(|e| e.to_string()),
        &org.rules,
    ));
    Ok(DoctorReport {
        org: org.name.clone(),
        org_id: identity.org_id.clone(),
        org_display_name: organization.as_ref().and_then(|o| o.name.clone()),
        is_sandbox: organization.as_ref().and_then(|o| o.is_sandbox),
        user_id: identity.user_id.clone(),
        username: users.into_iter().next().map(|u| u.username),
        instance_url: identity.instance_url.clone(),
        simulated: org.is_simulated(),
        api_version: org.api_version.clone(),
        latest_api_version: versions
            .into_iter()
            .map(|v| v.version)
            .max_by(|a, b| version_key(a).cmp(&version_key(b))),
        api_used: Some(
            limits
                .daily_api_max
                .saturating_sub(limits.daily_api_remaining),
        ),
        api_max: Some(limits.daily_api_max),
        mode: mode_name(org.mode),
        checks,
    })
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::DryRun => "dry-run",
        Mode::Apply => "apply",
        Mode::Approved => "approved",
    }
}

/// "65.0" → (65, 0), for ordering versions numerically.
fn version_key(v: &str) -> (u32, u32) {
    let (a, b) = v.split_once('.').unwrap_or((v, "0"));
    (a.parse().unwrap_or(0), b.parse().unwrap_or(0))
}

impl DoctorReport {
    /// Human-readable lines.
    pub fn render(&self) -> String {
        // The org's name and the integration user's username are the org's text.
        let t = crate::text::terminal;
        let mut out = format!("Signed in to org `{}`\n", t(&self.org));
        let org_display_name = self.org_display_name.as_deref().map(t);
        let org_line = match (&org_display_name, self.is_sandbox) {
            (Some(n), Some(true)) => format!("{} ({n}, sandbox)", self.org_id),
            (Some(n), _) => format!("{} ({n})", self.org_id),
            _ => self.org_id.clone(),
        };
        out.push_str(&format!("  org id        {org_line}\n"));
        out.push_str(&format!(
            "  user          {} ({})\n",
            self.username
                .as_deref()
                .map_or_else(|| "(username not readable)".to_string(), t),
            self.user_id
        ));
        let sim = if self.simulated {
            "  (SIMULATED ORG: sfsim, not a real Salesforce org)"
        } else {
            ""
        };
        out.push_str(&format!("  instance URL  {}{sim}\n", self.instance_url));
        let latest = match &self.latest_api_version {
            Some(l) if version_key(l) > version_key(&self.api_version) => {
                format!(" (the org offers up to v{l})")
            }
            _ => String::new(),
        };
        out.push_str(&format!("  API version   v{}{latest}\n", self.api_version));
        if let (Some(used), Some(max)) = (self.api_used, self.api_max) {
            out.push_str(&format!(
                "  API usage     {} of {} daily requests used ({} remaining)\n",
                grouped(used),
                grouped(max),
                grouped(max.saturating_sub(used))
            ));
        }
        out.push_str(&format!("  mode          {}\n\nPreflight\n", self.mode));
        for check in &self.checks {
            let mark = match check.status {
                judge::Status::Ok => "ok     ",
                judge::Status::Missing => "MISSING",
                judge::Status::Warning => "warning",
            };
            out.push_str(&format!("  {mark}  {}: {}\n", check.name, t(&check.found)));
            if !check.fix.is_empty() {
                out.push_str(&format!("           fix: {}\n", check.fix));
            }
        }
        let missing = self
            .checks
            .iter()
            .filter(|c| c.status == judge::Status::Missing)
            .count();
        let warnings = self
            .checks
            .iter()
            .filter(|c| c.status == judge::Status::Warning)
            .count();
        if missing == 0 {
            out.push_str(&format!(
                "\nReady: every check the org's mode needs passed ({warnings} warning(s)).\n"
            ));
        } else {
            out.push_str(&format!(
                "\nNot ready: {missing} check(s) the org's mode needs failed; apply the fixes above \
                 and run pslwarden doctor again.\n"
            ));
        }
        out
    }

    /// True when any check the org's mode needs failed (doctor exits 1).
    pub fn failed(&self) -> bool {
        judge::failed(&self.checks)
    }
}
