//! `pslwarden daemon`: scheduled scans and applies for one org or many, observable and
//! stoppable.
//!
//! * [`schedule`]: each org's scan and apply schedules (cron with seconds, or English phrases).
//! * [`jobs`]: one scan or apply job of one org: the same entry points as the CLI, then metrics,
//!   notifications and report retention.
//! * [`metrics`]: what the jobs did, encoded for `/metrics` (OpenMetrics text, prometheus-client).
//! * [`notify`]: webhooks (Slack-compatible or JSON) on new findings, apply results, failures.
//! * [`retention`]: keep the newest N report folders per org.
//! * [`status`]: the read-only status page (`/`, `/api/status`, the report folders' files).
//!
//! How it runs: the scheduler only wakes the daemon (a tick names an org and a job); the job
//! decides at run time, in the org's time zone, whether the window is open. One job per org at a
//! time: a tick for an org whose job of the same kind still runs is skipped (and counted); one of
//! the other kind waits and runs right after. `SIGHUP` reloads the
//! config (a bad one is refused and the old one kept); `SIGTERM`/`SIGINT` stop taking ticks, let
//! every apply finish the batch in flight and journal it, and exit 0. `--once` runs each org's
//! configured jobs once and exits.

pub mod jobs;
pub mod metrics;
pub mod notify;
pub mod retention;
pub mod status;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_cron_scheduler::{Job, JobScheduler};
use tracing::Instrument;

use crate::apply::clock::Clock;
use crate::config::{ConfigError, SecretError, Settings};
use metrics::{JobKind, Metrics};
use notify::Webhook;

/// Why the daemon could not start or ended badly.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(
        "cannot listen on {addr} for /healthz and /metrics: {source}. Set `listen` in [daemon] \
         to a free address"
    )]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the scheduler failed: {0}")]
    Scheduler(String),
    #[error(
        "no org has an [org.schedule], so the daemon has nothing to do: add `scan = ...` and/or \
         `apply = ...` to an org (see config/example.toml)"
    )]
    NothingScheduled,
    #[error("{failed} of {total} job(s) failed (see the log above)")]
    JobsFailed { failed: usize, total: usize },
    #[error("cannot wait for signals: {0}")]
    Signals(std::io::Error),
}

/// What every job and the endpoint share.
pub struct Shared {
    /// The config in force; replaced as a whole by a reload.
    settings: RwLock<Arc<Settings>>,
    /// The webhooks of that config, URLs read.
    webhooks: RwLock<Arc<Vec<Webhook>>>,
    /// What the jobs did.
    pub metrics: Metrics,
    /// Orgs whose job is running now, and which kind: one job per org at a time.
    busy: Mutex<HashMap<String, JobKind>>,
    /// Ticks of another kind that came while an org was busy: run right after its job, so a
    /// scan every minute cannot starve an apply scheduled at the same instants.
    pending: Mutex<HashMap<String, BTreeSet<JobKind>>>,
    /// Set on SIGTERM/SIGINT: applies stop before their next batch.
    pub shutting_down: Arc<AtomicBool>,
    /// For webhooks.
    pub http: reqwest::Client,
    /// The gate's clock (the system clock; a rehearsal clock in debug builds).
    pub clock: Box<dyn Clock>,
}

impl Shared {
    pub fn new(settings: Settings, webhooks: Vec<Webhook>, clock: Box<dyn Clock>) -> Shared {
        Shared {
            settings: RwLock::new(Arc::new(settings)),
            webhooks: RwLock::new(Arc::new(webhooks)),
            metrics: Metrics::default(),
            busy: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            shutting_down: Arc::new(AtomicBool::new(false)),
            http: reqwest::Client::new(),
            clock,
        }
    }

