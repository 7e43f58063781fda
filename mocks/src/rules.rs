//! Record writes with the org's behaviour: field validation as the REST API does it, then the
//! license rules that are the point of the simulator —
//! - assigning a licensed permission set (directly or through a group) takes a PSL seat for the
//!   assignee when they have none, or fails with `LICENSE_LIMIT_EXCEEDED` when no seat is free;
//! - a PSL assignment cannot be deleted while something the user holds still needs it;
//! - unassigning a permission set or a permission set group removes the PSL assignments nobody
//!   needs any more (Salesforce Help, "Remove a permission set license from a user"), except when
//!   50 or more are unassigned at once; removing a licensed set *from* a group frees nobody's seat;
//! - putting a user in an Amazon Connect contact center auto-assigns the configured Voice
//!   permission set (with its seat) when `_org.voice_auto_assign` is enabled;
//! - duplicates answer `DUPLICATE_VALUE`.
//!
//! Every public operation is atomic for its record (a savepoint in the store). This module knows
//! nothing about HTTP: the API layer turns a `RecordError` into a status code and body.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::faults::FaultState;
use crate::permissions::{Access, Effective};
use crate::schema::{FieldKind, ObjectDef, Schema};
use crate::settings::OrgSettings;
use crate::store::Store;
use crate::values::{self, ValueError};

const USER: &str = "User";
const PS: &str = "PermissionSet";
const PSA: &str = "PermissionSetAssignment";
const PSL: &str = "PermissionSetLicense";
const PSLA: &str = "PermissionSetLicenseAssign";
const PSG: &str = "PermissionSetGroup";
const PSGC: &str = "PermissionSetGroupComponent";
const CALL_CENTER: &str = "CallCenter";

/// Unassigning this many permission sets in one request skips automatic PSL removal.
pub const AUTO_REMOVE_BATCH_LIMIT: usize = 50;

/// Why one record could not be written, in Salesforce's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// Salesforce status code, e.g. `DUPLICATE_VALUE`.
    pub status_code: String,
    /// Salesforce-style message.
    pub message: String,
    /// Fields the error is about (may be empty).
    pub fields: Vec<String>,
}

impl RecordError {
    pub fn new(status_code: &str, message: impl Into<String>) -> Self {
        RecordError {
            status_code: status_code.to_string(),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn with_fields(mut self, fields: &[&str]) -> Self {
        self.fields = fields.iter().map(|f| f.to_string()).collect();
        self
    }

    pub fn not_found() -> Self {
        RecordError::new("NOT_FOUND", "The requested resource does not exist")
    }

    pub fn entity_is_deleted() -> Self {
        RecordError::new("ENTITY_IS_DELETED", "entity is deleted")
    }

    /// What a write or read of a deleted record of `object` answers: `ENTITY_IS_DELETED` while
    /// the record sits in the Recycle Bin, as for an unknown id once it is gone for good.
    pub fn deleted(object: &str, settings: &OrgSettings) -> Self {
        if hard_deleted(object) || (object == PSLA && settings.seats_deleted_for_good) {
            RecordError::not_found()
        } else {
            RecordError::entity_is_deleted()
        }
    }

    /// True for the errors the single-record REST endpoints answer with 404.
    pub fn is_not_found(&self) -> bool {
        self.status_code == "NOT_FOUND" || self.status_code == "ENTITY_IS_DELETED"
    }
}

/// Objects deleted for good, without a stay in the Recycle Bin. The Object Reference lists no
/// `IsDeleted` field for `PermissionSetAssignment` (it does for `PermissionSetLicenseAssign`), so
/// an unassigned permission set cannot be undeleted and its id then answers like an unknown one.
/// Query cursors opened before the delete still show it (the store keeps the row).
pub fn hard_deleted(object: &str) -> bool {
    object == PSA
}

/// Facts about the surrounding request that change how a delete behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeleteBatch {
    /// Permission set assignments being deleted by the same request (auto PSL removal stops at 50).
    pub permission_set_unassignments: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Insert,
    Update,
}

/// One write context: the org's records, schema and settings, plus the fault generator for
/// `UNABLE_TO_LOCK_ROW`.
pub struct Dml<'a> {
    /// Records to change.
    pub store: &'a mut Store,
    /// Field definitions for validation.
    pub schema: &'a Schema,
    /// License automation switches.
    pub settings: &'a OrgSettings,
    /// Lock-row faults are drawn here, once per record write.
    pub faults: &'a mut FaultState,
    /// Timestamp for `SystemModstamp` / `CreatedDate`.
    pub now: DateTime<Utc>,
    /// What the requesting user may do: checked once per API write, not for the org's own
    /// automation (Voice auto-assignment, PSL removal) that the write sets off.
    pub access: Effective,
}

fn text<'m>(fields: &'m Map<String, Value>, name: &str) -> Option<&'m str> {
    fields.get(name).and_then(Value::as_str)
}

