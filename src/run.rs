//! `svc run`: supervisord's command line. Compiles the configuration (refusing one with
//! errors: diagnostics on stderr, exit 2), applies the command-line overrides to the Graph,
//! and hands it to the runtime with a reload callback that does the same again on SIGHUP.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use svc_compiler::convert::{byte_size, integer, loglevel, octal};
use svc_compiler::host::RealHost;
use svc_compiler::render::{HumanStyle, human};
use svc_compiler::{CompileOptions, compile, search};
use svc_runtime::RunOptions;
use svc_schema::{Graph, LogLevel, MainLog};

/// supervisord's options; each overrides its `[supervisord]` key.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// The configuration file (default: supervisord's search order).
    #[arg(short = 'c', long = "configuration")]
    configuration: Option<PathBuf>,
    /// Run in the foreground (`nodaemon=true`).
    #[arg(short = 'n', long)]
    nodaemon: bool,
    /// No logging to stdout in the foreground (`silent=true`).
    #[arg(short = 's', long)]
    silent: bool,
    /// Run as this user (name or uid).
    #[arg(short = 'u', long)]
    user: Option<String>,
    /// umask of the daemon (octal), applied when it daemonizes.
    #[arg(short = 'm', long)]
    umask: Option<String>,
    /// Directory to chdir to when daemonizing.
    #[arg(short = 'd', long)]
    directory: Option<String>,
    /// The daemon's log file (or `syslog`).
    #[arg(short = 'l', long)]
    logfile: Option<String>,
    /// Rotate the log file at this size (e.g. 50MB; 0 never rotates).
    #[arg(short = 'y', long = "logfile_maxbytes")]
    logfile_maxbytes: Option<String>,
    /// Number of rotated log files kept.
    #[arg(short = 'z', long = "logfile_backups")]
    logfile_backups: Option<String>,
    /// Log level: critical, error, warn, info, debug, trace or blather.
    #[arg(short = 'e', long)]
    loglevel: Option<String>,
    /// The pid file.
    #[arg(short = 'j', long)]
    pidfile: Option<String>,
    /// Identifier of this supervisor (RPC, AUTO log names).
    #[arg(short = 'i', long)]
    identifier: Option<String>,
    /// Directory of AUTO child logs.
    #[arg(short = 'q', long)]
    childlogdir: Option<String>,
    /// Keep the AUTO child logs of earlier runs.
    #[arg(short = 'k', long)]
    nocleanup: bool,
    /// Minimum number of file descriptors (raises RLIMIT_NOFILE).
    #[arg(short = 'a', long)]
    minfds: Option<String>,
    /// Strip ANSI escape sequences from child output.
    #[arg(short = 't', long = "strip_ansi")]
    strip_ansi: bool,
    /// Minimum number of processes (raises RLIMIT_NPROC).
    #[arg(long)]
    minprocs: Option<String>,
    /// Beyond supervisord: children get SIGKILL if svc itself is killed (PR_SET_PDEATHSIG).
    #[arg(long)]
    die_with_parent: bool,
    /// Beyond supervisord: become a child subreaper, reaping orphaned grandchildren.
    #[arg(long)]
    subreaper: bool,
}

/// supervisord's `usage()`: `Error: <message>`, a hint, exit 2.
fn usage(message: &str) -> ExitCode {
    eprintln!("Error: {message}");
    eprintln!("For help, use svc run -h");
    ExitCode::from(2)
}

fn absolute(path: &str) -> String {
    let cwd = std::env::current_dir()
        .map(|dir| dir.to_string_lossy().into_owned())
        .unwrap_or_default();
    svc_compiler::paths::abspath(path, &cwd)
}

fn existing_directory(value: &str, option: &str) -> Result<String, String> {
    let path = absolute(value);
    if Path::new(&path).is_dir() {
        Ok(path)
    } else {
        Err(format!("{option}: {value} is not an existing directory"))
    }
}

fn existing_dirpath(value: &str, option: &str) -> Result<String, String> {
    let path = absolute(value);
    match Path::new(&path).parent() {
        Some(parent) if parent.is_dir() => Ok(path),
        _ => Err(format!(
            "{option}: the directory named as part of the path {value} does not exist"
        )),
    }
}

