//! `sfsim`: run the Salesforce org simulator from the command line.
//!
//! Thin by design: parse arguments, load the fixture, serve until Ctrl-C. Everything else lives
//! in the library so tests drive exactly the same code.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use sfsim::{Faults, Org};
use tokio::net::TcpListener;

#[derive(Debug, Parser)]
#[command(
    name = "sfsim",
    version,
    about = "A stateful simulator of a Salesforce org's REST API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve an org loaded from a fixture until Ctrl-C.
    Serve(ServeArgs),
    /// Write a large realistic Service Cloud Voice org (a fixture) and what was planted in it.
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// Number of users, the integration user included.
    #[arg(long)]
    users: usize,
    /// Seed: the same seed and options always give the same fixture.
    #[arg(long)]
    seed: u64,
    /// Share of all users planted as partner-telephony agents who also take a Voice seat
    /// (0.0-0.25).
    #[arg(long, default_value_t = sfsim::generate::DEFAULT_AFFECTED_FRACTION)]
    affected_fraction: f64,
    /// Write the fixture here and the planted summary to FILE.expected.json (default: the
    /// fixture to stdout, the summary to stderr).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Number of VoiceCall records to add, over the 120 days before --as-of, with idle Voice
    /// seats planted (mocks/README.md).
    #[arg(long, default_value_t = 0)]
    voice_calls: usize,
    /// The day calls, logins and creation dates count back from (YYYY-MM-DD; default: today,
    /// UTC).
    #[arg(long, value_name = "DATE")]
    as_of: Option<chrono::NaiveDate>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Fixture file (JSON; see mocks/README.md).
    #[arg(long, value_name = "FILE")]
    fixture: PathBuf,
    /// Address of the org's My Domain (instance URL, every grant); port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: String,
    /// Address of the login host, the stand-in for login.salesforce.com / test.salesforce.com
    /// (token endpoint only; refuses client credentials); port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    login_addr: String,
    /// Seed of the fault generator (same seed + same requests = same faults).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Latency added to every /services/data request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Share of /services/data requests answered 503 (0.0-1.0).
    #[arg(long = "fail-503-rate", default_value_t = 0.0)]
    fail_503_rate: f64,
    /// Every Nth authorised request finds its session expired.
    #[arg(long)]
    expire_session_every: Option<u64>,
    /// Share of record writes failing with UNABLE_TO_LOCK_ROW (0.0-1.0).
    #[arg(long, default_value_t = 0.0)]
    lock_row_rate: f64,
    /// Share of 200 responses cut off mid-JSON (0.0-1.0).
    #[arg(long, default_value_t = 0.0)]
    malformed_json_rate: f64,
    /// `opaque`: only a nextRecordsUrl the server handed out is valid; a computed
    /// `<locator>-<offset>` answers INVALID_QUERY_LOCATOR. `transparent` (default): any offset
    /// inside the result works.
    #[arg(long, value_parser = ["opaque", "transparent"])]
    locators: Option<String>,
    /// Some pages come back shorter than the batch size (seeded by --seed).
    #[arg(long)]
    short_pages: bool,
    /// Rows per page without a Sforce-Query-Options header (200-2000; Salesforce: 2000).
    #[arg(long, value_name = "N")]
    default_batch: Option<usize>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("sfsim=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Generate(args) => generate(args),
    }
}

fn generate(args: GenerateArgs) -> ExitCode {
    let opts = sfsim::generate::GenerateOptions {
        users: args.users,
        seed: args.seed,
        affected_fraction: args.affected_fraction,
        voice_calls: args.voice_calls,
    };
    let as_of = args
        .as_of
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    match sfsim::generate::generate_to_as_of(&opts, as_of, args.out.as_deref()) {
        Ok(summary) => {
            eprintln!("sfsim: {summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sfsim: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> ExitCode {
    let org = match Org::from_fixture_file(&args.fixture) {
        Ok(org) => org,
        Err(e) => {
            eprintln!("sfsim: {e}");
            return ExitCode::FAILURE;
        }
    };
    let faults = Faults {
        seed: args.seed,
        latency_ms: args.latency_ms,
        http_503_rate: args.fail_503_rate,
        expire_session_every: args.expire_session_every,
        lock_row_rate: args.lock_row_rate,
        malformed_json_rate: args.malformed_json_rate,
    };
    if let Err(e) = faults.validate() {
        eprintln!("sfsim: {e}");
        return ExitCode::FAILURE;
    }
    org.set_faults(faults);
    // SFSIM_PAGING is the base (so a test run's mode reaches served orgs too); flags override.
    let mut paging = match sfsim::Paging::from_env() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("sfsim: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(locators) = &args.locators {
        paging.opaque_locators = locators == "opaque";
    }
    if args.short_pages {
        paging.short_pages = Some(args.seed);
    }
    if let Some(n) = args.default_batch {
        if !(200..=2000).contains(&n) {
            eprintln!("sfsim: --default-batch {n}: must be 200 to 2000");
            return ExitCode::FAILURE;
        }
        paging.default_batch = n;
    }
    org.set_paging(paging);
    let listener = match TcpListener::bind(&args.addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("sfsim: cannot listen on {}: {e}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    let login = match TcpListener::bind(&args.login_addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("sfsim: cannot listen on {}: {e}", args.login_addr);
            return ExitCode::FAILURE;
        }
    };
    let (addr, login_addr) = match (listener.local_addr(), login.local_addr()) {
        (Ok(a), Ok(l)) => (a, l),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("sfsim: cannot read the bound address: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    // Scripts read the first line ("listening", the My Domain) for the URL; both lines are
    // flushed before serving.
    if writeln!(stdout, "sfsim listening on http://{addr}")
        .and_then(|_| writeln!(stdout, "sfsim login host on http://{login_addr}"))
        .and_then(|_| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    let shutdown = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            eprintln!("sfsim: cannot wait for Ctrl-C ({e}); stopping");
        }
    };
    match sfsim::run_with_login(listener, Some(login), org, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sfsim: server error: {e}");
            ExitCode::FAILURE
        }
    }
}
