//! sObject Collections (`/composite/sobjects`): create, update and delete up to 200 records in
//! one call, with per-record results in request order and `allOrNone` rollback
//! (`ALL_OR_NONE_OPERATION_ROLLED_BACK` on the records that would have succeeded).
//!
//! Owns batching, ordering and the all-or-none contract; each record goes through `rules.rs`.

use serde_json::{Map, Value};

use super::{ApiRequest, SimResponse};
use crate::ids;
use crate::org::OrgState;
use crate::rules::{DeleteBatch, RecordError};
use crate::wire::{CollectionRequest, SaveError, SaveResult};

/// Salesforce's cap on records per collection call.
pub(crate) const MAX_RECORDS: usize = 200;

fn too_many() -> SimResponse {
    SimResponse::error(
        400,
        "EXCEEDED_ID_LIMIT",
        "record limit reached. cannot submit more than 200 records into this call",
    )
}

fn rolled_back() -> SaveError {
    SaveError {
        status_code: "ALL_OR_NONE_OPERATION_ROLLED_BACK".into(),
        message: "Record rolled back because not all records were valid and the request was using AllOrNone header"
            .into(),
        fields: Vec::new(),
    }
}

/// Results of a batch, before all-or-none is applied.
struct Outcome {
    /// Id to report and the error, if the record failed.
    results: Vec<(Option<String>, Option<RecordError>)>,
}

impl Outcome {
    /// Rolls back to `savepoint` if `all_or_none` and anything failed, then shapes the answer.
    /// `keep_id_on_rollback`: deletes and updates name their record even when rolled back.
    fn finish(
        self,
        state: &mut OrgState,
        savepoint: crate::store::Savepoint,
        all_or_none: bool,
        keep_id_on_rollback: bool,
    ) -> SimResponse {
        let any_failed = self.results.iter().any(|(_, e)| e.is_some());
        let rollback = all_or_none && any_failed;
        if rollback {
            state.store.rollback_to(savepoint);
        }
        let results: Vec<SaveResult> = self
            .results
            .into_iter()
            .map(|(id, error)| match (error, rollback) {
                (Some(e), _) => SaveResult {
                    id: if keep_id_on_rollback { id } else { None },
                    success: false,
                    errors: vec![SaveError::from(&e)],
                },
                (None, true) => SaveResult {
                    id: if keep_id_on_rollback { id } else { None },
                    success: false,
                    errors: vec![rolled_back()],
                },
                (None, false) => SaveResult {
                    id,
                    success: true,
                    errors: Vec::new(),
                },
            })
            .collect();
        SimResponse::of(200, &results)
    }
}

fn parse(req: &ApiRequest) -> Result<CollectionRequest, SimResponse> {
    let value = req.json_body()?;
    let parsed: CollectionRequest = serde_json::from_value(value).map_err(|e| {
        SimResponse::error(
            400,
            "JSON_PARSER_ERROR",
            format!("Invalid collection request: {e}"),
        )
    })?;
    if parsed.records.len() > MAX_RECORDS {
        return Err(too_many());
    }
    Ok(parsed)
}

/// `attributes.type` of a collection record, canonicalised.
fn record_type(state: &OrgState, record: &Map<String, Value>) -> Result<String, RecordError> {
    let raw = record
        .get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str)
        .ok_or_else(|| RecordError::new("INVALID_TYPE", "Must send a concrete entity type."))?;
    state
        .schema
        .object(raw)
        .map(|d| d.name.clone())
        .ok_or_else(|| {
            RecordError::new(
                "INVALID_TYPE",
                format!("sObject type '{raw}' is not supported."),
            )
        })
}

/// Setup and non-setup objects cannot be written in one call.
struct MixedDmlGuard {
    /// (setup?, first object) of the first record that named a valid type.
    first: Option<(bool, String)>,
}

impl MixedDmlGuard {
    fn check(&mut self, state: &OrgState, object: &str) -> Result<(), RecordError> {
        let setup = state.schema.object(object).is_some_and(|d| d.setup);
        match &self.first {
            None => {
                self.first = Some((setup, object.to_string()));
                Ok(())
            }
            Some((first_setup, first_object)) if *first_setup != setup => Err(RecordError::new(
                "MIXED_DML_OPERATION",
                format!(
                    "DML operation on setup object is not permitted after you have updated a non-setup object \
                     (or vice versa): {object}, original object: {first_object}"
                ),
            )),
            Some(_) => Ok(()),
        }
    }
}

