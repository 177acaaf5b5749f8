//! Forking and exec'ing a program as supervisord's `Subprocess.spawn` does.
//!
//! Everything that can fail in the parent is checked before the child is created and becomes
//! a `spawnerr` with supervisord's text (`can't find command '/x'`, `command at '/x' is a
//! directory`, ...). Everything the child needs (argv, envp, the user's ids, the messages it
//! may have to print) is prepared in the parent. The child is created like `posix_spawn`
//! does, with `clone(CLONE_VM | CLONE_VFORK)`: no page tables are copied, which keeps a spawn
//! cheap however large the daemon is; with CLONE_FILES and `CLOSE_RANGE_UNSHARE` the child's
//! fd table is never a copy of the daemon's thousands of pipes and log files either (see
//! [`reserve_slots`]). Between `clone` and `execve` it only makes async-signal-safe system
//! calls and never allocates: its own fd table, new process group, pipes onto 0/1/2,
//! `close_range(3, ~0)`, supplementary groups/gid/uid, `chdir`, `umask`, SIGPIPE ignored (as
//! supervisord's children have it) and an empty signal mask, `execve`. A failure there is written to the child's fd 2
//! (its stderr log) with supervisord's wording and the child exits 127.

use std::ffi::{CString, OsStr, OsString};
use std::fmt::Write as _;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use indexmap::IndexMap;
use nix::errno::Errno;
use nix::unistd::{Gid, Uid, User};

/// What to run.
#[derive(Debug)]
pub struct Request<'a> {
    /// Process name (`SUPERVISOR_PROCESS_NAME`).
    pub name: &'a str,
    /// Group name (`SUPERVISOR_GROUP_NAME`).
    pub group: &'a str,
    /// `command=`.
    pub command: &'a str,
    /// `directory=`.
    pub directory: Option<&'a str>,
    /// `umask=`.
    pub umask: Option<u32>,
    /// `user=` (name or uid).
    pub user: Option<&'a str>,
    /// `environment=` merged over `[supervisord] environment=`.
    pub environment: &'a IndexMap<String, String>,
    /// `SUPERVISOR_SERVER_URL`, if any.
    pub serverurl: Option<&'a str>,
    /// `redirect_stderr=`.
    pub redirect_stderr: bool,
    /// Send SIGKILL to the child when the daemon dies (`PR_SET_PDEATHSIG`).
    pub die_with_parent: bool,
}

/// A running child and the parent's ends of its pipes.
#[derive(Debug)]
pub struct Child {
    /// Its pid (also its process group id).
    pub pid: i32,
    /// Write end of its stdin.
    pub stdin: OwnedFd,
    /// Read end of its stdout.
    pub stdout: OwnedFd,
    /// Read end of its stderr (`None` with `redirect_stderr`).
    pub stderr: Option<OwnedFd>,
}

/// The user to become, resolved in the parent.
#[derive(Debug)]
enum Identity {
    /// Stay who we are.
    Keep,
    /// Drop to these ids.
    Become {
        uid: Uid,
        gid: Gid,
        groups: Vec<Gid>,
    },
    /// The child cannot switch: print this and exit 127.
    Refuse(String),
}

/// supervisord's `drop_privileges`, decided in the parent.
fn identity(user: Option<&str>) -> Result<(Identity, u32), String> {
    let Some(user) = user else {
        return Ok((Identity::Keep, 0));
    };
    let record = match user.parse::<u32>() {
        Ok(uid) => User::from_uid(Uid::from_raw(uid)),
        Err(_) => User::from_name(user),
    };
    let record = match record {
        Ok(Some(record)) => record,
        Ok(None) | Err(_) => return Err(format!("can't find user '{user}'")),
    };
    let uid = record.uid;
    let current = Uid::current();
    if current == uid {
        return Ok((Identity::Keep, uid.as_raw()));
    }
    if !current.is_root() {
        return Ok((
            Identity::Refuse("Can't drop privilege as nonroot user".into()),
            uid.as_raw(),
        ));
    }
    let name = CString::new(record.name.as_bytes()).map_err(|_| "user name contains NUL")?;
    let mut groups = nix::unistd::getgrouplist(&name, record.gid).unwrap_or_default();
    groups.retain(|group| *group != record.gid);
    groups.insert(0, record.gid);
    Ok((
        Identity::Become {
            uid,
            gid: record.gid,
            groups,
        },
        uid.as_raw(),
    ))
}

