//! The record store of one simulated org: every record by id, per-object insertion order,
//! tombstones for deleted records (so a second delete answers `ENTITY_IS_DELETED`), and an undo
//! journal so a failed record, or a whole all-or-none request, leaves no trace.
//!
//! Owns storage and `PermissionSetLicense.UsedLicenses`, which it keeps equal to the live count
//! of `PermissionSetLicenseAssign` records at all times (it is never stored in fixtures). It does
//! not validate writes or apply license rules: `rules.rs` does, through this API.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::ids::{self, IdGenerator};
use crate::soql;

const PSL: &str = "PermissionSetLicense";
const PSLA: &str = "PermissionSetLicenseAssign";

/// One stored record.
#[derive(Debug, Clone)]
pub struct Row {
    /// Canonical sObject name.
    pub object: String,
    /// Field values keyed by canonical field name, `Id` included; absent means null.
    pub fields: Map<String, Value>,
    /// Tombstone flag: deleted rows stay so their ids answer `ENTITY_IS_DELETED`.
    pub deleted: bool,
}

/// How to undo one change.
#[derive(Debug, Clone)]
enum Undo {
    Inserted(String),
    Updated {
        id: String,
        before: Map<String, Value>,
    },
    Deleted(String),
}

/// A position in the undo journal to roll back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Savepoint(usize);

/// All records of one org.
#[derive(Debug, Default, Clone)]
pub struct Store {
    /// Every record ever known, live or deleted, by 18-character id.
    rows: HashMap<String, Row>,
    /// Ids per object in insertion order, so queries without ORDER BY are stable.
    order: HashMap<String, Vec<String>>,
    /// Changes since the last `commit`, newest last.
    journal: Vec<Undo>,
    /// Source of ids for inserted records.
    ids: IdGenerator,
}

impl Store {
    /// A store holding `records` (already validated), with `UsedLicenses` computed.
    pub fn from_records(records: Vec<(String, Map<String, Value>)>) -> Store {
        let mut store = Store::default();
        for (object, fields) in records {
            let Some(id) = fields.get("Id").and_then(Value::as_str).map(str::to_string) else {
                continue;
            };
            store
                .order
                .entry(object.clone())
                .or_default()
                .push(id.clone());
            store.rows.insert(
                id,
                Row {
                    object,
                    fields,
                    deleted: false,
                },
            );
        }
        store.recompute_used_licenses();
        store
    }

    /// Any row by 15- or 18-character id, tombstones included.
    pub fn get(&self, id: &str) -> Option<&Row> {
        if id.len() == 18
            && let Some(row) = self.rows.get(id)
        {
            return Some(row);
        }
        let id18 = ids::to_id18(id).ok()?;
        self.rows.get(&id18)
    }

    /// A live row by id.
    pub fn live(&self, id: &str) -> Option<&Row> {
        self.get(id).filter(|r| !r.deleted)
    }

