//! The state store's approvals: the `approvals` table (one row per approved plan) and
//! `approval_runs` (which runs each approval drove).
//!
//! Owns: every SQL statement about approvals. Must not: decide whether an approval may run
//! (expiry against the clock is decided by the caller, which passes the instant in).

use rusqlite::{OptionalExtension, params};

use super::{RunId, StateError, StateStore, json, now};
use crate::approval::{Approval, ApprovalId, ApprovalStatus, NewApproval, plan_counts};
use crate::plan::Plan;

/// Version 3 to 4: approvals, and the runs each drove.
pub(super) const MIGRATE_TO_4: &str = r#"
CREATE TABLE approvals (
    id          INTEGER PRIMARY KEY,
    org         TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    digest      TEXT NOT NULL,
    plan        TEXT NOT NULL,
    source      TEXT NOT NULL,
    excluded    TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    status      TEXT NOT NULL
                CHECK (status IN ('pending', 'in_progress', 'applied', 'expired', 'revoked')),
    status_at   TEXT NOT NULL,
    plan_id     INTEGER REFERENCES plans (id),
    actions     INTEGER NOT NULL,
    users       INTEGER NOT NULL,
    seats       INTEGER NOT NULL
);
CREATE INDEX approvals_by_org ON approvals (org, status);
CREATE TABLE approval_runs (
    approval_id INTEGER NOT NULL REFERENCES approvals (id),
    run_id      INTEGER NOT NULL REFERENCES runs (id),
    PRIMARY KEY (approval_id, run_id)
);
"#;

const COLUMNS: &str = "id, org, org_id, digest, plan, source, excluded, approved_by, approved_at, \
    expires_at, status, status_at, plan_id, actions, users, seats";

