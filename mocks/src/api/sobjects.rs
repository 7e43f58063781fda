//! sObject resources: describeGlobal, basic info, describe, and one record by id
//! (GET / POST / PATCH / DELETE), in the REST API's shapes and status codes.
//!
//! Owns the single-record endpoints; the write rules live in `rules.rs`.

use serde_json::{Map, Value, json};

use super::{ApiRequest, SimResponse};
use crate::ids;
use crate::org::OrgState;
use crate::permissions::{Access, Effective};
use crate::rules::{DeleteBatch, RecordError};
use crate::schema::{FieldDef, FieldKind, ObjectDef};
use crate::wire::{ApiError, SaveResult};

fn object_urls(version: &str, name: &str) -> Value {
    let base = format!("/services/data/v{version}/sobjects/{name}");
    json!({
        "sobject": base,
        "describe": format!("{base}/describe"),
        "rowTemplate": format!("{base}/{{ID}}"),
    })
}

/// The describe summary as `access` sees it: `queryable`, `createable`, `updateable` and
/// `deletable` are what the object allows and the user's permissions grant.
fn object_summary(version: &str, def: &ObjectDef, access: &Effective) -> Value {
    let can = |a| access.can(&def.name, a);
    json!({
        "name": def.name,
        "label": def.label,
        "labelPlural": def.label_plural,
        "keyPrefix": def.key_prefix,
        "custom": def.custom,
        "customSetting": false,
        "queryable": can(Access::Read),
        "retrieveable": true,
        "searchable": !def.setup,
        "layoutable": !def.setup,
        "createable": def.createable && can(Access::Create),
        "updateable": def.updateable && can(Access::Edit),
        "deletable": def.deletable && can(Access::Delete),
        "undeletable": false,
        "mergeable": false,
        "replicateable": true,
        "triggerable": def.custom,
        "feedEnabled": false,
        "activateable": false,
        "urls": object_urls(version, &def.name),
    })
}

fn field_length(field: &FieldDef) -> u32 {
    match field.kind {
        FieldKind::Id | FieldKind::Reference => 18,
        FieldKind::String | FieldKind::Picklist => 255,
        FieldKind::TextArea => 32_768,
        _ => 0,
    }
}

fn soap_type(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Id | FieldKind::Reference => "tns:ID",
        FieldKind::String | FieldKind::TextArea | FieldKind::Picklist => "xsd:string",
        FieldKind::Boolean => "xsd:boolean",
        FieldKind::Int => "xsd:int",
        FieldKind::Double => "xsd:double",
        FieldKind::Date => "xsd:date",
        FieldKind::DateTime => "xsd:dateTime",
    }
}

fn describe_field(def: &ObjectDef, field: &FieldDef) -> Value {
    let unique = def.name == "User" && field.name == "Username";
    json!({
        "name": field.name,
        "label": field.label,
        "type": field.kind.describe_type(),
        "soapType": soap_type(field.kind),
        "length": field_length(field),
        "referenceTo": field.reference_to,
        "relationshipName": field.relationship_name,
        "nillable": field.nillable,
        "createable": field.createable,
        "updateable": field.updateable,
        "defaultedOnCreate": !field.nillable && field.kind == FieldKind::Boolean || field.name == "Id",
        "custom": def.custom && field.name.ends_with("__c"),
        "filterable": field.kind != FieldKind::TextArea,
        "sortable": field.kind != FieldKind::TextArea,
        "groupable": field.kind.groupable(),
        "unique": unique,
        "idLookup": field.name == "Id" || unique,
        "externalId": false,
        "calculated": false,
    })
}

pub(super) fn describe_global(state: &OrgState, version: &str) -> SimResponse {
    let sobjects: Vec<Value> = state
        .schema
        .objects()
        .filter(|o| access(state).can(&o.name, Access::Read))
        .map(|o| object_summary(version, o, &access(state)))
        .collect();
    SimResponse::json(
        200,
        json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects}),
    )
}

pub(super) fn basic_info(state: &OrgState, version: &str, object: &str) -> SimResponse {
    let Some(def) = visible(state, object) else {
        return SimResponse::not_found();
    };
    SimResponse::json(
        200,
        json!({"objectDescribe": object_summary(version, def, &access(state)), "recentItems": []}),
    )
}

/// The requesting user's permissions (everything outside a request).
fn access(state: &OrgState) -> Effective {
    state.acting.clone().unwrap_or_else(Effective::unrestricted)
}

/// An object the requesting user may see: one they cannot read does not exist for them.
fn visible<'s>(state: &'s OrgState, object: &str) -> Option<&'s ObjectDef> {
    state
        .schema
        .object(object)
        .filter(|def| access(state).can(&def.name, Access::Read))
}

pub(super) fn describe(state: &OrgState, version: &str, object: &str) -> SimResponse {
    let Some(def) = visible(state, object) else {
        return SimResponse::not_found();
    };
    let mut body = object_summary(version, def, &access(state));
    let access = access(state);
    let fields: Vec<Value> = def
        .fields
        .iter()
        .filter(|f| access.can_read_field(&def.name, &f.name))
        .map(|f| describe_field(def, f))
        .collect();
    if let Value::Object(map) = &mut body {
        map.insert("fields".into(), Value::Array(fields));
        map.insert("childRelationships".into(), Value::Array(Vec::new()));
        map.insert("recordTypeInfos".into(), Value::Array(Vec::new()));
    }
    SimResponse::json(200, body)
}

