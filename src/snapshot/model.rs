//! The org snapshot: the license facts of one org at one moment, as plain serializable data.
//!
//! Owns: the domain types the rules, the ledger and the plan read (DOMAIN.md §2 fields in
//! snake_case), the snapshot file's schema version and digest (every serialized snapshot carries
//! the SHA-256 of its content), and reading a saved snapshot back (`scan --snapshot FILE`
//! replays one offline): a file whose content no longer matches its digest, or whose records
//! refer to records it does not hold, is refused.
//!
//! Must not: know the Salesforce wire format (nested `attributes`, relationship objects, paging),
//! fetch anything, or read the clock: the caller fetches, converts wire records into these types,
//! and passes `taken_at` in.

use std::collections::HashSet;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// The snapshot schema this build writes and reads. Bump it when a field changes meaning or is
/// removed, so an old saved snapshot is refused with a clear message instead of misread.
/// Version 2: the file carries a `digest` of its content.
pub const SNAPSHOT_SCHEMA_VERSION: u32 = 2;

/// How many problems an error lists before "and N more".
const SHOWN: usize = 8;

/// A saved snapshot could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Not JSON, truncated, or a field missing or of the wrong type.
    #[error(
        "the snapshot is not a valid pslwarden snapshot ({0}). It may be truncated or edited by \
         hand: use the snapshot.json of another run, or run `scan` against the org again"
    )]
    Malformed(#[source] serde_json::Error),
    /// Written by another version of pslwarden.
    #[error(
        "the snapshot has schema version {found}, this pslwarden reads version {supported}: \
         run `scan` against the org again to take a new snapshot"
    )]
    UnsupportedVersion { found: u32, supported: u32 },
    /// The content no longer matches the digest written with it.
    #[error(
        "the snapshot was edited after pslwarden wrote it (its content no longer matches its \
         digest{}): a replay judges only what was read from the org. Use an unedited \
         snapshot.json, or run `scan` against the org again",
        .detail.as_deref().map(|d| format!("; {d}")).unwrap_or_default()
    )]
    Edited { detail: Option<String> },
    /// Records refer to records the snapshot does not hold: it cannot be judged.
    #[error(
        "the snapshot is not consistent: {}. A snapshot pslwarden wrote holds every record its \
         records refer to; use an unedited snapshot.json, or run `scan` against the org again",
        list(.problems)
    )]
    Inconsistent { problems: Vec<String> },
}

/// The first few of `items`, joined with "; ", and how many more there are: what a file-check
/// error shows (the plan file's checks use it too).
pub(crate) fn list(items: &[String]) -> String {
    let mut shown = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if items.len() > SHOWN {
        shown.push_str(&format!("; and {} more", items.len() - SHOWN));
    }
    shown
}

