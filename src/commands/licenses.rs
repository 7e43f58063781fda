//! `pslwarden licenses`: every permission set license in the org with its seats, flagging any
//! used beyond its total (over-allocated).

use serde::Serialize;

use super::{CommandError, Format, render_table};
use crate::config::OrgSettings;
use crate::connect::connect;
use crate::ledger::over_allocation_text;
use crate::report::number::grouped;
use crate::snapshot::PermissionSetLicense;
use crate::snapshot::wire::{LICENSES_SOQL, PslRow};

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
    /// `total - used`, never below zero (an over-allocated org shows 0 free and `used > total`).
    pub free: i64,
    /// `used > total`: more seats in use than bought; flagged, since `free` (0) hides it.
    pub over_allocated: bool,
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

impl From<PermissionSetLicense> for LicenseSeats {
    fn from(l: PermissionSetLicense) -> Self {
        LicenseSeats {
            free: i64::from(l.total.saturating_sub(l.used)),
            over_allocated: l.used > l.total,
            total: i64::from(l.total),
            used: i64::from(l.used),
            psl: l.developer_name,
            label: l.label,
            id: l.id,
            status: l.status,
            expiration_date: l.expiration_date,
        }
    }
}

/// Signs in and reads every PSL.
pub async fn run(org: &OrgSettings) -> Result<LicensesReport, CommandError> {
    let session = connect(org).await?;
    let rows: Vec<PslRow> = session
        .client
        .query_all(&format!("{LICENSES_SOQL} ORDER BY DeveloperName"))
        .await
        .map_err(|source| CommandError::Salesforce {
            org: org.name.clone(),
            source,
        })?;
    Ok(LicensesReport {
        org: org.name.clone(),
        licenses: rows
            .into_iter()
            .map(|r| LicenseSeats::from(PermissionSetLicense::from(r)))
            .collect(),
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
                            grouped(l.total),
                            if l.over_allocated {
                                format!("{} OVER", grouped(l.used))
                            } else {
                                grouped(l.used)
                            },
                            grouped(l.free),
                            l.status.clone(),
                        ]
                    })
                    .collect();
                let mut out = render_table(
                    &["PSL", "Label", "Total", "Used", "Free", "Status"],
                    &rows,
                    &[false, false, true, true, true, false],
                );
                for l in self.licenses.iter().filter(|l| l.over_allocated) {
                    out.push_str(&format!(
                        "warning: {}\n",
                        over_allocation_text(
                            &l.psl,
                            u32::try_from(l.used).unwrap_or(u32::MAX),
                            u32::try_from(l.total).unwrap_or(u32::MAX)
                        )
                    ));
                }
                out
            }
        }
    }
}
