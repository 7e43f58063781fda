//! Carrying out chosen actions: batches in the plan's order, the gate before each, the intent
//! committed before each write call and the outcome after, and reconciliation of any batch whose
//! outcome is unknown (a dead process, a timeout) against the org.
//!
//! Owns: [`batches`] (pure), [`execute`] and [`reconcile`]. The only code that sends writes to
//! an org, and it does so only after [`gate::check`] said go and the journal holds the intent.
//!
//! Must not: choose what to do (the caller passes verified, capped actions) or talk HTTP itself
//! (the Salesforce client does).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::ApplyError;
use super::clock::Clock;
use super::gate::{self, Decision, StopReason};
use crate::config::OrgSettings;
use crate::plan::Op;
use crate::salesforce::{
    ApiErrorCode, Client, NewRecord, RecordOutcome, RecordUpdate, SfError, WriteBatch,
};
use crate::snapshot::probe;
use crate::state::{ActionId, ActionStatus, Outcome, RunId, StateStore, StoredAction};

/// Consecutive actions of one kind (same op, same sObject), up to the batch size: one write call.
#[derive(Debug)]
pub struct Batch<'a> {
    pub op: Op,
    pub sobject: &'a str,
    pub actions: Vec<&'a StoredAction>,
}

/// Cuts `actions` (in plan order) into batches: a new batch starts when the kind changes, so
/// every permission set assignment delete is sent before any seat delete after it, and no call
/// mixes objects (Salesforce refuses to mix setup objects in one call).
pub fn batches(actions: &[StoredAction], size: usize) -> Vec<Batch<'_>> {
    let size = size.max(1);
    let mut out: Vec<Batch<'_>> = Vec::new();
    for action in actions {
        match out.last_mut() {
            Some(b)
                if b.op == action.op && b.sobject == action.sobject && b.actions.len() < size =>
            {
                b.actions.push(action)
            }
            _ => out.push(Batch {
                op: action.op,
                sobject: &action.sobject,
                actions: vec![action],
            }),
        }
    }
    out
}

/// How the batches went.
#[derive(Debug, Default)]
pub struct Executed {
    /// Write calls sent (one composite call per batch, plus re-sends of row-locked records).
    pub batches: u32,
    /// Why the gate stopped the run early, if it did.
    pub stop: Option<StopReason>,
}

/// Everything one run needs to change the org and journal it.
pub struct RunCtx<'a> {
    pub client: &'a Client,
    pub store: &'a mut StateStore,
    pub org: &'a OrgSettings,
    pub clock: &'a dyn Clock,
    pub run: RunId,
    /// Words for a closed window (from the `window` command's wording).
    pub window_words: &'a (dyn Fn(chrono::DateTime<chrono::Utc>) -> String + Sync),
    /// Set when the process is asked to stop: no new batch starts.
    pub cancel: Option<&'a std::sync::atomic::AtomicBool>,
}