/// Fills what Salesforce fills on insert (and what fixtures may leave out).
pub fn apply_insert_defaults(def: &ObjectDef, fields: &mut Map<String, Value>, now: DateTime<Utc>) {
    let mut default = |name: &str, value: Value| {
        if fields.get(name).is_none_or(Value::is_null) {
            fields.insert(name.to_string(), value);
        }
    };
    let stamp = Value::String(values::format_datetime(now));
    match def.name.as_str() {
        USER => {
            default("IsActive", Value::Bool(true));
            default("UserType", Value::String("Standard".into()));
            default("CreatedDate", stamp.clone());
        }
        PS => {
            default("IsOwnedByProfile", Value::Bool(false));
            default("IsCustom", Value::Bool(true));
            default("Type", Value::String("Regular".into()));
        }
        PSA => {
            default("IsActive", Value::Bool(true));
            default("SystemModstamp", stamp);
        }
        PSG => default("Status", Value::String("Updated".into())),
        PSL => {
            default("Status", Value::String("Active".into()));
            default("TotalLicenses", Value::from(0));
        }
        "UserLicense" => default("Status", Value::String("Active".into())),
        "VoiceCall" => default("CreatedDate", stamp),
        _ => {}
    }
    if def.name == USER
        && fields.get("Name").is_none_or(Value::is_null)
        && let Some(name) = full_name(fields)
    {
        fields.insert("Name".into(), Value::String(name));
    }
    for field in &def.fields {
        if field.kind == FieldKind::Boolean
            && !field.nillable
            && fields.get(&field.name).is_none_or(Value::is_null)
        {
            fields.insert(field.name.clone(), Value::Bool(false));
        }
    }
}

