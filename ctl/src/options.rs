//! `svc ctl`'s options: supervisorctl's command line, then `[supervisorctl]` of the
//! configuration file, then supervisorctl's defaults (`ClientOptions`).
//!
//! - The file is `-c FILE`, or the first of supervisord's default paths that exists; with
//!   none, supervisorctl runs on its defaults (`http://localhost:9001`).
//! - The file is read by svc's compiler, so `[supervisorctl]` gets supervisorctl's meaning
//!   (`%(here)s`, `%(ENV_X)s`, a `unix://` path made absolute). A file that cannot be read
//!   or parsed is refused: diagnostics on stderr, exit 2. Errors elsewhere in the file do
//!   not matter, as they do not to supervisorctl (see [`read_file`]). A file without
//!   `[supervisorctl]` is refused as supervisorctl refuses it.
//! - Command-line values win over the file's; `-s` must be a URL (supervisorctl's `url`
//!   check), exit 2 otherwise.
//! - `-r FILE` is accepted and ignored, as supervisorctl 4.3.0 ignores it (its value never
//!   reaches the readline code); only the file's `history_file` is used.
//!
//! **Boundary:** returns plain values; nothing here talks to a server.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use svc_compiler::expand::{EnvPolicy, KeyName, Names, expand};
use svc_compiler::host::{Host as _, RealHost};
use svc_compiler::ini::Document;
use svc_compiler::render::{HumanStyle, human};
use svc_compiler::{CompileOptions, compile, paths, search};

/// The section supervisorctl reads.
const SECTION: &str = "supervisorctl";

/// supervisorctl's command line.
#[derive(Debug, Clone, clap::Args)]
pub struct CtlArgs {
    /// The configuration file (default: supervisord's search order).
    #[arg(short = 'c', long = "configuration")]
    configuration: Option<PathBuf>,
    /// URL on which supervisord listens (default "http://localhost:9001").
    #[arg(short = 's', long = "serverurl")]
    serverurl: Option<String>,
    /// Username for authentication with the server.
    #[arg(short = 'u', long)]
    username: Option<String>,
    /// Password for authentication with the server.
    #[arg(short = 'p', long)]
    password: Option<String>,
    /// Start the interactive shell (the default without a command).
    #[arg(short = 'i', long)]
    interactive: bool,
    /// Accepted for compatibility and ignored, as supervisorctl ignores it; use
    /// `history_file` in `[supervisorctl]`.
    #[arg(short = 'r', long = "history_file", value_name = "FILE")]
    history_file: Option<String>,
    /// The action and its arguments (`status`, `start web`, `tail -f web stderr`, ...).
    #[arg(trailing_var_arg = true, value_name = "ACTION")]
    action: Vec<String>,
}

/// The resolved options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) serverurl: String,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) prompt: String,
    pub(crate) history_file: Option<String>,
    /// `-i`, or no action: the shell, and confirmations for `shutdown`/`reload`.
    pub(crate) interactive: bool,
    /// The action and its arguments.
    pub(crate) action: Vec<String>,
}

/// supervisorctl's `usage()`: `Error: <message>` and a hint on stderr, exit 2.
fn usage(message: &str) -> ExitCode {
    eprintln!("Error: {message}");
    eprintln!("For help, use svc ctl -h");
    ExitCode::from(2)
}

