//! sObject Collections: create and delete many records in calls of up to 200.
//!
//! Owns: chunking, per-record outcomes in input order, and the retry rules for writes:
//! deletes are resent freely (a record already gone reports `ENTITY_IS_DELETED`, which counts as
//! done, or another "gone" code that [`RecordOutcome::may_be_gone`] flags for the caller to
//! confirm by reading); creates are resent only for records that failed with `UNABLE_TO_LOCK_ROW` (or were
//! rolled back only because of such a record), never when the outcome of a call is unknown.
//! Must not decide what to create or delete, nor mix object types (Salesforce refuses to mix
//! setup objects such as `PermissionSetAssignment` with others in one call; callers keep them
//! apart).

use backon::BackoffBuilder;
use reqwest::Method;
use serde_json::{Map, Value};

use super::client::{ApiRequest, Client, looks_like_id};
use super::error::{ApiErrorCode, BatchOperation, MalformedKind, MalformedResponse, SfError};
use super::retry::{self, RetryMode};
use super::wire;

/// Most records Salesforce accepts in one collection call.
pub const COLLECTION_CHUNK: usize = 200;

/// A record to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecord {
    /// API name of the object, e.g. `PermissionSetAssignment`.
    pub sobject: String,
    /// Field values by API name.
    pub fields: Map<String, Value>,
}

impl NewRecord {
    pub fn new(sobject: impl Into<String>) -> Self {
        NewRecord {
            sobject: sobject.into(),
            fields: Map::new(),
        }
    }

    /// Sets one field.
    pub fn field(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.fields.insert(name.into(), value.into());
        self
    }

    fn to_wire(&self) -> Map<String, Value> {
        let mut record = self.fields.clone();
        record.insert(
            "attributes".to_string(),
            serde_json::json!({ "type": self.sobject }),
        );
        record
    }
}

/// A record to update: its id and the fields to set.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordUpdate {
    /// API name of the object, e.g. `nbavs__User__c`.
    pub sobject: String,
    /// The record.
    pub id: String,
    /// Field values by API name.
    pub fields: Map<String, Value>,
}

impl RecordUpdate {
    fn to_wire(&self) -> Map<String, Value> {
        let mut record = self.fields.clone();
        record.insert("id".to_string(), Value::String(self.id.clone()));
        record.insert(
            "attributes".to_string(),
            serde_json::json!({ "type": self.sobject }),
        );
        record
    }
}

/// What happened to one record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordOutcome {
    /// For a delete, the id asked for; for a create, the new record's id (None if it failed).
    pub id: Option<String>,
    /// The record is now as asked (created, or deleted, or already deleted).
    pub success: bool,
    /// A delete found the record already deleted: nothing was changed, but the goal is met.
    pub already_done: bool,
    /// Why it failed (empty on success).
    pub errors: Vec<RecordError>,
}

impl RecordOutcome {
    /// A delete that did not go through with a code that can mean the record no longer exists.
    /// Orgs differ here (`ENTITY_IS_DELETED` for a record in the Recycle Bin,
    /// `INVALID_CROSS_REFERENCE_KEY` or `NOT_FOUND` for one deleted for good, `INVALID_ID_FIELD`
    /// seen from some orgs), so the caller confirms by reading the record before counting the
    /// delete as done.
    pub fn may_be_gone(&self) -> bool {
        self.already_done
            || (!self.success
                && !self.errors.is_empty()
                && self.errors.iter().all(|e| {
                    matches!(
                        e.code,
                        ApiErrorCode::EntityIsDeleted
                            | ApiErrorCode::InvalidCrossReferenceKey
                            | ApiErrorCode::NotFound
                    ) || e.code.as_str() == "INVALID_ID_FIELD"
                }))
    }
}

/// One reason a record failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordError {
    /// Salesforce's `statusCode`.
    #[serde(serialize_with = "code_as_str")]
    pub code: ApiErrorCode,
    pub message: String,
    /// Fields Salesforce blamed.
    pub fields: Vec<String>,
}

