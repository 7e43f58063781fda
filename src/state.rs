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
//! Children: [`schema`] (DDL, migrations, `init`), [`model`] (the record types and their
//! stored spellings, re-exported here), [`lock`] ([`OrgLock`]) and [`approvals`] (the
//! approvals' SQL).
//!
//! Durability: WAL journal with `synchronous = FULL`: a committed intent or outcome is on disk.
//! No secret is ever written here (actions hold record ids and field values of assignments).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};
use serde::Serialize;

mod approvals;
mod lock;
mod model;
mod schema;

pub use lock::OrgLock;
pub use model::{
    ActionId, ActionStatus, NewAction, NewFinding, NewPlan, Outcome, PlanId, RunId, RunKind,
    RunOverview, RunStatus, StoredAction, StoredPlan, StoredRun,
};
use model::{op_str, parse_op};
pub use schema::SCHEMA_VERSION;

/// How long a statement waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(3);

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
    #[error(
        "cannot create or make private (mode 0600) the state store file {path}: {source}. Check \
         that pslwarden's user owns it and its folder"
    )]
    Private {
        path: PathBuf,
        source: std::io::Error,
    },
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
            crate::private_fs::create_dir_all(dir).map_err(|source| StateError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        // The store journals users and their licenses: created 0600 before SQLite opens it (SQLite
        // would create it 0644 less the umask). SQLite gives its `-wal` and `-shm` files the
        // database file's mode; an existing store (and those files) is made private only once
        // it proved to be pslwarden's, below.
        let private = |source| StateError::Private {
            path: path.to_path_buf(),
            source,
        };
        match crate::private_fs::create_new(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(private(e)),
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
        crate::private_fs::restrict(path).map_err(private)?;
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            let side = std::path::PathBuf::from(side);
            if side.exists() {
                crate::private_fs::restrict(&side).map_err(private)?;
            }
        }
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
            let (mut done, mut failed, mut skipped, mut manual, mut seats) = (0, 0, 0, 0, 0);
            for c in counts {
                let (status, op, sobject, n) = c.map_err(|e| self.err(e))?;
                let n = n.max(0) as u64;
                // A manual step is never carried out by a run: it is the admin's, whatever
                // status the journal closed it with, so it is not counted as skipped.
                if op == "manual" {
                    manual += n;
                    continue;
                }
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
                needs_admin: manual,
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

#[cfg(test)]
mod tests {
    use super::schema::{APPLICATION_ID, SCHEMA};
    use super::*;
    use crate::plan::Op;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("pslwarden-state-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("state.sqlite")
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn the_store_its_wal_and_the_lock_files_are_private() {
        let path = scratch("private");
        let mut store = StateStore::open(&path).unwrap();
        store
            .start_run(
                "seed",
                "00D",
                None,
                RunKind::Apply,
                "test",
                "2026-01-01T00:00:00Z",
            )
            .unwrap();
        assert_eq!(mode(&path), 0o600);
        let wal = path.with_file_name("state.sqlite-wal");
        assert!(wal.exists(), "WAL mode keeps a -wal file while open");
        assert_eq!(mode(&wal), 0o600);
        let lock = OrgLock::acquire(&path, "seed").unwrap();
        assert_eq!(mode(&lock.path), 0o600);
        // A store an older version left readable is made private when opened.
        drop(store);
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        let _store = StateStore::open(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
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