/// Resolves the options; on a usage or configuration problem, prints it and returns the
/// exit code.
pub(crate) fn resolve(args: CtlArgs) -> Result<Options, ExitCode> {
    if let Some(serverurl) = &args.serverurl
        && svc_compiler::convert::url(serverurl).is_err()
    {
        let repr = super::exception::py_repr(serverurl);
        return Err(usage(&format!(
            "invalid value for -s {repr}: value {repr} is not a URL"
        )));
    }
    let host = RealHost;
    let path = match args.configuration.clone() {
        Some(path) => Some(path),
        None => {
            let executable = std::env::current_exe().unwrap_or_default();
            search::find_config(&executable, &host).ok()
        }
    };
    let file = match path {
        Some(path) => Some(read_file(&path, &host)?),
        None => None,
    };
    let file = file.unwrap_or_else(|| svc_schema::Supervisorctl {
        serverurl: "http://localhost:9001".into(),
        username: None,
        password: None,
        prompt: "supervisor".into(),
        history_file: None,
    });
    Ok(Options {
        serverurl: args.serverurl.unwrap_or(file.serverurl),
        username: args.username.or(file.username),
        password: args.password.or(file.password),
        prompt: file.prompt,
        history_file: file.history_file,
        interactive: args.interactive || args.action.is_empty(),
        action: args.action,
    })
}

/// `[supervisorctl]` of the file at `path`, compiled.
///
/// supervisorctl reads nothing else, so only a file it could not read stops `svc ctl`: one
/// that cannot be read or has INI syntax errors (diagnostics on stderr, exit 2). Errors in
/// the daemon's sections, or a client-only file without `[supervisord]`, leave the Graph
/// unbuilt but `[supervisorctl]` usable: it is then read from the parsed document.
fn read_file(path: &Path, host: &RealHost) -> Result<svc_schema::Supervisorctl, ExitCode> {
    let compilation = compile(
        path,
        host,
        &CompileOptions {
            host_checks: false,
            ..CompileOptions::default()
        },
    );
    let section = match &compilation.graph {
        Some(graph) => graph.supervisorctl.clone(),
        None => {
            let unreadable = compilation.unreadable
                || compilation.diagnostics.iter().any(|diagnostic| {
                    diagnostic.is_error() && matches!(diagnostic.code.area(), "source" | "ini")
                });
            if unreadable {
                eprint!(
                    "{}",
                    human(
                        &compilation.diagnostics,
                        &compilation.sources,
                        HumanStyle::for_stderr()
                    )
                );
                return Err(ExitCode::from(2));
            }
            client_section(&compilation.document, path, host)
        }
    };
    section.ok_or_else(|| usage(".ini file does not include supervisorctl section"))
}

/// `[supervisorctl]` from a parsed document, with the meaning the compiler gives it
/// (`%(here)s` and `%(ENV_X)s` where supervisorctl expands them, `unix://` and
/// `history_file` paths made absolute): used only when the whole file does not compile.
fn client_section(
    document: &Document,
    path: &Path,
    host: &RealHost,
) -> Option<svc_schema::Supervisorctl> {
    let section = document.section(SECTION)?;
    let cwd = host.current_dir().display().to_string();
    let absolute = paths::abspath(&path.display().to_string(), &cwd);
    let environment = Arc::new(host.environment());
    let with_here = Names::new()
        .with_str("here", paths::dirname(&absolute).to_string())
        .with_env(&environment);
    let env_only = Names::new().with_env(&environment);
    let value = |key: &str, names: &Names| -> Option<String> {
        let entry = document.get_in(section, key)?;
        let name = KeyName {
            section: SECTION,
            key,
        };
        expand(&entry.value, names, &name, EnvPolicy::Lenient).0
    };
    let normalize =
        |path: &str| paths::abspath(&paths::expanduser(path, |user| host.home_dir(user)), &cwd);
    let serverurl = match value("serverurl", &with_here) {
        Some(url) => match url.strip_prefix("unix://") {
            Some(socket) => format!("unix://{}", normalize(socket)),
            None => url,
        },
        None => "http://localhost:9001".into(),
    };
    Some(svc_schema::Supervisorctl {
        serverurl,
        username: value("username", &env_only),
        password: value("password", &env_only),
        prompt: value("prompt", &env_only).unwrap_or_else(|| "supervisor".into()),
        history_file: value("history_file", &with_here)
            .filter(|file| !file.is_empty())
            .map(|file| normalize(&file)),
    })
}
