//! `doctor`'s preflight: reads what the integration user may do — its effective user permissions
//! (`UserPermissionAccess`) and the describe of every object pslwarden reads or changes — in one
//! composite call, and hands the findings to `judge`, the pure part that gives verdicts.
//!
//! Only reads; never writes to the org. The SOQL it runs is fixed here.

pub mod judge;
pub mod voice;

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::salesforce::{Client, SfError, SubRequest};
use judge::{Findings, OBJECTS, ObjectFound, USER_PERMISSIONS};

/// A describe answer as far as the preflight reads it (wire type).
#[derive(Debug, Deserialize)]
struct DescribeWire {
    #[serde(default)]
    queryable: bool,
    #[serde(default)]
    createable: bool,
    #[serde(default)]
    updateable: bool,
    #[serde(default)]
    deletable: bool,
    #[serde(default)]
    fields: Vec<DescribeFieldWire>,
}

/// One field of a describe answer (wire type).
#[derive(Debug, Deserialize)]
struct DescribeFieldWire {
    name: String,
}

/// A query page as the composite answers it (wire type).
#[derive(Debug, Deserialize)]
struct PageWire {
    #[serde(default)]
    records: Vec<serde_json::Map<String, Value>>,
}

/// The reference id of the `UserPermissionAccess` subrequest.
const USER_PERMISSIONS_REF: &str = "userPermissions";

/// The first error of a subresponse body (`[{"errorCode","message"}]`), for the report.
fn sub_error(body: &Value) -> String {
    body.get(0)
        .map(|e| {
            format!(
                "{}: {}",
                e.get("errorCode")
                    .and_then(Value::as_str)
                    .unwrap_or("error"),
                e.get("message").and_then(Value::as_str).unwrap_or("")
            )
        })
        .unwrap_or_else(|| body.to_string())
}

/// Reads what the checks need in one composite call: the `UserPermissionAccess` query and one
/// describe per object (at most 25 subrequests; 10 or 11 here). `natterbox` is the pack's object
/// and the fields it reads, when Natterbox is enabled.
pub async fn read(
    client: &Client,
    natterbox: Option<(String, Vec<String>)>,
) -> Result<Findings, SfError> {
    let soql = format!(
        "SELECT {} FROM UserPermissionAccess",
        USER_PERMISSIONS
            .iter()
            .map(|p| p.field)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut objects: Vec<String> = OBJECTS.iter().map(|o| o.object.to_string()).collect();
    if let Some((object, _)) = &natterbox {
        objects.push(object.clone());
    }
    let mut subrequests = vec![SubRequest::get(
        USER_PERMISSIONS_REF,
        client.query_url(&soql),
    )];
    for (i, object) in objects.iter().enumerate() {
        subrequests.push(SubRequest::get(
            format!("describe{i}"),
            client.describe_url(object),
        ));
    }
    let answers = match client.composite(subrequests, false).await {
        Ok(answers) => answers,
        // The user lacks API Enabled. Which of the two codes Salesforce sends for a user (rather
        // than an org) without API access is not documented, so both are read the same way.
        Err(e)
            if e.api_code().is_some_and(|c| {
                matches!(
                    c.to_string().as_str(),
                    "API_CURRENTLY_DISABLED" | "API_DISABLED_FOR_ORG"
                )
            }) =>
        {
            return Ok(Findings {
                natterbox,
                api_disabled: true,
                user_permissions_error: Some(format!(
                    "the org refuses every API call from this user ({})",
                    e.api_code().map(|c| c.to_string()).unwrap_or_default()
                )),
                ..Findings::default()
            });
        }
        Err(e) => return Err(e),
    };
    let mut found = Findings {
        natterbox,
        ..Findings::default()
    };
    for answer in answers {
        if answer.reference_id == USER_PERMISSIONS_REF {
            if answer.status == 200 {
                let page: PageWire = serde_json::from_value(answer.body).unwrap_or(PageWire {
                    records: Vec::new(),
                });
                let row = page.records.into_iter().next().unwrap_or_default();
                found.user_permissions = Some(
                    USER_PERMISSIONS
                        .iter()
                        .map(|p| {
                            let granted = row.get(p.field).and_then(Value::as_bool) == Some(true);
                            (p.field.to_string(), granted)
                        })
                        .collect::<BTreeMap<_, _>>(),
                );
            } else {
                found.user_permissions_error = Some(sub_error(&answer.body));
            }
            continue;
        }
        let Some(index) = answer
            .reference_id
            .strip_prefix("describe")
            .and_then(|i| i.parse::<usize>().ok())
        else {
            continue;
        };
        let Some(object) = objects.get(index) else {
            continue;
        };
        let describe = if answer.status == 200 {
            serde_json::from_value::<DescribeWire>(answer.body)
                .ok()
                .map(|d| ObjectFound {
                    queryable: d.queryable,
                    createable: d.createable,
                    updateable: d.updateable,
                    deletable: d.deletable,
                    fields: d.fields.into_iter().map(|f| f.name).collect(),
                })
        } else {
            None
        };
        found.objects.insert(object.clone(), describe);
    }
    Ok(found)
}