/// The license facts of one org at one moment.
///
/// # Contract: a snapshot may be partial
///
/// The snapshot is taken with targeted queries, so it does NOT hold every assignment in the org.
/// Consumers must only draw conclusions that the data below guarantees; whoever fills a snapshot
/// must provide at least this:
///
/// * `licenses`: every permission set license of the org (the ledger lists them all, and a
///   license missing here makes its assignments unjudgeable).
/// * `permission_sets`: every permission set whose `LicenseId` is one of those licenses, plus
///   every set named in the config (the Voice permission set, the contact-center sets, a
///   replacement set), even when it is not linked to a license.
/// * `group_components`: every component whose permission set is one of those sets, and
///   `groups`: every group those components belong to.
/// * `license_assignments`: every assignment of every license the enabled rules judge
///   (`orphan-psl`: all licenses except its exceptions; `scv-double-consumption`: the two Voice
///   licenses).
/// * `permission_set_assignments`: for every user in `license_assignments`, ALL of that user's
///   assignments of the sets above, direct or through a group (a group assignment is the one whose
///   `permission_set_group_id` is one of `groups`). A missing one makes a needed seat look wasted,
///   and the plan would delete it.
///   Also the assignments of a configured replacement set by those users, so the plan does not
///   create one that exists (Salesforce would answer `DUPLICATE_VALUE`).
/// * `users`: every assignee of those license assignments.
/// * `call_centers`: every contact center (there are few).
///
/// Serialized, it carries one more field, `digest`: the SHA-256 of the rest (see
/// [`OrgSnapshot::content_digest`]), computed as it is written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSnapshot {
    /// [`SNAPSHOT_SCHEMA_VERSION`] at the time of writing; checked when a saved snapshot is read.
    pub schema_version: u32,
    /// `Organization.Id`, so a saved snapshot or plan cannot be mistaken for another org's.
    pub org_id: String,
    /// `Organization.Name`, for reports.
    pub org_name: String,
    /// When the snapshot was taken (RFC 3339, UTC), passed in by the caller: the data is only
    /// true as of this moment.
    pub taken_at: String,
    /// REST API version the data was read with, e.g. `"65.0"`; field meanings can change between
    /// versions.
    pub api_version: String,
    /// Assignees of the license assignments below.
    pub users: Vec<User>,
    /// Licensed permission sets and the sets named in config.
    pub permission_sets: Vec<PermissionSet>,
    /// Every permission set license of the org.
    pub licenses: Vec<PermissionSetLicense>,
    /// Assignments of the permission sets above (directly or through a group).
    pub permission_set_assignments: Vec<PermissionSetAssignment>,
    /// Seats: one record per user per license.
    pub license_assignments: Vec<PermissionSetLicenseAssignment>,
    /// Groups that contain one of the permission sets above.
    pub groups: Vec<PermissionSetGroup>,
    /// Which permission sets those groups contain.
    pub group_components: Vec<PermissionSetGroupComponent>,
    /// Contact centers, to say which one a user is in and what kind it is.
    pub call_centers: Vec<CallCenter>,
    /// Natterbox's per-user license records, when its rule pack ran (`None`: not looked for;
    /// older snapshots have none).
    #[serde(default)]
    pub natterbox: Option<NatterboxData>,
    /// Calls per seat holder, when the `idle-voice-seat` rule ran (`None`: not looked for).
    #[serde(default)]
    pub voice_activity: Option<VoiceActivity>,
    /// The digest a file carried, while [`OrgSnapshot::from_json`] checks it; `None` otherwise
    /// (serializing computes the digest afresh, so it is never stale).
    #[serde(default, rename = "digest")]
    read_digest: Option<String>,
}

/// The content the digest covers: every field but the digest, in declaration order.
struct Content<'a>(&'a OrgSnapshot);

impl OrgSnapshot {
    /// Writes every field but the digest; `natterbox` only when looked for.
    fn write_fields<S: SerializeStruct>(&self, st: &mut S) -> Result<(), S::Error> {
        st.serialize_field("schema_version", &self.schema_version)?;
        st.serialize_field("org_id", &self.org_id)?;
        st.serialize_field("org_name", &self.org_name)?;
        st.serialize_field("taken_at", &self.taken_at)?;
        st.serialize_field("api_version", &self.api_version)?;
        st.serialize_field("users", &self.users)?;
        st.serialize_field("permission_sets", &self.permission_sets)?;
        st.serialize_field("licenses", &self.licenses)?;
        st.serialize_field(
            "permission_set_assignments",
            &self.permission_set_assignments,
        )?;
        st.serialize_field("license_assignments", &self.license_assignments)?;
        st.serialize_field("groups", &self.groups)?;
        st.serialize_field("group_components", &self.group_components)?;
        st.serialize_field("call_centers", &self.call_centers)?;
        match &self.natterbox {
            Some(n) => st.serialize_field("natterbox", n)?,
            None => st.skip_field("natterbox")?,
        }
        match &self.voice_activity {
            Some(a) => st.serialize_field("voice_activity", a),
            None => st.skip_field("voice_activity"),
        }
    }

