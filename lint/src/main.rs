//! `cargo-lockscope`: argument parsing and exit codes only; the work is in the library.

use clap::{Parser, Subcommand};
use lockscope_lint::discover::Scope;
use lockscope_lint::render::{self, Format, MessageFormat};
use lockscope_lint::report::{self, ReportFormat};
use lockscope_lint::{rules, LintOptions};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cargo-lockscope",
    bin_name = "cargo lockscope",
    version,
    about = "Find lock contention before it ships"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lint the workspace (or the given files and folders) for lock-contention anti-patterns.
    Lint(LintArgs),
    /// Render a profiler report (table, JSON, folded stacks, flamegraph) or diff two.
    Report(ReportArgs),
    /// List the rules with their one-line summaries.
    Rules,
    /// Print a rule's full documentation.
    Explain {
        /// The rule's name, as `rules` lists it.
        rule: String,
    },
}

#[derive(clap::Args)]
struct LintArgs {
    /// Files or folders to lint. Without any, lint every member of the cargo workspace.
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// The Cargo.toml of the workspace to lint.
    #[arg(long, value_name = "FILE")]
    manifest_path: Option<PathBuf>,
    /// Run only this rule (repeatable).
    #[arg(long = "rule", value_name = "NAME")]
    rules: Vec<String>,
    /// Print files, bytes, parse and analysis seconds and MB/s to stderr.
    #[arg(long)]
    stats: bool,
    /// cargo's flag: `json` prints cargo `compiler-message` lines for editors
    /// (rust-analyzer's `check.overrideCommand`); overrides --format.
    #[arg(long, value_enum, value_name = "FMT")]
    message_format: Option<MessageFormat>,
    /// A profiler report: show each finding's measured lock wait and sort by it.
    #[arg(long, value_name = "REPORT.json")]
    profile: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ReportArgs {
    /// A report written by the profiler (`LOCKSCOPE_REPORT`, `Report::write_json`).
    report: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: ReportFormat,
    /// Show, per lock and site, the change from this baseline report.
    #[arg(long, value_name = "BASE.json")]
    diff: Option<PathBuf>,
    /// Write to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// With `--format html`: the lint's findings (`lint --format json` output), shown
    /// beside the locks they are about.
    #[arg(long, value_name = "FINDINGS.json")]
    lint: Option<PathBuf>,
}

fn main() -> ExitCode {
    // `cargo lockscope lint` runs `cargo-lockscope lockscope lint`.
    let args = std::env::args_os().enumerate().filter(|(i, a)| !(*i == 1 && a == "lockscope")).map(|(_, a)| a);
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Lint(args) => lint(args),
        Command::Report(args) => report(&args),
        Command::Rules => {
            let rules = rules::all();
            let width = rules.iter().map(|r| r.name().len()).max().unwrap_or(0);
            let text: String = rules.iter().map(|r| format!("{:width$}  {}\n", r.name(), r.summary())).collect();
            print_stdout(text.as_bytes())
        }
        Command::Explain { rule } => match rules::by_name(&rule) {
            Some(rule) => print_stdout((rule.doc() + "\n").as_bytes()),
            None => {
                eprintln!("error: unknown rule `{rule}`; {}", rules::known_list());
                ExitCode::from(2)
            }
        },
    }
}

/// The exit status for a failed write to stdout: none for a reader that went away
/// (`| head`), which is not an error; 2 with a message for anything else (a full disk).
fn output_failed(err: &std::io::Error) -> Option<ExitCode> {
    if err.kind() == std::io::ErrorKind::BrokenPipe {
        return None;
    }
    eprintln!("error: cannot write the output: {err}");
    Some(ExitCode::from(2))
}

/// Write `bytes` to stdout and say how that went.
fn print_stdout(bytes: &[u8]) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => output_failed(&err).unwrap_or(ExitCode::SUCCESS),
    }
}

fn report(args: &ReportArgs) -> ExitCode {
    let rendered = (|| {
        let after = report::load(&args.report)?;
        let base = args.diff.as_deref().map(report::load).transpose()?;
        match (args.format, &args.lint) {
            (ReportFormat::Html, _) if base.is_some() => {
                Err(lockscope_lint::RunError("--diff renders as --format table or json".into()))
            }
            (ReportFormat::Html, lint) => report::html(&after, lint.as_deref()),
            (_, Some(_)) => Err(lockscope_lint::RunError("--lint goes with --format html".into())),
            _ => report::render(&after, base.as_ref(), args.format),
        }
    })();
    let bytes = match rendered {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    match &args.output {
        Some(path) => match std::fs::write(path, bytes) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                ExitCode::from(2)
            }
        },
        None => print_stdout(&bytes),
    }
}

