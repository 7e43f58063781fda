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
use super::soql::{ValueTooLong, quote, split_in_lists};
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
    #[error("cannot build the query for {what}: {source}")]
    TooLong {
        what: &'static str,
        #[source]
        source: ValueTooLong,
    },
}

/// One spec per query that `split_in_lists` cuts from `build` over `lists` (see there).
fn split_specs(
    what: &'static str,
    lists: &[&[String]],
    build: &dyn Fn(&[String]) -> String,
    convert: fn(&RawValue) -> Result<Record, serde_json::Error>,
) -> Result<Vec<Spec>, FetchError> {
    Ok(split_in_lists(lists, build)
        .map_err(|source| FetchError::TooLong { what, source })?
        .into_iter()
        .map(|soql| Spec {
            what,
            soql,
            convert,
        })
        .collect())
}

/// Drops the rows whose id an earlier row had: split `OR` filters (a set list and a group
/// list; a name list next to `LicenseId != null`) can match a record in two queries.
fn dedup_by_id<T>(rows: &mut Vec<T>, id: impl Fn(&T) -> &str) {
    let mut seen = std::collections::HashSet::new();
    rows.retain(|r| seen.insert(id(r).to_string()));
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

/// Where one batch of queries stands, reported after every composite call (and once before the
/// first), for a progress bar. Counts are of this batch only: a snapshot reads two batches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchProgress {
    /// What the queries not finished yet fetch (`"users"`, ...), once each, in query order.
    pub reading: Vec<&'static str>,
    /// Query pages received.
    pub pages_done: u64,
    /// Pages the batch is expected to need: exact for a query whose paging is predicted, else
    /// the pages received plus one while it is not finished (and one per query not started).
    pub pages_total: u64,
    /// Rows received.
    pub rows_done: u64,
    /// Rows the started queries have in all (the sum of their `totalSize`).
    pub rows_total: u64,
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
    idle_as_of: chrono::DateTime<chrono::Utc>,
    progress: &(dyn Fn(FetchProgress) + Sync),
) -> Result<(OrgSnapshot, FetchStats), FetchError> {
    // The idle rule's period ends at `idle_as_of` (the gate's clock) and reaches back
    // `after_days`; without `[org.idle]` no call is read.
    let calls = ctx.idle.as_ref().map(|idle| CallsWindow {
        as_of: idle_as_of,
        since: super::calls::period_start(idle_as_of, idle.after_days),
        evidence: true,
    });
    fetch_scoped(
        client,
        ctx,
        extra_permission_sets,
        natterbox,
        None,
        calls,
        taken_at,
        progress,
    )
    .await
}

/// Which calls to read with the snapshot (the `idle-voice-seat` rule's period).
#[derive(Debug, Clone, Copy)]
pub struct CallsWindow {
    /// The period's end: the scan's "now".
    pub as_of: chrono::DateTime<chrono::Utc>,
    /// The period's start: a call at or after it is activity.
    pub since: chrono::DateTime<chrono::Utc>,
    /// Whether to read, for users without a call in the period, their last call before it.
    pub evidence: bool,
}

/// The part of the snapshot that tells whether the org is affected, for `doctor`: the licenses,
/// the licensed permission sets and the contact centers (three queries in one composite call; no
/// user, assignment or seat). The rest of the snapshot is empty.
pub async fn fetch_voice_setup(client: &Client) -> Result<OrgSnapshot, FetchError> {
    let identity = client.token_identity()?;
    let specs = [
        Spec {
            what: "permission set licenses",
            soql: wire::LICENSES_SOQL.to_string(),
            convert: converter!(wire::PslRow, License),
        },
        Spec {
            what: "permission sets",
            soql: "SELECT Id, Name, Label, LicenseId, IsOwnedByProfile, PermissionSetGroupId, \
                   NamespacePrefix, IsCustom FROM PermissionSet WHERE LicenseId != null"
                .to_string(),
            convert: converter!(wire::PermissionSetRow, PermissionSet),
        },
        Spec {
            what: "contact centers",
            soql: "SELECT Id, Name, InternalName, AdapterUrl, CustomSettings FROM CallCenter"
                .to_string(),
            convert: converter!(wire::CallCenterRow, CallCenter),
        },
    ];
    let mut stats = FetchStats::default();
    let rows = fetch_all(client, &specs, &mut stats, &|_| {}).await?;
    let mut snapshot = OrgSnapshot::new(
        identity.org_id.clone(),
        String::new(),
        String::new(),
        client.api_version().to_string(),
    );
    for record in rows.into_iter().flatten() {
        match record {
            Record::License(x) => snapshot.licenses.push(x),
            Record::PermissionSet(x) => snapshot.permission_sets.push(x),
            Record::CallCenter(x) => snapshot.call_centers.push(x),
            _ => {}
        }
    }
    Ok(snapshot)
}