    /// SHA-256 (hex) of the canonical JSON of the content (struct fields in declaration order,
    /// maps as B-trees), streamed into the hash so a large org's snapshot is not copied.
    pub fn content_digest(&self) -> String {
        let mut hasher = HashWriter(Sha256::new());
        serde_json::to_writer(&mut hasher, &Content(self))
            .expect("a snapshot holds only strings, numbers and booleans, and hashing cannot fail");
        hasher
            .0
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// Records that refer to records the snapshot does not hold, or ids held twice. Only
    /// references the fetcher guarantees are checked (see the contract above): an assignment of
    /// a permission set may name a user absent here (one whose seat is of an excepted license).
    pub fn consistency_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let users = ids(&self.users, |u| &u.id, "user", &mut problems);
        let sets = ids(
            &self.permission_sets,
            |p| &p.id,
            "permission set",
            &mut problems,
        );
        let licenses = ids(
            &self.licenses,
            |l| &l.id,
            "permission set license",
            &mut problems,
        );
        let groups = ids(
            &self.groups,
            |g| &g.id,
            "permission set group",
            &mut problems,
        );
        let centers = ids(
            &self.call_centers,
            |c| &c.id,
            "contact center",
            &mut problems,
        );
        ids(
            &self.permission_set_assignments,
            |a| &a.id,
            "permission set assignment",
            &mut problems,
        );
        ids(
            &self.license_assignments,
            |a| &a.id,
            "license assignment",
            &mut problems,
        );
        for seat in &self.license_assignments {
            if !users.contains(seat.assignee_id.as_str()) {
                problems.push(format!(
                    "license assignment {} is of user {}, who is not in `users`",
                    seat.id, seat.assignee_id
                ));
            }
            if !licenses.contains(seat.license_id.as_str()) {
                problems.push(format!(
                    "license assignment {} is a seat of license {}, which is not in `licenses`",
                    seat.id, seat.license_id
                ));
            }
        }
        for a in &self.permission_set_assignments {
            match (&a.permission_set_group_id, &a.permission_set_id) {
                (Some(group), _) if !groups.contains(group.as_str()) => problems.push(format!(
                    "permission set assignment {} gives group {group}, which is not in `groups`",
                    a.id
                )),
                (None, Some(set)) if !sets.contains(set.as_str()) => problems.push(format!(
                    "permission set assignment {} gives permission set {set}, which is not in \
                     `permission_sets`",
                    a.id
                )),
                (None, None) => problems.push(format!(
                    "permission set assignment {} names neither a permission set nor a group",
                    a.id
                )),
                _ => {}
            }
        }
        for c in &self.group_components {
            if !groups.contains(c.permission_set_group_id.as_str()) {
                problems.push(format!(
                    "group component {} is of group {}, which is not in `groups`",
                    c.id, c.permission_set_group_id
                ));
            }
            if !sets.contains(c.permission_set_id.as_str()) {
                problems.push(format!(
                    "group component {} holds permission set {}, which is not in \
                     `permission_sets`",
                    c.id, c.permission_set_id
                ));
            }
        }
        for u in &self.users {
            if let Some(center) = &u.call_center_id
                && !centers.contains(center.as_str())
            {
                problems.push(format!(
                    "user {} is in contact center {center}, which is not in `call_centers`",
                    u.id
                ));
            }
        }
        problems
    }
}

/// The ids of `items`, noting any held twice.
fn ids<'a, T>(
    items: &'a [T],
    id: impl Fn(&'a T) -> &'a String,
    kind: &str,
    problems: &mut Vec<String>,
) -> HashSet<&'a str> {
    let mut seen = HashSet::with_capacity(items.len());
    for item in items {
        let id = id(item).as_str();
        if !seen.insert(id) {
            problems.push(format!("{kind} {id} is in the snapshot twice"));
        }
    }
    seen
}

