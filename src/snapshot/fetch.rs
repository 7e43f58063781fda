//! Fetching the snapshot: targeted SOQL, batched into composite calls, pages fetched 5 at a time.
//!
//! Two rounds of queries, because the second needs ids from the first:
//!
//! 1. one composite call with five small queries: every `PermissionSetLicense`, the permission
//!    sets that consume a license (or that the config names), every `CallCenter`, the group
//!    components of licensed sets, and the groups;
//! 2. one composite call with the first pages of the big queries — the PSL assignments (of every
//!    license the rules look at), the permission set assignments of the licensed sets and their
//!    groups, the users holding those PSL assignments, and the `Organization` row — then the
//!    remaining pages, five per composite call.
//!
//! How the pages are fetched (predicted from the first page's locator and checked, or followed
//! one `nextRecordsUrl` at a time when the org does not allow that) is `super::paging`'s.
//!
//! Also here, because it is SOQL too: [`fetch_voice_calls`] for `pslwarden usage`, with the same
//! paging.
//!
//! Must not: judge anything (that is the rules'), or write anything to the org.

use serde_json::value::RawValue;

use super::model::{self, OrgSnapshot};
use super::paging::{PagedQuery, fetch_pages};
use super::wire;
use crate::rules::RuleContext;
use crate::rules::natterbox::Pack;
use crate::salesforce::{Client, SfError};

/// Why the snapshot could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("query for {what} failed: {source}")]
    Query {
        what: &'static str,
        #[source]
        source: SfError,
    },
    #[error("{0}")]
    Salesforce(#[from] SfError),
    #[error(
        "the rows of {what} did not have the expected fields ({detail}); is the API version \
         in the config one the org supports?"
    )]
    Shape { what: &'static str, detail: String },
    #[error(
        "paging through {what} did not converge after {pages} pages (rows {covered} of {total}); \
         the org's query cursors behave unexpectedly — try again, and report it if it persists"
    )]
    Paging {
        what: &'static str,
        pages: u64,
        covered: u64,
        total: u64,
    },
}

/// How the fetch went, for the report and the benchmark.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FetchStats {
    /// Composite calls made (each one API call).
    pub composite_calls: u64,
    /// Query pages fetched, first pages included.
    pub pages: u64,
    /// Rows received.
    pub rows: u64,
}

/// Progress of page fetching: pages fetched so far and the pages known to be needed.
#[derive(Debug, Clone, Copy)]
pub struct FetchProgress {
    pub pages_done: u64,
    pub pages_total: u64,
}

/// One query of the snapshot.
struct Spec {
    /// What it fetches, for messages.
    what: &'static str,
    soql: String,
    /// Turns one row into a record as soon as its page arrives, so pages are never kept as JSON
    /// (a 100 000-user org has ~500 000 rows: as `Value`s they would take most of a gigabyte).
    convert: fn(&RawValue) -> Result<Record, serde_json::Error>,
}

/// A row converted into the snapshot model (or the one wire row the model has no type for).
enum Record {
    License(model::PermissionSetLicense),
    PermissionSet(model::PermissionSet),
    CallCenter(model::CallCenter),
    GroupComponent(model::PermissionSetGroupComponent),
    Group(model::PermissionSetGroup),
    LicenseAssignment(model::PermissionSetLicenseAssignment),
    Assignment(model::PermissionSetAssignment),
    User(model::User),
    Organization(wire::OrganizationRow),
    /// Boxed, like the other rare or large variants, so every `Record` of a large scan stays as
    /// small as the common ones (half a million of them are held at once).
    VoiceCall(Box<crate::usage::compute::Segment>),
    /// A row whose fields come from data (the Natterbox pack), read as a JSON object.
    Raw(Box<serde_json::Map<String, serde_json::Value>>),
    Package(Box<wire::PackageLicenseRow>),
}

/// `fn(Value) -> Record` for a wire type `W` convertible into a model type.
macro_rules! converter {
    ($wire:ty, $variant:ident) => {
        |v: &RawValue| serde_json::from_str::<$wire>(v.get()).map(|w| Record::$variant(w.into()))
    };
}