/// The line under a finding that says what the profiler measured (with `--profile`).
fn measured_note(measured: Option<&lockscope_lint::profile::Measured>, profiled: bool) -> String {
    match measured {
        Some(m) => format!(
            "\n   = measured: lock `{}` waited {} in all, p99 {} ({} of {} acquisitions contended)\n",
            m.lock,
            lockscope_report::human_ns(m.wait_ns_total),
            lockscope_report::human_ns(m.wait_ns_p99),
            m.contended,
            m.acquisitions
        ),
        None if profiled => "\n   = measured: no lock of the profile matches this finding\n".into(),
        None => "\n".into(),
    }
}

fn lint(args: LintArgs) -> ExitCode {
    let scope = if args.paths.is_empty() {
        Scope::Workspace { manifest_path: args.manifest_path }
    } else {
        Scope::Paths(args.paths)
    };
    let profile = match args.profile.as_deref().map(report::load).transpose() {
        Ok(profile) => profile,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let mut outcome = match lockscope_lint::lint(&LintOptions { scope, rules: args.rules }) {
        Ok(outcome) => outcome,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    // With a profile, the findings whose locks waited longest come first.
    let mut measured = match &profile {
        Some(report) => lockscope_lint::profile::join(&outcome.findings, report, &outcome.root),
        None => vec![None; outcome.findings.len()],
    };
    if profile.is_some() {
        let mut paired: Vec<_> = outcome.findings.into_iter().zip(measured).collect();
        paired.sort_by_key(|(_, m)| std::cmp::Reverse(m.as_ref().map(|m| (m.wait_ns_total, m.wait_ns_p99))));
        (outcome.findings, measured) = paired.into_iter().unzip();
    }
    let stdout = std::io::stdout();
    let color = stdout.is_terminal();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let cargo_json = args.message_format == Some(MessageFormat::Json);
    let written = (|| -> std::io::Result<()> {
        if args.format == Format::Sarif && !cargo_json {
            out.write_all(render::sarif::render(&outcome.findings).as_bytes())?;
        }
        for (finding, measured) in
            outcome.findings.iter().zip(&measured).filter(|_| cargo_json || args.format != Format::Sarif)
        {
            let text = match args.format {
                _ if cargo_json => render::cargo::render(finding, &outcome.root),
                Format::Human => {
                    render::human::render(finding, color) + &measured_note(measured.as_ref(), profile.is_some())
                }
                Format::Json => render::json::render(finding, measured.as_ref()),
                Format::Sarif => unreachable!("rendered as one log above"),
            };
            writeln!(out, "{text}")?;
        }
        out.flush()
    })();
    if let Some(code) = written.err().as_ref().and_then(output_failed) {
        return code;
    }
    let stats = &outcome.stats;
    if args.format == Format::Human && !cargo_json {
        eprintln!(
            "{} findings in {} files ({} files checked in {:.2} s)",
            outcome.findings.len(),
            outcome.files_with_findings(),
            stats.files,
            stats.total.as_secs_f64()
        );
    }
    if !stats.skipped_large.is_empty() {
        let list: Vec<String> = stats
            .skipped_large
            .iter()
            .map(|(path, bytes)| format!("{path} ({})", lockscope_lint::input::human_bytes(*bytes)))
            .collect();
        eprintln!(
            "note: {} files not linted, larger than `max_file_size`: {}; raise `max_file_size` in lockscope.toml or [workspace.metadata.lockscope] to lint them",
            list.len(),
            list.join(", ")
        );
    }
    if args.stats {
        let mb = stats.bytes as f64 / 1e6;
        eprintln!(
            "stats: files={} bytes={} parsed_files={} parsed_bytes={} deepest_nesting={} scan_s={:.3} parse_s={:.3} analysis_s={:.3} total_s={:.3} mb_per_s={:.1}",
            stats.files,
            stats.bytes,
            stats.parsed_files,
            stats.parsed_bytes,
            stats.deepest_nesting,
            stats.scan.as_secs_f64(),
            stats.parse.as_secs_f64(),
            stats.analysis.as_secs_f64(),
            stats.total.as_secs_f64(),
            mb / stats.total.as_secs_f64().max(1e-9)
        );
    }
    ExitCode::from(lockscope_lint::exit_code(&outcome) as u8)
}