impl RunArgs {
    /// Applies the command line over the configuration's `[supervisord]` section.
    fn apply(&self, graph: &mut Graph) -> Result<(), String> {
        let settings = &mut graph.supervisord;
        let problem = |option: &str, message: String| format!("{option}: {message}");
        settings.nodaemon |= self.nodaemon;
        settings.silent |= self.silent;
        settings.nocleanup |= self.nocleanup;
        settings.strip_ansi |= self.strip_ansi;
        if let Some(user) = &self.user {
            settings.user = Some(user.clone());
        }
        if let Some(value) = &self.umask {
            settings.umask = octal(value).map_err(|p| problem("-m", p.message))?;
        }
        if let Some(value) = &self.directory {
            settings.directory = Some(existing_directory(value, "-d")?);
        }
        if let Some(value) = &self.logfile {
            settings.logfile = if value == "syslog" {
                MainLog::Syslog
            } else {
                MainLog::File(existing_dirpath(value, "-l")?)
            };
        }
        if let Some(value) = &self.logfile_maxbytes {
            settings.logfile_maxbytes = byte_size(value).map_err(|p| problem("-y", p.message))?;
        }
        if let Some(value) = &self.logfile_backups {
            settings.logfile_backups = integer(value).map_err(|p| problem("-z", p.message))?;
        }
        if let Some(value) = &self.loglevel {
            settings.loglevel = loglevel(value).map_err(|p| problem("-e", p.message))?;
        }
        if let Some(value) = &self.pidfile {
            settings.pidfile = existing_dirpath(value, "-j")?;
        }
        if let Some(value) = &self.identifier {
            settings.identifier = value.clone();
        }
        if let Some(value) = &self.childlogdir {
            settings.childlogdir = existing_directory(value, "-q")?;
        }
        if let Some(value) = &self.minfds {
            settings.minfds = integer(value).map_err(|p| problem("-a", p.message))?;
        }
        if let Some(value) = &self.minprocs {
            settings.minprocs = integer(value).map_err(|p| problem("--minprocs", p.message))?;
        }
        Ok(())
    }
}

/// Compiles `path` and applies the overrides: the Graph and supervisord's parse messages, or
/// the rendered diagnostics.
fn load(path: &Path, args: &RunArgs) -> Result<(Graph, Vec<(LogLevel, String)>), LoadError> {
    let compilation = compile(path, &RealHost, &CompileOptions::default());
    let Some(mut graph) = compilation.graph else {
        return Err(LoadError::Config(human(
            &compilation.diagnostics,
            &compilation.sources,
            HumanStyle::Plain,
        )));
    };
    args.apply(&mut graph).map_err(LoadError::Usage)?;
    let messages = compilation
        .sources
        .iter()
        .skip(1)
        .map(|source| {
            (
                LogLevel::Info,
                format!("Included extra file \"{}\" during parsing", source.absolute),
            )
        })
        .collect();
    Ok((graph, messages))
}

enum LoadError {
    /// The configuration has errors (rendered diagnostics).
    Config(String),
    /// A command-line value is invalid.
    Usage(String),
}

/// `svc run`.
pub fn run(args: RunArgs) -> ExitCode {
    let path = match &args.configuration {
        Some(path) => path.clone(),
        None => {
            let executable = std::env::current_exe().unwrap_or_default();
            match search::find_config(&executable, &RealHost) {
                Ok(path) => path,
                Err(diagnostic) => return usage(&diagnostic.message),
            }
        }
    };
    let (graph, messages) = match load(&path, &args) {
        Ok(loaded) => loaded,
        Err(LoadError::Config(text)) => {
            eprint!("{text}");
            eprintln!(
                "{}: the configuration has errors; nothing was started",
                path.display()
            );
            return ExitCode::from(2);
        }
        Err(LoadError::Usage(message)) => return usage(&message),
    };
    let options = RunOptions {
        die_with_parent: args.die_with_parent,
        subreaper: args.subreaper,
        startup_messages: messages,
    };
    let reload_args = args.clone();
    let reload = Box::new(move || {
        load(&path, &reload_args).map_err(|(LoadError::Config(text) | LoadError::Usage(text))| text)
    });
    match svc_runtime::run(graph, options, reload) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(error) => usage(&error.0),
    }
}
