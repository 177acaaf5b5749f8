//! `svc run`: supervisord's command line. Checks the option values first (as supervisord's
//! getopt handlers do, before any file is read), finds and compiles the configuration
//! (refusing one with errors: diagnostics on stderr, exit 2), applies the command-line
//! overrides to the Graph, and hands it to the runtime with a reload callback that does the
//! same again on SIGHUP.
//!
//! Exit codes are supervisord's: 0 after an orderly shutdown (and for `-h`, `-v`), 2 for a
//! bad option, a configuration that cannot be found, read or compiled, and every refusal at
//! startup that supervisord reports through `usage()` (user, rlimits, HTTP sockets); 1 when
//! the main log cannot be opened (supervisord dies with a traceback there).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use svc_compiler::convert::{Problem, byte_size, integer, loglevel, octal};
use svc_compiler::host::{Host, RealHost};
use svc_compiler::render::{HumanStyle, human};
use svc_compiler::{CompileOptions, compile, paths, search};
use svc_runtime::RunOptions;
use svc_schema::{Graph, LogLevel, MainLog};

/// The version `-v` prints: the supervisord release svc is compatible with, as
/// `supervisor.getSupervisorVersion` and `svc ctl version` report it.
const SUPERVISORD_VERSION: &str = "4.3.0";

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
    /// supervisord's Python profiler (`cumulative,callers`): refused, svc has none.
    #[arg(long = "profile_options", hide = true)]
    profile_options: Option<String>,
    /// Print help (`-?` too, as supervisord takes it).
    #[arg(short = 'h', long = "help", short_alias = '?', action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Print the supervisord version svc is compatible with (4.3.0) and exit.
    #[arg(short = 'v', long)]
    version: bool,
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

/// `os.path.expanduser`.
fn expanduser(path: &str) -> String {
    paths::expanduser(path, |user| RealHost.home_dir(user))
}

/// supervisord's `normalize_path`: `normpath(abspath(expanduser(path)))`.
fn normalize_path(path: &str) -> String {
    let cwd = std::env::current_dir()
        .map(|dir| dir.to_string_lossy().into_owned())
        .unwrap_or_default();
    paths::abspath(&expanduser(path), &cwd)
}

/// `existing_directory`: the path as given (after `~` expansion), if it is a directory.
fn existing_directory(value: &str) -> Result<String, String> {
    let expanded = expanduser(value);
    if Path::new(&expanded).is_dir() {
        Ok(expanded)
    } else {
        Err(format!("{value} is not an existing directory"))
    }
}

/// `existing_dirpath`: the path as given (after `~` expansion), if its directory exists.
fn existing_dirpath(value: &str) -> Result<String, String> {
    let expanded = expanduser(value);
    let directory = paths::dirname(&expanded);
    if directory.is_empty() || Path::new(directory).is_dir() {
        Ok(expanded)
    } else {
        Err(format!(
            "The directory named as part of the path {value} does not exist"
        ))
    }
}

/// The reason of a conversion [`Problem`], with what to write instead.
fn reason(problem: Problem) -> String {
    format!("{}; {}", problem.message, problem.help)
}

/// The command-line values, converted and checked: what supervisord's getopt handlers
/// accept, before the configuration is read.
#[derive(Debug, Clone, Default)]
struct Overrides {
    user: Option<String>,
    umask: Option<u32>,
    directory: Option<String>,
    logfile: Option<MainLog>,
    logfile_maxbytes: Option<i64>,
    logfile_backups: Option<i64>,
    loglevel: Option<LogLevel>,
    pidfile: Option<String>,
    identifier: Option<String>,
    childlogdir: Option<String>,
    minfds: Option<i64>,
    minprocs: Option<i64>,
}