/// A record in REST shape: `attributes` first, then fields in describe order.
pub(crate) fn record_json(
    version: &str,
    def: &ObjectDef,
    fields: &Map<String, Value>,
    only: Option<&[&FieldDef]>,
) -> Value {
    let id = fields.get("Id").and_then(Value::as_str).unwrap_or_default();
    let mut out = Map::new();
    out.insert(
        "attributes".into(),
        json!({"type": def.name, "url": format!("/services/data/v{version}/sobjects/{}/{id}", def.name)}),
    );
    let selected: Vec<&FieldDef> = match only {
        Some(list) => list.to_vec(),
        None => def.fields.iter().collect(),
    };
    for field in selected {
        out.insert(
            field.name.clone(),
            fields.get(&field.name).cloned().unwrap_or(Value::Null),
        );
    }
    Value::Object(out)
}

pub(super) fn get_row(
    state: &OrgState,
    req: &ApiRequest,
    version: &str,
    object: &str,
    id: &str,
) -> SimResponse {
    let Some(def) = visible(state, object) else {
        return SimResponse::not_found();
    };
    if ids::to_id18(id).is_err() {
        return SimResponse::not_found();
    }
    let Some(row) = state.store.get(id).filter(|r| r.object == def.name) else {
        return SimResponse::not_found();
    };
    if row.deleted {
        return SimResponse::record_error(&RecordError::deleted(&row.object, &state.settings));
    }
    let mut only = None;
    if let Some(list) = req.query_param("fields") {
        let mut chosen: Vec<&FieldDef> = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match def.field(name) {
                Some(f) => chosen.push(f),
                None => {
                    return SimResponse::error(
                        400,
                        "INVALID_FIELD",
                        format!(
                            "No such column '{name}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                            def.name
                        ),
                    );
                }
            }
        }
        only = Some(chosen);
    }
    SimResponse::json(200, record_json(version, def, &row.fields, only.as_deref()))
}

fn body_object(req: &ApiRequest) -> Result<Map<String, Value>, SimResponse> {
    match req.json_body()? {
        Value::Object(map) => Ok(map),
        _ => Err(SimResponse::error(
            400,
            "JSON_PARSER_ERROR",
            "Cannot deserialize instance of a record from a non-object JSON value",
        )),
    }
}

pub(super) fn create(
    state: &mut OrgState,
    req: &ApiRequest,
    version: &str,
    object: &str,
) -> SimResponse {
    let Some(name) = state.schema.object(object).map(|d| d.name.clone()) else {
        return SimResponse::not_found();
    };
    let body = match body_object(req) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    match state.dml().insert(&name, &body) {
        Ok(id) => SimResponse::of(
            201,
            &SaveResult {
                id: Some(id.clone()),
                success: true,
                errors: Vec::new(),
            },
        )
        .with_header(
            "Location",
            format!("/services/data/v{version}/sobjects/{name}/{id}"),
        ),
        Err(e) => SimResponse::errors(400, vec![ApiError::from(&e)]),
    }
}

pub(super) fn update(
    state: &mut OrgState,
    req: &ApiRequest,
    object: &str,
    id: &str,
) -> SimResponse {
    let Some(name) = state.schema.object(object).map(|d| d.name.clone()) else {
        return SimResponse::not_found();
    };
    if ids::to_id18(id).is_err() {
        return SimResponse::not_found();
    }
    let body = match body_object(req) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    match state.dml().update(Some(&name), id, &body) {
        Ok(_) => SimResponse::no_content(),
        Err(e) => SimResponse::record_error(&e),
    }
}

pub(super) fn delete(state: &mut OrgState, object: &str, id: &str) -> SimResponse {
    let Some(name) = state.schema.object(object).map(|d| d.name.clone()) else {
        return SimResponse::not_found();
    };
    if ids::to_id18(id).is_err() {
        return SimResponse::not_found();
    }
    let batch = DeleteBatch {
        permission_set_unassignments: usize::from(name == "PermissionSetAssignment"),
    };
    match state.dml().delete(Some(&name), id, batch) {
        Ok(_) => SimResponse::no_content(),
        Err(e) => SimResponse::record_error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::Org;

    #[test]
    fn user_describe_lists_login_and_creation_dates_read_only_and_ungroupable() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed-example.json");
        let org = Org::from_fixture_file(&path).expect("seed loads");
        let state = org.lock();
        let crate::api::Body::Json(body) = describe(&state, "65.0", "User").body else {
            panic!("a JSON describe")
        };
        for name in ["LastLoginDate", "CreatedDate"] {
            let field = body["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|f| f["name"] == name)
                .unwrap_or_else(|| panic!("{name} is described"));
            assert_eq!(field["type"], "datetime", "{name}");
            assert_eq!(field["createable"], false, "{name}");
            assert_eq!(field["updateable"], false, "{name}");
            assert_eq!(field["groupable"], false, "{name}");
        }
        let last_login = body["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|f| f["name"] == "LastLoginDate")
            .cloned()
            .unwrap_or_default();
        assert_eq!(last_login["nillable"], true, "never logged in is null");
    }
}
