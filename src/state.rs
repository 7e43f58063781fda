//! The state store: one SQLite file per deployment holding the plans pslwarden accepted, the runs
//! that carried them out, and the journal of every change: each action's status, and for every
//! deleted record the fields needed to re-create it.
//!
//! Owns: the schema (and its version), every SQL statement, the journal's state machine
//! (`planned` → `intent` → `done` | `failed`, or `skipped` with a reason) and the per-org lock
//! file ([`OrgLock`]) that keeps two runs from changing one org at once.
//!
//! Must not: talk to an org or decide anything. The apply engine says what happened; this module
//! makes it durable. Every method that changes the journal commits before it returns, so what
//! it says survives a crash the instant after.
//!
//! Durability: WAL journal with `synchronous = FULL`: a committed intent or outcome is on disk.
//! No secret is ever written here (actions hold record ids and field values of assignments).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};
use serde::Serialize;

use crate::plan::{Fact, Op};

/// Marks a SQLite file as pslwarden's (`PRAGMA application_id`, "PSLW").
const APPLICATION_ID: i32 = 0x5053_4C57;

/// The schema this build writes (`PRAGMA user_version`). 2 added `kv`; 3 allows `update` actions;
/// 4 added `approvals` and `approval_runs` (see [`approvals`]).
pub const SCHEMA_VERSION: i32 = 4;

mod approvals;

/// How long a statement waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(3);

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

const SCHEMA: &str = concat!(
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

/// The state store could not do what was asked. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "cannot create the folder {path} for the state store: {source}. Set `state_path` in the \
         [defaults] config to a place the user running pslwarden may write"
    )]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the state store {path} is locked by another process (another pslwarden, or a tool \
         holding the file open for writing) and stayed locked for {} s; nothing was changed. \
         Wait for it to finish, or close the tool, and run again",
        BUSY_TIMEOUT.as_secs()
    )]
    Locked { path: PathBuf },
    #[error(
        "{path} is not a pslwarden state store ({detail}); nothing was changed. Point \
         `state_path` in the [defaults] config at a new file, or restore this one from a backup"
    )]
    Foreign { path: PathBuf, detail: String },
    #[error(
        "the state store {path} was written by a newer pslwarden (schema {found}, this build \
         reads {supported}); nothing was changed. Upgrade pslwarden"
    )]
    NewerSchema {
        path: PathBuf,
        found: i32,
        supported: i32,
    },
    #[error("the state store {path} failed: {source}. Check the disk and the file's permissions")]
    Sql {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "the state store {path} holds a value it cannot read back ({detail}); it may be damaged"
    )]
    Damaged { path: PathBuf, detail: String },
    #[error("cannot open the lock file {path}: {source}")]
    LockFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "another pslwarden run is changing org `{org}` right now (it holds {path}); two runs \
         never overlap on one org. Wait for it to finish and run again"
    )]
    OrgBusy { org: String, path: PathBuf },
}

/// Ids of rows.
pub type PlanId = i64;
pub type RunId = i64;
pub type ActionId = i64;

/// What a run or a plan does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// Carries out a fix plan.
    Apply,
    /// Re-creates what an earlier run deleted.
    Rollback,
}

/// How a run ended (or that it is still going, or died).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Going on now (or the process died: the next run marks it `interrupted`).
    Running,
    /// Everything it took on is decided (done, failed or skipped).
    Completed,
    /// The gate stopped it (window, API headroom) or a cap left work for the next run.
    Stopped,
    /// An error ended it; its intents were reconciled or are left for the next run.
    Failed,
    /// The process died while it ran; found and closed by a later run.
    Interrupted,
}

/// Where one action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Waiting for a run.
    Planned,
    /// Its write call is about to be or was sent; the outcome is not yet recorded.
    Intent,
    /// The org is as the action wanted.
    Done,
    /// Salesforce refused it; `reason` says why.
    Failed,
    /// Not carried out, and never will be; `reason` says why.
    Skipped,
}

macro_rules! text_enum {
    ($ty:ty { $($variant:path => $text:literal),* $(,)? }) => {
        impl $ty {
            /// The spelling stored in the database and shown in reports.
            pub fn as_str(self) -> &'static str {
                match self { $($variant => $text),* }
            }
            fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($variant),)* _ => None }
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(RunKind { RunKind::Apply => "apply", RunKind::Rollback => "rollback" });
text_enum!(RunStatus {
    RunStatus::Running => "running",
    RunStatus::Completed => "completed",
    RunStatus::Stopped => "stopped",
    RunStatus::Failed => "failed",
    RunStatus::Interrupted => "interrupted",
});
text_enum!(ActionStatus {
    ActionStatus::Planned => "planned",
    ActionStatus::Intent => "intent",
    ActionStatus::Done => "done",
    ActionStatus::Failed => "failed",
    ActionStatus::Skipped => "skipped",
});