/// The same snapshot as [`fetch_snapshot`], restricted to the users `user_ids`: the reference
/// data (licenses, sets, groups, contact centers) in full, and only those users' seats,
/// assignments and user records. What `apply` reads right before it acts, to re-check each
/// action's facts without reading the whole org again.
pub async fn fetch_snapshot_of_users(
    client: &Client,
    ctx: &RuleContext,
    extra_permission_sets: &[String],
    natterbox: Option<&Pack>,
    users: UsersToReread<'_>,
    taken_at: String,
    progress: &(dyn Fn(FetchProgress) + Sync),
) -> Result<(OrgSnapshot, FetchStats), FetchError> {
    fetch_scoped(
        client,
        ctx,
        extra_permission_sets,
        natterbox,
        Some(users.user_ids),
        users.calls,
        taken_at,
        progress,
    )
    .await
}

/// Whom [`fetch_snapshot_of_users`] reads again, and over which period their calls.
#[derive(Debug, Clone, Copy)]
pub struct UsersToReread<'a> {
    /// The users the pending actions touch.
    pub user_ids: &'a [String],
    /// Also their calls in this window (for the idle fixes' "no call since the scan" facts;
    /// one bounded aggregate); `None`: no call is read.
    pub calls: Option<CallsWindow>,
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
    calls: Option<CallsWindow>,
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
    const PS_SELECT: &str = "SELECT Id, Name, Label, LicenseId, IsOwnedByProfile, \
        PermissionSetGroupId, NamespacePrefix, IsCustom FROM PermissionSet WHERE \
        IsOwnedByProfile = false AND";
    let ps_convert = converter!(wire::PermissionSetRow, PermissionSet);
    // The named sets go in as many queries as their names need; each also reads the licensed
    // sets, so a set can come twice (dropped below).
    let ps_specs = if named.is_empty() {
        vec![Spec {
            what: "permission sets",
            soql: format!("{PS_SELECT} LicenseId != null"),
            convert: ps_convert,
        }]
    } else {
        split_specs(
            "permission sets",
            &[&named],
            &|l| format!("{PS_SELECT} (LicenseId != null OR Name IN ({}))", l[0]),
            ps_convert,
        )?
    };
    let ps_split = ps_specs.len() > 1;
    let mut round1 = vec![Spec {
        what: "permission set licenses",
        soql: wire::LICENSES_SOQL.to_string(),
        convert: converter!(wire::PslRow, License),
    }];
    round1.extend(ps_specs);
    round1.extend([
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
    ]);
    let round1_rows = fetch_all(client, &round1, &mut stats, progress).await?;

    let mut snapshot = OrgSnapshot::new(
        identity.org_id.clone(),
        String::new(),
        taken_at,
        client.api_version().to_string(),
    );
    for record in round1_rows.into_iter().flatten() {
        match record {
            Record::License(x) => snapshot.licenses.push(x),
            Record::PermissionSet(x) => snapshot.permission_sets.push(x),
            Record::CallCenter(x) => snapshot.call_centers.push(x),
            Record::GroupComponent(x) => snapshot.group_components.push(x),
            Record::Group(x) => snapshot.groups.push(x),
            _ => {}
        }
    }
    if ps_split {
        dedup_by_id(&mut snapshot.permission_sets, |ps| &ps.id);
    }

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
        // The idle rule's excepted groups, whatever sets they hold: their members are spared.
        if let Some(idle) = &ctx.idle {
            ids.extend(
                snapshot
                    .groups
                    .iter()
                    .filter(|g| {
                        idle.except_permission_set_groups
                            .iter()
                            .any(|n| n.eq_ignore_ascii_case(&g.developer_name))
                    })
                    .map(|g| g.id.clone()),
            );
        }
        ids.sort();
        ids.dedup();
        ids
    };
    snapshot.groups.retain(|g| group_ids.contains(&g.id));

    // Round 2: the big queries, paged. Every id list is cut by `split_specs` so no request
    // breaks Salesforce's URI limit; an OR of two lists becomes the queries of each.
    // `None`: every license's seats; `Some(ids)`: only those licenses' seats.
    let psl_scope: Option<&[String]> =
        (psl_ids.len() != snapshot.licenses.len()).then_some(&psl_ids[..]);
    const PSLA_SELECT: &str =
        "SELECT Id, AssigneeId, PermissionSetLicenseId FROM PermissionSetLicenseAssign";
    const PSA_SELECT: &str = "SELECT Id, AssigneeId, PermissionSetId, PermissionSetGroupId, \
        IsActive, ExpirationDate FROM PermissionSetAssignment WHERE";
    // The idle rule judges logins and creation dates; other scans do not read them.
    let user_select = format!(
        "SELECT Id, Username, Name, IsActive, CallCenterId{} FROM User WHERE",
        if ctx.idle.is_some() {
            ", LastLoginDate, CreatedDate"
        } else {
            ""
        }
    );
    let user_select = user_select.as_str();
    let psla_convert = converter!(wire::PslaRow, LicenseAssignment);
    let psa_convert = converter!(wire::PsaRow, Assignment);
    let user_convert = converter!(wire::UserRow, User);
    let psla_what = "permission set license assignments";
    let psa_what = "permission set assignments";
    let mut round2 = Vec::new();
    // Whether the full scan's user query was cut in several (their rows can overlap).
    let mut users_split = false;
    match users {
        None => {
            match psl_scope {
                None => {
                    round2.push(Spec {
                        what: psla_what,
                        soql: PSLA_SELECT.to_string(),
                        convert: psla_convert,
                    });
                    round2.push(Spec {
                        what: "users",
                        soql: format!(
                            "{user_select} Id IN (SELECT AssigneeId FROM PermissionSetLicenseAssign)"
                        ),
                        convert: user_convert,
                    });
                }
                Some(psls) => {
                    round2.extend(split_specs(
                        psla_what,
                        &[psls],
                        &|l| format!("{PSLA_SELECT} WHERE PermissionSetLicenseId IN ({})", l[0]),
                        psla_convert,
                    )?);
                    let before = round2.len();
                    round2.extend(split_specs(
                        "users",
                        &[psls],
                        &|l| {
                            format!(
                                "{user_select} Id IN (SELECT AssigneeId FROM \
                                 PermissionSetLicenseAssign WHERE PermissionSetLicenseId IN ({}))",
                                l[0]
                            )
                        },
                        user_convert,
                    )?);
                    users_split = round2.len() - before > 1;
                }
            }
            round2.extend(split_specs(
                psa_what,
                &[&licensed_set_ids],
                &|l| format!("{PSA_SELECT} PermissionSetId IN ({})", l[0]),
                psa_convert,
            )?);
            round2.extend(split_specs(
                psa_what,
                &[&group_ids],
                &|l| format!("{PSA_SELECT} PermissionSetGroupId IN ({})", l[0]),
                psa_convert,
            )?);
        }
        Some(user_ids) => {
            match psl_scope {
                None => round2.extend(split_specs(
                    psla_what,
                    &[user_ids],
                    &|l| format!("{PSLA_SELECT} WHERE AssigneeId IN ({})", l[0]),
                    psla_convert,
                )?),
                Some(psls) => round2.extend(split_specs(
                    psla_what,
                    &[user_ids, psls],
                    &|l| {
                        format!(
                            "{PSLA_SELECT} WHERE AssigneeId IN ({}) AND PermissionSetLicenseId \
                             IN ({})",
                            l[0], l[1]
                        )
                    },
                    psla_convert,
                )?),
            }
            round2.extend(split_specs(
                psa_what,
                &[user_ids, &licensed_set_ids],
                &|l| {
                    format!(
                        "{PSA_SELECT} AssigneeId IN ({}) AND PermissionSetId IN ({})",
                        l[0], l[1]
                    )
                },
                psa_convert,
            )?);
            round2.extend(split_specs(
                psa_what,
                &[user_ids, &group_ids],
                &|l| {
                    format!(
                        "{PSA_SELECT} AssigneeId IN ({}) AND PermissionSetGroupId IN ({})",
                        l[0], l[1]
                    )
                },
                psa_convert,
            )?);
            round2.extend(split_specs(
                "users",
                &[user_ids],
                &|l| format!("{user_select} Id IN ({})", l[0]),
                user_convert,
            )?);
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
                             FROM PackageLicense WHERE NamespacePrefix = {}",
                            quote(&pack.namespace)
                        ),
                        convert: |v| {
                            serde_json::from_str(v.get()).map(|p| Record::Package(Box::new(p)))
                        },
                    });
                }
            }
            Some(user_ids) => {
                round2.extend(split_specs(
                    "Natterbox user licenses",
                    &[user_ids],
                    &|l| format!("{select} WHERE {} IN ({})", pack.user_field, l[0]),
                    |v| serde_json::from_str(v.get()).map(|row| Record::Raw(Box::new(row))),
                )?);
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
    // An assignment of a licensed set that came through a group matches both the set queries
    // and the group queries: keep one copy. Only those few rows are tracked, so a large scan
    // does not pay for a set of every id.
    {
        use std::collections::HashSet;
        let sets: HashSet<&str> = licensed_set_ids.iter().map(String::as_str).collect();
        let groups: HashSet<&str> = group_ids.iter().map(String::as_str).collect();
        let mut seen = HashSet::new();
        snapshot.permission_set_assignments.retain(|a| {
            let both = a
                .permission_set_id
                .as_deref()
                .is_some_and(|s| sets.contains(s))
                && a.permission_set_group_id
                    .as_deref()
                    .is_some_and(|g| groups.contains(g));
            !both || seen.insert(a.id.clone())
        });
    }
    // A user holding seats of licenses in two chunks of a split license list comes twice.
    if users_split {
        dedup_by_id(&mut snapshot.users, |u| &u.id);
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
    if let (Some(window), Some(idle)) = (calls, &ctx.idle) {
        // Whose calls: the holders of the judged seats (a user-scoped read: those users).
        let judged: Vec<&str> = snapshot
            .licenses
            .iter()
            .filter(|l| {
                idle.licenses
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(&l.developer_name))
            })
            .map(|l| l.id.as_str())
            .collect();
        let mut holders: Vec<String> = snapshot
            .license_assignments
            .iter()
            .filter(|seat| judged.contains(&seat.license_id.as_str()))
            .map(|seat| seat.assignee_id.clone())
            .collect();
        // A user-scoped read (apply's re-check) looks at exactly the users it was given, so
        // an agent whose seat an earlier run already freed is still looked at.
        if let Some(ids) = users {
            holders = ids.to_vec();
        }
        holders.sort();
        holders.dedup();
        snapshot.voice_activity = Some(
            super::calls::fetch_voice_activity(
                client,
                &holders,
                window.as_of,
                window.since,
                window.evidence,
                &mut stats,
            )
            .await?,
        );
    }
    Ok((snapshot, stats))
}