    /// Live rows of one object, in insertion order.
    pub fn live_rows<'a>(&'a self, object: &str) -> impl Iterator<Item = &'a Row> + 'a {
        self.order
            .get(object)
            .into_iter()
            .flatten()
            .filter_map(|id| self.rows.get(id))
            .filter(|r| !r.deleted)
    }

    /// A fresh id with `prefix` that no row (live or deleted) has.
    pub fn new_id(&mut self, prefix: &str) -> String {
        let rows = &self.rows;
        self.ids.generate(prefix, |id| rows.contains_key(id))
    }

    /// Stores a new record; `fields` must hold its `Id`.
    pub fn insert(&mut self, object: &str, fields: Map<String, Value>) -> String {
        let id = fields
            .get("Id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .expect("callers give inserted records an Id");
        if object == PSLA {
            self.bump_used(&fields, 1);
        }
        self.order
            .entry(object.to_string())
            .or_default()
            .push(id.clone());
        self.rows.insert(
            id.clone(),
            Row {
                object: object.to_string(),
                fields,
                deleted: false,
            },
        );
        self.journal.push(Undo::Inserted(id.clone()));
        id
    }

    /// Sets fields of a live record (null values clear them).
    pub fn update(&mut self, id: &str, changes: &Map<String, Value>) {
        let Some(row) = self.rows.get_mut(id) else {
            return;
        };
        let before = row.fields.clone();
        for (k, v) in changes {
            row.fields.insert(k.clone(), v.clone());
        }
        self.journal.push(Undo::Updated {
            id: id.to_string(),
            before,
        });
    }

    /// Turns a live record into a tombstone.
    pub fn delete(&mut self, id: &str) {
        let Some(row) = self.rows.get_mut(id) else {
            return;
        };
        if row.deleted {
            return;
        }
        row.deleted = true;
        let (object, fields) = (row.object.clone(), row.fields.clone());
        if object == PSLA {
            self.bump_used(&fields, -1);
        }
        self.journal.push(Undo::Deleted(id.to_string()));
    }

    /// Marks the current position of the journal.
    pub fn savepoint(&self) -> Savepoint {
        Savepoint(self.journal.len())
    }

    /// Undoes every change made after `savepoint`.
    pub fn rollback_to(&mut self, savepoint: Savepoint) {
        while self.journal.len() > savepoint.0 {
            let Some(undo) = self.journal.pop() else {
                break;
            };
            match undo {
                Undo::Inserted(id) => {
                    if let Some(row) = self.rows.remove(&id) {
                        if row.object == PSLA && !row.deleted {
                            self.bump_used(&row.fields, -1);
                        }
                        if let Some(order) = self.order.get_mut(&row.object) {
                            if order.last() == Some(&id) {
                                order.pop();
                            } else {
                                order.retain(|x| x != &id);
                            }
                        }
                    }
                }
                Undo::Updated { id, before } => {
                    if let Some(row) = self.rows.get_mut(&id) {
                        row.fields = before;
                    }
                }
                Undo::Deleted(id) => {
                    let restored = match self.rows.get_mut(&id) {
                        Some(row) => {
                            row.deleted = false;
                            (row.object == PSLA).then(|| row.fields.clone())
                        }
                        None => None,
                    };
                    if let Some(fields) = restored {
                        self.bump_used(&fields, 1);
                    }
                }
            }
        }
    }

    /// Forgets the journal: the changes so far are final.
    pub fn commit(&mut self) {
        self.journal.clear();
    }

    /// Live PSL assignments of a permission set license.
    pub fn used_licenses(&self, psl_id: &str) -> u64 {
        self.live(psl_id)
            .and_then(|r| r.fields.get("UsedLicenses"))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    }

    /// Adjusts the PSL that a PSL assignment points at. Not journaled: every journaled PSLA
    /// change calls this again, in reverse, when it is undone.
    fn bump_used(&mut self, psla_fields: &Map<String, Value>, delta: i64) {
        let Some(psl_id) = psla_fields
            .get("PermissionSetLicenseId")
            .and_then(Value::as_str)
        else {
            return;
        };
        if let Some(psl) = self.rows.get_mut(psl_id) {
            let used = psl
                .fields
                .get("UsedLicenses")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            psl.fields
                .insert("UsedLicenses".into(), Value::from((used + delta).max(0)));
        }
    }

    fn recompute_used_licenses(&mut self) {
        let mut counts: HashMap<String, u64> = HashMap::new();
        for row in self.live_rows(PSLA) {
            if let Some(psl) = row
                .fields
                .get("PermissionSetLicenseId")
                .and_then(Value::as_str)
            {
                *counts.entry(psl.to_string()).or_insert(0) += 1;
            }
        }
        let psl_ids: Vec<String> = self.order.get(PSL).cloned().unwrap_or_default();
        for id in psl_ids {
            if let Some(row) = self.rows.get_mut(&id) {
                let used = counts.get(&id).copied().unwrap_or(0);
                row.fields.insert("UsedLicenses".into(), Value::from(used));
            }
        }
    }
}

impl soql::DataSource for Store {
    fn records(&self, object: &str) -> Vec<&Map<String, Value>> {
        self.live_rows(object).map(|r| &r.fields).collect()
    }

    fn by_id(&self, id: &str) -> Option<&Map<String, Value>> {
        self.live(id).map(|r| &r.fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn seeded() -> Store {
        Store::from_records(vec![
            (
                PSL.into(),
                map(json!({"Id": "0PL000000000001GAA", "TotalLicenses": 2})),
            ),
            (
                PSLA.into(),
                map(
                    json!({"Id": "2LA000000000001GAA", "AssigneeId": "005000000000002AAA", "PermissionSetLicenseId": "0PL000000000001GAA"}),
                ),
            ),
        ])
    }

    #[test]
    fn used_licenses_follows_assignments_through_rollback() {
        let mut store = seeded();
        assert_eq!(store.used_licenses("0PL000000000001GAA"), 1);
        let sp = store.savepoint();
        let id = store.new_id("2LA");
        store.insert(
            PSLA,
            map(json!({"Id": id, "AssigneeId": "005000000000003AAA", "PermissionSetLicenseId": "0PL000000000001GAA"})),
        );
        store.delete("2LA000000000001GAA");
        assert_eq!(store.used_licenses("0PL000000000001GAA"), 1);
        store.delete(&id);
        assert_eq!(store.used_licenses("0PL000000000001GAA"), 0);
        store.rollback_to(sp);
        assert_eq!(store.used_licenses("0PL000000000001GAA"), 1);
        assert!(store.live("2LA000000000001GAA").is_some());
        assert!(store.get(&id).is_none());
    }

    #[test]
    fn deleted_rows_remain_as_tombstones() {
        let mut store = seeded();
        store.delete("2LA000000000001GAA");
        store.commit();
        assert!(store.live("2LA000000000001GAA").is_none());
        assert!(store.get("2LA000000000001GAA").is_some_and(|r| r.deleted));
        assert_eq!(soql::DataSource::records(&store, PSLA).len(), 0);
    }

    #[test]
    fn fifteen_character_ids_find_rows() {
        let store = seeded();
        assert!(store.live("0PL000000000001").is_some());
    }
}
