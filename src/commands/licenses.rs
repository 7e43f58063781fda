//! `pslwarden licenses`: every permission set license in the org with its seats.

use serde::{Deserialize, Serialize};

use super::{CommandError, Format, render_table};
use crate::config::OrgSettings;
use crate::connect::connect;

/// The SOQL for the seat counts. `UsedLicenses` is live on Salesforce's side.
const PSL_QUERY: &str = "SELECT Id, DeveloperName, MasterLabel, TotalLicenses, UsedLicenses, \
                         Status, ExpirationDate FROM PermissionSetLicense ORDER BY DeveloperName";

/// `PermissionSetLicense` as the query answers it (wire type).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PslRow {
    id: String,
    developer_name: String,
    master_label: Option<String>,
    total_licenses: Option<i64>,
    used_licenses: Option<i64>,
    status: Option<String>,
    expiration_date: Option<String>,
}

/// One PSL's seats, as `licenses` reports them (stable JSON field names).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LicenseSeats {
    /// `DeveloperName`: stable across label renames ("Service Cloud Voice" vs "Salesforce Voice").
    pub psl: String,
    /// `MasterLabel`, as Setup shows it.
    pub label: String,
    /// Record id, for cross-referencing assignments.
    pub id: String,
    pub total: i64,
    pub used: i64,
    /// `total - used`, never below zero (an over-assigned org shows 0 free and `used > total`).
    pub free: i64,
    /// `Active` or `Disabled`.
    pub status: String,
    /// `YYYY-MM-DD`, when the licenses lapse.
    pub expiration_date: Option<String>,
}

/// The whole answer of `licenses`.
#[derive(Debug, Serialize)]
pub struct LicensesReport {
    /// Org name from the config.
    pub org: String,
    pub licenses: Vec<LicenseSeats>,
}

impl From<PslRow> for LicenseSeats {
    fn from(r: PslRow) -> Self {
        let total = r.total_licenses.unwrap_or(0);
        let used = r.used_licenses.unwrap_or(0);
        LicenseSeats {
            label: r.master_label.unwrap_or_else(|| r.developer_name.clone()),
            psl: r.developer_name,
            id: r.id,
            total,
            used,
            free: (total - used).max(0),
            status: r.status.unwrap_or_default(),
            expiration_date: r.expiration_date,
        }
    }
}

/// Signs in and reads every PSL.
pub async fn run(org: &OrgSettings) -> Result<LicensesReport, CommandError> {
    let session = connect(org).await?;
    let rows: Vec<PslRow> = session
        .client
        .query_all(PSL_QUERY)
        .await
        .map_err(|source| CommandError::Salesforce {
            org: org.name.clone(),
            source,
        })?;
    Ok(LicensesReport {
        org: org.name.clone(),
        licenses: rows.into_iter().map(LicenseSeats::from).collect(),
    })
}

impl LicensesReport {
    /// Renders for the terminal or for scripts.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => {
                let mut s = serde_json::to_string_pretty(self)
                    .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
                s.push('\n');
                s
            }
            Format::Table => {
                let rows: Vec<Vec<String>> = self
                    .licenses
                    .iter()
                    .map(|l| {
                        vec![
                            l.psl.clone(),
                            l.label.clone(),
                            l.total.to_string(),
                            l.used.to_string(),
                            l.free.to_string(),
                            l.status.clone(),
                        ]
                    })
                    .collect();
                render_table(
                    &["PSL", "Label", "Total", "Used", "Free", "Status"],
                    &rows,
                    &[false, false, true, true, true, false],
                )
            }
        }
    }
}