fn cstring(bytes: &[u8], what: &str) -> Result<CString, String> {
    CString::new(bytes).map_err(|_| format!("{what} contains a NUL byte"))
}

/// Why a command cannot be run (supervisord's `NotFound` and `BadCommand`/`NotExecutable`/
/// `NoPermission`: the RPC faults NO_FILE and NOT_EXECUTABLE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// The program does not exist.
    NotFound(String),
    /// It cannot be parsed or executed.
    NotExecutable(String),
}

impl CommandError {
    /// supervisord's text.
    pub fn message(&self) -> &str {
        match self {
            CommandError::NotFound(text) | CommandError::NotExecutable(text) => text,
        }
    }
}

/// What `execve` will get.
struct Exec {
    filename: String,
    argv: Vec<String>,
    environment: IndexMap<OsString, OsString>,
}

/// supervisord's `get_execv_args` with the child's environment.
fn exec_args(request: &Request<'_>) -> Result<Exec, CommandError> {
    let argv = svc_schema::shlex::split(request.command).map_err(|error| {
        CommandError::NotExecutable(format!(
            "can't parse command '{}': {}",
            request.command,
            error.message()
        ))
    })?;
    let Some(program) = argv.first() else {
        return Err(CommandError::NotExecutable("command is empty".into()));
    };
    let mut environment: IndexMap<OsString, OsString> = std::env::vars_os().collect();
    environment.insert("SUPERVISOR_ENABLED".into(), "1".into());
    if let Some(url) = request.serverurl {
        environment.insert("SUPERVISOR_SERVER_URL".into(), url.into());
    }
    environment.insert("SUPERVISOR_PROCESS_NAME".into(), request.name.into());
    environment.insert("SUPERVISOR_GROUP_NAME".into(), request.group.into());
    for (key, value) in request.environment {
        environment.insert(key.into(), value.into());
    }
    let filename = resolve(program, &environment)?;
    Ok(Exec {
        filename,
        argv,
        environment,
    })
}

/// Checks that the command can be run, as `startProcess` does before spawning.
pub fn check(request: &Request<'_>) -> Result<(), CommandError> {
    exec_args(request).map(|_| ())
}

/// Finds the file to exec: supervisord's `get_execv_args` and `check_execv_args`.
fn resolve(
    program: &str,
    environment: &IndexMap<OsString, OsString>,
) -> Result<String, CommandError> {
    let found = if program.contains('/') {
        std::fs::metadata(program)
            .ok()
            .map(|meta| (program.to_string(), meta))
    } else {
        let path = environment
            .get(OsStr::new("PATH"))
            .map(|path| path.to_string_lossy().into_owned())
            .unwrap_or_else(|| "/bin:/usr/bin:/usr/local/bin".to_string());
        path.split(':').find_map(|dir| {
            let candidate = Path::new(dir).join(program);
            std::fs::metadata(&candidate)
                .ok()
                .map(|meta| (candidate.to_string_lossy().into_owned(), meta))
        })
    };
    let Some((filename, meta)) = found else {
        return Err(CommandError::NotFound(format!(
            "can't find command '{program}'"
        )));
    };
    if meta.is_dir() {
        return Err(CommandError::NotExecutable(format!(
            "command at '{filename}' is a directory"
        )));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(CommandError::NotExecutable(format!(
            "command at '{filename}' is not executable"
        )));
    }
    if nix::unistd::access(filename.as_str(), nix::unistd::AccessFlags::X_OK).is_err() {
        return Err(CommandError::NotExecutable(format!(
            "no permission to run command '{filename}'"
        )));
    }
    Ok(filename)
}

fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|errno| format!("unknown error making dispatchers: {errno:?}"))
}

/// Spawns the program. `Err` is the `spawnerr` (nothing was forked).
pub fn spawn(request: &Request<'_>) -> Result<Child, String> {
    let Exec {
        filename,
        argv,
        environment,
    } = exec_args(request).map_err(|error| error.message().to_string())?;
    let program = &argv[0];
    let (identity, uid) = identity(request.user)?;

    let c_filename = cstring(filename.as_bytes(), "command")?;
    let c_argv = argv
        .iter()
        .map(|arg| cstring(arg.as_bytes(), "command"))
        .collect::<Result<Vec<_>, _>>()?;
    let c_envp = environment
        .iter()
        .map(|(key, value)| {
            let mut entry = key.as_bytes().to_vec();
            entry.push(b'=');
            entry.extend_from_slice(value.as_bytes());
            cstring(&entry, "environment")
        })
        .collect::<Result<Vec<_>, _>>()?;
    let c_directory = request
        .directory
        .map(|dir| cstring(dir.as_bytes(), "directory"))
        .transpose()?;
    let mut argv_ptrs: Vec<*const libc::c_char> = c_argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let mut envp_ptrs: Vec<*const libc::c_char> = c_envp.iter().map(|e| e.as_ptr()).collect();
    envp_ptrs.push(std::ptr::null());

    let plan = ChildPlan {
        filename: &c_filename,
        argv: &argv_ptrs,
        envp: &envp_ptrs,
        directory: c_directory.as_deref(),
        directory_text: request.directory.unwrap_or(""),
        umask: request.umask,
        identity: &identity,
        uid,
        argv0: program,
        die_with_parent: request.die_with_parent,
    };

    let (stdin_read, stdin_write) = pipe()?;
    let (stdout_read, stdout_write) = pipe()?;
    let stderr_pipe = if request.redirect_stderr {
        None
    } else {
        Some(pipe()?)
    };
    let stderr_write_fd = stderr_pipe
        .as_ref()
        .map_or(stdout_write.as_raw_fd(), |(_, write)| write.as_raw_fd());
    let fds = [
        stdin_read.as_raw_fd(),
        stdout_write.as_raw_fd(),
        stderr_write_fd,
    ];
    let slots = slots()?;
    for (slot, fd) in slots.iter().zip(fds) {
        // SAFETY: dup3 onto a slot we own; it replaces the placeholder atomically.
        if unsafe { libc::dup3(fd, *slot, libc::O_CLOEXEC) } < 0 {
            return Err(format!(
                "unknown error making dispatchers for '{}': {:?}",
                request.name,
                Errno::last()
            ));
        }
    }

    let mut start = ChildStart { plan: &plan, slots };
    let pid = CHILD_STACK.with(|stack| {
        let top = stack.top()?;
        // SAFETY: `clone` with CLONE_VM|CLONE_VFORK runs `child_entry` on its own stack in our
        // address space and suspends this thread until the child has exec'd or exited, so
        // `start`, `plan` and the stack outlive it. The child only makes raw system calls on
        // data prepared above (see `child_main`); it leaves the shared fd table (CLONE_FILES)
        // before changing any fd.
        let pid = unsafe {
            libc::clone(
                child_entry,
                top,
                libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_FILES | libc::SIGCHLD,
                (&raw mut start).cast(),
            )
        };
        Ok::<_, String>(pid)
    })?;
    release_slots(slots);
    if pid < 0 {
        let errno = Errno::last();
        return Err(if errno == Errno::EAGAIN {
            format!(
                "Too many processes in process table to spawn '{}'",
                request.name
            )
        } else {
            format!(
                "unknown error during fork for '{}': {errno:?}",
                request.name
            )
        });
    }
    Ok(Child {
        pid,
        stdin: stdin_write,
        stdout: stdout_read,
        stderr: stderr_pipe.map(|(read, _)| read),
    })
}