fn code_as_str<S: serde::Serializer>(code: &ApiErrorCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(code.as_str())
}

impl WriteBatch<'_> {
    /// Refuses ids and object names that are not Salesforce's, before anything is sent.
    fn check(&self) -> Result<(), SfError> {
        let bad = match self {
            WriteBatch::Delete(ids) => ids
                .iter()
                .find(|id| !looks_like_id(id))
                .map(|id| format!("{id:?} is not a 15- or 18-character record id")),
            WriteBatch::Create(records) => records
                .iter()
                .find(|r| !is_api_name(&r.sobject))
                .map(|r| format!("{:?} is not an sObject API name", r.sobject)),
            WriteBatch::Update(records) => records
                .iter()
                .find(|r| !is_api_name(&r.sobject) || !looks_like_id(&r.id))
                .map(|r| {
                    format!(
                        "{:?} {:?} is not an sObject API name and record id",
                        r.sobject, r.id
                    )
                }),
        };
        bad.map_or(Ok(()), |m| Err(SfError::InvalidRequest(m)))
    }

    fn kind(&self) -> BatchOperation {
        match self {
            WriteBatch::Create(_) => BatchOperation::Create,
            WriteBatch::Delete(_) => BatchOperation::Delete,
            WriteBatch::Update(_) => BatchOperation::Update,
        }
    }

    fn len(&self) -> usize {
        match self {
            WriteBatch::Create(records) => records.len(),
            WriteBatch::Delete(ids) => ids.len(),
            WriteBatch::Update(records) => records.len(),
        }
    }
}

impl Client {
    /// Creates records with `POST /composite/sobjects`, 200 per call. Outcomes come back in
    /// input order. `all_or_none` holds within each call of 200, not across calls.
    ///
    /// A call whose outcome is unknown (5xx, timeout) is not resent; the error is
    /// [`SfError::BatchInterrupted`] with the outcomes known so far.
    pub async fn create_records(
        &self,
        records: &[NewRecord],
        all_or_none: bool,
    ) -> Result<Vec<RecordOutcome>, SfError> {
        let op = WriteBatch::Create(records);
        op.check()?;
        self.run_collection(op, all_or_none).await
    }

    /// Deletes records by id with `DELETE /composite/sobjects?ids=...`, 200 per call. Outcomes
    /// come back in input order; a record that was already deleted counts as done
    /// (`already_done`). `all_or_none` holds within each call of 200, not across calls.
    pub async fn delete_records(
        &self,
        ids: &[String],
        all_or_none: bool,
    ) -> Result<Vec<RecordOutcome>, SfError> {
        let op = WriteBatch::Delete(ids);
        op.check()?;
        self.run_collection(op, all_or_none).await
    }

    async fn run_collection(
        &self,
        op: WriteBatch<'_>,
        all_or_none: bool,
    ) -> Result<Vec<RecordOutcome>, SfError> {
        let total = op.len();
        let mut outcomes: Vec<Option<RecordOutcome>> = vec![None; total];
        let mut start = 0;
        while start < total {
            let end = (start + COLLECTION_CHUNK).min(total);
            if let Err(source) = self
                .run_chunk(op, start..end, all_or_none, &mut outcomes, Via::Collection)
                .await
            {
                return Err(SfError::BatchInterrupted {
                    operation: op.kind(),
                    outcomes,
                    source: Box::new(source),
                });
            }
            start = end;
        }
        // Every index of every chunk was filled before its chunk returned Ok.
        Ok(outcomes.into_iter().flatten().collect())
    }

