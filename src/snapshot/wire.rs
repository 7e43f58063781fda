//! Salesforce rows as the query resource returns them (wire types), and their conversion into
//! the snapshot model. Field names are Salesforce's; a missing or null field falls back to the
//! model's neutral value only where Salesforce itself allows null.

use serde::Deserialize;

use super::model;

/// Every permission set license with its seats (`UsedLicenses` is live on Salesforce's side).
pub(crate) const LICENSES_SOQL: &str = "SELECT Id, DeveloperName, MasterLabel, TotalLicenses, \
    UsedLicenses, Status, ExpirationDate FROM PermissionSetLicense";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PslRow {
    id: String,
    developer_name: String,
    master_label: Option<String>,
    total_licenses: Option<i64>,
    used_licenses: Option<i64>,
    status: Option<String>,
    expiration_date: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PermissionSetRow {
    id: String,
    name: String,
    label: Option<String>,
    license_id: Option<String>,
    is_owned_by_profile: Option<bool>,
    permission_set_group_id: Option<String>,
    namespace_prefix: Option<String>,
    is_custom: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CallCenterRow {
    id: String,
    name: String,
    internal_name: Option<String>,
    adapter_url: Option<String>,
    custom_settings: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GroupRow {
    id: String,
    developer_name: String,
    master_label: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GroupComponentRow {
    id: String,
    permission_set_group_id: String,
    permission_set_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PsaRow {
    id: String,
    assignee_id: String,
    permission_set_id: Option<String>,
    permission_set_group_id: Option<String>,
    is_active: Option<bool>,
    expiration_date: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PslaRow {
    id: String,
    assignee_id: String,
    permission_set_license_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UserRow {
    id: String,
    username: String,
    name: Option<String>,
    is_active: Option<bool>,
    call_center_id: Option<String>,
    /// Selected only when the `idle-voice-seat` rule runs.
    #[serde(default)]
    last_login_date: Option<String>,
    #[serde(default)]
    created_date: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PackageLicenseRow {
    pub allowed_licenses: Option<i64>,
    pub used_licenses: Option<i64>,
    pub status: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct OrganizationRow {
    pub id: String,
    pub name: Option<String>,
}

/// A count field as a seat count: negative or absurd values (never seen, but this is a
/// server's answer) clamp to the `u32` range rather than wrap.
fn seats(v: Option<i64>) -> u32 {
    v.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32
}

impl From<PslRow> for model::PermissionSetLicense {
    fn from(r: PslRow) -> Self {
        model::PermissionSetLicense {
            label: r.master_label.unwrap_or_else(|| r.developer_name.clone()),
            id: r.id,
            developer_name: r.developer_name,
            total: seats(r.total_licenses),
            used: seats(r.used_licenses),
            status: r.status.unwrap_or_default(),
            expiration_date: r.expiration_date,
        }
    }
}

impl From<PermissionSetRow> for model::PermissionSet {
    fn from(r: PermissionSetRow) -> Self {
        model::PermissionSet {
            label: r.label.unwrap_or_else(|| r.name.clone()),
            id: r.id,
            name: r.name,
            license_id: r.license_id,
            is_owned_by_profile: r.is_owned_by_profile.unwrap_or(false),
            permission_set_group_id: r.permission_set_group_id,
            namespace_prefix: r.namespace_prefix,
            is_custom: r.is_custom.unwrap_or(false),
        }
    }
}

impl From<CallCenterRow> for model::CallCenter {
    fn from(r: CallCenterRow) -> Self {
        model::CallCenter {
            internal_name: r.internal_name.unwrap_or_default(),
            id: r.id,
            name: r.name,
            adapter_url: r.adapter_url,
            custom_settings: r.custom_settings,
        }
    }
}

impl From<GroupRow> for model::PermissionSetGroup {
    fn from(r: GroupRow) -> Self {
        model::PermissionSetGroup {
            label: r.master_label.unwrap_or_else(|| r.developer_name.clone()),
            id: r.id,
            developer_name: r.developer_name,
        }
    }
}

impl From<GroupComponentRow> for model::PermissionSetGroupComponent {
    fn from(r: GroupComponentRow) -> Self {
        model::PermissionSetGroupComponent {
            id: r.id,
            permission_set_group_id: r.permission_set_group_id,
            permission_set_id: r.permission_set_id,
        }
    }
}

impl From<PsaRow> for model::PermissionSetAssignment {
    fn from(r: PsaRow) -> Self {
        model::PermissionSetAssignment {
            id: r.id,
            assignee_id: r.assignee_id,
            permission_set_id: r.permission_set_id,
            permission_set_group_id: r.permission_set_group_id,
            // Older API versions lack IsActive; an assignment that exists is in force.
            is_active: r.is_active.unwrap_or(true),
            expiration_date: r.expiration_date,
        }
    }
}

impl From<PslaRow> for model::PermissionSetLicenseAssignment {
    fn from(r: PslaRow) -> Self {
        model::PermissionSetLicenseAssignment {
            id: r.id,
            assignee_id: r.assignee_id,
            license_id: r.permission_set_license_id,
        }
    }
}

impl From<UserRow> for model::User {
    fn from(r: UserRow) -> Self {
        model::User {
            name: r.name.unwrap_or_else(|| r.username.clone()),
            id: r.id,
            username: r.username,
            is_active: r.is_active.unwrap_or(false),
            call_center_id: r.call_center_id,
            last_login_date: r.last_login_date.as_deref().map(normalize_datetime),
            created_date: r.created_date.as_deref().map(normalize_datetime),
        }
    }
}

/// A Salesforce dateTime as RFC 3339 UTC to the second. The REST API writes them as
/// `2026-06-29T08:15:00.000+0000` (no colon in the offset, which RFC 3339 parsers refuse); a
/// value in neither form is kept as it came, and the rule treats an unreadable date as absent.
pub(crate) fn normalize_datetime(text: &str) -> String {
    let parsed = chrono::DateTime::parse_from_rfc3339(text)
        .or_else(|_| chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"));
    match parsed {
        Ok(t) => t
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        Err(_) => text.to_string(),
    }
}