/// The child's stack: allocated once per thread and reused, because a CLONE_VFORK child
/// gives it back (by exec'ing or exiting) before the next spawn can start. The lowest page
/// is a guard page.
struct ChildStack {
    base: std::cell::Cell<*mut libc::c_void>,
}

const CHILD_STACK_SIZE: usize = 256 * 1024;

impl ChildStack {
    /// The top of the stack (stacks grow down), mapping it on first use.
    fn top(&self) -> Result<*mut libc::c_void, String> {
        if self.base.get().is_null() {
            // SAFETY: a fresh private anonymous mapping; the guard page is in it.
            let base = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    CHILD_STACK_SIZE,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                    -1,
                    0,
                )
            };
            if base == libc::MAP_FAILED {
                return Err(format!(
                    "unknown error making a stack for the child: {:?}",
                    Errno::last()
                ));
            }
            // SAFETY: the first page of our own mapping.
            unsafe { libc::mprotect(base, 4096, libc::PROT_NONE) };
            self.base.set(base);
        }
        // SAFETY: one past the end of the mapping, 16-byte aligned (mmap is page-aligned).
        Ok(unsafe { self.base.get().cast::<u8>().add(CHILD_STACK_SIZE).cast() })
    }
}

thread_local! {
    static CHILD_STACK: ChildStack = const {
        ChildStack {
            base: std::cell::Cell::new(std::ptr::null_mut()),
        }
    };
}

/// What `clone` hands the child.
struct ChildStart<'a> {
    plan: &'a ChildPlan<'a>,
    slots: [RawFd; 3],
}

thread_local! {
    /// Three low fds kept open on /dev/null (see [`reserve_slots`]).
    static SLOTS: std::cell::Cell<Option<[RawFd; 3]>> = const { std::cell::Cell::new(None) };
}

/// Reserves the three fds that carry a child's stdin, stdout and stderr across `clone`.
///
/// A child created with CLONE_FILES shares the daemon's fd table (nothing is copied, however
/// many pipes and log files the daemon holds), then leaves it with
/// `close_range(slot + 1, ~0, CLOSE_RANGE_UNSHARE)`, which gives it a private table holding
/// only the fds below that bound: 0-2 and the slots. Call this early, while the lowest fds
/// are free, so that private table stays small. Idempotent.
pub fn reserve_slots() -> io::Result<()> {
    if SLOTS.get().is_some() {
        return Ok(());
    }
    let mut slots = [0; 3];
    for slot in &mut slots {
        // SAFETY: opening /dev/null; the fd is ours for the daemon's lifetime.
        let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        *slot = fd;
    }
    SLOTS.set(Some(slots));
    Ok(())
}

fn slots() -> Result<[RawFd; 3], String> {
    reserve_slots().map_err(|error| format!("unknown error making dispatchers: {error}"))?;
    SLOTS
        .get()
        .ok_or_else(|| "unknown error making dispatchers: no fd slots".to_string())
}

/// Puts /dev/null back into the slots, dropping the parent's extra reference to the pipes.
fn release_slots(slots: [RawFd; 3]) {
    // SAFETY: /dev/null duplicated onto slots we own.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
        if null >= 0 {
            for slot in slots {
                libc::dup3(null, slot, libc::O_CLOEXEC);
            }
            libc::close(null);
        }
    }
}

/// The child's entry point.
extern "C" fn child_entry(start: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `start` points at the parent's `ChildStart`, alive while the parent is
    // suspended (CLONE_VFORK); this is the cloned child.
    unsafe {
        let start = &*start.cast::<ChildStart<'_>>();
        child_main(start.plan, start.slots)
    }
}

/// Everything the child reads.
struct ChildPlan<'a> {
    filename: &'a CString,
    argv: &'a [*const libc::c_char],
    envp: &'a [*const libc::c_char],
    directory: Option<&'a std::ffi::CStr>,
    directory_text: &'a str,
    umask: Option<u32>,
    identity: &'a Identity,
    uid: u32,
    argv0: &'a str,
    die_with_parent: bool,
}

/// A fixed buffer for the child's messages (no allocation after fork).
struct Message {
    buffer: [u8; 1024],
    len: usize,
}

