//! The svc runtime: runs a compiled [`Graph`] as supervisord 4.3.0 runs its configuration.
//!
//! Layering: depends on `svc-schema` only. It receives a Graph and, for SIGHUP, a
//! [`Reload`] callback that compiles the configuration again; it never parses a file.
//!
//! Startup follows supervisord's `main`/`run`: set the user, raise rlimits, open the main log
//! and write the messages collected so far, delete old AUTO child logs, create the processes
//! (AUTO logs are created here), bind the HTTP servers, daemonize unless `nodaemon`, write
//! the pidfile, then serve the control plane and run the supervisor loop until an orderly
//! exit.
//!
//! A start that fails says why in a [`StartError`], with supervisord's exit code: 2 for what
//! supervisord refuses through `usage()` (user, rlimits, HTTP sockets), 1 for what kills it
//! with a traceback (a main log that cannot be opened). Everything that can fail does so
//! before the fork, so the message reaches the caller's stderr.
//!
//! Invariants:
//! - The signals svc handles are blocked before any thread exists and read from a signalfd
//!   ([`signals`]); there are no signal handlers.
//! - Everything runs on the calling thread (a `LocalExecutor`): process state is never shared
//!   across threads.
#![warn(missing_docs, missing_debug_implementations)]

mod capture;
mod control;
mod events;
pub mod http;
pub mod logs;
mod logtail;
pub mod machine;
mod rpc;
pub mod signals;
mod spawn;
mod supervisor;
mod web;

use std::cell::RefCell;
use std::rc::Rc;

use svc_schema::{Graph, LogLevel, MainLog as MainLogSetting};

use crate::logs::{MainLog, MainTarget, RotatingFile, clear_auto_logs};

/// Compiles the configuration again (SIGHUP): the new Graph with its startup messages (as
/// [`RunOptions::startup_messages`]), or the rendered diagnostics.
pub type Reload = Box<dyn FnMut() -> Result<(Graph, Vec<(LogLevel, String)>), String>>;

/// How to run, beyond the Graph.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Kill children with SIGKILL if the daemon dies (`PR_SET_PDEATHSIG`).
    pub die_with_parent: bool,
    /// Become a child subreaper: orphans of our children are reparented to svc and reaped.
    pub subreaper: bool,
    /// Lines for the main log once it is open (supervisord's parse messages), in order.
    pub startup_messages: Vec<(LogLevel, String)>,
}

/// Why svc could not start.
#[derive(Debug)]
pub struct StartError {
    /// What went wrong, in supervisord's words where supervisord has some.
    pub message: String,
    /// supervisord reports it through `usage()`: `Error: ...`, a help hint, exit 2.
    pub usage: bool,
    /// The exit code when it is not a usage error.
    pub exit_code: u8,
}

impl StartError {
    /// A refusal supervisord reports through `usage()` (exit 2).
    pub fn usage(message: impl Into<String>) -> StartError {
        StartError {
            message: message.into(),
            usage: true,
            exit_code: 2,
        }
    }

    /// A failure where supervisord dies with a Python traceback (exit 1).
    pub fn crash(message: impl Into<String>) -> StartError {
        StartError {
            message: message.into(),
            usage: false,
            exit_code: 1,
        }
    }
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StartError {}

/// Runs `graph` until an orderly shutdown. Returns the exit code, or a [`StartError`] before
/// anything was started (supervisord prints most as `Error: ...` and exits 2).
pub fn run(graph: Graph, options: RunOptions, reload: Reload) -> Result<i32, StartError> {
    signals::block()
        .map_err(|error| StartError::crash(format!("could not block signals: {error}")))?;
    ensure_standard_fds();
    spawn::reserve_slots()
        .map_err(|error| StartError::crash(format!("could not open /dev/null: {error}")))?;
    // The parse messages first: supervisord collects them while reading the configuration,
    // before it sets the user and the limits.
    let mut messages = options.startup_messages.clone();
    set_user(&graph, &mut messages)?;
    set_rlimits(&graph, &mut messages)?;
    if options.subreaper {
        // SAFETY: prctl with integer arguments.
        if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
            return Err(StartError::crash(format!(
                "could not become a child subreaper: {}",
                std::io::Error::last_os_error()
            )));
        }
    }