/// Converts one option's value; a refusal reads as supervisord's
/// `invalid value for -y 'foo': <why>`.
fn convert<T>(
    option: &str,
    value: &Option<String>,
    converter: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    value
        .as_deref()
        .map(|text| {
            converter(text).map_err(|why| {
                format!(
                    "invalid value for {option} {}: {why}",
                    svc_schema::python::repr(text)
                )
            })
        })
        .transpose()
}

impl RunArgs {
    /// Checks every option value, in supervisord's order (before any file is read).
    fn overrides(&self) -> Result<Overrides, String> {
        Ok(Overrides {
            user: self.user.clone(),
            umask: convert("-m", &self.umask, |text| octal(text).map_err(reason))?,
            directory: convert("-d", &self.directory, existing_directory)?,
            logfile: convert("-l", &self.logfile, |text| {
                // `syslog` is not a path; anything else is normalized as supervisord does.
                let checked = existing_dirpath(text)?;
                Ok(if checked == "syslog" {
                    MainLog::Syslog
                } else {
                    MainLog::File(normalize_path(&checked))
                })
            })?,
            logfile_maxbytes: convert("-y", &self.logfile_maxbytes, |text| {
                byte_size(text).map_err(reason)
            })?,
            logfile_backups: convert("-z", &self.logfile_backups, |text| {
                integer(text).map_err(reason)
            })?,
            loglevel: convert("-e", &self.loglevel, |text| loglevel(text).map_err(reason))?,
            pidfile: convert("-j", &self.pidfile, |text| {
                existing_dirpath(text).map(|checked| normalize_path(&checked))
            })?,
            identifier: self.identifier.clone(),
            childlogdir: convert("-q", &self.childlogdir, existing_directory)?,
            minfds: convert("-a", &self.minfds, |text| integer(text).map_err(reason))?,
            minprocs: convert("--minprocs", &self.minprocs, |text| {
                integer(text).map_err(reason)
            })?,
        })
    }

    /// Applies the command line over the configuration's `[supervisord]` section.
    fn apply(&self, overrides: &Overrides, graph: &mut Graph) {
        let settings = &mut graph.supervisord;
        settings.nodaemon |= self.nodaemon;
        settings.silent |= self.silent;
        settings.nocleanup |= self.nocleanup;
        settings.strip_ansi |= self.strip_ansi;
        let Overrides {
            user,
            umask,
            directory,
            logfile,
            logfile_maxbytes,
            logfile_backups,
            loglevel,
            pidfile,
            identifier,
            childlogdir,
            minfds,
            minprocs,
        } = overrides.clone();
        if user.is_some() {
            settings.user = user;
        }
        if directory.is_some() {
            settings.directory = directory;
        }
        settings.umask = umask.unwrap_or(settings.umask);
        settings.logfile = logfile.unwrap_or(settings.logfile.clone());
        settings.logfile_maxbytes = logfile_maxbytes.unwrap_or(settings.logfile_maxbytes);
        settings.logfile_backups = logfile_backups.unwrap_or(settings.logfile_backups);
        settings.loglevel = loglevel.unwrap_or(settings.loglevel);
        settings.pidfile = pidfile.unwrap_or(settings.pidfile.clone());
        settings.identifier = identifier.unwrap_or(settings.identifier.clone());
        settings.childlogdir = childlogdir.unwrap_or(settings.childlogdir.clone());
        settings.minfds = minfds.unwrap_or(settings.minfds);
        settings.minprocs = minprocs.unwrap_or(settings.minprocs);
    }
}