    /// The config in force.
    pub fn settings(&self) -> Arc<Settings> {
        self.settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The webhooks in force.
    pub fn webhooks(&self) -> Arc<Vec<Webhook>> {
        self.webhooks
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn replace(&self, settings: Settings, webhooks: Vec<Webhook>) {
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(settings);
        *self.webhooks.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(webhooks);
    }

    /// Claims `org` for a `kind` job.
    fn claim(&self, org: &str, kind: JobKind) -> Claim {
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        match busy.get(org) {
            None => {
                busy.insert(org.to_string(), kind);
                Claim::Run
            }
            Some(running) if *running == kind => Claim::AlreadyRunning,
            Some(_) => {
                self.pending
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(org.to_string())
                    .or_default()
                    .insert(kind);
                Claim::Queued
            }
        }
    }

    /// Frees `org`; returns a job kind that waited for it, to run next.
    fn release(&self, org: &str) -> Option<JobKind> {
        self.busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(org);
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let kinds = pending.get_mut(org)?;
        let next = kinds.pop_first();
        if kinds.is_empty() {
            pending.remove(org);
        }
        next
    }
}

/// What a tick may do about an org.
enum Claim {
    /// The org is free: run the job.
    Run,
    /// A job of the same kind is running: this tick is skipped (it would do the same work).
    AlreadyRunning,
    /// A job of the other kind is running: this one runs right after it.
    Queued,
}

/// A tick of the scheduler: run this job of this org.
type Tick = (String, JobKind);

/// Runs the daemon until SIGTERM/SIGINT (or, with `once`, until every configured job ran once).
/// `config` is the path to reload from on SIGHUP (`None`: the default search, as at start).
pub async fn run(
    config: Option<PathBuf>,
    settings: Settings,
    once: bool,
    clock: Box<dyn Clock>,
) -> Result<(), DaemonError> {
    if !settings
        .orgs
        .iter()
        .any(|o| o.schedule.scan.is_some() || o.schedule.apply.is_some())
    {
        return Err(DaemonError::NothingScheduled);
    }
    let webhooks = settings.daemon.webhooks()?;
    // Read at start, so a missing variable stops the daemon before it listens with the page
    // open; kept for the process's life (like `listen`, it changes on a restart).
    let status_token = settings.daemon.status_token()?;
    // One simulator per simulated org for the whole process: the daemon must see its own fixes.
    crate::connect::keep_simulated_orgs();
    let shared = Arc::new(Shared::new(settings, webhooks, clock));
    if once {
        return run_once(&shared).await;
    }
    // Signals are caught from before the address line is printed: a SIGHUP or SIGTERM sent as
    // soon as the daemon says it is up must reload or drain it, not kill it (the default action).
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup()).map_err(DaemonError::Signals)?;
    let mut term = signal(SignalKind::terminate()).map_err(DaemonError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?;
    let settings = shared.settings();
    let listener = tokio::net::TcpListener::bind(settings.daemon.listen)
        .await
        .map_err(|source| DaemonError::Listen {
            addr: settings.daemon.listen,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| DaemonError::Listen {
            addr: settings.daemon.listen,
            source,
        })?;
    let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, shared.clone(), status_token, async {
        let _ = http_stopped.await;
    }));
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        // Scripts and tests wait for this line.
        let _ = writeln!(
            out,
            "pslwarden daemon: {} org(s); status on http://{addr}/, health on http://{addr}/healthz, metrics on http://{addr}/metrics",
            settings.orgs.len()
        );
        let _ = out.flush();
    }
    tracing::info!(%addr, orgs = settings.orgs.len(), "daemon started");
    if settings.daemon.listen_public {
        tracing::warn!(
            %addr,
            "/metrics and /healthz are served beyond this machine (listen_public = true): they \
             name the orgs and count their seats; keep the port behind a firewall or network policy"
        );
    }

    let (tx, mut rx) = mpsc::unbounded_channel::<Tick>();
    let mut scheduler = start_scheduler(&settings, &tx).await?;
    let mut running: JoinSet<()> = JoinSet::new();
    let mut tick_number: u64 = 0;
    loop {
        tokio::select! {
            Some((org, kind)) = rx.recv() => {
                tick_number += 1;
                dispatch(&shared, &mut running, &tx, org, kind, tick_number);
            }
            _ = hup.recv() => {
                match reload(&config, &shared) {
                    Ok(()) => {
                        let _ = scheduler.shutdown().await;
                        scheduler = start_scheduler(&shared.settings(), &tx).await?;
                        tracing::info!(orgs = shared.settings().orgs.len(), "config reloaded (SIGHUP)");
                    }
                    Err(e) => tracing::error!(
                        error = %e,
                        "config reload refused (SIGHUP): the running config stays in force"
                    ),
                }
            }
            _ = term.recv() => { tracing::info!("SIGTERM: stopping"); break; }
            _ = int.recv() => { tracing::info!("SIGINT: stopping"); break; }
            Some(_) = running.join_next(), if !running.is_empty() => {}
        }
    }
    shared.shutting_down.store(true, Ordering::SeqCst);
    let _ = scheduler.shutdown().await;
    if !running.is_empty() {
        tracing::info!(
            jobs = running.len(),
            "waiting for the running jobs: applies finish the batch in flight"
        );
    }
    while running.join_next().await.is_some() {}
    let _ = stop_http.send(());
    let _ = server.await;
    tracing::info!("daemon stopped");
    Ok(())
}