    let main_log = Rc::new(RefCell::new(
        open_main_log(&graph).map_err(StartError::crash)?,
    ));
    write_messages(&main_log, &messages);
    prepare_logs(&graph, &main_log);

    let executor = Rc::new(smol::LocalExecutor::new());
    let mut supervisor = supervisor::Supervisor::new(
        graph,
        options,
        Rc::clone(&main_log),
        Rc::clone(&executor),
        reload,
    );
    let servers = control::bind(supervisor.graph(), &main_log).map_err(StartError::usage)?;
    if !supervisor.graph().supervisord.nodaemon {
        daemonize(supervisor.graph(), &main_log);
    }
    supervisor.announce();
    let signals = signals::Signals::open()
        .map_err(|error| StartError::crash(format!("could not open a signalfd: {error}")))?;
    let in_flight = supervisor.serve(servers);
    release_startup_pages();
    let outcome = smol::block_on(executor.run(supervisor.run(&signals)));
    // Answer the requests still being served (the `shutdown` that ended the loop).
    smol::block_on(executor.run(in_flight.finish(std::time::Duration::from_secs(1))));
    // The pid file of the configuration running last (a reload may have moved it).
    supervisor.remove_pidfile();
    // Dropping the executor drops the servers: their socket files are removed.
    drop(supervisor);
    drop(executor);
    // A failed signalfd read ends the daemon without stopping its children in order.
    Ok(outcome.unwrap_or(1))
}

/// Hands back the pages of code that ran only at startup (the compiler, the command line):
/// the executable's own mappings are paged out (`MADV_PAGEOUT`, Linux 5.4+; a no-op before),
/// and the daemon faults back in the little it runs from then on, page by page
/// (`MADV_RANDOM`). This keeps an idle daemon's RSS to what supervising costs. Pages
/// shared with other processes stay.
fn release_startup_pages() {
    let Ok(executable) = std::fs::read_link("/proc/self/exe") else {
        return;
    };
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    let executable = executable.to_string_lossy();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        let path = fields.nth(3).unwrap_or("");
        if path != executable || perms.contains('w') {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        // SAFETY: advice on a read-only, file-backed mapping of our own executable; its
        // pages are read back from the file when next used. MADV_RANDOM then turns off
        // readahead and fault-around for it: a page of code run later maps that page, not
        // the 64 KiB around it (about a megabyte less for an idle daemon).
        unsafe {
            let start = start as *mut libc::c_void;
            libc::madvise(start, end - start as usize, libc::MADV_PAGEOUT);
            libc::madvise(start, end - start as usize, libc::MADV_RANDOM);
        }
    }
}

/// Opens fds 0, 1 and 2 on /dev/null if they are closed, so pipes never land on them.
fn ensure_standard_fds() {
    for fd in 0..3 {
        // SAFETY: fcntl(F_GETFD) only queries.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            // SAFETY: opening /dev/null; the lowest free fd is the closed one.
            unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        }
    }
}

/// Writes supervisord's parse messages: criticals, then warnings, then infos.
pub(crate) fn write_messages(main_log: &Rc<RefCell<MainLog>>, messages: &[(LogLevel, String)]) {
    for wanted in [LogLevel::Critical, LogLevel::Warn, LogLevel::Info] {
        for (level, message) in messages {
            let bucket = match level {
                LogLevel::Critical | LogLevel::Error => LogLevel::Critical,
                LogLevel::Warn => LogLevel::Warn,
                _ => LogLevel::Info,
            };
            if bucket == wanted {
                main_log.borrow_mut().log(*level, message);
            }
        }
    }
}