/// Sends `actions` (verified, journaled with their restore data, within the caps) batch by
/// batch. Stops between batches when the gate says so.
pub async fn execute(
    ctx: &mut RunCtx<'_>,
    actions: &[StoredAction],
) -> Result<Executed, ApplyError> {
    let mut executed = Executed::default();
    for (n, batch) in batches(actions, ctx.org.apply.batch_size)
        .into_iter()
        .enumerate()
    {
        let number = u32::try_from(n + 1).unwrap_or(u32::MAX);
        if ctx
            .cancel
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::SeqCst))
        {
            tracing::info!(run = ctx.run, batch = number, "shutting down: no new batch");
            executed.stop = Some(StopReason::Shutdown);
            break;
        }
        let decision = gate::check(
            &ctx.org.window,
            ctx.clock.now(),
            ctx.client.api_usage(),
            &ctx.org.apply,
            ctx.window_words,
        );
        if let Decision::Stop(reason) = decision {
            tracing::info!(run = ctx.run, batch = number, %reason, "the gate stopped the run");
            executed.stop = Some(reason);
            break;
        }
        let ids: Vec<ActionId> = batch.actions.iter().map(|a| a.id).collect();
        ctx.store
            .mark_intent(ctx.run, number, &ids)
            .map_err(ApplyError::State)?;
        tracing::info!(
            run = ctx.run,
            batch = number,
            op = %batch.op,
            sobject = batch.sobject,
            records = ids.len(),
            "sending batch"
        );
        let result = send(ctx.client, &batch).await;
        executed.batches += 1;
        match result {
            Ok(outcomes) => {
                let known: Vec<Option<RecordOutcome>> = outcomes.into_iter().map(Some).collect();
                let gone = confirm_gone(ctx.client, &batch, &known).await;
                let recorded: Vec<Outcome> = batch
                    .actions
                    .iter()
                    .zip(&known)
                    .zip(&gone)
                    .filter_map(|((action, outcome), gone)| {
                        outcome.as_ref().map(|o| judge(action, o, *gone))
                    })
                    .collect();
                ctx.store
                    .record(ctx.run, &recorded)
                    .map_err(ApplyError::State)?;
            }
            Err(error) => {
                // What Salesforce answered for some records is known; the rest is found out.
                let known: Vec<Option<RecordOutcome>> = match &error {
                    SfError::BatchInterrupted { outcomes, .. } => outcomes.clone(),
                    _ => vec![None; batch.actions.len()],
                };
                let gone = confirm_gone(ctx.client, &batch, &known).await;
                let mut recorded = Vec::new();
                let mut unknown: Vec<&StoredAction> = Vec::new();
                for ((action, outcome), gone) in batch.actions.iter().zip(known).zip(gone) {
                    match outcome {
                        Some(o) => recorded.push(judge(action, &o, gone)),
                        None => unknown.push(action),
                    }
                }
                ctx.store
                    .record(ctx.run, &recorded)
                    .map_err(ApplyError::State)?;
                tracing::warn!(
                    run = ctx.run,
                    batch = number,
                    %error,
                    unknown = unknown.len(),
                    "a write call failed; checking the org for what it did"
                );
                match reconcile(ctx.client, &unknown).await {
                    Ok(found) => {
                        ctx.store
                            .record(ctx.run, &found.done)
                            .map_err(ApplyError::State)?;
                        ctx.store
                            .back_to_planned(&found.not_done)
                            .map_err(ApplyError::State)?;
                    }
                    Err(check) => {
                        // The intents stay: the next run reconciles them before anything else.
                        tracing::warn!(%check, "cannot check the org now; the next run will");
                    }
                }
                return Err(ApplyError::Write {
                    org: ctx.org.name.clone(),
                    batch: number,
                    source: error,
                });
            }
        }
    }
    Ok(executed)
}

/// One write call for `batch`.
async fn send(client: &Client, batch: &Batch<'_>) -> Result<Vec<RecordOutcome>, SfError> {
    match batch.op {
        Op::Delete => {
            let ids: Vec<String> = batch
                .actions
                .iter()
                .map(|a| a.record_id.clone().unwrap_or_default())
                .collect();
            client.write_composite(WriteBatch::Delete(&ids)).await
        }
        Op::Create => {
            let records: Vec<NewRecord> = batch
                .actions
                .iter()
                .map(|a| NewRecord {
                    sobject: a.sobject.clone(),
                    fields: fields_json(&a.fields),
                })
                .collect();
            client.write_composite(WriteBatch::Create(&records)).await
        }
        Op::Update => {
            let records: Vec<RecordUpdate> = batch
                .actions
                .iter()
                .map(|a| RecordUpdate {
                    sobject: a.sobject.clone(),
                    id: a.record_id.clone().unwrap_or_default(),
                    fields: update_fields(&a.fields),
                })
                .collect();
            client.write_composite(WriteBatch::Update(&records)).await
        }
        Op::Manual => Err(SfError::InvalidRequest(
            "a manual step reached the write path".to_string(),
        )),
    }
}

/// The values of an update: the plan keeps them as text; `true` and `false` are the checkbox
/// values an update sets (the only updates pslwarden plans), anything else stays text.
pub fn update_fields(fields: &BTreeMap<String, String>) -> Map<String, Value> {
    fields
        .iter()
        .map(|(k, v)| {
            let value = match v.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                other => Value::String(other.to_string()),
            };
            (k.clone(), value)
        })
        .collect()
}

