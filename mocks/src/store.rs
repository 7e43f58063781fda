//! The record store of one simulated org: every record in a slot of its own, an index by id,
//! per-object insertion order, tombstones for deleted records (so a second delete answers
//! `ENTITY_IS_DELETED`, or as for an unknown id for objects deleted for good — `rules` decides —
//! and a query cursor opened before the delete can still show the record),
//! and an undo journal so a failed record, or a whole all-or-none request, leaves no trace.
//!
//! Owns storage and `PermissionSetLicense.UsedLicenses`, which it keeps equal to the live count
//! of `PermissionSetLicenseAssign` records at all times (it is never stored in fixtures). It does
//! not validate writes or apply license rules: `rules.rs` does, through this API.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::ids::{self, IdGenerator};
use crate::soql::{self, RecordKey};

const PSL: &str = "PermissionSetLicense";
const PSLA: &str = "PermissionSetLicenseAssign";
const PSA: &str = "PermissionSetAssignment";
const VOICE_CALL: &str = "VoiceCall";

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

/// How to undo one change; records are named by slot.
#[derive(Debug, Clone)]
enum Undo {
    Inserted(usize),
    Updated {
        slot: usize,
        before: Map<String, Value>,
    },
    Deleted(usize),
}

/// A position in the undo journal to roll back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Savepoint(usize);

/// All records of one org.
#[derive(Debug, Default, Clone)]
pub struct Store {
    /// Every record ever stored, live or deleted, in the order stored. A slot is never reused
    /// (a rolled-back insert leaves `None` behind), so the slot number a query cursor keeps as
    /// its [`RecordKey`] names the same record for the life of the org.
    slots: Vec<Option<Row>>,
    /// Slot of every record by 18-character id.
    index: HashMap<String, usize>,
    /// Slots per object in insertion order, so queries without ORDER BY are stable and a scan of
    /// one object reads no other.
    order: HashMap<String, Vec<usize>>,
    /// Slots of permission set (license) assignments per `(object, AssigneeId)`: the license
    /// rules ask "what does this user hold" for every write, which must not scan every
    /// assignment of a large org. Only ever added to; readers re-check the row (a rolled-back or
    /// deleted slot, or a changed assignee, is filtered out there).
    by_assignee: HashMap<(String, String), Vec<usize>>,
    /// Slots of `VoiceCall` records per `UserId` (its 15-character form): the idle rule's
    /// aggregate names up to 2 000 agents out of a million calls, and must not read them all.
    /// Like `by_assignee`, only ever added to; the query engine re-checks every row it gets.
    by_call_user: HashMap<String, Vec<usize>>,
    /// Changes since the last `commit`, newest last.
    journal: Vec<Undo>,
    /// Source of ids for inserted records.
    ids: IdGenerator,
}

impl Store {
    /// A store holding `records` (already validated), with `UsedLicenses` computed. A repeated
    /// id replaces the earlier record in place.
    pub fn from_records(records: Vec<(String, Map<String, Value>)>) -> Store {
        let mut store = Store {
            slots: Vec::with_capacity(records.len()),
            index: HashMap::with_capacity(records.len()),
            ..Store::default()
        };
        for (object, fields) in records {
            let Some(id) = fields.get("Id").and_then(Value::as_str).map(str::to_string) else {
                continue;
            };
            let row = Row {
                object,
                fields,
                deleted: false,
            };
            if let Some(&slot) = store.index.get(&id) {
                store.index_assignee(slot, &row);
                store.slots[slot] = Some(row);
                continue;
            }
            store.add(id, row);
        }
        store.recompute_used_licenses();
        store
    }

    /// Puts a new record in a fresh slot, indexed and in its object's order.
    fn add(&mut self, id: String, row: Row) -> usize {
        let slot = self.slots.len();
        self.index_assignee(slot, &row);
        match self.order.get_mut(&row.object) {
            Some(order) => order.push(slot),
            None => {
                self.order.insert(row.object.clone(), vec![slot]);
            }
        }
        self.slots.push(Some(row));
        self.index.insert(id, slot);
        slot
    }