/// supervisord's warning when it runs as root without `user=`.
pub(crate) fn root_warning(graph: &Graph) -> Option<(LogLevel, String)> {
    (graph.supervisord.user.is_none() && nix::unistd::Uid::current().is_root()).then(|| {
        (
            LogLevel::Critical,
            "Supervisor is running as root.  Privileges were not dropped because no user is specified in the config file.  If you intend to run as root, you can set user=root in the config file to avoid this message.".to_string(),
        )
    })
}

/// `set_uid_or_exit`.
pub(crate) fn set_user(
    graph: &Graph,
    messages: &mut Vec<(LogLevel, String)>,
) -> Result<(), StartError> {
    use nix::unistd::{Uid, User};
    let Some(user) = &graph.supervisord.user else {
        messages.extend(root_warning(graph));
        return Ok(());
    };
    // `name_to_uid`: a number is a uid (which must exist), anything else a user name.
    let record = match user.parse::<u32>() {
        Ok(uid) => User::from_uid(Uid::from_raw(uid))
            .ok()
            .flatten()
            .ok_or_else(|| StartError::usage(format!("Invalid user id {user}")))?,
        Err(_) => User::from_name(user)
            .ok()
            .flatten()
            .ok_or_else(|| StartError::usage(format!("Invalid user name {user}")))?,
    };
    if Uid::current() != record.uid {
        if !Uid::current().is_root() {
            return Err(StartError::usage("Can't drop privilege as nonroot user"));
        }
        let name = std::ffi::CString::new(record.name.as_bytes())
            .map_err(|_| StartError::usage(format!("Invalid user name {user}")))?;
        nix::unistd::initgroups(&name, record.gid)
            .map_err(|_| StartError::usage("Could not set groups of effective user"))?;
        nix::unistd::setgid(record.gid)
            .map_err(|_| StartError::usage("Could not set group id of effective user"))?;
        nix::unistd::setuid(record.uid)
            .map_err(|error| StartError::crash(format!("Could not set user id: {error}")))?;
    }
    messages.push((
        LogLevel::Info,
        format!("Set uid to user {} succeeded", record.uid),
    ));
    Ok(())
}

/// `set_rlimits_or_exit`: raise RLIMIT_NOFILE to `minfds` and RLIMIT_NPROC to `minprocs`.
fn set_rlimits(graph: &Graph, messages: &mut Vec<(LogLevel, String)>) -> Result<(), StartError> {
    use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit, setrlimit};
    let limits = [
        (
            Resource::RLIMIT_NOFILE,
            "RLIMIT_NOFILE",
            graph.supervisord.minfds,
            "The minimum number of file descriptors required to run this process is {min} as per the \"minfds\" command-line argument or config file setting. The current environment will only allow you to open {hard} file descriptors.  Either raise the number of usable file descriptors in your environment (see README.rst) or lower the minfds setting in the config file to allow the process to start.",
        ),
        (
            Resource::RLIMIT_NPROC,
            "RLIMIT_NPROC",
            graph.supervisord.minprocs,
            "The minimum number of available processes required to run this program is {min} as per the \"minprocs\" command-line argument or config file setting. The current environment will only allow you to open {hard} processes.  Either raise the number of usable processes in your environment (see README.rst) or lower the minprocs setting in the config file to allow the program to start.",
        ),
    ];
    for (resource, name, min, message) in limits {
        let min = u64::try_from(min).unwrap_or(0);
        let (soft, hard) = getrlimit(resource)
            .map_err(|error| StartError::crash(format!("could not read {name}: {error}")))?;
        if soft == RLIM_INFINITY || soft >= min {
            continue;
        }
        let new_hard = if hard != RLIM_INFINITY && hard < min {
            min
        } else {
            hard
        };
        if setrlimit(resource, min, new_hard).is_err() {
            return Err(StartError::usage(
                message
                    .replace("{min}", &min.to_string())
                    .replace("{hard}", &hard.to_string()),
            ));
        }
        messages.push((LogLevel::Info, format!("Increased {name} limit to {min}")));
    }
    Ok(())
}