impl std::fmt::Write for Message {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        let room = self.buffer.len() - self.len;
        let take = text.len().min(room);
        self.buffer[self.len..self.len + take].copy_from_slice(&text.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

/// Writes `supervisor: <message>` and the "not spawned" line to fd 2 and exits 127.
fn child_fail(args: std::fmt::Arguments<'_>) -> ! {
    let mut message = Message {
        buffer: [0; 1024],
        len: 0,
    };
    let _ = message.write_str("supervisor: ");
    let _ = message.write_fmt(args);
    let _ = message.write_str("\nsupervisor: child process was not spawned\n");
    // SAFETY: write(2) and _exit(2) are async-signal-safe.
    unsafe {
        libc::write(2, message.buffer.as_ptr().cast(), message.len);
        libc::_exit(127)
    }
}

/// The child between clone and exec.
///
/// It shares the parent's memory (CLONE_VM), so it writes nothing but its own stack and uses
/// raw system calls for credentials: glibc's `setuid` family would broadcast the change to
/// the parent's threads.
///
/// # Safety
/// Must only be called in a freshly cloned child.
unsafe fn child_main(plan: &ChildPlan<'_>, slots: [RawFd; 3]) -> ! {
    unsafe {
        libc::setpgid(0, 0);
        if plan.die_with_parent {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        }
        // Leave the daemon's fd table: the private copy holds only the fds below the highest
        // slot (stdio and the slots), whatever the daemon has open above them.
        let above = slots.iter().copied().max().unwrap_or(2) as u32 + 1;
        if libc::syscall(
            libc::SYS_close_range,
            above,
            u32::MAX,
            libc::CLOSE_RANGE_UNSHARE,
        ) != 0
            && libc::unshare(libc::CLONE_FILES) != 0
        {
            // Still sharing the daemon's table: touching any fd would change the daemon's.
            libc::_exit(127);
        }
        for (target, slot) in slots.into_iter().enumerate() {
            // dup2 clears FD_CLOEXEC on the target.
            libc::dup2(slot, target as RawFd);
        }
        // Close everything else now (the private table is small; before Linux 5.9 it is a
        // full copy, whose fds are close-on-exec anyway).
        libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
        match plan.identity {
            Identity::Keep => {}
            Identity::Refuse(message) => {
                child_fail(format_args!("couldn't setuid to {}: {message}", plan.uid))
            }
            Identity::Become { uid, gid, groups } => {
                let raw: &[Gid] = groups;
                if libc::syscall(libc::SYS_setgroups, raw.len(), raw.as_ptr()) != 0 {
                    child_fail(format_args!(
                        "couldn't setuid to {}: Could not set groups of effective user",
                        plan.uid
                    ));
                }
                if libc::syscall(libc::SYS_setgid, gid.as_raw()) != 0 {
                    child_fail(format_args!(
                        "couldn't setuid to {}: Could not set group id of effective user",
                        plan.uid
                    ));
                }
                if libc::syscall(libc::SYS_setuid, uid.as_raw()) != 0 {
                    child_fail(format_args!(
                        "couldn't setuid to {}: {:?}",
                        plan.uid,
                        Errno::last()
                    ));
                }
            }
        }
        if let Some(directory) = plan.directory
            && libc::chdir(directory.as_ptr()) != 0
        {
            child_fail(format_args!(
                "couldn't chdir to {}: {:?}",
                plan.directory_text,
                Errno::last()
            ));
        }
        if let Some(umask) = plan.umask {
            libc::umask(umask as libc::mode_t);
        }
        // SIGPIPE ignored, as supervisord's children inherit it from Python (an ignored
        // disposition survives exec), then an empty mask: a stop signal that arrived since
        // the clone is delivered now.
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        libc::execve(
            plan.filename.as_ptr(),
            plan.argv.as_ptr(),
            plan.envp.as_ptr(),
        );
        child_fail(format_args!(
            "couldn't exec {}: {:?}",
            plan.argv0,
            Errno::last()
        ))
    }
}