/// Starts one job for a tick, unless the org is busy (then the tick is skipped, or queued
/// behind the running job when it is of the other kind).
fn dispatch(
    shared: &Arc<Shared>,
    running: &mut JoinSet<()>,
    tx: &mpsc::UnboundedSender<Tick>,
    org: String,
    kind: JobKind,
    tick: u64,
) {
    if shared.shutting_down.load(Ordering::SeqCst) {
        return;
    }
    match shared.claim(&org, kind) {
        Claim::Run => {}
        Claim::AlreadyRunning => {
            tracing::info!(%org, job = %kind, tick, "tick skipped: the org's {kind} is still running");
            shared
                .metrics
                .update(&org, |m| *m.skipped_busy.entry(kind).or_default() += 1);
            return;
        }
        Claim::Queued => {
            tracing::info!(%org, job = %kind, tick, "tick queued behind the org's running job");
            return;
        }
    }
    let shared = shared.clone();
    let tx = tx.clone();
    let span = tracing::info_span!("job", org = %org, job = %kind, tick);
    running.spawn(
        async move {
            jobs::run_job(&shared, &org, kind).await;
            if let Some(next) = shared.release(&org) {
                let _ = tx.send((org, next));
            }
        }
        .instrument(span),
    );
}

/// Every configured job once: per org (orgs concurrently), the scan then the apply.
async fn run_once(shared: &Arc<Shared>) -> Result<(), DaemonError> {
    let settings = shared.settings();
    let mut set: JoinSet<(usize, usize)> = JoinSet::new();
    for org in &settings.orgs {
        let kinds: Vec<JobKind> = [
            org.schedule.scan.as_ref().map(|_| JobKind::Scan),
            org.schedule.apply.as_ref().map(|_| JobKind::Apply),
        ]
        .into_iter()
        .flatten()
        .collect();
        if kinds.is_empty() {
            continue;
        }
        let shared = shared.clone();
        let name = org.name.clone();
        set.spawn(async move {
            let mut failed = 0;
            for kind in &kinds {
                let span = tracing::info_span!("job", org = %name, job = %kind);
                let end = jobs::run_job(&shared, &name, *kind).instrument(span).await;
                if !end.ok() {
                    failed += 1;
                }
            }
            (failed, kinds.len())
        });
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(DaemonError::Signals)?;
    let (mut failed, mut total) = (0, 0);
    loop {
        tokio::select! {
            done = set.join_next() => match done {
                Some(Ok((f, t))) => { failed += f; total += t; }
                Some(Err(_)) => { failed += 1; total += 1; }
                None => break,
            },
            _ = term.recv() => {
                tracing::info!("SIGTERM: applies stop after the batch in flight");
                shared.shutting_down.store(true, Ordering::SeqCst);
            }
        }
    }
    if failed > 0 {
        Err(DaemonError::JobsFailed { failed, total })
    } else {
        Ok(())
    }
}

/// The scheduler with one job per org and schedule, each only sending a tick.
async fn start_scheduler(
    settings: &Settings,
    tx: &mpsc::UnboundedSender<Tick>,
) -> Result<JobScheduler, DaemonError> {
    let fail = |e: tokio_cron_scheduler::JobSchedulerError| DaemonError::Scheduler(e.to_string());
    let scheduler = JobScheduler::new().await.map_err(fail)?;
    for org in &settings.orgs {
        for (kind, schedule) in [
            (JobKind::Scan, &org.schedule.scan),
            (JobKind::Apply, &org.schedule.apply),
        ] {
            let Some(schedule) = schedule else { continue };
            let tx = tx.clone();
            let name = org.name.clone();
            let job = Job::new_async(schedule.cron.as_str(), move |_, _| {
                let _ = tx.send((name.clone(), kind));
                Box::pin(async {})
            })
            .map_err(fail)?;
            scheduler.add(job).await.map_err(fail)?;
            tracing::info!(org = %org.name, job = %kind, schedule = %schedule.written, "scheduled");
        }
    }
    scheduler.start().await.map_err(fail)?;
    Ok(scheduler)
}

/// Reads the config again; replaces the running one only when the new one is whole.
fn reload(config: &Option<PathBuf>, shared: &Shared) -> Result<(), DaemonError> {
    let settings = Settings::load(config.as_deref())?;
    let webhooks = settings.daemon.webhooks()?;
    if settings.daemon.listen != shared.settings().daemon.listen {
        tracing::warn!("`listen` in [daemon] changed: the endpoint moves only on a restart");
    }
    if settings.daemon.status_token.is_some() != shared.settings().daemon.status_token.is_some() {
        tracing::warn!(
            "`status_token_env` in [daemon] changed: the status page's token changes only on a \
             restart"
        );
    }
    shared.replace(settings, webhooks);
    Ok(())
}

/// Serves `/healthz` and `/metrics`, and the status page ([`status::routes`], behind
/// `status_token` when set), on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    status_token: Option<crate::secret::Secret>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::routing::get;
    let app = axum::Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/metrics",
            get(
                |axum::extract::State(shared): axum::extract::State<Arc<Shared>>| async move {
                    let text = metrics::render(
                        &shared.metrics.snapshot(),
                        &shared.settings(),
                        shared.clock.now(),
                    );
                    (
                        [(axum::http::header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
                        text,
                    )
                },
            ),
        )
        .with_state(shared.clone())
        .merge(status::routes(shared, status_token.as_ref()));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