impl Serialize for Content<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut st = serializer.serialize_struct("OrgSnapshot", 15)?;
        self.0.write_fields(&mut st)?;
        st.end()
    }
}

impl Serialize for OrgSnapshot {
    /// The content, then `digest`: every snapshot written carries the digest of what it holds.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let digest = self.content_digest();
        let mut st = serializer.serialize_struct("OrgSnapshot", 16)?;
        self.write_fields(&mut st)?;
        st.serialize_field("digest", &digest)?;
        st.end()
    }
}

/// Feeds serialized bytes straight into the hash.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What the Natterbox pack found in the org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatterboxData {
    /// The pack's object (`nbavs__User__c`), and whether the org has it as the pack expects.
    pub object: String,
    /// `None` when present and read; otherwise why not (package not installed, fields differ).
    pub absent: Option<String>,
    /// One per user license record; `fields` holds each of the pack's checkbox fields.
    pub records: Vec<NatterboxRecord>,
    /// The package's seats (`PackageLicense`), when the org reports them.
    pub package: Option<PackageSeats>,
}

/// One Natterbox per-user license record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatterboxRecord {
    /// The record's id: what a fix updates.
    pub id: String,
    /// The User it belongs to (its lookup field).
    pub user_id: Option<String>,
    /// That user's `Username` and `IsActive`, for reports.
    pub username: Option<String>,
    pub user_active: Option<bool>,
    /// Checkbox field → checked.
    pub fields: std::collections::BTreeMap<String, bool>,
}

/// A managed package's seats (`PackageLicense`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSeats {
    /// `AllowedLicenses`: -1 means the whole org (site licence).
    pub allowed: i64,
    /// `UsedLicenses`, Salesforce's count.
    pub used: i64,
    /// `Status` (`Active`, `Trial`, ...).
    pub status: Option<String>,
}

impl OrgSnapshot {
    /// An empty snapshot of the current schema version, to be filled by the fetcher (or a test).
    pub fn new(
        org_id: impl Into<String>,
        org_name: impl Into<String>,
        taken_at: impl Into<String>,
        api_version: impl Into<String>,
    ) -> Self {
        OrgSnapshot {
            schema_version: SNAPSHOT_SCHEMA_VERSION,
            org_id: org_id.into(),
            org_name: org_name.into(),
            taken_at: taken_at.into(),
            api_version: api_version.into(),
            users: Vec::new(),
            permission_sets: Vec::new(),
            licenses: Vec::new(),
            permission_set_assignments: Vec::new(),
            license_assignments: Vec::new(),
            groups: Vec::new(),
            group_components: Vec::new(),
            call_centers: Vec::new(),
            natterbox: None,
            voice_activity: None,
            read_digest: None,
        }
    }

    /// Reads a saved snapshot (the text of a `snapshot.json`), refusing other schema versions,
    /// content that does not match its digest, and records referring to records it lacks.
    pub fn from_json(text: &str) -> Result<Self, SnapshotError> {
        // The version is read on its own first, so a snapshot from another version says so
        // instead of failing on whichever field changed.
        #[derive(Deserialize)]
        struct VersionOnly {
            schema_version: u32,
        }
        let version: VersionOnly = serde_json::from_str(text).map_err(SnapshotError::Malformed)?;
        if version.schema_version != SNAPSHOT_SCHEMA_VERSION {
            return Err(SnapshotError::UnsupportedVersion {
                found: version.schema_version,
                supported: SNAPSHOT_SCHEMA_VERSION,
            });
        }
        let mut snapshot: OrgSnapshot =
            serde_json::from_str(text).map_err(SnapshotError::Malformed)?;
        match snapshot.read_digest.take() {
            None => {
                return Err(SnapshotError::Edited {
                    detail: Some("it has no `digest`".to_string()),
                });
            }
            Some(digest) if digest != snapshot.content_digest() => {
                return Err(SnapshotError::Edited { detail: None });
            }
            Some(_) => {}
        }
        let problems = snapshot.consistency_problems();
        if !problems.is_empty() {
            return Err(SnapshotError::Inconsistent { problems });
        }
        Ok(snapshot)
    }

