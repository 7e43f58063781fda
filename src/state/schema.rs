//! The store's schema: the DDL a new store is created with, the migrations from each older
//! version, and [`StateStore`]'s `init`, which checks a file is pslwarden's and brings it to
//! [`SCHEMA_VERSION`] in one transaction.
//!
//! Must not: read or write plans, runs or actions (the parent module and [`super::approvals`]
//! do), or change an existing store it has not proved to be pslwarden's.

use rusqlite::OptionalExtension;

use super::{StateError, StateStore, approvals, classify};

/// Marks a SQLite file as pslwarden's (`PRAGMA application_id`, "PSLW").
pub(super) const APPLICATION_ID: i32 = 0x5053_4C57;

/// The schema this build writes (`PRAGMA user_version`). 2 added `kv`; 3 allows `update` actions;
/// 4 added `approvals` and `approval_runs` (see [`super::approvals`]).
pub const SCHEMA_VERSION: i32 = 4;

/// The `actions` table's definition under `name` (the schema, and the copy a migration makes).
macro_rules! actions_table {
    ($name:literal) => {
        concat!(
            "CREATE TABLE ",
            $name,
            " (",
            r#"
    id          INTEGER PRIMARY KEY,
    plan_id     INTEGER NOT NULL REFERENCES plans (id),
    seq         INTEGER NOT NULL,
    op          TEXT NOT NULL CHECK (op IN ('delete', 'create', 'manual', 'update')),
    sobject     TEXT NOT NULL,
    record_id   TEXT,
    fields      TEXT NOT NULL,
    finding     INTEGER NOT NULL,
    rule        TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    username    TEXT NOT NULL,
    description TEXT NOT NULL,
    facts       TEXT NOT NULL,
    status      TEXT NOT NULL
                CHECK (status IN ('planned', 'intent', 'done', 'failed', 'skipped')),
    reason      TEXT,
    run_id      INTEGER REFERENCES runs (id),
    batch       INTEGER,
    restore     TEXT,
    result_id   TEXT,
    outcome     TEXT,
    undoes      INTEGER REFERENCES actions (id),
    restored_by INTEGER REFERENCES runs (id),
    updated_at  TEXT NOT NULL,
    UNIQUE (plan_id, seq)
"#,
            ");\n"
        )
    };
}

pub(super) const SCHEMA: &str = concat!(
    r#"
CREATE TABLE plans (
    id                INTEGER PRIMARY KEY,
    org               TEXT NOT NULL,
    org_id            TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('apply', 'rollback')),
    digest            TEXT NOT NULL,
    source            TEXT NOT NULL,
    snapshot_taken_at TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    rollback_of_run   INTEGER,
    status            TEXT NOT NULL CHECK (status IN ('open', 'finished')),
    notes             TEXT NOT NULL
);
CREATE TABLE findings (
    plan_id           INTEGER NOT NULL REFERENCES plans (id),
    position          INTEGER NOT NULL,
    rule              TEXT NOT NULL,
    kind              TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    username          TEXT NOT NULL,
    psl               TEXT NOT NULL,
    recoverable_seats INTEGER NOT NULL,
    summary           TEXT NOT NULL,
    PRIMARY KEY (plan_id, position)
);
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    org         TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    plan_id     INTEGER REFERENCES plans (id),
    kind        TEXT NOT NULL CHECK (kind IN ('apply', 'rollback')),
    trigger     TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL
                CHECK (status IN ('running', 'completed', 'stopped', 'failed', 'interrupted')),
    message     TEXT,
    summary     TEXT
);
"#,
    actions_table!("actions"),
    r#"CREATE INDEX actions_by_run ON actions (run_id);
CREATE INDEX plans_by_org ON plans (org, status);
CREATE INDEX runs_by_org ON runs (org, status);
"#
);

/// Version 2 to 3: actions may be `update`s (Natterbox license fixes).
const MIGRATE_TO_3: &str = concat!(
    actions_table!("actions_v3"),
    r#"
INSERT INTO actions_v3 SELECT * FROM actions;
DROP TABLE actions;
ALTER TABLE actions_v3 RENAME TO actions;
CREATE INDEX actions_by_run ON actions (run_id);
"#
);

/// Version 1 to 2: small named values (e.g. the findings an org's last scan reported, so the
/// daemon notifies only new ones).
const MIGRATE_TO_2: &str = r#"
CREATE TABLE kv (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"#;

impl StateStore {
    pub(super) fn init(&mut self) -> Result<(), StateError> {
        let app_id: i32 = self
            .conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let tables: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if app_id != APPLICATION_ID && (app_id != 0 || tables > 0) {
            return Err(StateError::Foreign {
                path: self.path.clone(),
                detail: if app_id == 0 {
                    format!("it is an SQLite database with {tables} tables of another program")
                } else {
                    format!("its application id is {app_id:#x}")
                },
            });
        }
        // Foreign keys stay off while a migration copies a table (SQLite's documented way to
        // rebuild one), and are on for everything else.
        self.conn
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = OFF;",
            )
            .map_err(|e| self.err(e))?;
        // A write transaction at once: a store locked by another process fails here.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| classify(&self.path, e))?;
        let version: i32 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| classify(&self.path, e))?;
        if version > SCHEMA_VERSION {
            return Err(StateError::NewerSchema {
                path: self.path.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version == 0 {
            tx.execute_batch(SCHEMA)
                .map_err(|e| classify(&self.path, e))?;
            tx.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID};"))
                .map_err(|e| classify(&self.path, e))?;
        }
        if version < 2 {
            tx.execute_batch(MIGRATE_TO_2)
                .map_err(|e| classify(&self.path, e))?;
        }
        if (1..3).contains(&version) {
            // SQLite cannot change a CHECK constraint: the table is copied into a new one.
            tx.execute_batch(MIGRATE_TO_3)
                .map_err(|e| classify(&self.path, e))?;
        }
        if version < 4 {
            tx.execute_batch(approvals::MIGRATE_TO_4)
                .map_err(|e| classify(&self.path, e))?;
        }
        if version < SCHEMA_VERSION {
            let broken: Option<String> = tx
                .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
                .optional()
                .map_err(|e| classify(&self.path, e))?;
            if let Some(table) = broken {
                return Err(StateError::Damaged {
                    path: self.path.clone(),
                    detail: format!(
                        "a reference of table {table} points at nothing after the upgrade"
                    ),
                });
            }
            tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};"))
                .map_err(|e| classify(&self.path, e))?;
        }
        tx.commit().map_err(|e| classify(&self.path, e))?;
        self.conn
            .execute_batch("PRAGMA foreign_keys = ON;")
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}