pub(super) fn create(state: &mut OrgState, req: &ApiRequest) -> SimResponse {
    let parsed = match parse(req) {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let savepoint = state.store.savepoint();
    let mut guard = MixedDmlGuard { first: None };
    let mut results = Vec::with_capacity(parsed.records.len());
    for record in &parsed.records {
        let outcome = (|| {
            let Value::Object(record) = record else {
                return Err(RecordError::new(
                    "JSON_PARSER_ERROR",
                    "each record must be a JSON object",
                ));
            };
            let object = record_type(state, record)?;
            guard.check(state, &object)?;
            state.dml().insert(&object, record)
        })();
        results.push(match outcome {
            Ok(id) => (Some(id), None),
            Err(e) => (None, Some(e)),
        });
    }
    Outcome { results }.finish(state, savepoint, parsed.all_or_none, false)
}

pub(super) fn update(state: &mut OrgState, req: &ApiRequest) -> SimResponse {
    let parsed = match parse(req) {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let savepoint = state.store.savepoint();
    let mut guard = MixedDmlGuard { first: None };
    let mut results = Vec::with_capacity(parsed.records.len());
    for record in &parsed.records {
        let mut reported_id = None;
        let outcome = (|| {
            let Value::Object(record) = record else {
                return Err(RecordError::new(
                    "JSON_PARSER_ERROR",
                    "each record must be a JSON object",
                ));
            };
            let id = record
                .get("id")
                .or_else(|| record.get("Id"))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    RecordError::new("MISSING_ARGUMENT", "Id not specified in an update call")
                })?;
            let id18 = ids::to_id18(id)
                .map_err(|_| RecordError::new("MALFORMED_ID", format!("malformed id {id}")))?;
            reported_id = Some(id18.clone());
            let object = record_type(state, record)?;
            guard.check(state, &object)?;
            state.dml().update(Some(&object), &id18, record).map(|_| ())
        })();
        results.push(match outcome {
            Ok(()) => (reported_id, None),
            Err(e) => (reported_id, Some(map_missing(e))),
        });
    }
    Outcome { results }.finish(state, savepoint, parsed.all_or_none, true)
}

/// Collections report a missing record as a bad cross reference, not as a 404.
fn map_missing(e: RecordError) -> RecordError {
    if e.status_code == "NOT_FOUND" {
        RecordError::new("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
    } else {
        e
    }
}

pub(super) fn delete(state: &mut OrgState, req: &ApiRequest) -> SimResponse {
    let ids_param = req.query_param("ids").unwrap_or("");
    let requested: Vec<&str> = ids_param
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if requested.is_empty() {
        return SimResponse::error(
            400,
            "MISSING_ARGUMENT",
            "ids parameter is required: ?ids=id1,id2",
        );
    }
    if requested.len() > MAX_RECORDS {
        return too_many();
    }
    let all_or_none = req
        .query_param("allOrNone")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let unassignments = requested
        .iter()
        .filter(|id| {
            state
                .store
                .live(id)
                .is_some_and(|r| r.object == "PermissionSetAssignment")
        })
        .count();
    let batch = DeleteBatch {
        permission_set_unassignments: unassignments,
    };
    let savepoint = state.store.savepoint();
    let mut guard = MixedDmlGuard { first: None };
    let mut results = Vec::with_capacity(requested.len());
    for raw in requested {
        let Ok(id) = ids::to_id18(raw) else {
            results.push((
                None,
                Some(RecordError::new(
                    "MALFORMED_ID",
                    format!("malformed id {raw}"),
                )),
            ));
            continue;
        };
        let outcome = (|| {
            if let Some(row) = state.store.get(&id) {
                let object = row.object.clone();
                guard.check(state, &object)?;
            }
            state.dml().delete(None, &id, batch).map(|_| ())
        })();
        results.push(match outcome {
            Ok(()) => (Some(id), None),
            Err(e) => (Some(id), Some(map_missing(e))),
        });
    }
    Outcome { results }.finish(state, savepoint, all_or_none, true)
}