    /// Runs one chunk (one call `via` each round), resending only the records whose failure is a
    /// row lock (or a roll-back caused only by row locks), until they succeed or the attempts
    /// run out.
    async fn run_chunk(
        &self,
        op: WriteBatch<'_>,
        range: std::ops::Range<usize>,
        all_or_none: bool,
        outcomes: &mut [Option<RecordOutcome>],
        via: Via,
    ) -> Result<(), SfError> {
        let policy = self.retry_policy();
        // The policy's waits between rounds; when it runs dry, locked records stay failed.
        let mut waits = retry::backoff(policy).build();
        let mut pending: Vec<usize> = range.collect();
        let mut round = 1;
        while !pending.is_empty() {
            let results = match via {
                Via::Collection => self.send_collection(op, &pending, all_or_none).await?,
                Via::Composite => self.send_composite_write(op, &pending).await?,
            };
            let decided: Vec<(usize, RecordOutcome)> = pending
                .iter()
                .zip(results)
                .map(|(&index, result)| (index, outcome_of(op, index, result)))
                .collect();
            let blockers_transient = decided
                .iter()
                .filter(|(_, o)| !o.success && !rolled_back_only(o))
                .all(|(_, o)| lock_only(o));
            let retryable = |outcome: &RecordOutcome| {
                !outcome.success
                    && (lock_only(outcome)
                        || (all_or_none && blockers_transient && rolled_back_only(outcome)))
            };
            let delay = if decided.iter().any(|(_, o)| retryable(o)) {
                waits
                    .next()
                    .and_then(|proposed| retry::next_wait(policy, Some(proposed), None).duration())
            } else {
                None
            };
            let mut again = Vec::new();
            for (index, outcome) in decided {
                if delay.is_some() && retryable(&outcome) {
                    again.push(index);
                } else {
                    outcomes[index] = Some(outcome);
                }
            }
            if let Some(delay) = delay {
                tracing::info!(
                    records = again.len(),
                    round,
                    ?delay,
                    "records locked by other work; retrying them"
                );
                tokio::time::sleep(delay).await;
            }
            pending = again;
            round += 1;
        }
        Ok(())
    }

    /// One collection call for the records at `indices`; results in the same order.
    async fn send_collection(
        &self,
        op: WriteBatch<'_>,
        indices: &[usize],
        all_or_none: bool,
    ) -> Result<Vec<wire::CollectionResult>, SfError> {
        let path = self.data_path("composite/sobjects");
        let request = match op {
            WriteBatch::Create(records) => {
                let body = wire::CollectionCreateRequest {
                    all_or_none,
                    records: indices.iter().map(|&i| records[i].to_wire()).collect(),
                };
                ApiRequest::new(Method::POST, path, RetryMode::UnsentOnly).json(&body)?
            }
            WriteBatch::Delete(ids) => {
                let joined = indices
                    .iter()
                    .map(|&i| ids[i].as_str())
                    .collect::<Vec<_>>()
                    .join(",");
                ApiRequest::new(Method::DELETE, path, RetryMode::Safe)
                    .query("ids", joined)
                    .query("allOrNone", all_or_none.to_string())
            }
            WriteBatch::Update(_) => {
                // Setting the same values again changes nothing: safe to resend.
                ApiRequest::new(Method::PATCH, path, RetryMode::Safe).json(&records_body(
                    op,
                    indices,
                    all_or_none,
                ))?
            }
        };
        let results: Vec<wire::CollectionResult> = self.execute(&request).await?;
        if results.len() != indices.len() {
            return Err(shape(
                request.method.as_ref(),
                request.path.clone(),
                count_mismatch(results.len(), indices.len()),
            ));
        }
        Ok(results)
    }
}

/// How a chunk of records is sent.
#[derive(Debug, Clone, Copy)]
enum Via {
    /// One sObject Collections call of up to 200.
    Collection,
    /// One composite call of up to five collection subrequests.
    Composite,
}

/// Most records one composite write call carries: five sObject Collections subrequests of 200
/// (Salesforce's limit of collection subrequests per composite call).
pub const COMPOSITE_WRITE_MAX: usize = COLLECTION_CHUNK * super::composite::MAX_QUERY_SUBREQUESTS;