fn op_str(op: Op) -> &'static str {
    match op {
        Op::Delete => "delete",
        Op::Create => "create",
        Op::Manual => "manual",
        Op::Update => "update",
    }
}

fn parse_op(text: &str) -> Option<Op> {
    match text {
        "delete" => Some(Op::Delete),
        "create" => Some(Op::Create),
        "manual" => Some(Op::Manual),
        "update" => Some(Op::Update),
        _ => None,
    }
}

/// A plan to store: its header.
#[derive(Debug, Clone)]
pub struct NewPlan<'a> {
    /// Org name in the config: plans and locks are per org.
    pub org: &'a str,
    /// `Organization.Id`: a plan is only ever continued on the org it was made for.
    pub org_id: &'a str,
    /// A fix plan or an undo plan.
    pub kind: RunKind,
    /// The fix plan's digest (for a rollback plan, a label of what it undoes).
    pub digest: &'a str,
    /// `scan`, the plan file's path, or `rollback of run N`.
    pub source: &'a str,
    /// When the data the plan rests on was read.
    pub snapshot_taken_at: &'a str,
    /// When the plan was stored.
    pub created_at: &'a str,
    /// For an undo plan: the run it undoes.
    pub rollback_of_run: Option<RunId>,
    /// The plan's notes (findings without actions, and why).
    pub notes: &'a [String],
}

/// A finding to store with its plan (what the history shows as "why").
#[derive(Debug, Clone)]
pub struct NewFinding<'a> {
    /// Position in the scan's findings: actions name their finding by it.
    pub position: usize,
    /// Rule id and finer kind, as in `report.json`.
    pub rule: &'a str,
    pub kind: &'a str,
    /// The user whose seat is wasted.
    pub user_id: &'a str,
    pub username: &'a str,
    /// `DeveloperName` of the license.
    pub psl: &'a str,
    /// Seats the fix frees.
    pub recoverable_seats: u32,
    /// One sentence for the admin.
    pub summary: &'a str,
}

/// An action to store, `planned`: a plan's action, and for a rollback the action it undoes.
#[derive(Debug, Clone)]
pub struct NewAction {
    /// What to do, to which record, for which finding, relying on which facts.
    pub action: crate::plan::Action,
    /// For a rollback action: the action whose change it undoes.
    pub undoes: Option<ActionId>,
}

/// A stored plan's header.
#[derive(Debug, Clone, Serialize)]
pub struct StoredPlan {
    pub id: PlanId,
    /// As in [`NewPlan`].
    pub org: String,
    pub org_id: String,
    pub kind: RunKind,
    pub digest: String,
    pub source: String,
    pub snapshot_taken_at: String,
    pub created_at: String,
    pub rollback_of_run: Option<RunId>,
    /// `open` while actions are planned, `finished` once none is.
    pub status: String,
    pub notes: Vec<String>,
}

/// A stored action with where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct StoredAction {
    pub id: ActionId,
    pub plan_id: PlanId,
    /// Position in the plan: the order actions run in.
    pub seq: u32,
    /// As in [`crate::plan::Action`] (`id` there is `record_id` here).
    pub op: Op,
    pub sobject: String,
    pub record_id: Option<String>,
    pub fields: BTreeMap<String, String>,
    pub finding: usize,
    pub rule: String,
    pub user_id: String,
    pub username: String,
    pub description: String,
    pub facts: Vec<Fact>,
    /// Where it stands in the journal.
    pub status: ActionStatus,
    /// Why it was skipped or failed, or how it was done (e.g. "already gone").
    pub reason: Option<String>,
    /// The run that carried it out (or skipped it).
    pub run_id: Option<RunId>,
    /// The batch of that run it went in.
    pub batch: Option<u32>,
    /// For a delete: the deleted record's fields, to re-create it (journaled before the delete).
    pub restore: Option<BTreeMap<String, String>>,
    /// For a create: the new record's id.
    pub result_id: Option<String>,
    /// Short outcome code: `deleted`, `already_gone`, `created`, `already_present`, or the
    /// Salesforce error code.
    pub outcome: Option<String>,
    /// For a rollback action: the action it undoes.
    pub undoes: Option<ActionId>,
    /// The rollback run that undid this action.
    pub restored_by: Option<RunId>,
    /// When the journal last changed it.
    pub updated_at: String,
}

