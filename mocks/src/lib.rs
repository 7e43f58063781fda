//! sfsim: a stateful simulator of one Salesforce org, speaking the real REST wire protocol, for
//! pslwarden's tests and its no-setup demo.
//!
//! A tour of the modules, in the order a request meets them:
//!
//! - [`server`]: the axum server. `run(listener, org, shutdown)` serves an [`Org`]'s My Domain on
//!   a socket, `run_with_login` also its login host on a second one; [`start`] binds both on
//!   `127.0.0.1:0` and returns a [`RunningSim`] with their base URLs. Per request it
//!   applies faults, authentication, the daily API limit and counting, then calls `api::dispatch`.
//! - `auth`: the OAuth token endpoint (JWT bearer, client credentials, refresh token), strict
//!   like Salesforce about hosts, audiences, expiry and client authentication.
//! - `api`: the `/services/data` resources (versions, limits, query with cursors, sObjects,
//!   describe, sObject Collections, composite), all behind one `dispatch` that composite
//!   subrequests reuse.
//! - [`soql`]: the SOQL engine (parser and evaluator), reached through its `Catalog` and
//!   `DataSource` traits, which `schema` and `store` implement.
//! - `rules`: record writes with Salesforce's validation and the org's license behaviour (PSL
//!   seats, auto-assignment of the Voice permission set, automatic PSL removal, duplicates).
//! - `store`: records by id with tombstones and an undo journal (all-or-none rollback);
//!   `PermissionSetLicense.UsedLicenses` is kept live there.
//! - `schema`: standard objects and custom objects inferred from fixtures.
//! - `fixture`: the fixture format (see `mocks/README.md`) and its validation.
//! - [`org`]: the shared [`Org`] handle, sessions, cursors and [`Stats`].
//! - [`faults`]: seeded, reproducible fault injection ([`Faults`]).
//! - `ids`, `values`, `settings`, `wire`: ids and checksums, field values, `_org` settings, and
//!   Salesforce's JSON shapes.

pub mod soql;

mod api;
mod auth;
pub mod faults;
pub mod fixture;
pub mod generate;
pub mod ids;
pub mod org;
pub mod permissions;
mod rules;
pub mod schema;
pub mod server;
pub mod settings;
mod store;
mod values;
mod wire;

pub use faults::{Faults, OneShot};
pub use fixture::FixtureError;
pub use org::{Org, Stats};
pub use server::{run, run_with_login};
pub use settings::{ConnectedApp, OrgSettings, PAGING_ENV, Paging, VoiceAutoAssign};

use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long `stop` waits for open connections to finish before abandoning them.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A simulator serving on loopback; stops on `stop()` or when dropped.
#[derive(Debug)]
pub struct RunningSim {
    /// The org's My Domain base URL, e.g. "http://127.0.0.1:41234": the instance URL, and a
    /// token endpoint that takes every grant.
    pub url: String,
    /// The login host's base URL (the stand-in for login.salesforce.com / test.salesforce.com):
    /// its token endpoint refuses client credentials; nothing else answers there.
    pub login_url: String,
    /// The org being served (same state the server changes).
    pub org: Org,
    /// Completing this ends `run`'s graceful shutdown; taken by `stop` or `Drop`.
    shutdown: Option<oneshot::Sender<()>>,
    /// The server task, awaited by `stop`.
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// Binds the My Domain and the login host on `127.0.0.1:0`, spawns the server and returns their
/// base URLs.
pub async fn start(org: Org) -> std::io::Result<RunningSim> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let login = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let login_url = format!("http://{}", login.local_addr()?);
    let (tx, rx) = oneshot::channel::<()>();
    let served = org.clone();
    let task = tokio::spawn(async move {
        run_with_login(listener, Some(login), served, async {
            // A dropped sender also means "stop".
            let _ = rx.await;
        })
        .await
    });
    Ok(RunningSim {
        url,
        login_url,
        org,
        shutdown: Some(tx),
        task: Some(task),
    })
}

impl RunningSim {
    /// Stops accepting requests and waits (briefly) for the server to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            match tokio::time::timeout(STOP_GRACE, task).await {
                Ok(Ok(Err(e))) => tracing::warn!(error = %e, "sfsim server ended with an error"),
                Ok(_) => {}
                Err(_) => abort.abort(),
            }
        }
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            // Connections a test left open must not keep the server alive past the test.
            task.abort();
        }
    }
}