/// Compiles `path` and applies the overrides: the Graph and supervisord's parse messages, or
/// the rendered diagnostics.
fn load(
    path: &Path,
    args: &RunArgs,
    overrides: &Overrides,
) -> Result<(Graph, Vec<(LogLevel, String)>), String> {
    let options = CompileOptions {
        user_overridden: overrides.user.is_some(),
        ..CompileOptions::default()
    };
    let compilation = compile(path, &RealHost, &options);
    let Some(mut graph) = compilation.graph else {
        return Err(human(
            &compilation.diagnostics,
            &compilation.sources,
            HumanStyle::Plain,
        ));
    };
    args.apply(overrides, &mut graph);
    let warnings = compilation
        .startup_warnings
        .into_iter()
        .map(|warning| (LogLevel::Warn, warning));
    let includes = compilation.sources.iter().skip(1).map(|source| {
        (
            LogLevel::Info,
            format!("Included extra file \"{}\" during parsing", source.absolute),
        )
    });
    let messages = warnings.chain(includes).collect();
    Ok((graph, messages))
}

/// supervisord's search order, with its warning when root searches (anyone who can write to
/// the current directory could then choose root's configuration).
fn find_configuration() -> Result<PathBuf, String> {
    if is_root() {
        eprintln!(
            "svc: warning: svc is running as root and it is searching for its configuration \
             file in default locations (including its current working directory); you probably \
             want to specify a \"-c\" argument specifying an absolute path to a configuration \
             file for improved security."
        );
    }
    search::find_config(&invoked_as(), &RealHost).map_err(|diagnostic| {
        format!(
            "{}; use the -c option to specify a config file at a different path",
            diagnostic.message
        )
    })
}

/// The path svc was started by, as a script's `sys.argv[0]` would be: argv[0] when it has a
/// `/`, else the first match on `PATH` (what `execvp` ran), else the executable itself.
/// Symlinks are not resolved: supervisord's `<prefix>/etc/supervisord.conf` is relative to
/// the link that was run.
pub(crate) fn invoked_as() -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let fallback = || std::env::current_exe().unwrap_or_default();
    let Some(argv0) = std::env::args_os().next().map(PathBuf::from) else {
        return fallback();
    };
    if argv0.as_os_str().as_encoded_bytes().contains(&b'/') {
        return argv0;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|directory| {
            if directory.as_os_str().is_empty() {
                PathBuf::from(".").join(&argv0)
            } else {
                directory.join(&argv0)
            }
        })
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
        .unwrap_or_else(fallback)
}

/// Whether svc runs as root.
fn is_root() -> bool {
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

/// `svc run`.
pub fn run(args: RunArgs) -> ExitCode {
    if args.version {
        println!("{SUPERVISORD_VERSION}");
        return ExitCode::SUCCESS;
    }
    // supervisord's getopt handlers refuse a bad value before the file is even looked for.
    // The values are checked once: a reload keeps them (a relative `-d` or `-q` would not
    // be found again from inside the directory the daemon moved to).
    let overrides = match args.overrides() {
        Ok(overrides) => overrides,
        Err(message) => return usage(&message),
    };
    if args.profile_options.is_some() {
        return usage(
            "--profile_options runs supervisord under Python's profiler, which svc does not \
             have; remove the option (to profile svc, use perf)",
        );
    }
    let path = match &args.configuration {
        Some(path) => path.clone(),
        None => match find_configuration() {
            Ok(path) => path,
            Err(message) => return usage(&message),
        },
    };
    let (graph, messages) = match load(&path, &args, &overrides) {
        Ok(loaded) => loaded,
        Err(text) => {
            eprint!("{text}");
            eprintln!(
                "{}: the configuration has errors; nothing was started",
                path.display()
            );
            return ExitCode::from(2);
        }
    };
    let options = RunOptions {
        die_with_parent: args.die_with_parent,
        subreaper: args.subreaper,
        startup_messages: messages,
    };
    // A reload reads the same file even after the daemon has changed directory.
    let path = std::path::absolute(&path).unwrap_or(path);
    let reload_args = args.clone();
    let reload = Box::new(move || load(&path, &reload_args, &overrides));
    match svc_runtime::run(graph, options, reload) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(error) if error.usage => usage(&error.message),
        Err(error) => {
            eprintln!("Error: {}", error.message);
            ExitCode::from(error.exit_code)
        }
    }
}