/// A stored run.
#[derive(Debug, Clone, Serialize)]
pub struct StoredRun {
    pub id: RunId,
    /// Org name in the config, and `Organization.Id`.
    pub org: String,
    pub org_id: String,
    /// The plan it carried out (none when it failed before having one).
    pub plan_id: Option<PlanId>,
    pub kind: RunKind,
    /// `terminal` (a person confirmed) or `unattended` (`--yes`).
    pub trigger: String,
    /// RFC 3339 UTC; `finished_at` is empty while it runs.
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: RunStatus,
    /// Why it stopped or failed, or what is left.
    pub message: Option<String>,
    /// The run's summary as JSON (seats expected and actually freed, API calls), once finished.
    pub summary: Option<serde_json::Value>,
}

/// A run with the counts of what it did, for `history`.
#[derive(Debug, Clone, Serialize)]
pub struct RunOverview {
    #[serde(flatten)]
    pub run: StoredRun,
    /// Its actions by status.
    pub done: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Seats (license assignments) this run removed, or re-created for a rollback.
    pub seats: u64,
}

/// An action's outcome, as recorded after its write call.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The action it is about.
    pub action: ActionId,
    /// `done` or `failed` (reconciliation may also say `done`).
    pub status: ActionStatus,
    /// Short code, as [`StoredAction::outcome`].
    pub outcome: String,
    /// Salesforce's errors, or how the goal was met.
    pub reason: Option<String>,
    /// A created record's id.
    pub result_id: Option<String>,
}

/// The open SQLite connection.
pub struct StateStore {
    /// One connection per process; SQLite serialises writers across processes.
    conn: Connection,
    /// The file, for messages.
    path: PathBuf,
}