/// `make_logger`: the main log file (rotated) or syslog, plus stdout in the foreground;
/// `Err` when the log file cannot be opened (supervisord dies with a traceback then: a
/// daemon that cannot log must not start silently).
pub(crate) fn open_main_log(graph: &Graph) -> Result<MainLog, String> {
    let settings = &graph.supervisord;
    let stdout = settings.nodaemon && !settings.silent;
    let target = match &settings.logfile {
        MainLogSetting::Syslog => MainTarget::Syslog,
        MainLogSetting::File(path) => {
            match RotatingFile::open(path, settings.logfile_maxbytes, settings.logfile_backups) {
                Ok(file) => MainTarget::File(file),
                Err(error) => {
                    return Err(format!(
                        "could not open the log file {path}: {error}; make its directory \
                         writable by the user svc runs as, or choose another logfile (-l)"
                    ));
                }
            }
        }
    };
    Ok(MainLog::new(settings.loglevel, target, stdout))
}

/// Before creating processes: delete the AUTO logs of an earlier run (unless `nocleanup`).
pub(crate) fn prepare_logs(graph: &Graph, main_log: &Rc<RefCell<MainLog>>) {
    if !graph.supervisord.nocleanup {
        clear_auto_logs(
            &graph.supervisord.childlogdir,
            &graph.supervisord.identifier,
            &mut main_log.borrow_mut(),
        );
    }
}

/// `write_pidfile`: the pid and the "started" line. The path written, if it was.
pub(crate) fn announce(graph: &Graph, main_log: &Rc<RefCell<MainLog>>) -> Option<String> {
    let pid = std::process::id();
    let path = &graph.supervisord.pidfile;
    match std::fs::write(path, format!("{pid}\n")) {
        Ok(()) => {
            main_log.borrow_mut().log(
                LogLevel::Info,
                &format!("supervisord started with pid {pid}"),
            );
            Some(path.clone())
        }
        Err(_) => {
            main_log.borrow_mut().log(
                LogLevel::Critical,
                &format!("could not write pidfile {path}"),
            );
            None
        }
    }
}

/// supervisord's `daemonize`: fork (the parent exits 0), then in the child: chdir to
/// `directory`, stdio to /dev/null, `setsid`, `umask`.
fn daemonize(graph: &Graph, main_log: &Rc<RefCell<MainLog>>) {
    // SAFETY: no other thread exists yet (the executor has not run), so fork is safe.
    match unsafe { libc::fork() } {
        -1 => {
            main_log.borrow_mut().log(
                LogLevel::Critical,
                &format!(
                    "could not fork to daemonize: {}",
                    std::io::Error::last_os_error()
                ),
            );
            return;
        }
        0 => {}
        // SAFETY: the parent leaves at once without running destructors.
        _ => unsafe { libc::_exit(0) },
    }
    // supervisord's parent logs this before it exits; the child says it for the parent, so
    // that two processes never write (and rotate) the log at once.
    main_log
        .borrow_mut()
        .log(LogLevel::Blather, "supervisord forked; parent exiting");
    main_log
        .borrow_mut()
        .log(LogLevel::Info, "daemonizing the supervisord process");
    if let Some(directory) = &graph.supervisord.directory {
        match std::env::set_current_dir(directory) {
            Ok(()) => main_log.borrow_mut().log(
                LogLevel::Info,
                &format!(
                    "set current directory: {}",
                    svc_schema::python::repr(directory)
                ),
            ),
            Err(error) => main_log.borrow_mut().log(
                LogLevel::Critical,
                &format!(
                    "can't chdir into {}: {error}",
                    svc_schema::python::repr(directory)
                ),
            ),
        }
    }
    // SAFETY: plain system calls on fds 0-2 and our own session.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            for fd in 0..3 {
                libc::dup2(null, fd);
            }
            if null > 2 {
                libc::close(null);
            }
        }
        libc::setsid();
        libc::umask(graph.supervisord.umask as libc::mode_t);
    }
}