    fn index_assignee(&mut self, slot: usize, row: &Row) {
        if row.object == VOICE_CALL {
            if let Some(user) = row.fields.get("UserId").and_then(Value::as_str) {
                let key = user.get(..15).unwrap_or(user).to_string();
                let slots = self.by_call_user.entry(key).or_default();
                if slots.last() != Some(&slot) {
                    slots.push(slot);
                }
            }
            return;
        }
        if row.object != PSA && row.object != PSLA {
            return;
        }
        if let Some(assignee) = row.fields.get("AssigneeId").and_then(Value::as_str) {
            let key = (row.object.clone(), assignee.to_string());
            let slots = self.by_assignee.entry(key).or_default();
            if slots.last() != Some(&slot) {
                slots.push(slot);
            }
        }
    }

    /// Live rows of `object` (permission set or license assignments) whose `AssigneeId` is
    /// `assignee`, in insertion order.
    pub fn live_rows_of_assignee<'a>(
        &'a self,
        object: &str,
        assignee: &'a str,
    ) -> impl Iterator<Item = &'a Row> + use<'a> {
        self.by_assignee
            .get(&(object.to_string(), assignee.to_string()))
            .into_iter()
            .flatten()
            .filter_map(|&slot| self.at(slot))
            .filter(move |r| {
                !r.deleted && r.fields.get("AssigneeId").and_then(Value::as_str) == Some(assignee)
            })
    }

    /// The slot of an 18-character id (exact match, as stored).
    fn slot(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    fn row_mut(&mut self, slot: usize) -> Option<&mut Row> {
        self.slots.get_mut(slot)?.as_mut()
    }

    /// Any row by 15- or 18-character id, tombstones included.
    pub fn get(&self, id: &str) -> Option<&Row> {
        let slot = match self.slot(id) {
            Some(slot) => slot,
            // `to_id18` of an 18-character id is the id itself or an error: no second lookup.
            None if id.len() == 18 => return None,
            None => self.slot(&ids::to_id18(id).ok()?)?,
        };
        self.at(slot)
    }

    /// The row in `slot`, tombstones included; None for a rolled-back insert or no such slot.
    pub fn at(&self, slot: usize) -> Option<&Row> {
        self.slots.get(slot)?.as_ref()
    }

    /// A live row by id.
    pub fn live(&self, id: &str) -> Option<&Row> {
        self.get(id).filter(|r| !r.deleted)
    }

    /// Live rows of one object, in insertion order, with their slots.
    fn live_slots<'a>(&'a self, object: &str) -> impl Iterator<Item = (usize, &'a Row)> + use<'a> {
        self.order
            .get(object)
            .into_iter()
            .flatten()
            .filter_map(|&slot| Some((slot, self.at(slot)?)))
            .filter(|(_, r)| !r.deleted)
    }

    /// Live rows of one object, in insertion order.
    pub fn live_rows<'a>(&'a self, object: &str) -> impl Iterator<Item = &'a Row> + use<'a> {
        self.live_slots(object).map(|(_, row)| row)
    }

    /// A fresh id with `prefix` that no row (live or deleted) has.
    pub fn new_id(&mut self, prefix: &str) -> String {
        let index = &self.index;
        self.ids.generate(prefix, |id| index.contains_key(id))
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
        let row = Row {
            object: object.to_string(),
            fields,
            deleted: false,
        };
        let slot = self.add(id.clone(), row);
        self.journal.push(Undo::Inserted(slot));
        id
    }

    /// Sets fields of a live record (null values clear them).
    pub fn update(&mut self, id: &str, changes: &Map<String, Value>) {
        let Some(slot) = self.slot(id) else {
            return;
        };
        let Some(row) = self.row_mut(slot) else {
            return;
        };
        let before = row.fields.clone();
        for (k, v) in changes {
            row.fields.insert(k.clone(), v.clone());
        }
        let row = row.clone();
        self.index_assignee(slot, &row);
        self.journal.push(Undo::Updated { slot, before });
    }

    /// Turns a live record into a tombstone.
    pub fn delete(&mut self, id: &str) {
        let Some(slot) = self.slot(id) else {
            return;
        };
        let Some(row) = self.row_mut(slot) else {
            return;
        };
        if row.deleted {
            return;
        }
        row.deleted = true;
        let psla_fields = (row.object == PSLA).then(|| row.fields.clone());
        if let Some(fields) = psla_fields {
            self.bump_used(&fields, -1);
        }
        self.journal.push(Undo::Deleted(slot));
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
                Undo::Inserted(slot) => {
                    // The slot stays empty rather than being reused: a cursor may hold it.
                    let Some(row) = self.slots.get_mut(slot).and_then(Option::take) else {
                        continue;
                    };
                    if row.object == PSLA && !row.deleted {
                        self.bump_used(&row.fields, -1);
                    }
                    if let Some(id) = row.fields.get("Id").and_then(Value::as_str) {
                        self.index.remove(id);
                    }
                    if let Some(order) = self.order.get_mut(&row.object) {
                        if order.last() == Some(&slot) {
                            order.pop();
                        } else {
                            order.retain(|&s| s != slot);
                        }
                    }
                }
                Undo::Updated { slot, before } => {
                    if let Some(row) = self.row_mut(slot) {
                        row.fields = before;
                    }
                }
                Undo::Deleted(slot) => {
                    let restored = self.row_mut(slot).and_then(|row| {
                        row.deleted = false;
                        (row.object == PSLA).then(|| row.fields.clone())
                    });
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
        let Some(psl) = self.slot(psl_id).and_then(|slot| self.row_mut(slot)) else {
            return;
        };
        let used = psl
            .fields
            .get("UsedLicenses")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        psl.fields
            .insert("UsedLicenses".into(), Value::from((used + delta).max(0)));
    }

    fn recompute_used_licenses(&mut self) {
        let mut counts: HashMap<&str, u64> = HashMap::new();
        for row in self.live_rows(PSLA) {
            if let Some(psl) = row
                .fields
                .get("PermissionSetLicenseId")
                .and_then(Value::as_str)
            {
                *counts.entry(psl).or_insert(0) += 1;
            }
        }
        let used: Vec<(usize, u64)> = self
            .order
            .get(PSL)
            .into_iter()
            .flatten()
            .filter_map(|&slot| {
                let id = self.at(slot)?.fields.get("Id")?.as_str()?;
                Some((slot, counts.get(id).copied().unwrap_or(0)))
            })
            .collect();
        for (slot, n) in used {
            if let Some(row) = self.row_mut(slot) {
                row.fields.insert("UsedLicenses".into(), Value::from(n));
            }
        }
    }
}

