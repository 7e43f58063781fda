//! The `pslwarden` binary: parses arguments, sets up logging, runs one command, and maps its
//! outcome to an exit code — in this one place.
//!
//! Exit codes: 0 success; 1 any error (config, sign-in, Salesforce, I/O, and also a usage error,
//! so a script using `--detailed-exitcode` never mistakes a typo for "findings"); 2 findings,
//! only under `scan --detailed-exitcode`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pslwarden::commands::{self, Format};
use pslwarden::config::Settings;

#[derive(Parser, Debug)]
#[command(
    name = "pslwarden",
    version,
    about = "Finds Service Cloud Voice license seats consumed for nothing, and reclaims them safely",
    long_about = "Finds Service Cloud Voice permission set license seats consumed for nothing, and \
                  reclaims them safely inside each org's off-hours window.\n\nWith no --config and no \
                  config/pslwarden.toml in the working directory, pslwarden runs against a built-in \
                  simulated org (the seed example), so every command can be tried without Salesforce."
)]
struct Cli {
    /// Config file [default: config/pslwarden.toml, else the built-in simulated org]
    #[arg(long, global = true, env = "PSLWARDEN_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log format on stderr
    #[arg(long, global = true, value_enum, default_value = "human")]
    log_format: LogFormat,
    /// More log detail (-v debug, -vv trace); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Find seats consumed for nothing, plan the fix, and write the dry-run report
    Scan {
        /// Org name from the config (needed when it has several)
        #[arg(long)]
        org: Option<String>,
        /// Replay a saved snapshot.json offline instead of signing in
        #[arg(long, value_name = "FILE")]
        snapshot: Option<PathBuf>,
        /// Also save the remediation plan to FILE
        #[arg(long, value_name = "FILE")]
        plan_out: Option<PathBuf>,
        /// Exit 2 when there are findings (0 clean, 1 error), like `terraform plan -detailed-exitcode`
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Sign in and show org id, user, instance URL, API version and API usage
    Doctor {
        /// Org name from the config (needed when it has several)
        #[arg(long)]
        org: Option<String>,
    },
    /// List every permission set license with total, used and free seats
    Licenses {
        /// Org name from the config (needed when it has several)
        #[arg(long)]
        org: Option<String>,
        /// Output format
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Apply the fix inside the org's window: scans first (or takes --plan), re-checks every
    /// fact, asks at a terminal (unless --yes), journals every change
    Apply {
        /// Org name from the config (needed when it has several)
        #[arg(long)]
        org: Option<String>,
        /// Apply this plan (from `scan --plan-out`) instead of scanning first
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
        /// Do not ask for confirmation (needs mode = "apply" in the org's config)
        #[arg(long)]
        yes: bool,
        /// Carry out at most N actions in this run (never more than [org.apply] max_actions)
        #[arg(long, value_name = "N")]
        max_actions: Option<usize>,
        /// If the window is closed, wait for it to open (Ctrl-C or SIGTERM stops the wait
        /// having changed nothing), then apply
        #[arg(long)]
        when_open: bool,
    },
    /// Approve exactly one plan now, for an apply in the org's next window (mode = "approved")
    Approve {
        /// Org name from the config (needed when it has several)
        #[arg(long)]
        org: Option<String>,
        /// The plan to approve (from `scan --plan-out`, or a report folder's plan.json)
        #[arg(
            long,
            value_name = "FILE",
            required_unless_present = "latest",
            conflicts_with = "latest"
        )]
        plan: Option<PathBuf>,
        /// Approve the plan of the org's newest scan report
        #[arg(long)]
        latest: bool,
        /// Leave out this user's fixes (whole fixes; repeatable)
        #[arg(long = "exclude-user", value_name = "USERNAME")]
        exclude_user: Vec<String>,
        /// Approve only this user's fixes (whole fixes; repeatable)
        #[arg(long = "only-user", value_name = "USERNAME")]
        only_user: Vec<String>,
        /// How long the approval holds: e.g. 12h, 7d, 2w [default: 7d]
        #[arg(long, value_name = "DURATION", value_parser = commands::approve::parse_expiry)]
        expires: Option<chrono::Duration>,
        /// Who approves [default: the OS user]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
        /// Do not ask for confirmation (for scripts)
        #[arg(long)]
        yes: bool,
    },
    /// List approvals (pending, in progress, applied, expired, revoked); `approvals revoke ID`
    Approvals {
        /// Only this org's approvals
        #[arg(long)]
        org: Option<String>,
        /// Output format
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        #[command(subcommand)]
        action: Option<ApprovalsAction>,
    },
    /// Re-create what an apply run deleted (inside the window, like apply)
    Rollback {
        /// Org name from the config (needed when it has several)
        #[arg(long)]
        org: Option<String>,
        /// The apply run to undo (see `pslwarden history`)
        #[arg(long, value_name = "ID")]
        run: i64,
        /// Do not ask for confirmation (needs mode = "apply" in the org's config)
        #[arg(long)]
        yes: bool,
    },
    /// List the runs in the state store and what each changed
    History {
        /// Only this org's runs
        #[arg(long)]
        org: Option<String>,
        /// Show every action of one run
        #[arg(long, value_name = "ID")]
        run: Option<i64>,
        /// Output format
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Run unattended: scan and apply each org on its [org.schedule], serve /healthz and
    /// /metrics, notify webhooks; SIGHUP reloads the config, SIGTERM stops after the batch in flight
    Daemon {
        /// Run every configured job once (per org: scan, then apply) and exit, for cron, systemd
        /// timers and Kubernetes CronJobs
        #[arg(long)]
        once: bool,
    },
    /// Service Cloud Voice minutes vs telephony minutes for a period, from VoiceCall records
    Usage {
        /// Org name from the config (needed when it has several)
        #[arg(long)]
        org: Option<String>,
        /// A calendar month, YYYY-MM (local days in the usage time zone)
        #[arg(long, value_name = "YYYY-MM", value_parser = commands::usage::parse_month, conflicts_with_all = ["from", "to"])]
        month: Option<(i32, u32)>,
        /// First day, YYYY-MM-DD (with --to)
        #[arg(long, value_name = "DATE", value_parser = commands::usage::parse_day, requires = "to")]
        from: Option<chrono::NaiveDate>,
        /// Last day, YYYY-MM-DD, included (with --from)
        #[arg(long, value_name = "DATE", value_parser = commands::usage::parse_day, requires = "from")]
        to: Option<chrono::NaiveDate>,
        /// Output format on stdout (the report files are written either way)
        #[arg(long, value_enum, default_value = "text")]
        format: commands::window::WindowFormat,
    },
    /// Show the org's off-hours window: open or closed, until when, and when it next opens
    Window {
        /// Org name from the config (needed when it has several)
        #[arg(long)]
        org: Option<String>,
        /// The instant to ask about, RFC 3339 (e.g. 2025-03-11T14:03:00Z) [default: now]
        #[arg(long, value_name = "RFC3339", value_parser = commands::window::parse_at)]
        at: Option<chrono::DateTime<chrono::Utc>>,
        /// Output format
        #[arg(long, value_enum, default_value = "text")]
        format: commands::window::WindowFormat,
    },
}

#[derive(Subcommand, Debug)]
enum ApprovalsAction {
    /// Revoke an approval that has not started: it is never applied
    Revoke {
        /// The approval's id (see `pslwarden approvals`)
        id: i64,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

fn init_logging(format: LogFormat, verbose: u8) {
    let default = match verbose {
        0 => "pslwarden=info,sfsim=warn,tokio_cron_scheduler=warn",
        1 => "pslwarden=debug,sfsim=info,tokio_cron_scheduler=warn",
        _ => "pslwarden=trace,sfsim=debug,tokio_cron_scheduler=info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        // tracing's JSON escapes every control character; the plain lines go through
        // `InertStderr`.
        LogFormat::Human => builder
            .with_target(false)
            .with_writer(|| InertStderr)
            .init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Stderr for plain-text log lines: each line as [`pslwarden::text::log_line`] shows it, so a
/// carriage return, a bidi override or a line break in the org's text cannot hide or forge a log
/// line. The formatter writes one whole event per `write` call.
struct InertStderr;

impl Write for InertStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let line = pslwarden::text::log_line(&String::from_utf8_lossy(buf));
        std::io::stderr().lock().write_all(line.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// What a command prints, as the terminal may show it: text from the org cannot steer the
/// terminal (see [`pslwarden::text::terminal_block`]).
fn shown(text: &str) -> String {
    pslwarden::text::terminal_block(text)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging(cli.log_format, cli.verbose);
    match run(cli).await {
        Ok(Success::Clean) => ExitCode::SUCCESS,
        Ok(Success::Findings) => ExitCode::from(2),
        Err(e) => {
            // Every error's own message already names its cause; printing the chain would
            // repeat it.
            // Errors can quote the org (a username, its own error message).
            eprintln!("error: {}", shown(&e.to_string()));
            ExitCode::from(1)
        }
    }
}

/// What a successful run asks `main` to exit with.
enum Success {
    /// Exit 0.
    Clean,
    /// `scan --detailed-exitcode` found something: exit 2.
    Findings,
}

async fn run(cli: Cli) -> anyhow::Result<Success> {
    let settings = Settings::load(cli.config.as_deref())?;
    tracing::debug!(config = %settings.source_label(), "config loaded");
    let mut stdout = std::io::stdout().lock();
    let mut success = Success::Clean;
    match cli.command {
        Command::Scan {
            org,
            snapshot,
            plan_out,
            detailed_exitcode,
        } => {
            let org = settings.org(org.as_deref())?;
            let options = commands::scan::ScanOptions { snapshot, plan_out };
            let outcome = commands::scan::run(&settings, org, &options).await?;
            stdout.write_all(shown(&outcome.render_summary()).as_bytes())?;
            if detailed_exitcode && !outcome.report.findings.is_empty() {
                success = Success::Findings;
            }
        }
        Command::Doctor { org } => {
            let org = settings.org(org.as_deref())?;
            let report = commands::doctor::run(org).await?;
            stdout.write_all(shown(&report.render()).as_bytes())?;
        }
        Command::Licenses { org, format } => {
            let org = settings.org(org.as_deref())?;
            let report = commands::licenses::run(org).await?;
            stdout.write_all(shown(&report.render(format)).as_bytes())?;
        }
        Command::Apply {
            org,
            plan,
            yes,
            max_actions,
            when_open,
        } => {
            let org = settings.org(org.as_deref())?;
            let clock = pslwarden::apply::clock::from_env().map_err(anyhow::Error::msg)?;
            let options = commands::apply::ApplyOptions {
                plan,
                yes,
                max_actions,
                cancel: None,
            };
            let prompt: &(dyn Fn(&str) -> std::io::Result<bool> + Sync) = &ask_at_terminal;
            let interactive = std::io::stdin().is_terminal().then_some(prompt);
            let result = if when_open {
                use commands::apply::when_open::{WhenOpen, run_when_open};
                let countdown = std::io::stderr().is_terminal();
                match run_when_open(
                    &settings,
                    org,
                    &options,
                    clock.as_ref(),
                    interactive,
                    countdown,
                )
                .await
                {
                    Ok(WhenOpen::Applied(outcome)) => Ok(*outcome),
                    Ok(WhenOpen::Interrupted) => {
                        writeln!(
                            stdout,
                            "Stopped while waiting for the window: nothing was changed."
                        )?;
                        return Ok(success);
                    }
                    Err(e) => Err(e),
                }
            } else {
                commands::apply::run(&settings, org, &options, clock.as_ref(), interactive).await
            };
            let outcome = match result {
                Ok(outcome) => outcome,
                // Approved mode with nothing approved is the normal quiet case, not an error.
                Err(e @ pslwarden::apply::ApplyError::NothingApproved { .. }) => {
                    writeln!(stdout, "{}", shown(&e.to_string()))?;
                    return Ok(success);
                }
                Err(e) => return Err(e.into()),
            };
            stdout.write_all(shown(&outcome.report.render_text()).as_bytes())?;
            writeln!(stdout, "Report: {}", outcome.dir.join("apply.md").display())?;
        }
        Command::Approve {
            org,
            plan,
            latest,
            exclude_user,
            only_user,
            expires,
            by,
            yes,
        } => {
            let org = settings.org(org.as_deref())?;
            let clock = pslwarden::apply::clock::from_env().map_err(anyhow::Error::msg)?;
            let options = commands::approve::ApproveOptions {
                plan,
                latest,
                exclude: exclude_user,
                only: only_user,
                expires,
                by,
                yes,
            };
            let prompt: &(dyn Fn(&str) -> std::io::Result<bool> + Sync) = &ask_to_approve;
            let interactive = std::io::stdin().is_terminal().then_some(prompt);
            let outcome =
                commands::approve::run(&settings, org, &options, clock.now(), interactive)?;
            stdout.write_all(shown(&outcome.text).as_bytes())?;
        }
        Command::Approvals {
            org,
            format,
            action,
        } => match action {
            Some(ApprovalsAction::Revoke { id }) => {
                let text = commands::approvals::revoke(&settings, id)?;
                stdout.write_all(shown(&text).as_bytes())?;
            }
            None => {
                if let Some(name) = org.as_deref() {
                    settings.org(Some(name))?;
                }
                let clock = pslwarden::apply::clock::from_env().map_err(anyhow::Error::msg)?;
                let list = commands::approvals::list(&settings, org.as_deref(), clock.now())?;
                stdout.write_all(shown(&list.render(format)).as_bytes())?;
            }
        },
        Command::Rollback { org, run, yes } => {
            let org = settings.org(org.as_deref())?;
            let clock = pslwarden::apply::clock::from_env().map_err(anyhow::Error::msg)?;
            let prompt: &(dyn Fn(&str) -> std::io::Result<bool> + Sync) = &ask_at_terminal;
            let interactive = std::io::stdin().is_terminal().then_some(prompt);
            let outcome =
                commands::rollback::run(&settings, org, run, yes, clock.as_ref(), interactive)
                    .await?;
            stdout.write_all(shown(&outcome.report.render_text()).as_bytes())?;
            writeln!(
                stdout,
                "Report: {}",
                outcome.dir.join("rollback.md").display()
            )?;
        }
        Command::History { org, run, format } => {
            if let Some(name) = org.as_deref() {
                settings.org(Some(name))?;
            }
            let history = commands::history::run(&settings, org.as_deref(), run)?;
            stdout.write_all(shown(&history.render(format)).as_bytes())?;
        }
        Command::Daemon { once } => {
            let clock = pslwarden::apply::clock::from_env().map_err(anyhow::Error::msg)?;
            drop(stdout);
            pslwarden::daemon::run(cli.config.clone(), settings, once, clock).await?;
            return Ok(success);
        }
        Command::Usage {
            org,
            month,
            from,
            to,
            format,
        } => {
            let org = settings.org(org.as_deref())?;
            let period = match (month, from, to) {
                (Some((y, m)), _, _) => commands::usage::PeriodArg::Month(y, m),
                (None, Some(from), Some(to)) => commands::usage::PeriodArg::Days(from, to),
                _ => commands::usage::PeriodArg::ThisMonth,
            };
            let outcome = commands::usage::run(&settings, org, &period, chrono::Utc::now()).await?;
            match format {
                commands::window::WindowFormat::Json => {
                    stdout.write_all(shown(&outcome.report.render_json()).as_bytes())?
                }
                commands::window::WindowFormat::Text => {
                    stdout.write_all(shown(&outcome.report.render_text()).as_bytes())?;
                    writeln!(
                        stdout,
                        "Report: {}",
                        outcome.dir.join("usage.html").display()
                    )?;
                }
            }
        }
        Command::Window { org, at, format } => {
            let org = settings.org(org.as_deref())?;
            let report = commands::window::run(org, at.unwrap_or_else(chrono::Utc::now));
            stdout.write_all(shown(&report.render(format)).as_bytes())?;
        }
    }
    stdout.flush()?;
    Ok(success)
}

/// Shows `question` on stderr and reads the answer from the terminal: only "y" or "yes" goes.
fn ask_at_terminal(question: &str) -> std::io::Result<bool> {
    ask(question, "Apply these changes?")
}

/// The same, for `approve`.
fn ask_to_approve(question: &str) -> std::io::Result<bool> {
    ask(question, "Approve these changes for the next window?")
}

fn ask(question: &str, what: &str) -> std::io::Result<bool> {
    let mut stderr = std::io::stderr().lock();
    write!(stderr, "{}{what} Type \"yes\" to go on: ", shown(question))?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