/// A `VoiceCall` row into its (boxed) record.
fn voice_call_record(v: &RawValue) -> Result<Record, serde_json::Error> {
    serde_json::from_str::<wire::VoiceCallRow>(v.get())
        .map(|w| Record::VoiceCall(Box::new(w.into())))
}

/// Picks one kind of record out of a query's rows (every row of a query is of one kind).
macro_rules! take {
    ($rows:expr, $variant:ident) => {
        $rows
            .into_iter()
            .filter_map(|r| match r {
                Record::$variant(x) => Some(x),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
}

/// Takes the snapshot the rules in `ctx` need. `extra_permission_sets` are further set names to
/// include (e.g. the plan's replacement set). `taken_at` is stamped on the snapshot.
pub async fn fetch_snapshot(
    client: &Client,
    ctx: &RuleContext,
    extra_permission_sets: &[String],
    natterbox: Option<&Pack>,
    taken_at: String,
    progress: &(dyn Fn(FetchProgress) + Sync),
) -> Result<(OrgSnapshot, FetchStats), FetchError> {
    fetch_scoped(
        client,
        ctx,
        extra_permission_sets,
        natterbox,
        None,
        taken_at,
        progress,
    )
    .await
}

/// Users per `IN (...)` list of a user-scoped query: about 6 000 characters of SOQL, far under
/// Salesforce's query length limit.
const USERS_PER_QUERY: usize = 300;

/// The same snapshot as [`fetch_snapshot`], restricted to the users `user_ids`: the reference
/// data (licenses, sets, groups, contact centers) in full, and only those users' seats,
/// assignments and user records. What `apply` reads right before it acts, to re-check each
/// action's facts without reading the whole org again.
pub async fn fetch_snapshot_of_users(
    client: &Client,
    ctx: &RuleContext,
    extra_permission_sets: &[String],
    natterbox: Option<&Pack>,
    user_ids: &[String],
    taken_at: String,
) -> Result<(OrgSnapshot, FetchStats), FetchError> {
    fetch_scoped(
        client,
        ctx,
        extra_permission_sets,
        natterbox,
        Some(user_ids),
        taken_at,
        &|_| {},
    )
    .await
}

/// Whether the org has the Natterbox pack's object with every field the pack names, by
/// describing it: `Ok(())` when it does, else why not (never assumed).
async fn describe_natterbox(client: &Client, pack: &Pack) -> Result<(), String> {
    let describe = match client
        .get_json(&format!("sobjects/{}/describe", pack.object))
        .await
    {
        Ok(d) => d,
        Err(e) if e.api_code() == Some(&crate::salesforce::ApiErrorCode::NotFound) => {
            return Err(format!(
                "the org has no {} object: the Natterbox package ({}) is not installed, or the \
                 integration user cannot see it",
                pack.object, pack.namespace
            ));
        }
        Err(e) => return Err(format!("describing {} failed: {e}", pack.object)),
    };
    let fields: std::collections::HashSet<String> = describe["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str().map(str::to_ascii_lowercase))
        .collect();
    let mut missing: Vec<&str> = pack
        .licenses
        .values()
        .map(String::as_str)
        .chain([pack.user_field.as_str()])
        .filter(|f| !fields.contains(&f.to_ascii_lowercase()))
        .collect();
    missing.sort_unstable();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} has no field {}: the pack's field names are a reading of Natterbox's \
             documentation; correct them in the pack ({}) for this org",
            pack.object,
            missing.join(", "),
            pack.source
        ))
    }
}

/// The relationship name of a custom lookup (`nbavs__User__c` → `nbavs__User__r`).
fn relationship_of(field: &str) -> String {
    field
        .strip_suffix("__c")
        .map(|base| format!("{base}__r"))
        .unwrap_or_default()
}