fn fields_json(fields: &BTreeMap<String, String>) -> Map<String, Value> {
    fields
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect()
}

/// For each action of a delete batch whose answer can mean "already gone" (see
/// [`RecordOutcome::may_be_gone`]), whether a read confirms the record no longer exists:
/// `Some(true)` gone, `Some(false)` still there, `None` not asked or the read failed. One read
/// for the whole batch; orgs answer a second delete with different codes, so the code alone
/// never decides.
async fn confirm_gone(
    client: &Client,
    batch: &Batch<'_>,
    outcomes: &[Option<RecordOutcome>],
) -> Vec<Option<bool>> {
    let mut verdicts = vec![None; batch.actions.len()];
    if batch.op != Op::Delete {
        return verdicts;
    }
    let asked: Vec<(usize, String)> = batch
        .actions
        .iter()
        .zip(outcomes)
        .enumerate()
        .filter(|(_, (_, o))| o.as_ref().is_some_and(RecordOutcome::may_be_gone))
        .filter_map(|(i, (a, _))| Some((i, a.record_id.clone()?)))
        .collect();
    if asked.is_empty() {
        return verdicts;
    }
    let ids: Vec<String> = asked.iter().map(|(_, id)| id.clone()).collect();
    match probe::existing_ids(client, batch.sobject, &ids).await {
        Ok(present) => {
            for (i, id) in asked {
                verdicts[i] = Some(!present.contains(&id));
            }
        }
        Err(error) => {
            tracing::warn!(%error, records = ids.len(), "cannot read back records a delete found gone");
        }
    }
    verdicts
}