    /// The snapshot as pretty JSON, the form saved with every run.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self)
            .expect("a snapshot holds only strings, numbers and booleans, which always serialize")
    }
}

/// `User`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// `Id` (18 characters).
    pub id: String,
    /// `Username`: what an admin searches for in Setup.
    pub username: String,
    /// `Name`: for reports.
    pub name: String,
    /// `IsActive`: wasted seats of deactivated users are reported apart from active ones.
    pub is_active: bool,
    /// `CallCenterId`: the contact center the user is in (at most one), evidence for findings.
    pub call_center_id: Option<String>,
    /// `LastLoginDate` (RFC 3339), read only when the `idle-voice-seat` rule runs; `None`:
    /// never logged in, or not read. Evidence, and `also_last_login_days` spares a recent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login_date: Option<String>,
    /// `CreatedDate` (RFC 3339), read only when the `idle-voice-seat` rule runs: a user created
    /// within the idle period is never idle (they had no time to take calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date: Option<String>,
}

/// What the `idle-voice-seat` rule needs from `VoiceCall`, read with aggregate queries (never
/// every call): for each holder of a judged Voice seat, their latest call as agent in the period,
/// and for those without one, their latest call before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceActivity {
    /// The instant the period ends (RFC 3339): the scan's "now" (the gate's clock, so a
    /// rehearsal clock moves it too). New users and recent logins are judged against it.
    pub as_of: String,
    /// The period's start (RFC 3339): a call at or after it is activity.
    pub since: String,
    /// `None` when the calls were read; otherwise why they could not be (no `VoiceCall` object,
    /// no access, a field missing): the rule is then skipped with this note.
    pub absent: Option<String>,
    /// The users whose calls were looked at (the holders of the judged seats, or the targets of
    /// an apply's re-check): a user absent here was not looked at, which is not "no call".
    pub users: Vec<String>,
    /// User id → start of their latest call as agent at or after `since`.
    pub last_call_in_period: std::collections::BTreeMap<String, String>,
    /// For users with no call in the period: user id → their latest call before it.
    pub last_call_before: std::collections::BTreeMap<String, LastCall>,
}

/// A user's latest call as agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LastCall {
    /// `CallStartDateTime` (RFC 3339).
    pub at: String,
    /// `CallType` (`Inbound`, `Outbound`, ...), when the org has the field.
    pub call_type: Option<String>,
}

/// `PermissionSet`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSet {
    /// `Id`.
    pub id: String,
    /// `Name`: the API name, stable across label changes; what config refers to.
    pub name: String,
    /// `Label`: for reports.
    pub label: String,
    /// `LicenseId`: the license this set needs (a permission set license, or a user license);
    /// a user holding the set needs a seat of that license.
    pub license_id: Option<String>,
    /// `IsOwnedByProfile`: a profile's hidden set, never the Voice permission set.
    pub is_owned_by_profile: bool,
    /// `PermissionSetGroupId`: set on a group's aggregated permission set, which is never the
    /// Voice permission set either.
    pub permission_set_group_id: Option<String>,
    /// `NamespacePrefix`: a managed package's sets are named `prefix__Name` in config.
    pub namespace_prefix: Option<String>,
    /// `IsCustom`: standard (Salesforce-provided) versus admin-made, for reports.
    pub is_custom: bool,
}

impl PermissionSet {
    /// The name config uses: `Name`, prefixed with `NamespacePrefix__` for a managed package's set.
    pub fn qualified_name(&self) -> String {
        match &self.namespace_prefix {
            Some(prefix) if !prefix.is_empty() => format!("{prefix}__{}", self.name),
            _ => self.name.clone(),
        }
    }