impl soql::DataSource for Store {
    fn records<'a>(
        &'a self,
        object: &str,
    ) -> Box<dyn Iterator<Item = (RecordKey, &'a soql::Record)> + 'a> {
        Box::new(
            self.live_slots(object)
                .map(|(slot, row)| (RecordKey(slot), &row.fields)),
        )
    }

    fn by_id(&self, id: &str) -> Option<&soql::Record> {
        self.live(id).map(|r| &r.fields)
    }

    fn by_key(&self, key: RecordKey) -> Option<&soql::Record> {
        self.at(key.0).map(|r| &r.fields)
    }

    fn records_with<'a>(
        &'a self,
        object: &str,
        field: &str,
        ids: &std::collections::HashSet<&str>,
    ) -> Option<Vec<(RecordKey, &'a soql::Record)>> {
        if object != VOICE_CALL || field != "UserId" {
            return None;
        }
        let mut slots: Vec<usize> = ids
            .iter()
            .filter_map(|id| self.by_call_user.get(*id))
            .flatten()
            .copied()
            .collect();
        // Store order, as a scan would give them; a slot indexed twice (its UserId changed
        // back and forth) once.
        slots.sort_unstable();
        slots.dedup();
        Some(
            slots
                .into_iter()
                .filter_map(|slot| Some((slot, self.at(slot)?)))
                .filter(|(_, row)| !row.deleted && row.object == VOICE_CALL)
                .map(|(slot, row)| (RecordKey(slot), &row.fields))
                .collect(),
        )
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
        assert_eq!(soql::DataSource::records(&store, PSLA).count(), 0);
    }

    #[test]
    fn a_rolled_back_insert_leaves_its_key_empty_for_good() {
        use soql::DataSource;
        let mut store = seeded();
        let sp = store.savepoint();
        let id = store.new_id("2LA");
        store.insert(
            PSLA,
            map(json!({"Id": id, "AssigneeId": "005000000000003AAA", "PermissionSetLicenseId": "0PL000000000001GAA"})),
        );
        let keys: Vec<RecordKey> = store.records(PSLA).map(|(k, _)| k).collect();
        store.rollback_to(sp);
        let again = store.new_id("2LA");
        store.insert(
            PSLA,
            map(json!({"Id": again, "AssigneeId": "005000000000004AAA", "PermissionSetLicenseId": "0PL000000000001GAA"})),
        );
        // A cursor holding the rolled-back record's key must not see the newer record instead.
        let gone = keys[1];
        assert!(store.by_key(gone).is_none());
        assert!(store.by_key(keys[0]).is_some());
        assert_eq!(store.records(PSLA).count(), 2);
    }

    #[test]
    fn a_deleted_record_stays_readable_by_key() {
        use soql::DataSource;
        let mut store = seeded();
        let (key, _) = store.records(PSLA).next().expect("one assignment");
        store.delete("2LA000000000001GAA");
        assert_eq!(
            store
                .by_key(key)
                .and_then(|r| r.get("Id"))
                .and_then(Value::as_str),
            Some("2LA000000000001GAA")
        );
        assert!(store.by_id("2LA000000000001GAA").is_none());
    }

    #[test]
    fn fifteen_character_ids_find_rows() {
        let store = seeded();
        assert!(store.live("0PL000000000001").is_some());
    }

    #[test]
    fn calls_by_user_follow_inserts_updates_deletes_and_rollbacks() {
        use soql::DataSource;
        let (a, b) = ("005000000000001AAA", "005000000000002AAA");
        let mut store = Store::from_records(vec![
            (
                VOICE_CALL.into(),
                map(json!({"Id": "0LQ000000000001AAA", "UserId": a})),
            ),
            (
                VOICE_CALL.into(),
                map(json!({"Id": "0LQ000000000002AAA", "UserId": b})),
            ),
        ]);
        let ids_of = |store: &Store, users: &[&str]| -> Vec<String> {
            let keys: std::collections::HashSet<&str> = users.iter().map(|u| &u[..15]).collect();
            store
                .records_with(VOICE_CALL, "UserId", &keys)
                .expect("indexed")
                .into_iter()
                .filter_map(|(_, r)| r.get("Id")?.as_str().map(str::to_string))
                .collect()
        };
        assert_eq!(ids_of(&store, &[a]), ["0LQ000000000001AAA"]);
        store.insert(
            VOICE_CALL,
            map(json!({"Id": "0LQ000000000003AAA", "UserId": a})),
        );
        store.commit();
        assert_eq!(
            ids_of(&store, &[a, b]),
            [
                "0LQ000000000001AAA",
                "0LQ000000000002AAA",
                "0LQ000000000003AAA"
            ]
        );
        // Moved to b: still offered under a (the engine re-checks), now also under b.
        let savepoint = store.savepoint();
        store.update("0LQ000000000001AAA", &map(json!({"UserId": b})));
        assert!(ids_of(&store, &[b]).contains(&"0LQ000000000001AAA".to_string()));
        store.rollback_to(savepoint);
        assert!(ids_of(&store, &[a]).contains(&"0LQ000000000001AAA".to_string()));
        store.delete("0LQ000000000003AAA");
        store.commit();
        assert_eq!(ids_of(&store, &[a]), ["0LQ000000000001AAA"]);
        assert!(
            store
                .records_with("User", "Id", &Default::default())
                .is_none()
        );
    }
}
