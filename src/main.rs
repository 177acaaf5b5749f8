//! The `svc` command line: parses arguments, calls the crates, picks a renderer and maps
//! exit codes. No logic of its own lives here (`run.rs`: the `svc run` options; `arena.rs`:
//! the allocator `svc check` switches on; `migrate.rs`: `svc migrate` and `svc schema`
//! around the `svc-migrate` crate; `svc ctl` is the `svc-ctl` crate).
//!
//! Exit codes of `svc check`: 0 clean (warnings allowed unless `--strict`), 1 errors (or
//! warnings under `--strict`), 2 usage or I/O problems. A closed stdout (broken pipe) exits 0.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use svc_compiler::host::RealHost;
use svc_compiler::render::{HumanStyle, github, human, json};
use svc_compiler::{CompileOptions, compile, search};

mod arena;
mod migrate;
mod run;

#[global_allocator]
static ALLOCATOR: arena::Allocator = arena::Allocator;

#[derive(Debug, Parser)]
#[command(
    name = "svc",
    version,
    about = "A process supervisor compatible with supervisord 4.3.0"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compile a supervisord.conf and report every problem.
    Check(CheckArgs),
    /// Run the supervisor daemon (supervisord's command line).
    // getopt takes any unambiguous prefix of a long option (`--config`), and `-?` for help.
    #[command(infer_long_args = true, disable_help_flag = true)]
    Run(Box<run::RunArgs>),
    /// Control a running daemon (supervisorctl's command line).
    Ctl(svc_ctl::CtlArgs),
    /// Convert a supervisord.conf (with its includes) to svc's TOML format, same meaning.
    Migrate(migrate::MigrateArgs),
    /// Print the JSON Schema of svc's TOML format.
    Schema,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The configuration file (default: supervisord's search order).
    file: Option<PathBuf>,
    /// Output format of the diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Exit 1 on warnings too.
    #[arg(long)]
    strict: bool,
    /// Print the compiled Graph as JSON on stdout.
    #[arg(long, value_enum)]
    emit: Option<Emit>,
    /// Skip checks that depend on this machine (users, groups, directories, environment
    /// variables), for CI machines that are not the production host.
    #[arg(long)]
    no_host_checks: bool,
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Emit {
    Graph,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// Writes to stdout; a closed pipe is not an error.
fn print(text: &str) -> Result<(), ExitCode> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Err(ExitCode::SUCCESS),
        Err(_) => Err(ExitCode::from(2)),
    }
}

fn check(args: CheckArgs) -> ExitCode {
    // A short-lived process that never frees its compilation: see `arena`.
    arena::enable();
    let host = RealHost;
    let path = match args.file.clone() {
        Some(path) => path,
        None => match search::find_config(&run::invoked_as(), &host) {
            Ok(path) => path,
            Err(diagnostic) => {
                let compilation = svc_compiler::Compilation {
                    graph: None,
                    diagnostics: vec![*diagnostic],
                    sources: Default::default(),
                    document: Default::default(),
                    unreadable: true,
                    startup_warnings: Vec::new(),
                };
                return match report(&args, std::path::Path::new("."), &compilation) {
                    Ok(()) => ExitCode::from(2),
                    Err(code) => code,
                };
            }
        },
    };
    let options = CompileOptions {
        host_checks: !args.no_host_checks,
        ..CompileOptions::default()
    };
    let compilation = compile(&path, &host, &options);
    let code = match report(&args, &path, &compilation) {
        Err(code) => code,
        Ok(()) if compilation.unreadable => ExitCode::from(2),
        Ok(())
            if compilation.error_count() > 0
                || (args.strict && compilation.warning_count() > 0) =>
        {
            ExitCode::from(1)
        }
        Ok(()) => ExitCode::SUCCESS,
    };
    // The process exits next: freeing a large compilation piece by piece would only cost
    // time (a fifth of the run on a 5,000-program config).
    std::mem::forget(compilation);
    code
}

/// Prints diagnostics in the chosen format and, with `--emit graph`, the Graph.
fn report(
    args: &CheckArgs,
    path: &std::path::Path,
    compilation: &svc_compiler::Compilation,
) -> Result<(), ExitCode> {
    let diagnostics = &compilation.diagnostics;
    let sources = &compilation.sources;
    let machine_output = match args.format {
        Format::Human => None,
        Format::Json => Some(json(diagnostics, sources)),
        Format::Github => Some(github(diagnostics, sources)),
    };
    let graph_text = match (&args.emit, &compilation.graph) {
        (Some(Emit::Graph), Some(graph)) => {
            serde_json::to_string_pretty(graph).ok().map(|mut text| {
                text.push('\n');
                text
            })
        }
        _ => None,
    };
    let colour = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => HumanStyle::for_stderr() == HumanStyle::Colour,
    };
    match machine_output {
        Some(text) if graph_text.is_none() => print(&text)?,
        Some(text) => eprint!("{text}"),
        None => {
            let style = if colour {
                HumanStyle::Colour
            } else {
                HumanStyle::Plain
            };
            eprint!("{}", human(diagnostics, sources, style));
            if sources.iter().next().is_some() {
                eprintln!("{}", summary(path, compilation));
            }
        }
    }
    if let Some(text) = graph_text {
        print(&text)?;
    }
    Ok(())
}

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

fn summary(path: &std::path::Path, compilation: &svc_compiler::Compilation) -> String {
    let errors = compilation.error_count();
    let warnings = compilation.warning_count();
    match &compilation.graph {
        Some(graph) => {
            let processes: usize = graph.groups.iter().map(|g| g.processes.len()).sum();
            format!(
                "{}: ok, {} in {}, {}",
                path.display(),
                plural(processes, "process", "processes"),
                plural(graph.groups.len(), "group", "groups"),
                plural(warnings, "warning", "warnings")
            )
        }
        None => format!(
            "{}: {}, {}",
            path.display(),
            plural(errors, "error", "errors"),
            plural(warnings, "warning", "warnings")
        ),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check(args),
        Command::Run(args) => run::run(*args),
        Command::Ctl(args) => svc_ctl::main(args),
        Command::Migrate(args) => migrate::migrate(args),
        Command::Schema => migrate::schema(),
    }
}