/// The Natterbox record of a raw row, reading the pack's fields.
fn natterbox_record(
    pack: &Pack,
    row: &serde_json::Map<String, serde_json::Value>,
) -> Option<model::NatterboxRecord> {
    let user = row.get(&relationship_of(&pack.user_field));
    Some(model::NatterboxRecord {
        id: row.get("Id")?.as_str()?.to_string(),
        user_id: row
            .get(&pack.user_field)
            .and_then(|v| v.as_str())
            .map(str::to_string),
        username: user
            .and_then(|u| u.get("Username"))
            .and_then(|v| v.as_str())
            .map(str::to_string),
        user_active: user
            .and_then(|u| u.get("IsActive"))
            .and_then(|v| v.as_bool()),
        fields: pack
            .licenses
            .values()
            .map(|f| {
                (
                    f.clone(),
                    row.get(f).and_then(|v| v.as_bool()).unwrap_or(false),
                )
            })
            .collect(),
    })
}

#[allow(clippy::too_many_arguments)]
async fn fetch_scoped(
    client: &Client,
    ctx: &RuleContext,
    extra_permission_sets: &[String],
    natterbox: Option<&Pack>,
    users: Option<&[String]>,
    taken_at: String,
    progress: &(dyn Fn(FetchProgress) + Sync),
) -> Result<(OrgSnapshot, FetchStats), FetchError> {
    let mut stats = FetchStats::default();
    let identity = client.token_identity()?;
    // `None`: not looked for; `Some(None)`: present; `Some(Some(why))`: absent.
    let natterbox_absent = match natterbox {
        Some(pack) => Some(describe_natterbox(client, pack).await.err()),
        None => None,
    };

    // Round 1: the small reference data, in one composite call.
    let mut named: Vec<String> = ctx
        .named_permission_sets()
        .into_iter()
        .map(str::to_string)
        .collect();
    named.extend(extra_permission_sets.iter().cloned());
    named.sort();
    named.dedup();
    let ps_filter = if named.is_empty() {
        "LicenseId != null".to_string()
    } else {
        format!("LicenseId != null OR Name IN ({})", soql_list(&named))
    };
    let round1 = vec![
        Spec {
            what: "permission set licenses",
            soql: wire::LICENSES_SOQL.to_string(),
            convert: converter!(wire::PslRow, License),
        },
        Spec {
            what: "permission sets",
            soql: format!(
                "SELECT Id, Name, Label, LicenseId, IsOwnedByProfile, PermissionSetGroupId, \
                 NamespacePrefix, IsCustom FROM PermissionSet WHERE IsOwnedByProfile = false \
                 AND ({ps_filter})"
            ),
            convert: converter!(wire::PermissionSetRow, PermissionSet),
        },
        Spec {
            what: "contact centers",
            soql: "SELECT Id, Name, InternalName, AdapterUrl, CustomSettings FROM CallCenter"
                .to_string(),
            convert: converter!(wire::CallCenterRow, CallCenter),
        },
        Spec {
            what: "permission set group components",
            soql: "SELECT Id, PermissionSetGroupId, PermissionSetId FROM \
                   PermissionSetGroupComponent WHERE PermissionSet.LicenseId != null"
                .to_string(),
            convert: converter!(wire::GroupComponentRow, GroupComponent),
        },
        Spec {
            what: "permission set groups",
            soql: "SELECT Id, DeveloperName, MasterLabel FROM PermissionSetGroup".to_string(),
            convert: converter!(wire::GroupRow, Group),
        },
    ];
    let mut rows = fetch_all(client, &round1, &mut stats, progress).await?;
    let groups_rows = rows.pop().unwrap_or_default();
    let components_rows = rows.pop().unwrap_or_default();
    let centers_rows = rows.pop().unwrap_or_default();
    let sets_rows = rows.pop().unwrap_or_default();
    let psl_rows = rows.pop().unwrap_or_default();

    let mut snapshot = OrgSnapshot::new(
        identity.org_id.clone(),
        String::new(),
        taken_at,
        client.api_version().to_string(),
    );
    snapshot.licenses = take!(psl_rows, License);
    snapshot.permission_sets = take!(sets_rows, PermissionSet);
    snapshot.call_centers = take!(centers_rows, CallCenter);
    snapshot.group_components = take!(components_rows, GroupComponent);
    snapshot.groups = take!(groups_rows, Group);

    // Which licenses, sets and groups the big queries are about.
    let psl_ids: Vec<String> = snapshot
        .licenses
        .iter()
        .filter(|l| {
            !ctx.orphan_psl_exceptions
                .iter()
                .any(|e| e.eq_ignore_ascii_case(&l.developer_name))
                // The Natterbox cross-checks need these seats whatever orphan-psl skips.
                || natterbox.is_some_and(|p| p.psls().contains(&l.developer_name))
        })
        .map(|l| l.id.clone())
        .collect();
    // Sets licensed by a PSL (not by a user license), plus the named ones.
    let licensed_set_ids: Vec<String> = snapshot
        .permission_sets
        .iter()
        .filter(|ps| {
            ps.license_id
                .as_deref()
                .is_some_and(|l| snapshot.licenses.iter().any(|psl| psl.id == l))
                || named.iter().any(|n| ps.is_named(n))
        })
        .map(|ps| ps.id.clone())
        .collect();
    // Keep only what concerns those sets, so the snapshot stays small and coherent.
    snapshot
        .permission_sets
        .retain(|ps| licensed_set_ids.contains(&ps.id));
    snapshot
        .group_components
        .retain(|c| licensed_set_ids.contains(&c.permission_set_id));
    let group_ids: Vec<String> = {
        let mut ids: Vec<String> = snapshot
            .group_components
            .iter()
            .map(|c| c.permission_set_group_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    snapshot.groups.retain(|g| group_ids.contains(&g.id));

    // Round 2: the big queries, paged.
    let psla_filter = if psl_ids.len() == snapshot.licenses.len() {
        String::new()
    } else if psl_ids.is_empty() {
        // Every license is an exception: nothing to fetch, but keep the query valid.
        " WHERE Id = null".to_string()
    } else {
        format!(" WHERE PermissionSetLicenseId IN ({})", soql_list(&psl_ids))
    };
    let mut psa_clauses = Vec::new();
    if !licensed_set_ids.is_empty() {
        psa_clauses.push(format!(
            "PermissionSetId IN ({})",
            soql_list(&licensed_set_ids)
        ));
    }
    if !group_ids.is_empty() {
        psa_clauses.push(format!(
            "PermissionSetGroupId IN ({})",
            soql_list(&group_ids)
        ));
    }
    let psa_filter = if psa_clauses.is_empty() {
        "Id = null".to_string()
    } else {
        psa_clauses.join(" OR ")
    };
    let mut round2 = Vec::new();
    match users {
        None => {
            round2.push(Spec {
                what: "permission set license assignments",
                soql: format!(
                    "SELECT Id, AssigneeId, PermissionSetLicenseId FROM PermissionSetLicenseAssign{psla_filter}"
                ),
                convert: converter!(wire::PslaRow, LicenseAssignment),
            });
            round2.push(Spec {
                what: "permission set assignments",
                soql: format!(
                    "SELECT Id, AssigneeId, PermissionSetId, PermissionSetGroupId, IsActive, \
                     ExpirationDate FROM PermissionSetAssignment WHERE {psa_filter}"
                ),
                convert: converter!(wire::PsaRow, Assignment),
            });
            round2.push(Spec {
                what: "users",
                soql: format!(
                    "SELECT Id, Username, Name, IsActive, CallCenterId FROM User WHERE Id IN \
                     (SELECT AssigneeId FROM PermissionSetLicenseAssign{psla_filter})"
                ),
                convert: converter!(wire::UserRow, User),
            });
        }
        Some(user_ids) => {
            let psla_and = match psla_filter.strip_prefix(" WHERE ") {
                Some(rest) => format!(" AND ({rest})"),
                None => String::new(),
            };
            for chunk in user_ids.chunks(USERS_PER_QUERY) {
                let list = soql_list(chunk);
                round2.push(Spec {
                    what: "permission set license assignments",
                    soql: format!(
                        "SELECT Id, AssigneeId, PermissionSetLicenseId FROM \
                         PermissionSetLicenseAssign WHERE AssigneeId IN ({list}){psla_and}"
                    ),
                    convert: converter!(wire::PslaRow, LicenseAssignment),
                });
                round2.push(Spec {
                    what: "permission set assignments",
                    soql: format!(
                        "SELECT Id, AssigneeId, PermissionSetId, PermissionSetGroupId, IsActive, \
                         ExpirationDate FROM PermissionSetAssignment WHERE AssigneeId IN \
                         ({list}) AND ({psa_filter})"
                    ),
                    convert: converter!(wire::PsaRow, Assignment),
                });
                round2.push(Spec {
                    what: "users",
                    soql: format!(
                        "SELECT Id, Username, Name, IsActive, CallCenterId FROM User WHERE Id IN \
                         ({list})"
                    ),
                    convert: converter!(wire::UserRow, User),
                });
            }
        }
    }
    if let Some(pack) = natterbox.filter(|_| matches!(natterbox_absent, Some(None))) {
        let relationship = relationship_of(&pack.user_field);
        let fields: Vec<&str> = pack.licenses.values().map(String::as_str).collect();
        let select = format!(
            "SELECT Id, {uf}, {relationship}.Username, {relationship}.IsActive, {} FROM {}",
            fields.join(", "),
            pack.object,
            uf = pack.user_field
        );
        match users {
            None => {
                round2.push(Spec {
                    what: "Natterbox user licenses",
                    soql: select,
                    convert: |v| {
                        serde_json::from_str(v.get()).map(|row| Record::Raw(Box::new(row)))
                    },
                });
                if pack.package_seats {
                    round2.push(Spec {
                        what: "package licenses",
                        soql: format!(
                            "SELECT Id, NamespacePrefix, AllowedLicenses, UsedLicenses, Status \
                             FROM PackageLicense WHERE NamespacePrefix = '{}'",
                            pack.namespace
                        ),
                        convert: |v| {
                            serde_json::from_str(v.get()).map(|p| Record::Package(Box::new(p)))
                        },
                    });
                }
            }
            Some(user_ids) => {
                for chunk in user_ids.chunks(USERS_PER_QUERY) {
                    round2.push(Spec {
                        what: "Natterbox user licenses",
                        soql: format!(
                            "{select} WHERE {} IN ({})",
                            pack.user_field,
                            soql_list(chunk)
                        ),
                        convert: |v| {
                            serde_json::from_str(v.get()).map(|row| Record::Raw(Box::new(row)))
                        },
                    });
                }
            }
        }
    }
    round2.push(Spec {
        what: "the organization",
        soql: "SELECT Id, Name FROM Organization".to_string(),
        // The org's own name for the report (its id also comes from the identity URL).
        convert: |v| {
            serde_json::from_str::<wire::OrganizationRow>(v.get()).map(Record::Organization)
        },
    });
    // Every row is tagged with its kind, so the queries' rows (several chunks of each kind for
    // a user-scoped snapshot) can be sorted out in one pass.
    let rows = fetch_all(client, &round2, &mut stats, progress)
        .await?
        .into_iter()
        .flatten();
    let mut org_rows = Vec::new();
    let mut natterbox_rows = Vec::new();
    let mut package: Option<model::PackageSeats> = None;
    for record in rows {
        match record {
            Record::LicenseAssignment(x) => snapshot.license_assignments.push(x),
            Record::Assignment(x) => snapshot.permission_set_assignments.push(x),
            Record::User(x) => snapshot.users.push(x),
            Record::Organization(x) => org_rows.push(x),
            Record::Raw(row) => natterbox_rows.push(*row),
            Record::Package(p) => {
                package = Some(model::PackageSeats {
                    allowed: p.allowed_licenses.unwrap_or(-1),
                    used: p.used_licenses.unwrap_or(0),
                    status: p.status,
                })
            }
            _ => {}
        }
    }
    if let (Some(pack), Some(absent)) = (natterbox, natterbox_absent) {
        snapshot.natterbox = Some(model::NatterboxData {
            object: pack.object.clone(),
            records: natterbox_rows
                .iter()
                .filter_map(|row| natterbox_record(pack, row))
                .collect(),
            absent,
            package,
        });
    }
    if let Some(org) = org_rows.into_iter().next() {
        snapshot.org_id = org.id;
        snapshot.org_name = org.name.unwrap_or_default();
    }
    Ok((snapshot, stats))
}

/// Every `VoiceCall` segment that starts in `[from, to)`, and the segments they link to
/// (`PreviousCallId` / `NextCallId`) outside it, so a call is counted whole. Pages five per
/// composite call, like the snapshot's.
pub async fn fetch_voice_calls(
    client: &Client,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
    progress: &(dyn Fn(FetchProgress) + Sync),
) -> Result<(Vec<crate::usage::compute::Segment>, FetchStats), FetchError> {
    use std::collections::HashSet;
    let literal =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut stats = FetchStats::default();
    let spec = Spec {
        what: "voice calls",
        soql: format!(
            "SELECT {} FROM VoiceCall WHERE CallStartDateTime >= {} AND CallStartDateTime < {}",
            wire::VOICE_CALL_FIELDS,
            literal(from),
            literal(to)
        ),
        convert: voice_call_record,
    };
    let mut segments: Vec<crate::usage::compute::Segment> = take!(
        fetch_all(client, &[spec], &mut stats, progress)
            .await?
            .into_iter()
            .flatten(),
        VoiceCall
    )
    .into_iter()
    .map(|b| *b)
    .collect();
    // Linked segments outside the range, a few rounds deep (a chain of transfers).
    let mut known: HashSet<String> = segments.iter().map(|s| s.id.clone()).collect();
    for _ in 0..5 {
        let mut missing: Vec<String> = segments
            .iter()
            .flat_map(|s| [s.previous_id.clone(), s.next_id.clone()])
            .flatten()
            .filter(|id| !known.contains(id))
            .collect();
        missing.sort();
        missing.dedup();
        if missing.is_empty() {
            break;
        }
        known.extend(missing.iter().cloned());
        let specs: Vec<Spec> = missing
            .chunks(USERS_PER_QUERY)
            .map(|chunk| Spec {
                what: "linked voice calls",
                soql: format!(
                    "SELECT {} FROM VoiceCall WHERE Id IN ({})",
                    wire::VOICE_CALL_FIELDS,
                    soql_list(chunk)
                ),
                convert: voice_call_record,
            })
            .collect();
        let more = take!(
            fetch_all(client, &specs, &mut stats, progress)
                .await?
                .into_iter()
                .flatten(),
            VoiceCall
        );
        segments.extend(more.into_iter().map(|b| *b));
    }
    Ok((segments, stats))
}

/// `'a', 'b'` for a SOQL `IN (...)`, quotes and backslashes escaped.
pub(super) fn soql_list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `specs` and reads every page of each (see [`super::paging`]). Returns each query's
/// rows, in `specs` order.
async fn fetch_all(
    client: &Client,
    specs: &[Spec],
    stats: &mut FetchStats,
    progress: &(dyn Fn(FetchProgress) + Sync),
) -> Result<Vec<Vec<Record>>, FetchError> {
    let queries: Vec<PagedQuery<'_, Record>> = specs
        .iter()
        .map(|s| PagedQuery {
            what: s.what,
            soql: &s.soql,
            convert: s.convert,
        })
        .collect();
    fetch_pages(client, &queries, stats, progress).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soql_lists_escape_quotes() {
        assert_eq!(
            soql_list(&["a'b".to_string(), "c".to_string()]),
            r"'a\'b', 'c'"
        );
    }
}