/// The records of one composite write call: all deletes or all creates, of one sObject.
#[derive(Debug, Clone, Copy)]
pub enum WriteBatch<'a> {
    /// Record ids to delete.
    Delete(&'a [String]),
    /// Records to create.
    Create(&'a [NewRecord]),
    /// Records to update.
    Update(&'a [RecordUpdate]),
}

impl Client {
    /// Writes up to [`COMPOSITE_WRITE_MAX`] records in ONE composite call (one API request):
    /// five sObject Collections subrequests of up to 200 records, each with `allOrNone=false`.
    /// Outcomes come back in input order. Records refused only for a row lock are sent again in
    /// a further call, like [`Client::delete_records`] does.
    ///
    /// A call whose outcome is unknown (5xx, timeout) is resent for deletes (a record already
    /// gone counts as done) but not for creates: the error is [`SfError::BatchInterrupted`] with
    /// the outcomes known so far, and the caller must find out what happened.
    pub async fn write_composite(
        &self,
        batch: WriteBatch<'_>,
    ) -> Result<Vec<RecordOutcome>, SfError> {
        batch.check()?;
        let total = batch.len();
        if total == 0 || total > COMPOSITE_WRITE_MAX {
            return Err(SfError::InvalidRequest(format!(
                "a composite write takes 1 to {COMPOSITE_WRITE_MAX} records, not {total}"
            )));
        }
        let mut outcomes: Vec<Option<RecordOutcome>> = vec![None; total];
        if let Err(source) = self
            .run_chunk(batch, 0..total, false, &mut outcomes, Via::Composite)
            .await
        {
            return Err(SfError::BatchInterrupted {
                operation: batch.kind(),
                outcomes,
                source: Box::new(source),
            });
        }
        Ok(outcomes.into_iter().flatten().collect())
    }

    /// One composite call with one collection subrequest per 200 of the records at `indices`.
    async fn send_composite_write(
        &self,
        op: WriteBatch<'_>,
        indices: &[usize],
    ) -> Result<Vec<wire::CollectionResult>, SfError> {
        let collection = self.data_path("composite/sobjects");
        let mut subrequests = Vec::new();
        for (n, chunk) in indices.chunks(COLLECTION_CHUNK).enumerate() {
            let reference_id = format!("w{n}");
            subrequests.push(match op {
                WriteBatch::Delete(ids) => {
                    let joined = chunk
                        .iter()
                        .map(|&i| ids[i].as_str())
                        .collect::<Vec<_>>()
                        .join(",");
                    super::composite::SubRequest {
                        method: Method::DELETE,
                        url: format!("{collection}?ids={joined}&allOrNone=false"),
                        reference_id,
                        body: None,
                    }
                }
                WriteBatch::Create(_) | WriteBatch::Update(_) => super::composite::SubRequest {
                    method: if matches!(op, WriteBatch::Create(_)) {
                        Method::POST
                    } else {
                        Method::PATCH
                    },
                    url: collection.clone(),
                    reference_id,
                    body: Some(records_body(op, chunk, false)),
                },
            });
        }
        let mode = match op {
            WriteBatch::Delete(_) | WriteBatch::Update(_) => RetryMode::Safe,
            WriteBatch::Create(_) => RetryMode::UnsentOnly,
        };
        let subs: Vec<super::composite::SubResponse<Value>> =
            self.composite_with(subrequests, false, mode).await?;
        let mut results = Vec::with_capacity(indices.len());
        for (sub, chunk) in subs.into_iter().zip(indices.chunks(COLLECTION_CHUNK)) {
            if (200..300).contains(&sub.status) {
                let endpoint = format!("{collection} (composite subrequest {})", sub.reference_id);
                let rows: Vec<wire::CollectionResult> = serde_json::from_value(sub.body)
                    .map_err(|e| shape("POST", endpoint.clone(), e.to_string()))?;
                if rows.len() != chunk.len() {
                    return Err(shape(
                        "POST",
                        endpoint,
                        count_mismatch(rows.len(), chunk.len()),
                    ));
                }
                results.extend(rows);
            } else {
                // The whole subrequest was refused: every record of it failed with that error.
                let item = serde_json::from_value::<wire::ApiErrorBody>(sub.body)
                    .ok()
                    .and_then(wire::ApiErrorBody::first);
                let (code, message) = match item {
                    Some(i) => (
                        i.error_code
                            .unwrap_or_else(|| format!("HTTP_{}", sub.status)),
                        i.message.unwrap_or_default(),
                    ),
                    None => (
                        format!("HTTP_{}", sub.status),
                        "no error details in the subresponse".to_string(),
                    ),
                };
                for _ in chunk {
                    results.push(wire::CollectionResult {
                        id: None,
                        success: false,
                        errors: vec![wire::CollectionError {
                            status_code: code.clone(),
                            message: message.clone(),
                            fields: Vec::new(),
                        }],
                    });
                }
            }
        }
        Ok(results)
    }
}

/// The body of a create or update collection call for the records at `indices`.
fn records_body(op: WriteBatch<'_>, indices: &[usize], all_or_none: bool) -> Value {
    let records: Vec<Map<String, Value>> = match op {
        WriteBatch::Create(records) => indices.iter().map(|&i| records[i].to_wire()).collect(),
        WriteBatch::Update(records) => indices.iter().map(|&i| records[i].to_wire()).collect(),
        WriteBatch::Delete(_) => Vec::new(),
    };
    serde_json::json!({ "allOrNone": all_or_none, "records": records })
}

/// An answer that does not fit the request, e.g. fewer results than records.
fn shape(method: &str, endpoint: String, detail: String) -> SfError {
    SfError::MalformedResponse(Box::new(MalformedResponse {
        method: method.to_string(),
        endpoint,
        status: 200,
        kind: MalformedKind::Shape,
        detail,
        attempts: 1,
    }))
}

fn count_mismatch(results: usize, records: usize) -> String {
    format!("{results} results for {records} records; outcomes cannot be matched to records")
}

/// Turns a wire result into an outcome; a delete of an already-deleted record is a success.
fn outcome_of(op: WriteBatch<'_>, index: usize, result: wire::CollectionResult) -> RecordOutcome {
    let errors: Vec<RecordError> = result
        .errors
        .into_iter()
        .map(|e| RecordError {
            code: ApiErrorCode::parse(&e.status_code),
            message: e.message,
            fields: e.fields,
        })
        .collect();
    match op {
        WriteBatch::Delete(ids) => {
            let already_done = !result.success
                && !errors.is_empty()
                && errors
                    .iter()
                    .all(|e| e.code == ApiErrorCode::EntityIsDeleted);
            RecordOutcome {
                id: Some(ids[index].clone()),
                success: result.success || already_done,
                already_done,
                errors: if result.success || already_done {
                    Vec::new()
                } else {
                    errors
                },
            }
        }
        WriteBatch::Create(_) => RecordOutcome {
            id: result.id.filter(|_| result.success),
            success: result.success,
            already_done: false,
            errors,
        },
        WriteBatch::Update(records) => RecordOutcome {
            id: Some(records[index].id.clone()),
            success: result.success,
            already_done: false,
            errors,
        },
    }
}

/// Failed only because a row was locked: safe to send again.
fn lock_only(o: &RecordOutcome) -> bool {
    !o.errors.is_empty()
        && o.errors
            .iter()
            .all(|e| e.code == ApiErrorCode::UnableToLockRow)
}

/// Failed only because another record of an all-or-none call failed.
fn rolled_back_only(o: &RecordOutcome) -> bool {
    !o.success
        && !o.errors.is_empty()
        && o.errors.iter().all(|e| {
            matches!(
                e.code,
                ApiErrorCode::AllOrNoneRolledBack | ApiErrorCode::ProcessingHalted
            )
        })
}

/// An sObject API name: letters, digits and underscores, starting with a letter.
fn is_api_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(success: bool, id: Option<&str>, codes: &[&str]) -> wire::CollectionResult {
        wire::CollectionResult {
            id: id.map(str::to_string),
            success,
            errors: codes
                .iter()
                .map(|c| wire::CollectionError {
                    status_code: (*c).to_string(),
                    message: "m".into(),
                    fields: vec![],
                })
                .collect(),
        }
    }

    #[test]
    fn deleting_an_already_deleted_record_counts_as_done() {
        let ids = vec!["0Pa000000000001CAA".to_string()];
        let o = outcome_of(
            WriteBatch::Delete(&ids),
            0,
            result(false, None, &["ENTITY_IS_DELETED"]),
        );
        assert!(o.success && o.already_done && o.errors.is_empty());
        assert_eq!(o.id.as_deref(), Some("0Pa000000000001CAA"));
    }

    #[test]
    fn other_gone_codes_are_flagged_for_a_read_not_counted_as_done() {
        let ids = vec!["0Pa000000000001CAA".to_string()];
        for code in [
            "INVALID_CROSS_REFERENCE_KEY",
            "NOT_FOUND",
            "INVALID_ID_FIELD",
        ] {
            let o = outcome_of(WriteBatch::Delete(&ids), 0, result(false, None, &[code]));
            assert!(!o.success && !o.already_done && o.may_be_gone(), "{code}");
        }
        let refused = outcome_of(
            WriteBatch::Delete(&ids),
            0,
            result(false, None, &["FIELD_INTEGRITY_EXCEPTION"]),
        );
        assert!(!refused.may_be_gone());
    }

    #[test]
    fn a_failed_delete_keeps_its_errors_and_input_id() {
        let ids = vec!["0Pa000000000001CAA".to_string()];
        let o = outcome_of(
            WriteBatch::Delete(&ids),
            0,
            result(false, None, &["INSUFFICIENT_ACCESS_OR_READONLY"]),
        );
        assert!(!o.success && !o.already_done);
        assert_eq!(o.errors[0].code, ApiErrorCode::InsufficientAccess);
        assert_eq!(o.id.as_deref(), Some("0Pa000000000001CAA"));
    }

    #[test]
    fn a_failed_create_has_no_id() {
        let recs = vec![NewRecord::new("PermissionSetAssignment")];
        let o = outcome_of(
            WriteBatch::Create(&recs),
            0,
            result(false, Some("x"), &["DUPLICATE_VALUE"]),
        );
        assert_eq!(o.id, None);
        assert_eq!(o.errors[0].code, ApiErrorCode::DuplicateValue);
    }

    #[test]
    fn only_locks_and_lock_caused_rollbacks_are_resendable() {
        let recs = vec![NewRecord::new("X")];
        let locked = outcome_of(
            WriteBatch::Create(&recs),
            0,
            result(false, None, &["UNABLE_TO_LOCK_ROW"]),
        );
        let rolled = outcome_of(
            WriteBatch::Create(&recs),
            0,
            result(false, None, &["ALL_OR_NONE_OPERATION_ROLLED_BACK"]),
        );
        let dup = outcome_of(
            WriteBatch::Create(&recs),
            0,
            result(false, None, &["DUPLICATE_VALUE"]),
        );
        assert!(lock_only(&locked));
        assert!(rolled_back_only(&rolled) && !lock_only(&rolled));
        assert!(!lock_only(&dup) && !rolled_back_only(&dup));
    }

    #[test]
    fn new_records_carry_their_type_in_attributes() {
        let rec = NewRecord::new("PermissionSetAssignment")
            .field("AssigneeId", "005000000000002AAA")
            .field("PermissionSetId", "0PS000000000008GAA");
        let wire = Value::Object(rec.to_wire());
        assert_eq!(wire["attributes"]["type"], "PermissionSetAssignment");
        assert_eq!(wire["AssigneeId"], "005000000000002AAA");
    }

    #[test]
    fn api_names_are_checked() {
        assert!(is_api_name("PermissionSetAssignment"));
        assert!(is_api_name("nbavs__User__c"));
        assert!(!is_api_name("User; DROP"));
        assert!(!is_api_name(""));
    }
}
