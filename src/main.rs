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
use pslwarden::commands::window::WindowFormat as TextFormat;
use pslwarden::commands::{self, Format};
use pslwarden::config::{DEFAULT_CONFIG_PATH, OrgSettings, Settings};

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
    /// Config file [default: $PSLWARDEN_CONFIG, else config/pslwarden.toml, else the built-in
    /// simulated org]
    #[arg(long, global = true, value_name = "FILE")]
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
    /// Add an org to the config (new or existing; nothing else in it changes): asks at a
    /// terminal, or takes flags for scripts. Never writes a secret, only where it lives
    Init(Box<InitFlags>),
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
        /// Output format on stdout: text for people, json for scripts (the report files are
        /// written either way)
        #[arg(long, value_enum, default_value = "text")]
        format: TextFormat,
    },
    /// Sign in, show org id, user, instance URL, API version and usage, and check every
    /// permission, object and field the org's mode needs (exit 1 when one is missing)
    Doctor {
        /// Org name from the config (needed when it has several)
        #[arg(long)]
        org: Option<String>,
        /// Output format on stdout: text for people, json for scripts (with a `checks` list)
        #[arg(long, value_enum, default_value = "text")]
        format: TextFormat,
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
        /// Output format on stdout: text for people, json for scripts (the report files are
        /// written either way)
        #[arg(long, value_enum, default_value = "text")]
        format: TextFormat,
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
        /// Output format on stdout: text for people, json for scripts (the report files are
        /// written either way)
        #[arg(long, value_enum, default_value = "text")]
        format: TextFormat,
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

/// `pslwarden init`'s answers; each one not given is asked at a terminal (or defaulted).
#[derive(clap::Args, Debug)]
struct InitFlags {
    /// The org's name in the config (letters, digits, - and _)
    #[arg(long)]
    org_name: Option<String>,
    /// Sign-in flow: jwt, client_credentials or sf_cli [default: jwt]
    #[arg(long)]
    flow: Option<String>,
    /// Login server or My Domain URL (jwt, client_credentials)
    #[arg(long, value_name = "URL")]
    login_url: Option<String>,
    /// The integration user (jwt)
    #[arg(long)]
    username: Option<String>,
    /// The connected app's consumer key (jwt, client_credentials)
    #[arg(long, alias = "consumer-key")]
    client_id: Option<String>,
    /// The alias of an existing `sf org login` (sf_cli)
    #[arg(long, value_name = "ALIAS")]
    target_org: Option<String>,
    /// Environment variable holding the secret (the JWT private key or the client secret)
    #[arg(long, value_name = "NAME")]
    secret_env: Option<String>,
    /// File holding the client secret
    #[arg(long, value_name = "PATH")]
    secret_file: Option<String>,
    /// File holding the JWT private key (PEM)
    #[arg(long, value_name = "PATH")]
    key_file: Option<String>,
    /// Refused: init never writes a secret (use --secret-env or --secret-file)
    #[arg(long, hide = true)]
    secret: Option<String>,
    /// IANA time zone of the window, e.g. Europe/London
    #[arg(long, value_name = "ZONE")]
    time_zone: Option<String>,
    /// Local window start, HH:MM [default: 22:00]
    #[arg(long, value_name = "HH:MM")]
    window_start: Option<String>,
    /// Local window end, HH:MM [default: 05:00]
    #[arg(long, value_name = "HH:MM")]
    window_end: Option<String>,
    /// Days the window starts on, comma-separated [default: mon,tue,wed,thu,fri]
    #[arg(long, value_name = "DAYS")]
    days: Option<String>,
    /// Write without asking for confirmation
    #[arg(long)]
    yes: bool,
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

/// Decides once, for the whole process, whether stderr gets colour (`NO_COLOR`) and progress
/// bars (see `pslwarden::terminal`), before anything is logged or drawn.
fn install_terminal(cli: &Cli) {
    let no_color = std::env::var_os("NO_COLOR");
    pslwarden::terminal::install(pslwarden::terminal::decide(pslwarden::terminal::Facts {
        stderr_is_terminal: std::io::stderr().is_terminal(),
        no_color: no_color.as_deref(),
        json_logs: matches!(cli.log_format, LogFormat::Json),
        daemon: matches!(cli.command, Command::Daemon { .. }),
    }));
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
        .with_ansi(pslwarden::terminal::current().colour)
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
            if !e.use_stderr() {
                // --help, --version: text on stdout, exit 0.
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // A usage error: the arguments did not parse, so look for `--log-format json`
            // among them by hand, to keep every stderr line JSON for a script that asked.
            let args: Vec<String> = std::env::args().collect();
            let json = args
                .windows(2)
                .any(|w| w[0] == "--log-format" && w[1] == "json")
                || args.iter().any(|a| a == "--log-format=json");
            if json {
                let message = e.kind().to_string();
                let detail = e.render().to_string();
                let detail = detail.lines().next().unwrap_or(&message);
                print_final_error(LogFormat::Json, detail.trim_start_matches("error: "), 1);
            } else {
                let _ = e.print();
            }
            return ExitCode::from(1);
        }
    };
    install_terminal(&cli);
    init_logging(cli.log_format, cli.verbose);
    let log_format = cli.log_format;
    match run(cli).await {
        Ok(Success::Clean) => ExitCode::SUCCESS,
        Ok(Success::Findings) => ExitCode::from(2),
        Err(e) => {
            // Every error's own message already names its cause; printing the chain would
            // repeat it.
            print_final_error(log_format, &e.to_string(), 1);
            ExitCode::from(1)
        }
    }
}

/// The last line of a failed run, on stderr: `error: ...` for people, or with `--log-format
/// json` one JSON line shaped like the log lines before it (`timestamp`, `level`, `fields`,
/// `target`), plus the exit code, so a log shipper or script parses every line the same way.
/// Written directly, not through the log filter, so `RUST_LOG` can never hide why a run failed.
fn print_final_error(format: LogFormat, message: &str, exit_code: u8) {
    match format {
        // Errors can quote the org (a username, its own error message).
        LogFormat::Human => eprintln!("error: {}", shown(message)),
        LogFormat::Json => {
            let line = serde_json::json!({
                "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                "level": "ERROR",
                "fields": { "message": message, "exit_code": exit_code },
                "target": "pslwarden",
            });
            eprintln!("{line}");
        }
    }
}

/// Where the config comes from: `--config`, then `PSLWARDEN_CONFIG`, then the default file in
/// the working directory; `None` means none of them, so the built-in simulated org is used.
/// A variable that is set but empty, or names no file, is an error: it means the admin meant a
/// real config, and falling back on the simulator would report on an org that does not exist.
fn config_path(flag: Option<PathBuf>) -> anyhow::Result<Option<PathBuf>> {
    if flag.is_some() {
        return Ok(flag);
    }
    match std::env::var_os("PSLWARDEN_CONFIG") {
        None => Ok(None),
        Some(v) if v.is_empty() => anyhow::bail!(
            "PSLWARDEN_CONFIG is set but empty: set it to your config file{}",
            try_the_demo_hint("or unset it (and pass no --config)")
        ),
        Some(v) => {
            let path = PathBuf::from(v);
            if !path.is_file() {
                anyhow::bail!(
                    "PSLWARDEN_CONFIG points at {}, which is not a file: fix the path (it is \
                     relative to the working directory){}",
                    path.display(),
                    try_the_demo_hint("or unset PSLWARDEN_CONFIG")
                );
            }
            Ok(Some(path))
        }
    }
}

/// The end of a config-path error that offers the built-in simulated org: only a `demo` build
/// has one, so a production build does not send the admin to it.
fn try_the_demo_hint(how: &str) -> String {
    if pslwarden::config::HAS_BUILTIN_DEMO {
        format!(", {how} to try the built-in simulated org")
    } else {
        String::new()
    }
}

/// Says on stderr, before anything else happens, that a run talks to a simulator and not to a
/// real Salesforce org, and how to point pslwarden at a real one.
fn announce_simulated(format: LogFormat, settings: &Settings, org: Option<&OrgSettings>) {
    let message = if settings.is_builtin_demo() {
        format!(
            "using the built-in simulated org `seed-demo` (SIMULATED ORG, not a real Salesforce \
             org): no --config, no PSLWARDEN_CONFIG and no {DEFAULT_CONFIG_PATH} in the working \
             directory. To use a real org, copy config/example.toml and pass it with --config FILE \
             (or set PSLWARDEN_CONFIG)"
        )
    } else {
        let simulated: Vec<&str> = match org {
            Some(o) if o.is_simulated() => vec![o.name.as_str()],
            Some(_) => return,
            None => settings
                .orgs
                .iter()
                .filter(|o| o.is_simulated())
                .map(|o| o.name.as_str())
                .collect(),
        };
        if simulated.is_empty() {
            return;
        }
        format!(
            "org(s) `{}` in {} are simulated orgs ([org.simulator], SIMULATED ORG, not a real \
             Salesforce org). To use a real org, give it an [org.auth] login_url and no \
             [org.simulator] (see config/example.toml)",
            simulated.join("`, `"),
            settings.source_label()
        )
    };
    match format {
        LogFormat::Human => eprintln!("note: {message}"),
        LogFormat::Json => tracing::warn!(simulated = true, "{message}"),
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
    if let Command::Init(flags) = &cli.command {
        // Before loading the config: it may not exist yet, and init must not need it to. It
        // writes where the other commands will read: `--config`, else `PSLWARDEN_CONFIG`, else
        // the default file.
        let path = cli
            .config
            .clone()
            .or_else(|| {
                std::env::var_os("PSLWARDEN_CONFIG")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| PathBuf::from(pslwarden::config::DEFAULT_CONFIG_PATH));
        let ask: commands::init::Ask<'_> = &ask_line;
        let interactive = std::io::stdin().is_terminal().then_some(ask);
        let outcome = commands::init::run(&flags.to_args(), &path, interactive)?;
        std::io::stdout().write_all(shown(&outcome.render()).as_bytes())?;
        return Ok(Success::Clean);
    }
    let config = config_path(cli.config)?;
    let settings = Settings::load(config.as_deref())?;
    let format = cli.log_format;
    // The one org the command works on, checked before anything runs, so the simulated-org
    // notice comes first and an unknown `--org` fails before any simulator starts.
    let selected = match &cli.command {
        Command::Scan { org, .. }
        | Command::Doctor { org, .. }
        | Command::Licenses { org, .. }
        | Command::Apply { org, .. }
        | Command::Approve { org, .. }
        | Command::Rollback { org, .. }
        | Command::Usage { org, .. }
        | Command::Window { org, .. } => Some(settings.org(org.as_deref())?),
        Command::History { org, .. } | Command::Approvals { org, .. } => match org.as_deref() {
            Some(name) => Some(settings.org(Some(name))?),
            None => None,
        },
        Command::Daemon { .. } | Command::Init(_) => None,
    };
    announce_simulated(format, &settings, selected);
    tracing::debug!(config = %settings.source_label(), "config loaded");
    let mut stdout = std::io::stdout().lock();
    let mut success = Success::Clean;
    match cli.command {
        Command::Scan {
            org,
            snapshot,
            plan_out,
            detailed_exitcode,
            format,
        } => {
            let org = settings.org(org.as_deref())?;
            let options = commands::scan::ScanOptions { snapshot, plan_out };
            let outcome = commands::scan::run(&settings, org, &options).await?;
            let out = match format {
                // The summary's numbers are the simulator's: say so above them.
                TextFormat::Text if org.is_simulated() => format!(
                    "{}\n{}",
                    pslwarden::report::SIMULATED_ORG_NOTICE,
                    outcome.render_summary()
                ),
                TextFormat::Text => outcome.render_summary(),
                TextFormat::Json => commands::output::scan(&outcome),
            };
            stdout.write_all(shown(&out).as_bytes())?;
            if detailed_exitcode && !outcome.report.findings.is_empty() {
                success = Success::Findings;
            }
        }
        Command::Doctor { org, format } => {
            let org = settings.org(org.as_deref())?;
            let report = commands::doctor::run(org).await?;
            let out = match format {
                TextFormat::Text => report.render(),
                TextFormat::Json => commands::output::doctor(&report),
            };
            stdout.write_all(shown(&out).as_bytes())?;
            if report.failed() {
                stdout.flush()?;
                anyhow::bail!(
                    "doctor: a check the org's mode needs failed; apply its fix and run doctor again"
                );
            }
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
            format,
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
                match run_when_open(&settings, org, &options, clock.as_ref(), interactive).await {
                    Ok(WhenOpen::Applied(outcome)) => Ok(*outcome),
                    Ok(WhenOpen::Interrupted) => {
                        let message = "Stopped while waiting for the window: nothing was changed.";
                        match format {
                            TextFormat::Text => writeln!(stdout, "{message}")?,
                            TextFormat::Json => stdout.write_all(
                                commands::output::apply_not_run("stopped_waiting", message)
                                    .as_bytes(),
                            )?,
                        }
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
                    let message = e.to_string();
                    match format {
                        TextFormat::Text => writeln!(stdout, "{}", shown(&message))?,
                        TextFormat::Json => stdout.write_all(
                            shown(&commands::output::apply_not_run("no_approval", &message))
                                .as_bytes(),
                        )?,
                    }
                    return Ok(success);
                }
                Err(e) => return Err(e.into()),
            };
            match format {
                TextFormat::Text => {
                    stdout.write_all(shown(&outcome.report.render_text()).as_bytes())?;
                    writeln!(stdout, "Report: {}", outcome.dir.join("apply.md").display())?;
                }
                TextFormat::Json => {
                    stdout.write_all(shown(&commands::output::apply(&outcome)).as_bytes())?
                }
            }
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
        Command::Rollback {
            org,
            run,
            yes,
            format,
        } => {
            let org = settings.org(org.as_deref())?;
            let clock = pslwarden::apply::clock::from_env().map_err(anyhow::Error::msg)?;
            let prompt: &(dyn Fn(&str) -> std::io::Result<bool> + Sync) = &ask_at_terminal;
            let interactive = std::io::stdin().is_terminal().then_some(prompt);
            let outcome =
                commands::rollback::run(&settings, org, run, yes, clock.as_ref(), interactive)
                    .await?;
            match format {
                TextFormat::Text => {
                    stdout.write_all(shown(&outcome.report.render_text()).as_bytes())?;
                    writeln!(
                        stdout,
                        "Report: {}",
                        outcome.dir.join("rollback.md").display()
                    )?;
                }
                TextFormat::Json => {
                    stdout.write_all(shown(&commands::output::rollback(&outcome)).as_bytes())?
                }
            }
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
            pslwarden::daemon::run(config, settings, once, clock).await?;
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
        Command::Init(_) => {}
        Command::Window { org, at, format } => {
            let org = settings.org(org.as_deref())?;
            let report = commands::window::run(org, at.unwrap_or_else(chrono::Utc::now));
            stdout.write_all(shown(&report.render(format)).as_bytes())?;
        }
    }
    stdout.flush()?;
    Ok(success)
}

impl InitFlags {
    fn to_args(&self) -> commands::init::InitArgs {
        commands::init::InitArgs {
            org_name: self.org_name.clone(),
            flow: self.flow.clone(),
            login_url: self.login_url.clone(),
            username: self.username.clone(),
            client_id: self.client_id.clone(),
            target_org: self.target_org.clone(),
            secret_env: self.secret_env.clone(),
            secret_file: self.secret_file.clone(),
            key_file: self.key_file.clone(),
            secret: self.secret.clone(),
            time_zone: self.time_zone.clone(),
            days: self.days.clone(),
            window_start: self.window_start.clone(),
            window_end: self.window_end.clone(),
            yes: self.yes,
        }
    }
}

/// Asks one `init` question on stderr (with its default) and reads a line from the terminal.
fn ask_line(question: &str, default: Option<&str>) -> std::io::Result<String> {
    let mut stderr = std::io::stderr().lock();
    match default {
        Some(d) => write!(stderr, "{question} [{d}]: ")?,
        None => write!(stderr, "{question}: ")?,
    }
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer)
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
