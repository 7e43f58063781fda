//! `pslwarden doctor`: signs in and shows who and where pslwarden is, so an admin can check a
//! new config before the first night run.

use serde::{Deserialize, Serialize};

use super::CommandError;
use crate::config::OrgSettings;
use crate::connect::connect;

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
}

/// Signs in and gathers the facts.
pub async fn run(org: &OrgSettings) -> Result<DoctorReport, CommandError> {
    let session = connect(org).await?;
    let client = &session.client;
    let sf = |source| CommandError::Salesforce {
        org: org.name.clone(),
        source,
    };
    let identity = client.token_identity().map_err(sf)?;
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
    })
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
                "  API usage     {used} of {max} daily requests used ({} remaining)\n",
                max.saturating_sub(used)
            ));
        }
        out
    }
}