    /// Whether config's `name` designates this set (`Name`, or `prefix__Name` when namespaced).
    pub fn is_named(&self, name: &str) -> bool {
        match &self.namespace_prefix {
            Some(prefix) if !prefix.is_empty() => name
                .strip_prefix(prefix.as_str())
                .and_then(|rest| rest.strip_prefix("__"))
                .is_some_and(|rest| rest == self.name),
            _ => name == self.name,
        }
    }
}

/// `PermissionSetLicense` (read-only in Salesforce).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSetLicense {
    /// `Id`.
    pub id: String,
    /// `DeveloperName`: stable, unlike the label ("Service Cloud Voice" became "Salesforce
    /// Voice"); what config and reports name a license by.
    pub developer_name: String,
    /// `MasterLabel`: for reports.
    pub label: String,
    /// `TotalLicenses`: seats bought.
    pub total: u32,
    /// `UsedLicenses`: seats taken, as Salesforce counts them (the snapshot may not hold every
    /// assignment, so this is never recomputed from it).
    pub used: u32,
    /// `Status` (`Active`, `Disabled`), for reports.
    pub status: String,
    /// `ExpirationDate` (`YYYY-MM-DD`), for reports.
    pub expiration_date: Option<String>,
}

/// `PermissionSetAssignment`: a user holds a permission set, or a permission set group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSetAssignment {
    /// `Id`: what the plan deletes.
    pub id: String,
    /// `AssigneeId`: the user.
    pub assignee_id: String,
    /// `PermissionSetId`. Salesforce always fills it (for a group assignment: the group's
    /// aggregated permission set); optional so that a record without it is still read.
    pub permission_set_id: Option<String>,
    /// `PermissionSetGroupId`: set when the user holds a whole group; the group's member sets
    /// then come from `group_components`.
    pub permission_set_group_id: Option<String>,
    /// `IsActive`, for reports. The rules count an assignment whether or not it is active: it
    /// exists, so a license it needs must not be taken away.
    pub is_active: bool,
    /// `ExpirationDate`, for reports.
    pub expiration_date: Option<String>,
}

/// `PermissionSetLicenseAssign`: one seat of a license taken by one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSetLicenseAssignment {
    /// `Id`: what the plan deletes to free the seat.
    pub id: String,
    /// `AssigneeId`: the user.
    pub assignee_id: String,
    /// `PermissionSetLicenseId`: the license.
    pub license_id: String,
}

/// `PermissionSetGroup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSetGroup {
    /// `Id`.
    pub id: String,
    /// `DeveloperName`: for reports and manual steps.
    pub developer_name: String,
    /// `MasterLabel`: what an admin sees in Setup.
    pub label: String,
}

/// `PermissionSetGroupComponent`: a group contains a permission set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSetGroupComponent {
    /// `Id`.
    pub id: String,
    /// `PermissionSetGroupId`: the group.
    pub permission_set_group_id: String,
    /// `PermissionSetId`: the member set; a licensed member needs its license for every user
    /// holding the group.
    pub permission_set_id: String,
}