impl std::fmt::Debug for StateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateStore")
            .field("path", &self.path)
            .finish()
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl StateStore {
    /// Opens (creating when absent) the store at `path`, and proves it can write: a store another
    /// process holds locked fails here, before anything touches an org.
    pub fn open(path: &Path) -> Result<StateStore, StateError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StateError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let conn = Connection::open(path).map_err(|e| classify(path, e))?;
        let mut store = StateStore {
            conn,
            path: path.to_path_buf(),
        };
        store
            .conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| store.err(e))?;
        store.init()?;
        Ok(store)
    }

    /// The file's path, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> StateError {
        classify(&self.path, e)
    }

    fn damaged(&self, detail: impl Into<String>) -> StateError {
        StateError::Damaged {
            path: self.path.clone(),
            detail: detail.into(),
        }
    }

    fn init(&mut self) -> Result<(), StateError> {
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

    /// Stores a plan with its findings and actions (all `planned`), in one transaction.
    pub fn create_plan(
        &mut self,
        plan: &NewPlan<'_>,
        findings: &[NewFinding<'_>],
        actions: &[NewAction],
    ) -> Result<PlanId, StateError> {
        let path = self.path.clone();
        let e = |e| classify(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        tx.execute(
            "INSERT INTO plans (org, org_id, kind, digest, source, snapshot_taken_at, created_at, \
             rollback_of_run, status, notes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', ?9)",
            params![
                plan.org,
                plan.org_id,
                plan.kind.as_str(),
                plan.digest,
                plan.source,
                plan.snapshot_taken_at,
                plan.created_at,
                plan.rollback_of_run,
                json(&plan.notes),
            ],
        )
        .map_err(e)?;
        let plan_id = tx.last_insert_rowid();
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO findings (plan_id, position, rule, kind, user_id, username, psl, \
                     recoverable_seats, summary) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(e)?;
            for f in findings {
                insert
                    .execute(params![
                        plan_id,
                        f.position as i64,
                        f.rule,
                        f.kind,
                        f.user_id,
                        f.username,
                        f.psl,
                        f.recoverable_seats,
                        f.summary
                    ])
                    .map_err(e)?;
            }
            let mut insert = tx
                .prepare(
                    "INSERT INTO actions (plan_id, seq, op, sobject, record_id, fields, finding, \
                     rule, user_id, username, description, facts, status, undoes, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'planned', ?13, ?14)",
                )
                .map_err(e)?;
            let stamp = now();
            for (seq, new) in actions.iter().enumerate() {
                let a = &new.action;
                insert
                    .execute(params![
                        plan_id,
                        seq as i64,
                        op_str(a.op),
                        a.sobject,
                        a.id,
                        json(&a.fields),
                        a.finding as i64,
                        a.rule,
                        a.user_id,
                        a.username,
                        a.description,
                        json(&a.facts),
                        new.undoes,
                        stamp,
                    ])
                    .map_err(e)?;
            }
        }
        tx.commit().map_err(e)?;
        Ok(plan_id)
    }

    /// The org's plan that still has actions to do, if any (at most one is open at a time).
    pub fn open_plan(&self, org: &str) -> Result<Option<StoredPlan>, StateError> {
        let id: Option<PlanId> = self
            .conn
            .query_row(
                "SELECT id FROM plans WHERE org = ?1 AND status = 'open' ORDER BY id LIMIT 1",
                [org],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        id.map(|id| self.plan(id)).transpose()
    }

    /// One plan's header.
    pub fn plan(&self, id: PlanId) -> Result<StoredPlan, StateError> {
        let row = self
            .conn
            .query_row(
                "SELECT id, org, org_id, kind, digest, source, snapshot_taken_at, created_at, \
                 rollback_of_run, status, notes FROM plans WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, String>(7)?,
                        r.get::<_, Option<i64>>(8)?,
                        r.get::<_, String>(9)?,
                        r.get::<_, String>(10)?,
                    ))
                },
            )
            .map_err(|e| self.err(e))?;
        Ok(StoredPlan {
            id: row.0,
            org: row.1,
            org_id: row.2,
            kind: RunKind::parse(&row.3).ok_or_else(|| self.damaged("plan kind"))?,
            digest: row.4,
            source: row.5,
            snapshot_taken_at: row.6,
            created_at: row.7,
            rollback_of_run: row.8,
            status: row.9,
            notes: serde_json::from_str(&row.10).map_err(|e| self.damaged(e.to_string()))?,
        })
    }

    const ACTION_COLUMNS: &'static str = "id, plan_id, seq, op, sobject, record_id, fields, \
        finding, rule, user_id, username, description, facts, status, reason, run_id, batch, \
        restore, result_id, outcome, undoes, restored_by, updated_at";

    fn actions_where(&self, clause: &str, arg: i64) -> Result<Vec<StoredAction>, StateError> {
        let sql = format!(
            "SELECT {} FROM actions WHERE {clause} ORDER BY plan_id, seq",
            Self::ACTION_COLUMNS
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([arg], |r| {
                Ok(RawAction {
                    id: r.get(0)?,
                    plan_id: r.get(1)?,
                    seq: r.get(2)?,
                    op: r.get(3)?,
                    sobject: r.get(4)?,
                    record_id: r.get(5)?,
                    fields: r.get(6)?,
                    finding: r.get(7)?,
                    rule: r.get(8)?,
                    user_id: r.get(9)?,
                    username: r.get(10)?,
                    description: r.get(11)?,
                    facts: r.get(12)?,
                    status: r.get(13)?,
                    reason: r.get(14)?,
                    run_id: r.get(15)?,
                    batch: r.get(16)?,
                    restore: r.get(17)?,
                    result_id: r.get(18)?,
                    outcome: r.get(19)?,
                    undoes: r.get(20)?,
                    restored_by: r.get(21)?,
                    updated_at: r.get(22)?,
                })
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let raw = row.map_err(|e| self.err(e))?;
            out.push(raw.into_action().map_err(|d| self.damaged(d))?);
        }
        Ok(out)
    }

    /// Every action of a plan, in order.
    pub fn plan_actions(&self, plan: PlanId) -> Result<Vec<StoredAction>, StateError> {
        self.actions_where("plan_id = ?1", plan)
    }

    /// Every action a run carried out or skipped, in plan order.
    pub fn run_actions(&self, run: RunId) -> Result<Vec<StoredAction>, StateError> {
        self.actions_where("run_id = ?1", run)
    }

    /// Starts a run.
    pub fn start_run(
        &mut self,
        org: &str,
        org_id: &str,
        plan: Option<PlanId>,
        kind: RunKind,
        trigger: &str,
        started_at: &str,
    ) -> Result<RunId, StateError> {
        self.conn
            .execute(
                "INSERT INTO runs (org, org_id, plan_id, kind, trigger, started_at, status) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'running')",
                params![org, org_id, plan, kind.as_str(), trigger, started_at],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Attaches a plan to a run that started before its plan was made (a run that scanned).
    pub fn set_run_plan(&mut self, run: RunId, plan: PlanId) -> Result<(), StateError> {
        self.conn
            .execute(
                "UPDATE runs SET plan_id = ?1 WHERE id = ?2",
                params![plan, run],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Ends a run.
    pub fn finish_run(
        &mut self,
        run: RunId,
        status: RunStatus,
        message: Option<&str>,
        summary: Option<&serde_json::Value>,
    ) -> Result<(), StateError> {
        self.conn
            .execute(
                "UPDATE runs SET status = ?1, message = ?2, summary = ?3, finished_at = ?4 \
                 WHERE id = ?5",
                params![
                    status.as_str(),
                    message,
                    summary.map(|s| s.to_string()),
                    now(),
                    run
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The org's runs still marked `running`: under the org lock, they are runs whose process
    /// died.
    pub fn running_runs(&self, org: &str) -> Result<Vec<StoredRun>, StateError> {
        self.runs_where("org = ?1 AND status = 'running'", org)
    }

    /// One run.
    pub fn run(&self, id: RunId) -> Result<Option<StoredRun>, StateError> {
        Ok(self
            .runs_where("id = ?1", &id.to_string())?
            .into_iter()
            .next())
    }

    fn runs_where(&self, clause: &str, arg: &str) -> Result<Vec<StoredRun>, StateError> {
        let sql = format!(
            "SELECT id, org, org_id, plan_id, kind, trigger, started_at, finished_at, status, \
             message, summary FROM runs WHERE {clause} ORDER BY id"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([arg], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, Option<String>>(9)?,
                    r.get::<_, Option<String>>(10)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let r = row.map_err(|e| self.err(e))?;
            out.push(StoredRun {
                id: r.0,
                org: r.1,
                org_id: r.2,
                plan_id: r.3,
                kind: RunKind::parse(&r.4).ok_or_else(|| self.damaged("run kind"))?,
                trigger: r.5,
                started_at: r.6,
                finished_at: r.7,
                status: RunStatus::parse(&r.8).ok_or_else(|| self.damaged("run status"))?,
                message: r.9,
                summary: r
                    .10
                    .map(|s| serde_json::from_str(&s))
                    .transpose()
                    .map_err(|e| self.damaged(e.to_string()))?,
            });
        }
        Ok(out)
    }

    /// Every run (of `org`, when given), oldest first, with counts of what each did.
    pub fn overview(&self, org: Option<&str>) -> Result<Vec<RunOverview>, StateError> {
        let runs = match org {
            Some(org) => self.runs_where("org = ?1", org)?,
            None => self.runs_where("?1 = ?1", "")?,
        };
        let mut stmt = self
            .conn
            .prepare(
                "SELECT status, op, sobject, count(*) FROM actions WHERE run_id = ?1 \
                 GROUP BY status, op, sobject",
            )
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(runs.len());
        for run in runs {
            let counts = stmt
                .query_map([run.id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                })
                .map_err(|e| self.err(e))?;
            let (mut done, mut failed, mut skipped, mut seats) = (0, 0, 0, 0);
            for c in counts {
                let (status, op, sobject, n) = c.map_err(|e| self.err(e))?;
                let n = n.max(0) as u64;
                match status.as_str() {
                    "done" => {
                        done += n;
                        let seat_op = match run.kind {
                            RunKind::Apply => "delete",
                            RunKind::Rollback => "create",
                        };
                        if op == seat_op && sobject == crate::plan::LICENSE_ASSIGNMENT {
                            seats += n;
                        }
                    }
                    "failed" => failed += n,
                    "skipped" => skipped += n,
                    _ => {}
                }
            }
            out.push(RunOverview {
                run,
                done,
                failed,
                skipped,
                seats,
            });
        }
        Ok(out)
    }

    /// Journals, before any write, the fields that re-create each record the run may delete.
    pub fn set_restore(
        &mut self,
        restores: &[(ActionId, BTreeMap<String, String>)],
    ) -> Result<(), StateError> {
        let path = self.path.clone();
        let e = |e| classify(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        {
            let mut stmt = tx
                .prepare("UPDATE actions SET restore = ?1, updated_at = ?2 WHERE id = ?3")
                .map_err(e)?;
            let stamp = now();
            for (id, fields) in restores {
                stmt.execute(params![json(fields), stamp, id]).map_err(e)?;
            }
        }
        tx.commit().map_err(e)
    }

    /// Marks actions skipped for good, each with its reason, by `run`.
    pub fn skip(&mut self, run: RunId, skipped: &[(ActionId, String)]) -> Result<(), StateError> {
        let path = self.path.clone();
        let e = |e| classify(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        {
            let mut stmt = tx
                .prepare(
                    "UPDATE actions SET status = 'skipped', reason = ?1, run_id = ?2, \
                     outcome = 'skipped', updated_at = ?3 WHERE id = ?4 AND status = 'planned'",
                )
                .map_err(e)?;
            let stamp = now();
            for (id, reason) in skipped {
                stmt.execute(params![reason, run, stamp, id]).map_err(e)?;
            }
        }
        tx.commit().map_err(e)
    }

    /// Records the intent to send `actions` in batch `batch` of `run`. Committed before the write
    /// call goes out: if the process dies during the call, the next run knows what to check.
    pub fn mark_intent(
        &mut self,
        run: RunId,
        batch: u32,
        actions: &[ActionId],
    ) -> Result<(), StateError> {
        let path = self.path.clone();
        let e = |e| classify(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        {
            let mut stmt = tx
                .prepare(
                    "UPDATE actions SET status = 'intent', run_id = ?1, batch = ?2, \
                     updated_at = ?3 WHERE id = ?4 AND status = 'planned'",
                )
                .map_err(e)?;
            let stamp = now();
            for id in actions {
                let changed = stmt.execute(params![run, batch, stamp, id]).map_err(e)?;
                if changed != 1 {
                    return Err(StateError::Damaged {
                        path: path.clone(),
                        detail: format!("action {id} was not planned when its batch started"),
                    });
                }
            }
        }
        tx.commit().map_err(e)
    }

    /// Records outcomes after a write call (or after reconciling an interrupted one). A done
    /// rollback action also marks the action it undid as restored.
    pub fn record(&mut self, run: RunId, outcomes: &[Outcome]) -> Result<(), StateError> {
        let path = self.path.clone();
        let e = |e| classify(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        {
            let mut stmt = tx
                .prepare(
                    "UPDATE actions SET status = ?1, outcome = ?2, reason = ?3, \
                     result_id = coalesce(?4, result_id), run_id = coalesce(run_id, ?5), \
                     updated_at = ?6 WHERE id = ?7",
                )
                .map_err(e)?;
            let mut restored = tx
                .prepare(
                    "UPDATE actions SET restored_by = ?1 WHERE id = \
                     (SELECT undoes FROM actions WHERE id = ?2)",
                )
                .map_err(e)?;
            let stamp = now();
            for o in outcomes {
                stmt.execute(params![
                    o.status.as_str(),
                    o.outcome,
                    o.reason,
                    o.result_id,
                    run,
                    stamp,
                    o.action
                ])
                .map_err(e)?;
                if o.status == ActionStatus::Done {
                    restored.execute(params![run, o.action]).map_err(e)?;
                }
            }
        }
        tx.commit().map_err(e)
    }

    /// Puts intents back to `planned` (their write surely did not happen), for the next batch.
    pub fn back_to_planned(&mut self, actions: &[ActionId]) -> Result<(), StateError> {
        let path = self.path.clone();
        let e = |e| classify(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        {
            let mut stmt = tx
                .prepare(
                    "UPDATE actions SET status = 'planned', run_id = NULL, batch = NULL, \
                     updated_at = ?1 WHERE id = ?2 AND status = 'intent'",
                )
                .map_err(e)?;
            let stamp = now();
            for id in actions {
                stmt.execute(params![stamp, id]).map_err(e)?;
            }
        }
        tx.commit().map_err(e)
    }

    /// Closes the plan when no action is planned or pending any more.
    pub fn finish_plan_if_done(&mut self, plan: PlanId) -> Result<bool, StateError> {
        let left: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM actions WHERE plan_id = ?1 AND status IN ('planned', 'intent')",
                [plan],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if left == 0 {
            self.conn
                .execute("UPDATE plans SET status = 'finished' WHERE id = ?1", [plan])
                .map_err(|e| self.err(e))?;
        }
        Ok(left == 0)
    }

    /// A named value, if set.
    pub fn get_value(&self, key: &str) -> Result<Option<String>, StateError> {
        self.conn
            .query_row("SELECT value FROM kv WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Sets a named value.
    pub fn set_value(&mut self, key: &str, value: &str) -> Result<(), StateError> {
        self.conn
            .execute(
                "INSERT INTO kv (key, value, updated_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                 updated_at = excluded.updated_at",
                params![key, value, now()],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The rollback plan made for `run`, if any.
    pub fn rollback_plan_of(&self, run: RunId) -> Result<Option<StoredPlan>, StateError> {
        let id: Option<PlanId> = self
            .conn
            .query_row(
                "SELECT id FROM plans WHERE rollback_of_run = ?1 ORDER BY id DESC LIMIT 1",
                [run],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        id.map(|id| self.plan(id)).transpose()
    }
}

/// A row of `actions` as read, before its texts are parsed.
struct RawAction {
    id: i64,
    plan_id: i64,
    seq: i64,
    op: String,
    sobject: String,
    record_id: Option<String>,
    fields: String,
    finding: i64,
    rule: String,
    user_id: String,
    username: String,
    description: String,
    facts: String,
    status: String,
    reason: Option<String>,
    run_id: Option<i64>,
    batch: Option<i64>,
    restore: Option<String>,
    result_id: Option<String>,
    outcome: Option<String>,
    undoes: Option<i64>,
    restored_by: Option<i64>,
    updated_at: String,
}

impl RawAction {
    fn into_action(self) -> Result<StoredAction, String> {
        let parse_map = |s: &str| serde_json::from_str::<BTreeMap<String, String>>(s);
        Ok(StoredAction {
            id: self.id,
            plan_id: self.plan_id,
            seq: u32::try_from(self.seq).map_err(|_| "action seq".to_string())?,
            op: parse_op(&self.op).ok_or_else(|| format!("action op `{}`", self.op))?,
            sobject: self.sobject,
            record_id: self.record_id,
            fields: parse_map(&self.fields).map_err(|e| format!("action fields: {e}"))?,
            finding: usize::try_from(self.finding).map_err(|_| "action finding".to_string())?,
            rule: self.rule,
            user_id: self.user_id,
            username: self.username,
            description: self.description,
            facts: serde_json::from_str(&self.facts).map_err(|e| format!("action facts: {e}"))?,
            status: ActionStatus::parse(&self.status)
                .ok_or_else(|| format!("action status `{}`", self.status))?,
            reason: self.reason,
            run_id: self.run_id,
            batch: self.batch.map(|b| b.max(0) as u32),
            restore: self
                .restore
                .map(|s| parse_map(&s))
                .transpose()
                .map_err(|e| format!("action restore: {e}"))?,
            result_id: self.result_id,
            outcome: self.outcome,
            undoes: self.undoes,
            restored_by: self.restored_by,
            updated_at: self.updated_at,
        })
    }
}

fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

/// Turns SQLite's errors into the ones a user can act on.
fn classify(path: &Path, e: rusqlite::Error) -> StateError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StateError::Locked {
            path: path.to_path_buf(),
        },
        Some(ErrorCode::NotADatabase) => StateError::Foreign {
            path: path.to_path_buf(),
            detail: "it is not an SQLite database".to_string(),
        },
        _ => StateError::Sql {
            path: path.to_path_buf(),
            source: e,
        },
    }
}

/// Held for the whole of a run that may change an org; a second run on the same org fails to
/// take it. An OS file lock: released by the OS when the process ends, however it ends, so a
/// crash never leaves an org locked.
#[derive(Debug)]
pub struct OrgLock {
    /// Holding the open, locked file is what holds the lock.
    _file: File,
    /// The lock file, for messages.
    pub path: PathBuf,
}

impl OrgLock {
    /// The lock file of `org` beside the state store: `<store>.<org>.lock`.
    pub fn path_for(state_path: &Path, org: &str) -> PathBuf {
        let mut name = state_path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| "pslwarden".into());
        name.push(format!(".{org}.lock"));
        state_path.with_file_name(name)
    }

    /// Takes the lock or says who holds it.
    pub fn acquire(state_path: &Path, org: &str) -> Result<OrgLock, StateError> {
        let path = Self::path_for(state_path, org);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StateError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| StateError::LockFile {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(OrgLock { _file: file, path }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StateError::OrgBusy {
                org: org.to_string(),
                path,
            }),
            Err(std::fs::TryLockError::Error(source)) => Err(StateError::LockFile { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("pslwarden-state-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("state.sqlite")
    }

    fn action(op: Op, id: &str, finding: usize) -> NewAction {
        NewAction {
            action: crate::plan::Action {
                op,
                sobject: crate::plan::PERMISSION_SET_ASSIGNMENT.to_string(),
                id: Some(id.to_string()),
                fields: BTreeMap::new(),
                finding,
                rule: "scv-double-consumption".into(),
                user_id: "005000000000003AAA".into(),
                username: "user2@example.org".into(),
                description: "unassign".into(),
                facts: Vec::new(),
            },
            undoes: None,
        }
    }

    fn plan_header<'a>(notes: &'a [String]) -> NewPlan<'a> {
        NewPlan {
            org: "prod",
            org_id: "00D000000000001AAA",
            kind: RunKind::Apply,
            digest: "abc",
            source: "scan",
            snapshot_taken_at: "2026-01-01T00:00:00Z",
            created_at: "2026-01-01T00:00:00Z",
            rollback_of_run: None,
            notes,
        }
    }

    #[test]
    fn the_journal_walks_planned_intent_done_and_survives_reopening() {
        let path = scratch("walk");
        let mut store = StateStore::open(&path).unwrap();
        let plan = store
            .create_plan(
                &plan_header(&[]),
                &[],
                &[action(Op::Delete, "0Pa000000000001AAA", 0)],
            )
            .unwrap();
        let run = store
            .start_run(
                "prod",
                "00D000000000001AAA",
                Some(plan),
                RunKind::Apply,
                "unattended",
                "t",
            )
            .unwrap();
        let id = store.plan_actions(plan).unwrap()[0].id;
        store
            .set_restore(&[(id, BTreeMap::from([("AssigneeId".into(), "005".into())]))])
            .unwrap();
        store.mark_intent(run, 1, &[id]).unwrap();
        drop(store);
        let mut store = StateStore::open(&path).unwrap();
        let a = &store.plan_actions(plan).unwrap()[0];
        assert_eq!(a.status, ActionStatus::Intent);
        assert_eq!(a.restore.as_ref().unwrap()["AssigneeId"], "005");
        store
            .record(
                run,
                &[Outcome {
                    action: id,
                    status: ActionStatus::Done,
                    outcome: "deleted".into(),
                    reason: None,
                    result_id: None,
                }],
            )
            .unwrap();
        assert!(store.finish_plan_if_done(plan).unwrap());
        assert!(store.open_plan("prod").unwrap().is_none());
        let overview = store.overview(Some("prod")).unwrap();
        assert_eq!(overview[0].done, 1);
    }

    #[test]
    fn named_values_persist_and_a_version_1_store_is_migrated() {
        let path = scratch("kv");
        {
            // A store as version 1 wrote it.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            // An undo action pointing at the action it undoes: the rebuild of version 3 must
            // keep the reference.
            conn.execute_batch(
                "INSERT INTO plans (id, org, org_id, kind, digest, source, snapshot_taken_at, \
                 created_at, status, notes) VALUES (1, 'p', 'o', 'apply', 'd', 's', 't', 't', \
                 'finished', '[]'); \
                 INSERT INTO actions (id, plan_id, seq, op, sobject, fields, finding, rule, \
                 user_id, username, description, facts, status, updated_at) VALUES (1, 1, 0, \
                 'delete', 'X', '{}', 0, 'r', 'u', 'u', 'd', '[]', 'done', 't'); \
                 INSERT INTO actions (id, plan_id, seq, op, sobject, fields, finding, rule, \
                 user_id, username, description, facts, status, undoes, updated_at) VALUES (2, 1, \
                 1, 'create', 'X', '{}', 0, 'r', 'u', 'u', 'd', '[]', 'done', 1, 't');",
            )
            .unwrap();
            conn.execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 1;"
            ))
            .unwrap();
        }
        let mut store = StateStore::open(&path).unwrap();
        assert_eq!(store.plan_actions(1).unwrap()[1].undoes, Some(1));
        let mut update = action(Op::Update, "a0N000000000001AAA", 0);
        update.action.sobject = "nbavs__User__c".into();
        store
            .create_plan(&plan_header(&[]), &[], &[update])
            .expect("version 3 stores updates");
        assert_eq!(store.get_value("k").unwrap(), None);
        store.set_value("k", "one").unwrap();
        store.set_value("k", "two").unwrap();
        drop(store);
        let store = StateStore::open(&path).unwrap();
        assert_eq!(store.get_value("k").unwrap().as_deref(), Some("two"));
        // Version 4's approvals table came with the upgrade.
        assert!(store.approvals(None).unwrap().is_empty());
    }

    #[test]
    fn a_foreign_sqlite_file_is_refused_untouched() {
        let path = scratch("foreign");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE notes (x TEXT);").unwrap();
        drop(conn);
        let err = StateStore::open(&path).unwrap_err();
        assert!(matches!(err, StateError::Foreign { .. }), "{err}");
        let conn = Connection::open(&path).unwrap();
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 1, "nothing was added to the other program's file");
    }

    #[test]
    fn a_text_file_is_not_a_state_store() {
        let path = scratch("text");
        std::fs::write(
            &path,
            "this is not a database, it is a shopping list\n".repeat(100),
        )
        .unwrap();
        let err = StateStore::open(&path).unwrap_err();
        assert!(matches!(err, StateError::Foreign { .. }), "{err}");
    }

    #[test]
    fn a_second_lock_on_one_org_is_refused_and_freed_on_drop() {
        let path = scratch("lock");
        let first = OrgLock::acquire(&path, "prod").unwrap();
        let err = OrgLock::acquire(&path, "prod").unwrap_err();
        assert!(matches!(err, StateError::OrgBusy { .. }), "{err}");
        let _other_org = OrgLock::acquire(&path, "uat").unwrap();
        drop(first);
        OrgLock::acquire(&path, "prod").unwrap();
    }
}