impl StateStore {
    /// Records an approval (status `pending`).
    pub fn create_approval(&mut self, new: &NewApproval<'_>) -> Result<ApprovalId, StateError> {
        let (actions, users, seats) = plan_counts(new.plan);
        self.conn
            .execute(
                "INSERT INTO approvals (org, org_id, digest, plan, source, excluded, approved_by, \
                 approved_at, expires_at, status, status_at, actions, users, seats) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', ?10, ?11, ?12, ?13)",
                params![
                    new.org,
                    new.plan.org_id,
                    new.plan.digest,
                    json(new.plan),
                    new.source,
                    json(&new.excluded),
                    new.approved_by,
                    new.approved_at,
                    new.expires_at,
                    now(),
                    actions as i64,
                    users as i64,
                    seats as i64,
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Every approval (of `org`, when given), in approval order.
    pub fn approvals(&self, org: Option<&str>) -> Result<Vec<Approval>, StateError> {
        match org {
            Some(org) => self.approvals_where("org = ?1", org),
            None => self.approvals_where("?1 = ?1", ""),
        }
    }

    /// One approval.
    pub fn approval(&self, id: ApprovalId) -> Result<Option<Approval>, StateError> {
        Ok(self
            .approvals_where("id = ?1", &id.to_string())?
            .into_iter()
            .next())
    }

    /// The approval whose plan is `plan`, if an approval drove it.
    pub fn approval_of_plan(&self, plan: i64) -> Result<Option<Approval>, StateError> {
        Ok(self
            .approvals_where("plan_id = ?1", &plan.to_string())?
            .into_iter()
            .next())
    }

    fn approvals_where(&self, clause: &str, arg: &str) -> Result<Vec<Approval>, StateError> {
        let sql = format!("SELECT {COLUMNS} FROM approvals WHERE {clause} ORDER BY id");
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        type Row = (
            i64,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            Option<i64>,
            i64,
            i64,
            i64,
        );
        let rows = stmt
            .query_map([arg], |r| -> rusqlite::Result<Row> {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                    r.get(11)?,
                    r.get(12)?,
                    r.get(13)?,
                    r.get(14)?,
                    r.get(15)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let r = row.map_err(|e| self.err(e))?;
            let plan: Plan = serde_json::from_str(&r.4)
                .map_err(|e| self.damaged(format!("approval {}'s plan: {e}", r.0)))?;
            out.push(Approval {
                id: r.0,
                org: r.1,
                org_id: r.2,
                digest: r.3,
                plan,
                source: r.5,
                excluded: serde_json::from_str(&r.6)
                    .map_err(|e| self.damaged(format!("approval {}'s excluded users: {e}", r.0)))?,
                approved_by: r.7,
                approved_at: r.8,
                expires_at: r.9,
                status: ApprovalStatus::parse(&r.10)
                    .ok_or_else(|| self.damaged(format!("approval {}'s status", r.0)))?,
                status_at: r.11,
                plan_id: r.12,
                actions: r.13.max(0) as u64,
                users: r.14.max(0) as u64,
                seats: r.15.max(0) as u64,
                runs: self.approval_runs(r.0)?,
            });
        }
        Ok(out)
    }

    /// The runs an approval drove, oldest first.
    pub fn approval_runs(&self, id: ApprovalId) -> Result<Vec<RunId>, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT run_id FROM approval_runs WHERE approval_id = ?1 ORDER BY run_id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([id], |r| r.get::<_, i64>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// The approval that drove `run`, if any.
    pub fn approval_of_run(&self, run: RunId) -> Result<Option<ApprovalId>, StateError> {
        self.conn
            .query_row(
                "SELECT approval_id FROM approval_runs WHERE run_id = ?1",
                [run],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Revokes an approval that has not started; `Ok(false)` when it is not `pending` (it
    /// started, finished, expired or was revoked already) and nothing changed.
    pub fn revoke_approval(&mut self, id: ApprovalId) -> Result<bool, StateError> {
        let changed = self
            .conn
            .execute(
                "UPDATE approvals SET status = 'revoked', status_at = ?1 \
                 WHERE id = ?2 AND status = 'pending'",
                params![now(), id],
            )
            .map_err(|e| self.err(e))?;
        Ok(changed == 1)
    }

    /// Marks open approvals of `org` whose expiry is not after `at` (RFC 3339) expired, and
    /// returns them.
    pub fn expire_approvals(
        &mut self,
        org: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Approval>, StateError> {
        let mut expired = Vec::new();
        for a in self.approvals(Some(org))? {
            if !a.status.is_open() {
                continue;
            }
            let due = chrono::DateTime::parse_from_rfc3339(&a.expires_at)
                .map_err(|e| self.damaged(format!("approval {}'s expiry: {e}", a.id)))?;
            if due <= at {
                self.set_approval_status(a.id, ApprovalStatus::Expired)?;
                if let Some(plan) = a.plan_id {
                    self.close_plan(plan, &format!("approval {} expired before this step", a.id))?;
                }
                expired.push(a);
            }
        }
        Ok(expired)
    }

    /// Closes a plan no run may continue: its waiting actions are skipped with `reason` (by no
    /// run) and the plan is finished, so the next apply starts from an approval.
    pub fn close_plan(&mut self, plan: i64, reason: &str) -> Result<(), StateError> {
        let path = self.path.clone();
        let e = |e| super::classify(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        tx.execute(
            "UPDATE actions SET status = 'skipped', reason = ?1, outcome = 'skipped', \
             updated_at = ?2 WHERE plan_id = ?3 AND status = 'planned'",
            params![reason, now(), plan],
        )
        .map_err(e)?;
        tx.execute(
            "UPDATE plans SET status = 'finished' WHERE id = ?1 AND NOT EXISTS \
             (SELECT 1 FROM actions WHERE plan_id = ?1 AND status = 'intent')",
            [plan],
        )
        .map_err(e)?;
        tx.commit().map_err(e)
    }

    /// Sets an approval's status.
    pub fn set_approval_status(
        &mut self,
        id: ApprovalId,
        status: ApprovalStatus,
    ) -> Result<(), StateError> {
        self.conn
            .execute(
                "UPDATE approvals SET status = ?1, status_at = ?2 WHERE id = ?3",
                params![status.as_str(), now(), id],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Links a run to the approval that drove it, and the approval to the plan the run stored
    /// (the first run's plan; later runs continue it). Marks the approval `in_progress`.
    pub fn link_approval_run(
        &mut self,
        id: ApprovalId,
        run: RunId,
        plan: i64,
    ) -> Result<(), StateError> {
        let path = self.path.clone();
        let e = |e| super::classify(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        tx.execute(
            "INSERT OR IGNORE INTO approval_runs (approval_id, run_id) VALUES (?1, ?2)",
            params![id, run],
        )
        .map_err(e)?;
        tx.execute(
            "UPDATE approvals SET plan_id = coalesce(plan_id, ?1), status = 'in_progress', \
             status_at = ?2 WHERE id = ?3 AND status = 'pending'",
            params![plan, now(), id],
        )
        .map_err(e)?;
        tx.commit().map_err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::pending_approvals;

    fn plan() -> Plan {
        Plan {
            schema_version: crate::plan::PLAN_SCHEMA_VERSION,
            org_id: "00D000000000001AAA".into(),
            snapshot_taken_at: "t".into(),
            digest: Plan::digest_of(&[]),
            actions: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn approvals_are_created_listed_revoked_and_expired() {
        let dir = std::env::temp_dir().join(format!("pslwarden-approvals-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut store = StateStore::open(&dir.join("state.sqlite")).unwrap();
        let p = plan();
        let new = |expires_at| NewApproval {
            org: "prod",
            plan: &p,
            source: "plan.json",
            excluded: &[],
            approved_by: "ana",
            approved_at: "2026-03-02T14:00:00Z",
            expires_at,
        };
        let a = store.create_approval(&new("2026-03-09T14:00:00Z")).unwrap();
        let b = store.create_approval(&new("2026-03-03T14:00:00Z")).unwrap();
        let c = store.create_approval(&new("2026-03-09T14:00:00Z")).unwrap();
        assert_eq!(pending_approvals(&store, "prod").len(), 3);
        assert!(pending_approvals(&store, "other").is_empty());
        assert!(store.revoke_approval(c).unwrap());
        assert!(!store.revoke_approval(c).unwrap(), "revoked twice");
        let at = chrono::DateTime::parse_from_rfc3339("2026-03-04T00:00:00Z")
            .unwrap()
            .to_utc();
        let expired = store.expire_approvals("prod", at).unwrap();
        assert_eq!(expired.iter().map(|x| x.id).collect::<Vec<_>>(), vec![b]);
        let pending = pending_approvals(&store, "prod");
        assert_eq!(pending.iter().map(|x| x.id).collect::<Vec<_>>(), vec![a]);
        assert_eq!(
            pending[0].revoke_command.as_deref(),
            Some(format!("pslwarden approvals revoke {a}").as_str())
        );
        let all = store.approvals(Some("prod")).unwrap();
        let statuses: Vec<_> = all.iter().map(|x| x.status).collect();
        assert_eq!(
            statuses,
            vec![
                ApprovalStatus::Pending,
                ApprovalStatus::Expired,
                ApprovalStatus::Revoked
            ]
        );
    }
}