/// [`outcome_for`], with the read-back of a delete whose answer said "gone": confirmed gone is
/// done, whatever code the org used; still present is a failure with the org's answer.
pub fn judge(action: &StoredAction, outcome: &RecordOutcome, gone: Option<bool>) -> Outcome {
    let codes = || {
        if outcome.errors.is_empty() {
            ApiErrorCode::EntityIsDeleted.as_str().to_string()
        } else {
            outcome
                .errors
                .iter()
                .map(|e| e.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    match gone {
        Some(true) if action.op == Op::Delete => Outcome {
            action: action.id,
            status: ActionStatus::Done,
            outcome: "already_gone".into(),
            reason: Some(format!(
                "already gone when the delete arrived (Salesforce answered {}; reading the record \
                 confirmed it no longer exists). Salesforce removes a seat itself when the last \
                 permission set needing it is unassigned",
                codes()
            )),
            result_id: None,
        },
        Some(false) if outcome.already_done => Outcome {
            action: action.id,
            status: ActionStatus::Failed,
            outcome: ApiErrorCode::EntityIsDeleted.as_str().into(),
            reason: Some(
                "Salesforce answered ENTITY_IS_DELETED, yet the record can still be read: \
                 check it by hand"
                    .into(),
            ),
            result_id: None,
        },
        _ if gone.is_none() && !outcome.already_done && outcome.may_be_gone() => {
            let mut o = outcome_for(action, outcome);
            if let Some(reason) = &mut o.reason {
                reason.push_str(" (the record may be gone already; reading it back failed)");
            }
            o
        }
        _ => outcome_for(action, outcome),
    }
}

/// Codes an org may use to refuse deleting a seat that something the user holds still needs.
/// Salesforce does not document the code; sfsim answers `FIELD_INTEGRITY_EXCEPTION` and the
/// others are the likeliest alternatives (mocks/README.md, "Behaviour table").
const SEAT_STILL_NEEDED_CODES: &[&str] = &[
    "FIELD_INTEGRITY_EXCEPTION",
    "DELETE_FAILED",
    "INVALID_OPERATION",
    "CANNOT_DELETE_ASSIGNED_LICENSE",
];

/// A seat delete refused because the seat is still needed: nothing is wrong with the org and
/// nothing was changed, so the action is skipped with Salesforce's reason, not failed.
fn seat_still_needed(action: &StoredAction, outcome: &RecordOutcome) -> bool {
    action.op == Op::Delete
        && action.sobject == crate::plan::LICENSE_ASSIGNMENT
        && !outcome.success
        && !outcome.errors.is_empty()
        && outcome
            .errors
            .iter()
            .all(|e| SEAT_STILL_NEEDED_CODES.contains(&e.code.as_str()))
}

/// What Salesforce's answer for one record means for the journal.
pub fn outcome_for(action: &StoredAction, outcome: &RecordOutcome) -> Outcome {
    let errors = || {
        outcome
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.code.as_str(), e.message))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let first_code = outcome
        .errors
        .first()
        .map(|e| e.code.as_str().to_string())
        .unwrap_or_else(|| "ERROR".to_string());
    match action.op {
        _ if seat_still_needed(action, outcome) => Outcome {
            action: action.id,
            status: ActionStatus::Skipped,
            outcome: "still_needed".into(),
            reason: Some(format!(
                "Salesforce kept the seat: something the user still holds needs it ({})",
                errors()
            )),
            result_id: None,
        },
        Op::Delete if outcome.already_done => Outcome {
            action: action.id,
            status: ActionStatus::Done,
            outcome: "already_gone".into(),
            reason: Some(
                "already gone when the delete arrived (Salesforce removes a seat itself when the \
                 last permission set needing it is unassigned)"
                    .into(),
            ),
            result_id: None,
        },
        Op::Delete if outcome.success => Outcome {
            action: action.id,
            status: ActionStatus::Done,
            outcome: "deleted".into(),
            reason: None,
            result_id: None,
        },
        Op::Create if outcome.success => Outcome {
            action: action.id,
            status: ActionStatus::Done,
            outcome: "created".into(),
            reason: None,
            result_id: outcome.id.clone(),
        },
        Op::Update if outcome.success => Outcome {
            action: action.id,
            status: ActionStatus::Done,
            outcome: "updated".into(),
            reason: None,
            result_id: None,
        },
        Op::Create
            if outcome
                .errors
                .iter()
                .all(|e| e.code == ApiErrorCode::DuplicateValue)
                && !outcome.errors.is_empty() =>
        {
            Outcome {
                action: action.id,
                status: ActionStatus::Done,
                outcome: "already_present".into(),
                reason: Some(format!("the record already exists ({})", errors())),
                result_id: None,
            }
        }
        _ => Outcome {
            action: action.id,
            status: ActionStatus::Failed,
            outcome: first_code,
            reason: Some(errors()),
            result_id: None,
        },
    }
}

/// Intents checked against the org.
#[derive(Debug, Default)]
pub struct Reconciled {
    /// The org shows the change: done.
    pub done: Vec<Outcome>,
    /// The org does not: the write did not happen, the action goes back to `planned`.
    pub not_done: Vec<ActionId>,
}

/// Finds out what the org did with actions whose write outcome is unknown: a deleted record is
/// gone or not; a created assignment exists or not. Reads only.
pub async fn reconcile(
    client: &Client,
    actions: &[&StoredAction],
) -> Result<Reconciled, crate::snapshot::FetchError> {
    let mut out = Reconciled::default();
    let mut by_object: BTreeMap<(&str, Op), Vec<&StoredAction>> = BTreeMap::new();
    for a in actions {
        by_object
            .entry((a.sobject.as_str(), a.op))
            .or_default()
            .push(a);
    }
    for ((sobject, op), group) in by_object {
        match op {
            Op::Delete => {
                let ids: Vec<String> = group.iter().filter_map(|a| a.record_id.clone()).collect();
                let present = probe::existing_ids(client, sobject, &ids).await?;
                for a in group {
                    let id = a.record_id.as_deref().unwrap_or_default();
                    if present.contains(id) {
                        out.not_done.push(a.id);
                    } else {
                        out.done.push(Outcome {
                            action: a.id,
                            status: ActionStatus::Done,
                            outcome: "deleted".into(),
                            reason: Some(
                                "confirmed gone when the interrupted batch was checked".into(),
                            ),
                            result_id: None,
                        });
                    }
                }
            }
            Op::Create => {
                let target = target_field(sobject);
                let pairs: Vec<(String, String)> = group
                    .iter()
                    .filter_map(|a| {
                        Some((
                            a.fields.get("AssigneeId")?.clone(),
                            a.fields.get(target)?.clone(),
                        ))
                    })
                    .collect();
                let found = probe::existing_assignments(client, sobject, &pairs).await?;
                for a in group {
                    let key = (
                        a.fields.get("AssigneeId").cloned().unwrap_or_default(),
                        a.fields.get(target).cloned().unwrap_or_default(),
                    );
                    match found.get(&key) {
                        Some(id) => out.done.push(Outcome {
                            action: a.id,
                            status: ActionStatus::Done,
                            outcome: "created".into(),
                            reason: Some(
                                "confirmed present when the interrupted batch was checked".into(),
                            ),
                            result_id: Some(id.clone()),
                        }),
                        None => out.not_done.push(a.id),
                    }
                }
            }
            Op::Update => {
                let ids: Vec<String> = group.iter().filter_map(|a| a.record_id.clone()).collect();
                let fields: Vec<String> = group
                    .iter()
                    .flat_map(|a| a.fields.keys().cloned())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let values = probe::field_values(client, sobject, &ids, &fields).await?;
                for a in group {
                    let id = a.record_id.as_deref().unwrap_or_default();
                    let now = values.get(id);
                    let applied = now.is_some_and(|row| {
                        update_fields(&a.fields)
                            .iter()
                            .all(|(k, v)| row.get(k) == Some(v))
                    });
                    if applied {
                        out.done.push(Outcome {
                            action: a.id,
                            status: ActionStatus::Done,
                            outcome: "updated".into(),
                            reason: Some(
                                "confirmed set when the interrupted batch was checked".into(),
                            ),
                            result_id: None,
                        });
                    } else {
                        out.not_done.push(a.id);
                    }
                }
            }
            Op::Manual => out.not_done.extend(group.iter().map(|a| a.id)),
        }
    }
    Ok(out)
}

/// The field naming what an assignment of `sobject` gives.
pub fn target_field(sobject: &str) -> &'static str {
    if sobject == crate::plan::LICENSE_ASSIGNMENT {
        "PermissionSetLicenseId"
    } else {
        "PermissionSetId"
    }
}

/// Runs marked `running` under the org lock died with their process: checks their intents
/// against the org, records what happened, and marks them interrupted. Returns how many
/// intents were settled.
pub async fn recover_crashed_runs(
    client: &Client,
    store: &mut StateStore,
    org: &str,
) -> Result<usize, ApplyError> {
    let mut settled = 0;
    for run in store.running_runs(org).map_err(ApplyError::State)? {
        let intents: Vec<StoredAction> = store
            .run_actions(run.id)
            .map_err(ApplyError::State)?
            .into_iter()
            .filter(|a| a.status == ActionStatus::Intent)
            .collect();
        if !intents.is_empty() {
            let refs: Vec<&StoredAction> = intents.iter().collect();
            let found = reconcile(client, &refs)
                .await
                .map_err(|source| ApplyError::Fetch {
                    org: org.to_string(),
                    source,
                })?;
            store
                .record(run.id, &found.done)
                .map_err(ApplyError::State)?;
            store
                .back_to_planned(&found.not_done)
                .map_err(ApplyError::State)?;
            settled += intents.len();
        }
        tracing::warn!(
            run = run.id,
            intents = intents.len(),
            "run {} ended without finishing (the process died); its unfinished batch was checked \
             against the org",
            run.id
        );
        store
            .finish_run(
                run.id,
                crate::state::RunStatus::Interrupted,
                Some(&format!(
                    "the process ended during the run; {} unfinished write(s) were checked \
                     against the org by a later run",
                    intents.len()
                )),
                None,
            )
            .map_err(ApplyError::State)?;
    }
    Ok(settled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ActionStatus;

    fn stored(id: i64, op: Op, sobject: &str) -> StoredAction {
        StoredAction {
            id,
            plan_id: 1,
            seq: id as u32,
            op,
            sobject: sobject.to_string(),
            record_id: Some(format!("0Pa00000000000{id:01}AAA")),
            fields: BTreeMap::new(),
            finding: 0,
            rule: "r".into(),
            user_id: "u".into(),
            username: "u".into(),
            description: String::new(),
            facts: Vec::new(),
            status: ActionStatus::Planned,
            reason: None,
            run_id: None,
            batch: None,
            restore: None,
            result_id: None,
            outcome: None,
            undoes: None,
            restored_by: None,
            updated_at: String::new(),
        }
    }

    #[test]
    fn batches_follow_the_plan_order_and_never_mix_kinds() {
        use crate::plan::{LICENSE_ASSIGNMENT as PSLA, PERMISSION_SET_ASSIGNMENT as PSA};
        let actions = vec![
            stored(1, Op::Delete, PSA),
            stored(2, Op::Delete, PSA),
            stored(3, Op::Delete, PSA),
            stored(4, Op::Create, PSA),
            stored(5, Op::Delete, PSLA),
            stored(6, Op::Delete, PSLA),
        ];
        let cut: Vec<(Op, &str, Vec<i64>)> = batches(&actions, 2)
            .into_iter()
            .map(|b| (b.op, b.sobject, b.actions.iter().map(|a| a.id).collect()))
            .collect();
        assert_eq!(
            cut,
            vec![
                (Op::Delete, PSA, vec![1, 2]),
                (Op::Delete, PSA, vec![3]),
                (Op::Create, PSA, vec![4]),
                (Op::Delete, PSLA, vec![5, 6]),
            ]
        );
    }

    #[test]
    fn a_seat_still_needed_is_skipped_and_a_gone_record_needs_a_read() {
        use crate::salesforce::RecordError;
        let seat = stored(1, Op::Delete, crate::plan::LICENSE_ASSIGNMENT);
        let refused = RecordOutcome {
            id: seat.record_id.clone(),
            success: false,
            already_done: false,
            errors: vec![RecordError {
                code: ApiErrorCode::Other("FIELD_INTEGRITY_EXCEPTION".into()),
                message: "the assigned permission set Voice requires it".into(),
                fields: vec![],
            }],
        };
        let o = outcome_for(&seat, &refused);
        assert_eq!(
            (o.status, o.outcome.as_str()),
            (ActionStatus::Skipped, "still_needed")
        );
        assert!(o.reason.unwrap().contains("Voice requires it"));

        let gone = RecordOutcome {
            errors: vec![RecordError {
                code: ApiErrorCode::InvalidCrossReferenceKey,
                message: "invalid cross reference id".into(),
                fields: vec![],
            }],
            ..refused
        };
        assert_eq!(judge(&seat, &gone, Some(true)).status, ActionStatus::Done);
        assert_eq!(
            judge(&seat, &gone, Some(false)).status,
            ActionStatus::Failed
        );
        let unread = judge(&seat, &gone, None);
        assert_eq!(unread.status, ActionStatus::Failed);
        assert!(unread.reason.unwrap().contains("reading it back failed"));
    }

    #[test]
    fn a_duplicate_create_counts_as_present_and_other_errors_fail() {
        use crate::salesforce::RecordError;
        let action = stored(1, Op::Create, crate::plan::PERMISSION_SET_ASSIGNMENT);
        let dup = RecordOutcome {
            id: None,
            success: false,
            already_done: false,
            errors: vec![RecordError {
                code: ApiErrorCode::DuplicateValue,
                message: "duplicate value found".into(),
                fields: vec![],
            }],
        };
        let o = outcome_for(&action, &dup);
        assert_eq!(
            (o.status, o.outcome.as_str()),
            (ActionStatus::Done, "already_present")
        );
        let refused = RecordOutcome {
            errors: vec![RecordError {
                code: ApiErrorCode::Other("LICENSE_LIMIT_EXCEEDED".into()),
                message: "no seat".into(),
                fields: vec![],
            }],
            ..dup
        };
        let o = outcome_for(&action, &refused);
        assert_eq!(o.status, ActionStatus::Failed);
        assert!(
            o.reason
                .unwrap()
                .contains("LICENSE_LIMIT_EXCEEDED: no seat")
        );
    }
}
