//! Small targeted reads: do these records still exist, which of these assignments exist, how
//! many seats each license has now. What `apply` asks when it reconciles an interrupted batch
//! and when it verifies the seats a run freed.
//!
//! Must not: judge or change anything. Like `fetch`, this is where the SOQL lives; queries go
//! five to a composite call, ids as many to a query as the request URI limit allows (the lists
//! are cut by `soql::split_in_lists`).

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::fetch::{FetchError, FetchStats};
use super::model::PermissionSetLicense;
use super::paging::{PagedQuery, fetch_pages};
use super::soql::split_in_lists;
use super::wire::{self, LICENSES_SOQL, PslRow};
use crate::salesforce::{Client, SfError};

/// The objects whose records apply deletes and re-creates.
const PROBED_OBJECTS: [&str; 2] = ["PermissionSetAssignment", "PermissionSetLicenseAssign"];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IdRow {
    id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PairRow {
    id: String,
    assignee_id: String,
    #[serde(default)]
    permission_set_id: Option<String>,
    #[serde(default)]
    permission_set_license_id: Option<String>,
}

/// Runs every query and reads all its pages, five subrequests per composite call, with the
/// snapshot's paging (checked, cursor-safe: see `super::paging`).
async fn run_queries<T: serde::de::DeserializeOwned>(
    client: &Client,
    what: &'static str,
    soqls: &[String],
) -> Result<Vec<T>, FetchError> {
    let queries: Vec<PagedQuery<'_, T>> = soqls
        .iter()
        .map(|soql| PagedQuery {
            what,
            soql,
            convert: |v| serde_json::from_str::<T>(v.get()),
        })
        .collect();
    let mut stats = FetchStats::default();
    let pages = fetch_pages(client, &queries, &mut stats, &|_| {}).await?;
    Ok(pages.into_iter().flatten().collect())
}

/// The queries `build` makes over `lists`, cut to fit (see `soql::split_in_lists`).
fn split(
    what: &'static str,
    lists: &[&[String]],
    build: &dyn Fn(&[String]) -> String,
) -> Result<Vec<String>, FetchError> {
    split_in_lists(lists, build).map_err(|source| FetchError::TooLong { what, source })
}

fn check_object(sobject: &str) -> Result<(), FetchError> {
    if PROBED_OBJECTS.contains(&sobject) {
        Ok(())
    } else {
        Err(FetchError::Salesforce(SfError::InvalidRequest(format!(
            "{sobject} is not an object apply changes"
        ))))
    }
}

/// Which of `ids` (records of `sobject`) still exist.
pub async fn existing_ids(
    client: &Client,
    sobject: &str,
    ids: &[String],
) -> Result<HashSet<String>, FetchError> {
    check_object(sobject)?;
    let what = "records still present";
    let soqls = split(what, &[ids], &|l| {
        format!("SELECT Id FROM {sobject} WHERE Id IN ({})", l[0])
    })?;
    if soqls.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<IdRow> = run_queries(client, what, &soqls).await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// For each `(assignee, permission set or license)` pair, the id of the assignment record that
/// gives it, where one exists. `sobject` is `PermissionSetAssignment` (pairs of user and
/// permission set) or `PermissionSetLicenseAssign` (user and license).
pub async fn existing_assignments(
    client: &Client,
    sobject: &str,
    pairs: &[(String, String)],
) -> Result<HashMap<(String, String), String>, FetchError> {
    check_object(sobject)?;
    let target = if sobject == "PermissionSetAssignment" {
        "PermissionSetId"
    } else {
        "PermissionSetLicenseId"
    };
    // Every user against every target: a superset of the pairs, filtered below. Few distinct
    // targets (the sets and licenses a plan touches) keep it small.
    let distinct = |values: Vec<String>| {
        let mut values = values;
        values.sort();
        values.dedup();
        values
    };
    let users = distinct(pairs.iter().map(|(u, _)| u.clone()).collect());
    let targets = distinct(pairs.iter().map(|(_, t)| t.clone()).collect());
    let what = "existing assignments";
    let soqls = split(what, &[&users, &targets], &|l| {
        format!(
            "SELECT Id, AssigneeId, {target} FROM {sobject} WHERE AssigneeId IN ({}) AND \
             {target} IN ({})",
            l[0], l[1]
        )
    })?;
    if soqls.is_empty() {
        return Ok(HashMap::new());
    }
    let wanted: HashSet<&(String, String)> = pairs.iter().collect();
    let rows: Vec<PairRow> = run_queries(client, what, &soqls).await?;
    let mut found = HashMap::new();
    for row in rows {
        let Some(other) = row.permission_set_id.or(row.permission_set_license_id) else {
            continue;
        };
        let key = (row.assignee_id, other);
        if wanted.contains(&key) {
            found.insert(key, row.id);
        }
    }
    Ok(found)
}

/// The current values of `fields` of the records `ids` of `sobject` (an update's target), by id.
pub async fn field_values(
    client: &Client,
    sobject: &str,
    ids: &[String],
    fields: &[String],
) -> Result<HashMap<String, serde_json::Map<String, serde_json::Value>>, FetchError> {
    let api_name =
        |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !api_name(sobject) || !fields.iter().all(|f| api_name(f)) {
        return Err(FetchError::Salesforce(SfError::InvalidRequest(format!(
            "{sobject} / {fields:?} are not API names"
        ))));
    }
    let select = if fields.is_empty() {
        "Id".to_string()
    } else {
        format!("Id, {}", fields.join(", "))
    };
    let what = "updated records";
    let soqls = split(what, &[ids], &|l| {
        format!("SELECT {select} FROM {sobject} WHERE Id IN ({})", l[0])
    })?;
    if soqls.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<serde_json::Map<String, serde_json::Value>> =
        run_queries(client, what, &soqls).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| Some((row.get("Id")?.as_str()?.to_string(), row)))
        .collect())
}

/// Every permission set license with its seats as Salesforce counts them now.
pub async fn read_licenses(client: &Client) -> Result<Vec<PermissionSetLicense>, FetchError> {
    let rows: Vec<PslRow> = client
        .query_all(&format!("{LICENSES_SOQL} ORDER BY DeveloperName"))
        .await
        .map_err(|source| FetchError::Query {
            what: "permission set licenses",
            source,
        })?;
    Ok(rows.into_iter().map(wire::PslRow::into).collect())
}