/// `CallCenter`: a contact center (Amazon Connect or partner telephony).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallCenter {
    /// `Id`: what `User.call_center_id` points to.
    pub id: String,
    /// `Name`: what config overrides the classification by.
    pub name: String,
    /// `InternalName`: also accepted by the classification override.
    pub internal_name: String,
    /// `AdapterUrl`, for reports.
    pub adapter_url: Option<String>,
    /// `CustomSettings`: the settings text, which tells Amazon Connect centers from partner ones.
    pub custom_settings: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_snapshot_reads_back_identical() {
        let mut snapshot =
            OrgSnapshot::new("00D000000000001AAA", "Org", "2026-01-01T00:00:00Z", "65.0");
        snapshot.users.push(User {
            id: "005000000000001AAA".into(),
            username: "a@example.org".into(),
            name: "A".into(),
            is_active: true,
            call_center_id: None,
            last_login_date: None,
            created_date: Some("2020-01-01T00:00:00Z".into()),
        });
        let read = OrgSnapshot::from_json(&snapshot.to_json_pretty()).expect("reads back");
        assert_eq!(read, snapshot);
    }

    #[test]
    fn a_truncated_snapshot_is_a_clear_error() {
        let snapshot =
            OrgSnapshot::new("00D000000000001AAA", "Org", "2026-01-01T00:00:00Z", "65.0");
        let text = snapshot.to_json_pretty();
        let error = OrgSnapshot::from_json(&text[..text.len() / 2]).expect_err("truncated");
        assert!(matches!(error, SnapshotError::Malformed(_)), "{error}");
        assert!(error.to_string().contains("truncated"), "{error}");
    }

    #[test]
    fn a_snapshot_of_another_schema_version_is_refused() {
        let mut snapshot =
            OrgSnapshot::new("00D000000000001AAA", "Org", "2026-01-01T00:00:00Z", "65.0");
        snapshot.schema_version = SNAPSHOT_SCHEMA_VERSION + 1;
        let error = OrgSnapshot::from_json(&snapshot.to_json_pretty()).expect_err("newer version");
        assert!(
            matches!(error, SnapshotError::UnsupportedVersion { .. }),
            "{error}"
        );
    }

    #[test]
    fn an_edited_snapshot_is_refused() {
        let mut snapshot =
            OrgSnapshot::new("00D000000000001AAA", "Org", "2026-01-01T00:00:00Z", "65.0");
        snapshot.users.push(User {
            id: "005000000000001AAA".into(),
            username: "a@example.org".into(),
            name: "A".into(),
            is_active: true,
            call_center_id: None,
            last_login_date: None,
            created_date: Some("2020-01-01T00:00:00Z".into()),
        });
        let text = snapshot.to_json_pretty();
        assert!(text.contains(&snapshot.content_digest()), "{text}");
        let edited = text.replace("\"is_active\": true", "\"is_active\": false");
        assert_ne!(edited, text);
        let error = OrgSnapshot::from_json(&edited).expect_err("edited");
        assert!(matches!(error, SnapshotError::Edited { .. }), "{error}");
        assert!(error.to_string().contains("edited"), "{error}");
    }

    #[test]
    fn a_seat_of_a_user_the_snapshot_lacks_is_refused() {
        let mut snapshot =
            OrgSnapshot::new("00D000000000001AAA", "Org", "2026-01-01T00:00:00Z", "65.0");
        snapshot
            .license_assignments
            .push(PermissionSetLicenseAssignment {
                id: "2LA000000000001AAA".into(),
                assignee_id: "005000000000009AAA".into(),
                license_id: "0PL000000000001AAA".into(),
            });
        let error = OrgSnapshot::from_json(&snapshot.to_json_pretty()).expect_err("dangling");
        let text = error.to_string();
        assert!(
            matches!(error, SnapshotError::Inconsistent { ref problems } if problems.len() == 2),
            "{text}"
        );
        assert!(
            text.contains("005000000000009AAA") && text.contains("0PL000000000001AAA"),
            "{text}"
        );
    }

    #[test]
    fn a_managed_package_set_is_named_with_its_prefix() {
        let set = PermissionSet {
            id: "0PS000000000001AAA".into(),
            name: "Agent".into(),
            label: "Agent".into(),
            license_id: None,
            is_owned_by_profile: false,
            permission_set_group_id: None,
            namespace_prefix: Some("nbavs".into()),
            is_custom: false,
        };
        assert!(set.is_named("nbavs__Agent"));
        assert!(!set.is_named("Agent"));
        assert_eq!(set.qualified_name(), "nbavs__Agent");
    }
}
