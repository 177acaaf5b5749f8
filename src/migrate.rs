//! `svc migrate` and `svc schema`: argument handling and file writing around the
//! `svc-migrate` crate and `svc_schema::toml`.
//!
//! Exit codes of `svc migrate`: 0 migrated (or the file is already TOML: nothing to do), 1
//! the configuration has errors (its diagnostics are printed as `svc check` prints them) or
//! holds something the TOML format cannot say, 2 usage or I/O problems (a file that cannot
//! be read, an output file that exists without `--force`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use svc_compiler::host::RealHost;
use svc_compiler::render::{HumanStyle, human};
use svc_compiler::{CompileOptions, compile};
use svc_migrate::{Options, Refusal};

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The supervisord.conf to migrate (its includes are read too).
    file: PathBuf,
    /// Write the TOML to this file instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: Option<PathBuf>,
    /// Keep one TOML file per INI file, beside it with the extension .toml, and keep
    /// [include] (pointing at the TOML files); the main file goes to OUT, or beside FILE.
    #[arg(long)]
    keep_includes: bool,
    /// Overwrite output files that exist.
    #[arg(long)]
    force: bool,
    /// Skip checks that depend on this machine (users, groups, directories, environment
    /// variables), as `svc check --no-host-checks` does.
    #[arg(long)]
    no_host_checks: bool,
}

pub fn migrate(args: MigrateArgs) -> ExitCode {
    if svc_compiler::toml::is_toml_path(&args.file) {
        eprintln!(
            "svc migrate: {} is already in svc's TOML format; nothing to migrate",
            args.file.display()
        );
        return ExitCode::SUCCESS;
    }
    let host = RealHost;
    let compilation = compile(
        &args.file,
        &host,
        &CompileOptions {
            host_checks: !args.no_host_checks,
            ..CompileOptions::default()
        },
    );
    let cwd = std::env::current_dir().unwrap_or_default();
    let absolute = |path: &Path| -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            cwd.join(path)
        }
    };
    let output = match (&args.output, args.keep_includes) {
        (Some(path), _) => Some(absolute(path)),
        (None, true) => Some(absolute(&args.file.with_extension("toml"))),
        (None, false) => None,
    };
    let options = Options {
        keep_includes: args.keep_includes,
        output: output.clone(),
    };
    let files = match svc_migrate::migrate(&compilation, &options) {
        Ok(files) => files,
        Err(Refusal::Errors) => {
            eprint!(
                "{}",
                human(
                    &compilation.diagnostics,
                    &compilation.sources,
                    HumanStyle::for_stderr()
                )
            );
            if compilation.unreadable {
                return ExitCode::from(2);
            }
            eprintln!(
                "svc migrate: {}: {} error(s); nothing was migrated",
                args.file.display(),
                compilation.error_count()
            );
            return ExitCode::from(1);
        }
        Err(Refusal::AlreadyToml) => {
            eprintln!(
                "svc migrate: {} is already in svc's TOML format; nothing to migrate",
                args.file.display()
            );
            return ExitCode::SUCCESS;
        }
        Err(Refusal::Unsupported { message, span }) => {
            let place = span
                .and_then(|span| {
                    let source = compilation.sources.get(span.source)?;
                    let (line, column) = source.line_col(span.start as usize);
                    Some(format!(
                        "{}:{}:{}: ",
                        source.path.display(),
                        line + 1,
                        column + 1
                    ))
                })
                .unwrap_or_default();
            eprintln!("svc migrate: {place}cannot migrate: {message}");
            return ExitCode::from(1);
        }
    };
    if output.is_none() {
        let text: String = files.iter().map(|file| file.text.as_str()).collect();
        return match crate::print(&text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(code) => code,
        };
    }
    if !args.force
        && let Some(existing) = files.iter().find(|file| absolute(&file.path).exists())
    {
        eprintln!(
            "svc migrate: {} exists; pass --force to overwrite it (nothing was written)",
            existing.path.display()
        );
        return ExitCode::from(2);
    }
    for file in &files {
        if let Err(error) = std::fs::write(absolute(&file.path), &file.text) {
            eprintln!("svc migrate: cannot write {}: {error}", file.path.display());
            return ExitCode::from(2);
        }
        eprintln!(
            "svc migrate: {} -> {}",
            file.from.display(),
            file.path.display()
        );
    }
    ExitCode::SUCCESS
}

/// `svc schema`: the JSON Schema of the TOML format on stdout.
pub fn schema() -> ExitCode {
    let schema = svc_schema::toml::json_schema();
    let text = match serde_json::to_string_pretty(&schema) {
        Ok(mut text) => {
            text.push('\n');
            text
        }
        Err(error) => {
            eprintln!("svc schema: {error}");
            return ExitCode::from(2);
        }
    };
    match crate::print(&text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}