/// Every `VoiceCall` segment that starts in `[from, to)`, and the segments they link to
/// (`PreviousCallId` / `NextCallId`) outside it, so a call is counted whole. Pages five per
/// composite call, like the snapshot's. The fields are those a describe of `VoiceCall` shows
/// (`usage::fields`): a field under another name is read under it, a missing optional one is
/// left out with a note (returned third), a missing required one is an error naming it.
pub async fn fetch_voice_calls(
    client: &Client,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
    progress: &(dyn Fn(FetchProgress) + Sync),
) -> Result<(Vec<crate::usage::compute::Segment>, FetchStats, Vec<String>), FetchError> {
    use crate::usage::fields::VoiceCallFields;
    use std::collections::HashSet;
    let describe = match client.get_json("sobjects/VoiceCall/describe").await {
        Ok(d) => d,
        Err(e) if e.api_code() == Some(&crate::salesforce::ApiErrorCode::NotFound) => {
            return Err(FetchError::Shape {
                what: "voice calls",
                detail: "the org has no VoiceCall object: Service Cloud Voice is not enabled, \
                         or the integration user cannot see it"
                    .into(),
            });
        }
        Err(source) => {
            return Err(FetchError::Query {
                what: "the VoiceCall describe",
                source,
            });
        }
    };
    let described: Vec<String> = describe["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str().map(str::to_string))
        .collect();
    let (fields, notes) =
        VoiceCallFields::resolve(&described).map_err(|missing| FetchError::Shape {
            what: "voice calls",
            detail: missing.to_string(),
        })?;
    let select = fields.select_list();
    let literal =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // Rows stay JSON objects: their keys are this org's field names, mapped by `fields`.
    let raw: fn(&RawValue) -> Result<Record, serde_json::Error> =
        |v| serde_json::from_str(v.get()).map(|row| Record::Raw(Box::new(row)));
    let mut stats = FetchStats::default();
    let spec = Spec {
        what: "voice calls",
        soql: format!(
            "SELECT {select} FROM VoiceCall WHERE {start} >= {} AND {start} < {}",
            literal(from),
            literal(to),
            start = fields.start(),
        ),
        convert: raw,
    };
    let rows = take!(
        fetch_all(client, &[spec], &mut stats, progress)
            .await?
            .into_iter()
            .flatten(),
        Raw
    );
    let mut segments: Vec<crate::usage::compute::Segment> =
        rows.iter().filter_map(|r| fields.segment(r)).collect();
    drop(rows);
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
        let specs = split_specs(
            "linked voice calls",
            &[&missing],
            &|l| format!("SELECT {select} FROM VoiceCall WHERE Id IN ({})", l[0]),
            raw,
        )?;
        let more = take!(
            fetch_all(client, &specs, &mut stats, progress)
                .await?
                .into_iter()
                .flatten(),
            Raw
        );
        segments.extend(more.iter().filter_map(|r| fields.segment(r)));
    }
    Ok((segments, stats, notes))
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