fn full_name(fields: &Map<String, Value>) -> Option<String> {
    let parts: Vec<&str> = ["FirstName", "LastName"]
        .iter()
        .filter_map(|f| text(fields, f))
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// True for contact centers whose telephony is Amazon Connect (Salesforce's own), the ones that
/// trigger the Voice permission set auto-assignment.
pub fn is_amazon_connect_center(fields: &Map<String, Value>) -> bool {
    text(fields, "CustomSettings")
        .is_some_and(|s| s.contains("AMAZON_CONNECT") || s.contains("SCVOOTBTelephony"))
}

impl Dml<'_> {
    /// Inserts one record; returns its new id.
    pub fn insert(
        &mut self,
        object: &str,
        body: &Map<String, Value>,
    ) -> Result<String, RecordError> {
        if let Some(def) = self.schema.object(object) {
            self.check_access(&def.name.clone(), Access::Create)?;
        }
        let savepoint = self.store.savepoint();
        let result = self.insert_inner(object, body, true);
        if result.is_err() {
            self.store.rollback_to(savepoint);
        }
        result
    }

    /// Inserts one record as the org itself (e.g. its telephony integration writing a
    /// `VoiceCall`): the same validation, defaults and license rules as an API insert, without
    /// a user's permission check or an injected lock fault.
    pub fn insert_as_org(
        &mut self,
        object: &str,
        body: &Map<String, Value>,
    ) -> Result<String, RecordError> {
        let savepoint = self.store.savepoint();
        let result = self.insert_inner(object, body, false);
        if result.is_err() {
            self.store.rollback_to(savepoint);
        }
        result
    }

    /// Updates one record. `expected_object` is the type named in the URL, if any.
    pub fn update(
        &mut self,
        expected_object: Option<&str>,
        id: &str,
        body: &Map<String, Value>,
    ) -> Result<String, RecordError> {
        if let Some(row) = self.store.get(id) {
            self.check_access(&row.object.clone(), Access::Edit)?;
        }
        let savepoint = self.store.savepoint();
        let result = self.update_inner(expected_object, id, body);
        if result.is_err() {
            self.store.rollback_to(savepoint);
        }
        result
    }

    /// Deletes one record; returns its object name.
    pub fn delete(
        &mut self,
        expected_object: Option<&str>,
        id: &str,
        batch: DeleteBatch,
    ) -> Result<String, RecordError> {
        if let Some(row) = self.store.get(id) {
            self.check_access(&row.object.clone(), Access::Delete)?;
        }
        let savepoint = self.store.savepoint();
        let result = self.delete_inner(expected_object, id, batch);
        if result.is_err() {
            self.store.rollback_to(savepoint);
        }
        result
    }

    /// Refuses a write the requesting user has no permission for, as Salesforce does.
    fn check_access(&self, object: &str, access: Access) -> Result<(), RecordError> {
        if self.access.can(object, access) {
            return Ok(());
        }
        Err(RecordError::new(
            "INSUFFICIENT_ACCESS_OR_READONLY",
            format!("insufficient access rights on object id ({object})"),
        ))
    }

    fn lock_fault(&mut self, id: Option<&str>) -> Result<(), RecordError> {
        if self.faults.lock_row() {
            let what = id.map_or_else(|| "1 records".to_string(), |id| format!("1 records: {id}"));
            return Err(RecordError::new(
                "UNABLE_TO_LOCK_ROW",
                format!("unable to obtain exclusive access to this record or {what}"),
            ));
        }
        Ok(())
    }

    fn insert_inner(
        &mut self,
        object: &str,
        body: &Map<String, Value>,
        draw_lock: bool,
    ) -> Result<String, RecordError> {
        let schema = self.schema;
        let def = schema.object(object).ok_or_else(|| {
            RecordError::new(
                "INVALID_TYPE",
                format!("sObject type '{object}' is not supported."),
            )
        })?;
        if !def.createable {
            return Err(RecordError::new(
                "INVALID_TYPE_FOR_OPERATION",
                format!("entity type cannot be inserted: {}", def.label),
            ));
        }
        if draw_lock {
            self.lock_fault(None)?;
        }
        let mut fields = check_body(def, body, Op::Insert)?;
        let missing: Vec<&str> = def
            .fields
            .iter()
            .filter(|f| f.required_on_create && fields.get(&f.name).is_none_or(Value::is_null))
            .map(|f| f.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(RecordError::new(
                "REQUIRED_FIELD_MISSING",
                format!("Required fields are missing: [{}]", missing.join(", ")),
            )
            .with_fields(&missing));
        }
        self.check_references(def, &fields)?;
        apply_insert_defaults(def, &mut fields, self.now);

        match def.name.as_str() {
            USER => self.check_unique_username(fields.get("Username"), None)?,
            PSA => self.before_permission_set_assignment(&fields)?,
            PSLA => {
                let (user, psl) = (
                    text(&fields, "AssigneeId"),
                    text(&fields, "PermissionSetLicenseId"),
                );
                if let (Some(user), Some(psl)) = (user, psl) {
                    if let Some(existing) = self.user_psla(user, psl) {
                        return Err(duplicate(&existing));
                    }
                    self.check_seat(psl)?;
                }
            }
            PSGC => {
                let (group, ps) = (
                    text(&fields, "PermissionSetGroupId"),
                    text(&fields, "PermissionSetId"),
                );
                if let (Some(group), Some(ps)) = (group, ps) {
                    let existing = self.store.live_rows(PSGC).find(|r| {
                        text(&r.fields, "PermissionSetGroupId") == Some(group)
                            && text(&r.fields, "PermissionSetId") == Some(ps)
                    });
                    if let Some(row) = existing {
                        return Err(duplicate(text(&row.fields, "Id").unwrap_or("<unknown>")));
                    }
                }
            }
            _ => {}
        }

        let id = self.store.new_id(&def.key_prefix);
        fields.insert("Id".into(), Value::String(id.clone()));
        let stored = fields.clone();
        self.store.insert(&def.name, fields);

        match def.name.as_str() {
            USER => {
                let new_center = text(&stored, "CallCenterId").map(str::to_string);
                self.auto_assign_voice(&id, None, new_center.as_deref())?;
            }
            PSGC => {
                // Users who already hold the group now also need the component's license.
                let group = text(&stored, "PermissionSetGroupId")
                    .unwrap_or_default()
                    .to_string();
                let psl = text(&stored, "PermissionSetId").and_then(|ps| self.psl_of_permset(ps));
                if let Some(psl) = psl {
                    let assignees: Vec<String> = self
                        .store
                        .live_rows(PSA)
                        .filter(|r| text(&r.fields, "PermissionSetGroupId") == Some(group.as_str()))
                        .filter_map(|r| text(&r.fields, "AssigneeId").map(str::to_string))
                        .collect();
                    for user in assignees {
                        self.ensure_psl(&user, &psl)?;
                    }
                }
            }
            _ => {}
        }
        Ok(id)
    }

    fn update_inner(
        &mut self,
        expected_object: Option<&str>,
        id: &str,
        body: &Map<String, Value>,
    ) -> Result<String, RecordError> {
        let schema = self.schema;
        let row = self.store.get(id).ok_or_else(RecordError::not_found)?;
        if expected_object.is_some_and(|o| !o.eq_ignore_ascii_case(&row.object)) {
            return Err(RecordError::not_found());
        }
        if row.deleted {
            return Err(RecordError::deleted(&row.object, self.settings));
        }
        let id = text(&row.fields, "Id").unwrap_or(id).to_string();
        let object = row.object.clone();
        let def = schema.object(&object).ok_or_else(RecordError::not_found)?;
        if !def.updateable {
            return Err(RecordError::new(
                "INVALID_TYPE_FOR_OPERATION",
                format!("entity type cannot be updated: {}", def.label),
            ));
        }
        self.lock_fault(Some(&id))?;
        let mut changes = check_body(def, body, Op::Update)?;
        self.check_references(def, &changes)?;
        let before = self
            .store
            .live(&id)
            .map(|r| r.fields.clone())
            .unwrap_or_default();
        if object == USER {
            if changes.contains_key("Username") {
                self.check_unique_username(changes.get("Username"), Some(&id))?;
            }
            if changes.contains_key("FirstName") || changes.contains_key("LastName") {
                let mut merged = before.clone();
                merged.extend(changes.clone());
                if let Some(name) = full_name(&merged) {
                    changes.insert("Name".into(), Value::String(name));
                }
            }
        }
        self.store.update(&id, &changes);
        if object == USER && changes.contains_key("CallCenterId") {
            let old = text(&before, "CallCenterId").map(str::to_string);
            let new = text(&changes, "CallCenterId").map(str::to_string);
            self.auto_assign_voice(&id, old.as_deref(), new.as_deref())?;
        }
        Ok(object)
    }

    fn delete_inner(
        &mut self,
        expected_object: Option<&str>,
        id: &str,
        batch: DeleteBatch,
    ) -> Result<String, RecordError> {
        let schema = self.schema;
        let row = self.store.get(id).ok_or_else(RecordError::not_found)?;
        if expected_object.is_some_and(|o| !o.eq_ignore_ascii_case(&row.object)) {
            return Err(RecordError::not_found());
        }
        if row.deleted {
            return Err(RecordError::deleted(&row.object, self.settings));
        }
        let fields = row.fields.clone();
        let object = row.object.clone();
        let id = text(&fields, "Id").unwrap_or(id).to_string();
        let def = schema.object(&object).ok_or_else(RecordError::not_found)?;
        if !def.deletable {
            return Err(RecordError::new(
                "INVALID_TYPE_FOR_OPERATION",
                format!("entity type cannot be deleted: {}", def.label),
            ));
        }
        self.lock_fault(Some(&id))?;
        match object.as_str() {
            PSA => self.delete_permission_set_assignment(&id, &fields, batch)?,
            PSLA => {
                let user = text(&fields, "AssigneeId").unwrap_or_default();
                let psl = text(&fields, "PermissionSetLicenseId").unwrap_or_default();
                if let Some(needed_by) = self.user_needs_psl(user, psl, None) {
                    let license = self.psl_name(psl);
                    return Err(RecordError::new(
                        "FIELD_INTEGRITY_EXCEPTION",
                        format!(
                            "Can't remove permission set license {license} from this user: the assigned \
                             permission set {needed_by} requires it. Unassign that permission set first."
                        ),
                    )
                    .with_fields(&["PermissionSetLicenseId"]));
                }
                self.store.delete(&id);
            }
            PS | PSG => {
                let key = if object == PS {
                    "PermissionSetId"
                } else {
                    "PermissionSetGroupId"
                };
                let assigned = self
                    .store
                    .live_rows(PSA)
                    .any(|r| text(&r.fields, key) == Some(id.as_str()));
                let in_group = object == PS
                    && self
                        .store
                        .live_rows(PSGC)
                        .any(|r| text(&r.fields, key) == Some(id.as_str()));
                if assigned || in_group {
                    let what = if assigned {
                        "assigned to users"
                    } else {
                        "part of a permission set group"
                    };
                    return Err(RecordError::new(
                        "DELETE_FAILED",
                        format!(
                            "Your attempt to delete {} could not be completed because it is {what}.",
                            display_name(&fields)
                        ),
                    ));
                }
                if object == PSG {
                    let components: Vec<String> = self
                        .store
                        .live_rows(PSGC)
                        .filter(|r| text(&r.fields, key) == Some(id.as_str()))
                        .filter_map(|r| text(&r.fields, "Id").map(str::to_string))
                        .collect();
                    for component in components {
                        self.store.delete(&component);
                    }
                }
                self.store.delete(&id);
            }
            _ => self.store.delete(&id),
        }
        Ok(object)
    }

    fn delete_permission_set_assignment(
        &mut self,
        id: &str,
        fields: &Map<String, Value>,
        batch: DeleteBatch,
    ) -> Result<(), RecordError> {
        let ps = text(fields, "PermissionSetId").map(str::to_string);
        let group = text(fields, "PermissionSetGroupId").map(str::to_string);
        if let Some(ps) = &ps
            && group.is_none()
            && self.owned_by_profile(ps)
        {
            return Err(profile_owned());
        }
        // What the assignment needed, read before it goes (a group's components are still there).
        let needed = self.psls_for(ps.as_deref(), group.as_deref());
        self.store.delete(id);
        let auto_remove = self.settings.auto_remove_psl_on_unassign
            && batch.permission_set_unassignments < AUTO_REMOVE_BATCH_LIMIT;
        if !auto_remove {
            return Ok(());
        }
        let user = text(fields, "AssigneeId").unwrap_or_default().to_string();
        for psl in needed {
            if self.user_needs_psl(&user, &psl, None).is_none()
                && let Some(psla) = self.user_psla(&user, &psl)
            {
                self.store.delete(&psla);
            }
        }
        Ok(())
    }

    fn before_permission_set_assignment(
        &mut self,
        fields: &Map<String, Value>,
    ) -> Result<(), RecordError> {
        let user = text(fields, "AssigneeId").unwrap_or_default().to_string();
        let ps = text(fields, "PermissionSetId").map(str::to_string);
        let group = text(fields, "PermissionSetGroupId").map(str::to_string);
        if ps.is_none() && group.is_none() {
            return Err(RecordError::new(
                "REQUIRED_FIELD_MISSING",
                "Required fields are missing: [PermissionSetId]",
            )
            .with_fields(&["PermissionSetId"]));
        }
        if let Some(ps) = &ps
            && group.is_none()
            && self.owned_by_profile(ps)
        {
            return Err(profile_owned());
        }
        let existing = self
            .store
            .live_rows_of_assignee(PSA, &user)
            .find(|r| match &group {
                Some(g) => text(&r.fields, "PermissionSetGroupId") == Some(g.as_str()),
                None => {
                    text(&r.fields, "PermissionSetGroupId").is_none()
                        && text(&r.fields, "PermissionSetId") == ps.as_deref()
                }
            });
        if let Some(row) = existing {
            return Err(duplicate(text(&row.fields, "Id").unwrap_or("<unknown>")));
        }
        for psl in self.psls_for(ps.as_deref(), group.as_deref()) {
            self.ensure_psl(&user, &psl)?;
        }
        Ok(())
    }

    /// Gives `user` a seat of `psl` unless they hold one already.
    fn ensure_psl(&mut self, user: &str, psl: &str) -> Result<(), RecordError> {
        if self.user_psla(user, psl).is_some() {
            return Ok(());
        }
        self.check_seat(psl)?;
        let psla_def = self
            .schema
            .object(PSLA)
            .map(|d| d.key_prefix.clone())
            .unwrap_or_else(|| "2LA".into());
        let id = self.store.new_id(&psla_def);
        let mut fields = Map::new();
        fields.insert("Id".into(), Value::String(id));
        fields.insert("AssigneeId".into(), Value::String(user.to_string()));
        fields.insert(
            "PermissionSetLicenseId".into(),
            Value::String(psl.to_string()),
        );
        self.store.insert(PSLA, fields);
        Ok(())
    }

    fn check_seat(&self, psl: &str) -> Result<(), RecordError> {
        let Some(row) = self.store.live(psl) else {
            return Err(RecordError::new(
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
            )
            .with_fields(&["PermissionSetLicenseId"]));
        };
        let total = row
            .fields
            .get("TotalLicenses")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let used = self.store.used_licenses(psl);
        let status = text(&row.fields, "Status").unwrap_or("Active");
        if status != "Active" {
            return Err(RecordError::new(
                "LICENSE_LIMIT_EXCEEDED",
                format!(
                    "License Limit Exceeded: permission set license {} is {status}",
                    self.psl_name(psl)
                ),
            ));
        }
        if used >= total {
            return Err(RecordError::new(
                "LICENSE_LIMIT_EXCEEDED",
                format!(
                    "License Limit Exceeded: no seat left on permission set license {} ({used} of {total} assigned)",
                    self.psl_name(psl)
                ),
            ));
        }
        Ok(())
    }

    fn psl_name(&self, psl: &str) -> String {
        self.store
            .live(psl)
            .and_then(|r| text(&r.fields, "DeveloperName"))
            .unwrap_or(psl)
            .to_string()
    }

    fn owned_by_profile(&self, ps: &str) -> bool {
        self.store
            .live(ps)
            .and_then(|r| r.fields.get("IsOwnedByProfile"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// The PSL a permission set requires, if its `LicenseId` is a permission set license.
    fn psl_of_permset(&self, ps: &str) -> Option<String> {
        let license = text(&self.store.live(ps)?.fields, "LicenseId")?;
        let row = self.store.live(license)?;
        (row.object == PSL).then(|| text(&row.fields, "Id").unwrap_or(license).to_string())
    }

    /// PSLs needed by an assignment of `ps` and/or `group`.
    fn psls_for(&self, ps: Option<&str>, group: Option<&str>) -> BTreeSet<String> {
        let mut needed = BTreeSet::new();
        if let Some(psl) = ps.and_then(|ps| self.psl_of_permset(ps)) {
            needed.insert(psl);
        }
        if let Some(group) = group {
            for component in self.store.live_rows(PSGC) {
                if text(&component.fields, "PermissionSetGroupId") == Some(group)
                    && let Some(psl) = text(&component.fields, "PermissionSetId")
                        .and_then(|ps| self.psl_of_permset(ps))
                {
                    needed.insert(psl);
                }
            }
        }
        needed
    }

    /// The user's PSL assignment for `psl`, if any.
    fn user_psla(&self, user: &str, psl: &str) -> Option<String> {
        self.store
            .live_rows_of_assignee(PSLA, user)
            .find(|r| text(&r.fields, "PermissionSetLicenseId") == Some(psl))
            .and_then(|r| text(&r.fields, "Id").map(str::to_string))
    }

    /// Name of a permission set (or group) the user holds that needs `psl`, if any.
    fn user_needs_psl(&self, user: &str, psl: &str, excluding: Option<&str>) -> Option<String> {
        self.store
            .live_rows_of_assignee(PSA, user)
            .filter(|r| text(&r.fields, "Id") != excluding)
            .find_map(|r| {
                let ps = text(&r.fields, "PermissionSetId");
                let group = text(&r.fields, "PermissionSetGroupId");
                self.psls_for(ps, group).contains(psl).then(|| {
                    let holder = group.or(ps).unwrap_or_default();
                    self.store
                        .live(holder)
                        .map(|row| display_name(&row.fields))
                        .unwrap_or_else(|| holder.to_string())
                })
            })
    }

    /// Pre-Spring '24 Amazon Connect orgs: joining an Amazon Connect contact center hands the
    /// user the licensed Voice permission set (and so a `ServiceCloudVoicePsl` seat).
    fn auto_assign_voice(
        &mut self,
        user: &str,
        old_center: Option<&str>,
        new_center: Option<&str>,
    ) -> Result<(), RecordError> {
        let config = &self.settings.voice_auto_assign;
        let (Some(center), true) = (new_center, config.enabled) else {
            return Ok(());
        };
        if old_center == Some(center) {
            return Ok(());
        }
        let is_amazon = self
            .store
            .live(center)
            .is_some_and(|r| r.object == CALL_CENTER && is_amazon_connect_center(&r.fields));
        let Some(ps_name) = config.permission_set.as_deref().filter(|_| is_amazon) else {
            return Ok(());
        };
        let Some(ps) = self
            .store
            .live_rows(PS)
            .find(|r| text(&r.fields, "Name") == Some(ps_name))
            .and_then(|r| text(&r.fields, "Id").map(str::to_string))
        else {
            return Ok(());
        };
        let already = self.store.live_rows_of_assignee(PSA, user).any(|r| {
            text(&r.fields, "PermissionSetId") == Some(ps.as_str())
                && text(&r.fields, "PermissionSetGroupId").is_none()
        });
        if already {
            return Ok(());
        }
        let mut body = Map::new();
        body.insert("AssigneeId".into(), Value::String(user.to_string()));
        body.insert("PermissionSetId".into(), Value::String(ps));
        self.insert_inner(PSA, &body, false).map(|_| ())
    }

    fn check_unique_username(
        &self,
        username: Option<&Value>,
        except: Option<&str>,
    ) -> Result<(), RecordError> {
        let Some(username) = username.and_then(Value::as_str) else {
            return Ok(());
        };
        let taken = self.store.live_rows(USER).any(|r| {
            text(&r.fields, "Username").is_some_and(|u| u.eq_ignore_ascii_case(username))
                && text(&r.fields, "Id") != except
        });
        if taken {
            return Err(RecordError::new(
                "DUPLICATE_USERNAME",
                "Duplicate Username. The username already exists in this or another Salesforce organization. \
                 Usernames must be unique across all Salesforce organizations.",
            )
            .with_fields(&["Username"]));
        }
        Ok(())
    }

    /// Reference fields must point at live records of the right type.
    fn check_references(
        &self,
        def: &ObjectDef,
        fields: &Map<String, Value>,
    ) -> Result<(), RecordError> {
        for (name, value) in fields {
            let Some(field) = def.field(name) else {
                continue;
            };
            let Some(id) = value
                .as_str()
                .filter(|_| field.kind == FieldKind::Reference)
            else {
                continue;
            };
            let known_targets: Vec<&String> = field
                .reference_to
                .iter()
                .filter(|t| self.schema.object(t).is_some())
                .collect();
            if known_targets.is_empty() {
                continue;
            }
            match self.store.get(id) {
                None => {
                    return Err(RecordError::new(
                        "INVALID_CROSS_REFERENCE_KEY",
                        format!("invalid cross reference id: {id}"),
                    )
                    .with_fields(&[name]));
                }
                Some(row) if row.deleted => {
                    return Err(RecordError::entity_is_deleted().with_fields(&[name]));
                }
                Some(row) if !known_targets.iter().any(|t| **t == row.object) => {
                    return Err(RecordError::new(
                        "FIELD_INTEGRITY_EXCEPTION",
                        format!("{}: id value of incorrect type: {id}", field.label),
                    )
                    .with_fields(&[name]));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

fn duplicate(existing_id: &str) -> RecordError {
    RecordError::new(
        "DUPLICATE_VALUE",
        format!(
            "duplicate value found: <unknown> duplicates value on record with id: {existing_id}"
        ),
    )
}

fn profile_owned() -> RecordError {
    RecordError::new(
        "FIELD_INTEGRITY_EXCEPTION",
        "You can't assign or unassign this permission set because it's associated with a profile.",
    )
    .with_fields(&["PermissionSetId"])
}

fn display_name(fields: &Map<String, Value>) -> String {
    ["Name", "DeveloperName", "Id"]
        .iter()
        .find_map(|f| text(fields, f))
        .unwrap_or("<unknown>")
        .to_string()
}

/// Validates a write body against the object's fields and returns the stored values.
fn check_body(
    def: &ObjectDef,
    body: &Map<String, Value>,
    op: Op,
) -> Result<Map<String, Value>, RecordError> {
    let mut out = Map::new();
    let mut not_writable: Vec<String> = Vec::new();
    for (key, value) in body {
        if key == "attributes" {
            continue;
        }
        if key.eq_ignore_ascii_case("Id") {
            if op == Op::Insert {
                return Err(RecordError::new(
                    "INVALID_FIELD",
                    "cannot specify Id in an insert call",
                )
                .with_fields(&["Id"]));
            }
            continue;
        }
        let Some(field) = def.field(key) else {
            return Err(RecordError::new(
                "INVALID_FIELD",
                format!("No such column '{key}' on sobject of type {}", def.name),
            ));
        };
        let writable = match op {
            Op::Insert => field.createable,
            Op::Update => field.updateable,
        };
        if !writable {
            not_writable.push(field.name.clone());
            continue;
        }
        let stored = values::coerce(field.kind, value).map_err(|e| match e {
            ValueError::BadId(_) => RecordError::new(
                "MALFORMED_ID",
                format!(
                    "{}: id value of incorrect type: {}",
                    field.label,
                    value.as_str().unwrap_or_default()
                ),
            )
            .with_fields(&[&field.name]),
            other => RecordError::new(
                "JSON_PARSER_ERROR",
                format!(
                    "Cannot deserialize instance of {} for field {}: {other}",
                    field.kind.describe_type(),
                    field.name
                ),
            ),
        })?;
        if stored.is_null() && op == Op::Update && !field.nillable {
            return Err(RecordError::new(
                "REQUIRED_FIELD_MISSING",
                format!("Required fields are missing: [{}]", field.name),
            )
            .with_fields(&[&field.name]));
        }
        out.insert(field.name.clone(), stored);
    }
    if !not_writable.is_empty() {
        let list = not_writable.join(", ");
        let fields: Vec<&str> = not_writable.iter().map(String::as_str).collect();
        return Err(RecordError::new(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            format!(
                "Unable to create/update fields: {list}. Please check the security settings of this field and \
                 verify that it is read/write for your profile or permission set."
            ),
        )
        .with_fields(&fields));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;
    use serde_json::json;
    use std::path::Path;

    const VOICE_PSL: &str = "0PL000000000001GAA";
    const PARTNER_PSL: &str = "0PL000000000002GAA";
    const USER2: &str = "005000000000003AAA";
    const USER3: &str = "005000000000004AAA";
    const AGENT_PS: &str = "0PS000000000002GAA";
    const VOICE_PS_OF_USER2: &str = "0Pa000000000008CAA";

    struct World {
        store: Store,
        schema: Schema,
        settings: OrgSettings,
        faults: FaultState,
    }

    impl World {
        fn seed() -> World {
            World::load("seed-example.json")
        }
        fn load(name: &str) -> World {
            let loaded = fixture::load_file(
                &Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("fixtures")
                    .join(name),
            )
            .expect("fixture loads");
            World {
                store: Store::from_records(loaded.records),
                schema: loaded.schema,
                settings: loaded.settings,
                faults: FaultState::default(),
            }
        }
        fn dml(&mut self) -> Dml<'_> {
            Dml {
                store: &mut self.store,
                schema: &self.schema,
                settings: &self.settings,
                faults: &mut self.faults,
                now: Utc::now(),
                access: Effective::unrestricted(),
            }
        }
        fn body(value: Value) -> Map<String, Value> {
            match value {
                Value::Object(m) => m,
                _ => Map::new(),
            }
        }
        fn assign(&mut self, user: &str, ps: &str) -> Result<String, RecordError> {
            self.dml().insert(
                PSA,
                &World::body(json!({"AssigneeId": user, "PermissionSetId": ps})),
            )
        }
        fn has_psl(&self, user: &str, psl: &str) -> bool {
            self.store.live_rows(PSLA).any(|r| {
                text(&r.fields, "AssigneeId") == Some(user)
                    && text(&r.fields, "PermissionSetLicenseId") == Some(psl)
            })
        }
    }

    #[test]
    fn seed_counts_match_the_worked_example() {
        let world = World::seed();
        assert_eq!(world.store.used_licenses(VOICE_PSL), 2);
        assert_eq!(world.store.used_licenses(PARTNER_PSL), 1);
    }

    #[test]
    fn no_free_seat_means_license_limit_exceeded_and_nothing_changes() {
        let mut world = World::seed();
        let err = world.assign(USER3, AGENT_PS).unwrap_err();
        assert_eq!(err.status_code, "LICENSE_LIMIT_EXCEEDED");
        assert!(!world.has_psl(USER3, VOICE_PSL));
        assert_eq!(world.store.used_licenses(VOICE_PSL), 2);
    }

    #[test]
    fn unassigning_frees_the_seat_for_someone_else() {
        let mut world = World::seed();
        world
            .dml()
            .delete(
                None,
                VOICE_PS_OF_USER2,
                DeleteBatch {
                    permission_set_unassignments: 1,
                },
            )
            .expect("delete works");
        assert!(
            !world.has_psl(USER2, VOICE_PSL),
            "auto-removed with the last set needing it"
        );
        world.assign(USER3, AGENT_PS).expect("a seat is free now");
        assert!(world.has_psl(USER3, VOICE_PSL));
        assert_eq!(world.store.used_licenses(VOICE_PSL), 2);
    }

    #[test]
    fn big_batches_do_not_auto_remove_licenses() {
        let mut world = World::seed();
        world
            .dml()
            .delete(
                None,
                VOICE_PS_OF_USER2,
                DeleteBatch {
                    permission_set_unassignments: 50,
                },
            )
            .expect("delete works");
        assert!(world.has_psl(USER2, VOICE_PSL));
    }

    /// User-2 of `scan-voice-via-group.json` holds the Voice set only through group VoiceAccess.
    const GROUP_ASSIGNMENT_OF_USER2: &str = "0Pa000000000008CAA";
    const VOICE_IN_GROUP: &str = "0PH000000000001GAA";

    #[test]
    fn unassigning_a_group_frees_the_seat_nothing_else_needs() {
        let mut world = World::load("scan-voice-via-group.json");
        world
            .dml()
            .delete(
                None,
                GROUP_ASSIGNMENT_OF_USER2,
                DeleteBatch {
                    permission_set_unassignments: 1,
                },
            )
            .expect("group unassigned");
        assert!(!world.has_psl(USER2, VOICE_PSL), "freed with the group");
        assert!(world.has_psl(USER2, PARTNER_PSL), "still needed: kept");
        assert_eq!(world.store.used_licenses(VOICE_PSL), 1);
    }

    #[test]
    fn unassigning_fifty_groups_at_once_frees_nothing() {
        let mut world = World::load("scan-voice-via-group.json");
        world
            .dml()
            .delete(
                None,
                GROUP_ASSIGNMENT_OF_USER2,
                DeleteBatch {
                    permission_set_unassignments: 50,
                },
            )
            .expect("group unassigned");
        assert!(world.has_psl(USER2, VOICE_PSL));
    }

    #[test]
    fn removing_a_licensed_set_from_a_group_frees_no_member_seat() {
        let mut world = World::load("scan-voice-via-group.json");
        world
            .dml()
            .delete(None, VOICE_IN_GROUP, DeleteBatch::default())
            .expect("component removed");
        assert!(world.has_psl(USER2, VOICE_PSL), "the member keeps the seat");
        // Nothing needs it now: it can be deleted by hand.
        world
            .dml()
            .delete(None, "2LA000000000003GAA", DeleteBatch::default())
            .expect("the seat goes by hand");
    }

    #[test]
    fn auto_removal_can_be_switched_off() {
        let mut world = World::seed();
        world.settings.auto_remove_psl_on_unassign = false;
        world
            .dml()
            .delete(None, VOICE_PS_OF_USER2, DeleteBatch::default())
            .expect("delete works");
        assert!(world.has_psl(USER2, VOICE_PSL));
    }

    #[test]
    fn a_needed_license_assignment_cannot_be_deleted() {
        let mut world = World::seed();
        let err = world
            .dml()
            .delete(None, "2LA000000000003GAA", DeleteBatch::default())
            .unwrap_err();
        assert_eq!(err.status_code, "FIELD_INTEGRITY_EXCEPTION");
        assert!(
            err.message.contains("SalesforceVoicePermissionSet"),
            "{}",
            err.message
        );
    }

    #[test]
    fn joining_the_amazon_center_auto_assigns_the_voice_set() {
        let mut world = World::seed();
        // Free a seat first: User-2's extra one.
        world
            .dml()
            .delete(None, VOICE_PS_OF_USER2, DeleteBatch::default())
            .expect("delete works");
        world
            .dml()
            .update(
                Some(USER),
                USER3,
                &World::body(json!({"CallCenterId": "04v000000000001AAA"})),
            )
            .expect("update works");
        let voice_ps = "0PS000000000007GAA";
        assert!(world.store.live_rows(PSA).any(|r| {
            text(&r.fields, "AssigneeId") == Some(USER3)
                && text(&r.fields, "PermissionSetId") == Some(voice_ps)
        }));
        assert!(world.has_psl(USER3, VOICE_PSL));
    }

    #[test]
    fn joining_the_amazon_center_without_a_seat_fails_the_update() {
        let mut world = World::seed();
        let err = world
            .dml()
            .update(
                Some(USER),
                USER3,
                &World::body(json!({"CallCenterId": "04v000000000001AAA"})),
            )
            .unwrap_err();
        assert_eq!(err.status_code, "LICENSE_LIMIT_EXCEEDED");
        let user = world
            .store
            .live(USER3)
            .map(|r| r.fields.get("CallCenterId").cloned());
        assert_eq!(user, Some(Some(Value::Null)), "the update was rolled back");
    }

    #[test]
    fn partner_center_does_not_auto_assign() {
        let mut world = World::seed();
        world
            .dml()
            .update(
                Some(USER),
                USER3,
                &World::body(json!({"CallCenterId": "04v000000000002AAA"})),
            )
            .expect("no license needed");
        assert!(!world.has_psl(USER3, VOICE_PSL));
    }

    #[test]
    fn duplicate_assignment_names_the_existing_record() {
        let mut world = World::seed();
        let err = world.assign(USER2, "0PS000000000005GAA").unwrap_err();
        assert_eq!(err.status_code, "DUPLICATE_VALUE");
        assert!(err.message.ends_with("0Pa000000000007CAA"));
    }

    #[test]
    fn group_assignment_needs_every_component_license() {
        let mut world = World::seed();
        let group = world
            .dml()
            .insert(
                PSG,
                &World::body(json!({"DeveloperName": "Agents", "MasterLabel": "Agents"})),
            )
            .expect("group created");
        world
            .dml()
            .insert(
                PSGC,
                &World::body(
                    json!({"PermissionSetGroupId": group, "PermissionSetId": "0PS000000000008GAA"}),
                ),
            )
            .expect("unlicensed component");
        world
            .dml()
            .insert(
                PSGC,
                &World::body(json!({"PermissionSetGroupId": group, "PermissionSetId": AGENT_PS})),
            )
            .expect("licensed component");
        let err = world
            .dml()
            .insert(
                PSA,
                &World::body(json!({"AssigneeId": USER3, "PermissionSetGroupId": group})),
            )
            .unwrap_err();
        assert_eq!(err.status_code, "LICENSE_LIMIT_EXCEEDED");
    }

    #[test]
    fn unknown_and_read_only_fields_are_refused() {
        let mut world = World::seed();
        let err = world
            .dml()
            .insert(
                PSA,
                &World::body(json!({"AssigneeId": USER3, "PermissionSetId": AGENT_PS, "Bogus": 1})),
            )
            .unwrap_err();
        assert_eq!(err.status_code, "INVALID_FIELD");
        let err = world
            .dml()
            .update(None, VOICE_PSL, &World::body(json!({"TotalLicenses": 10})))
            .unwrap_err();
        assert_eq!(err.status_code, "INVALID_TYPE_FOR_OPERATION");
    }

    #[test]
    fn deleting_twice_answers_as_the_object_is_deleted() {
        let mut world = World::seed();
        world
            .dml()
            .delete(None, VOICE_PS_OF_USER2, DeleteBatch::default())
            .expect("first delete");
        let err = world
            .dml()
            .delete(None, VOICE_PS_OF_USER2, DeleteBatch::default())
            .unwrap_err();
        assert_eq!(
            err.status_code, "NOT_FOUND",
            "an assignment is gone for good"
        );
        // The seat went with it (auto-removal) and sits in the Recycle Bin.
        let err = world
            .dml()
            .delete(None, "2LA000000000003GAA", DeleteBatch::default())
            .unwrap_err();
        assert_eq!(err.status_code, "ENTITY_IS_DELETED");
    }

    #[test]
    fn an_assignment_expiry_is_a_datetime_set_on_create_and_update() {
        let mut world = World::seed();
        let id = world
            .dml()
            .insert(
                PSA,
                &World::body(
                    json!({"AssigneeId": USER2, "PermissionSetId": "0PS000000000008GAA",
                    "ExpirationDate": "2027-01-31T00:00:00Z"}),
                ),
            )
            .expect("created with an expiry");
        let row = world.store.live(&id).expect("created");
        assert_eq!(row.fields["ExpirationDate"], "2027-01-31T00:00:00.000+0000");
        world
            .dml()
            .update(
                None,
                VOICE_PS_OF_USER2,
                &World::body(json!({"ExpirationDate": "2027-01-31T09:30:00Z"})),
            )
            .expect("ExpirationDate is updateable");
        let row = world.store.live(VOICE_PS_OF_USER2).expect("still there");
        assert_eq!(row.fields["ExpirationDate"], "2027-01-31T09:30:00.000+0000");
        let err = world
            .dml()
            .update(
                None,
                VOICE_PS_OF_USER2,
                &World::body(json!({"AssigneeId": USER3})),
            )
            .unwrap_err();
        assert_eq!(err.status_code, "INVALID_FIELD_FOR_INSERT_UPDATE");
    }

    #[test]
    fn lock_row_faults_fail_the_write() {
        let mut world = World::seed();
        world.faults.set(crate::faults::Faults {
            lock_row_rate: 1.0,
            ..Default::default()
        });
        let err = world
            .dml()
            .delete(None, VOICE_PS_OF_USER2, DeleteBatch::default())
            .unwrap_err();
        assert_eq!(err.status_code, "UNABLE_TO_LOCK_ROW");
        assert!(world.store.live(VOICE_PS_OF_USER2).is_some());
    }
}
