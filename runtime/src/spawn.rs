//! Forking and exec'ing a program as supervisord's `Subprocess.spawn` does.
//!
//! Everything that can fail in the parent is checked before the child is created and becomes
//! a `spawnerr` with supervisord's text (`can't find command '/x'`, `command at '/x' is a
//! directory`, ...). Everything the child needs (argv, envp, the user's ids, the messages it
//! may have to print) is prepared in the parent, in a [`Plan`]. The child is created with
//! `clone(CLONE_VM)`: no page tables are copied, which keeps a spawn cheap however large the
//! daemon is; with CLONE_FILES and `CLOSE_RANGE_UNSHARE` the child's fd table is never a copy
//! of the daemon's thousands of pipes and log files either (see [`reserve_slots`]). Between
//! `clone` and `execve` it never allocates and makes raw system calls only: its own fd
//! table, new process group, pipes onto 0/1/2, `close_range(3, ~0)`, supplementary
//! groups/gid/uid, `chdir`, `umask`, SIGPIPE ignored (as supervisord's children have it) and
//! an empty signal mask, `execve`. A failure there is written to the child's fd 2 (its
//! stderr log) with supervisord's wording and the child exits 127.
//!
//! The parent does not wait for the exec (no CLONE_VFORK, unlike `posix_spawn`): a child's
//! exec and dynamic loader take a few hundred microseconds, during which the daemon starts
//! the next ones. What the child reads stays put until the kernel says it is done with our
//! memory (CLONE_CHILD_CLEARTID clears a word at its exec or exit); the fds it takes its
//! pipes from stay put until it says it has its own table. Spawns in a [`Batch`] (autostart)
//! do not even wait for that; a lone spawn returns once its child has its own table, so the
//! daemon never keeps a child's pipe ends. The process group is also set from the parent, so
//! a stop signal to the group right after the spawn finds it; a stop signal sent before the
//! exec waits, blocked, and is delivered just before it.

use std::cell::RefCell;
use std::ffi::{CString, OsStr, OsString};
use std::fmt::Write as _;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

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
struct Exec<'a> {
    filename: String,
    argv: Vec<String>,
    /// The environment in `execve`'s order: the daemon's, then the `SUPERVISOR_*`
    /// variables, then `environment=` (a later value replaces an earlier one in place).
    environment: IndexMap<&'a [u8], &'a [u8]>,
}

/// The daemon's environment as `(name, value)` pairs.
type Environment = Vec<(OsString, OsString)>;

/// supervisord's `get_execv_args` with the child's environment over `base`, the daemon's.
fn exec_args<'a>(request: &Request<'a>, base: &'a Environment) -> Result<Exec<'a>, CommandError> {
    let argv = svc_schema::shlex::split(request.command).map_err(|error| {
        CommandError::NotExecutable(format!(
            "can't parse command {}: {}",
            svc_schema::python::repr(request.command),
            error.message()
        ))
    })?;
    let Some(program) = argv.first() else {
        return Err(CommandError::NotExecutable("command is empty".into()));
    };
    let mut environment: IndexMap<&[u8], &[u8]> =
        IndexMap::with_capacity(base.len() + 4 + request.environment.len());
    for (key, value) in base {
        environment.insert(key.as_bytes(), value.as_bytes());
    }
    environment.insert(b"SUPERVISOR_ENABLED", b"1");
    if let Some(url) = request.serverurl {
        environment.insert(b"SUPERVISOR_SERVER_URL", url.as_bytes());
    }
    environment.insert(b"SUPERVISOR_PROCESS_NAME", request.name.as_bytes());
    environment.insert(b"SUPERVISOR_GROUP_NAME", request.group.as_bytes());
    for (key, value) in request.environment {
        environment.insert(key.as_bytes(), value.as_bytes());
    }
    let filename = resolve(program, environment.get(&b"PATH"[..]).copied())?;
    Ok(Exec {
        filename,
        argv,
        environment,
    })
}

/// Checks that the command can be run, as `startProcess` does before spawning.
pub fn check(request: &Request<'_>) -> Result<(), CommandError> {
    let base = std::env::vars_os().collect();
    exec_args(request, &base).map(|_| ())
}

/// Finds the file to exec: supervisord's `get_execv_args` and `check_execv_args`.
fn resolve(program: &str, path: Option<&[u8]>) -> Result<String, CommandError> {
    let found = if program.contains('/') {
        std::fs::metadata(program)
            .ok()
            .map(|meta| (program.to_string(), meta))
    } else {
        let path = path
            .map(|path| OsStr::from_bytes(path).to_string_lossy().into_owned())
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

/// One of the child's pipes (supervisord makes them in `make_dispatchers`, with its error
/// texts).
fn pipe(name: &str) -> Result<(OwnedFd, OwnedFd), String> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|errno| match errno {
        Errno::EMFILE => format!("too many open files to spawn '{name}'"),
        errno => format!("unknown error making dispatchers for '{name}': {errno:?}"),
    })
}

/// Spawns the program. `Err` is the `spawnerr` (nothing was forked).
///
/// `dispatchers` runs once the command has been found (supervisord's `get_execv_args`) and
/// before anything is created for the child, where supervisord's `make_dispatchers` opens
/// the log files: its error is the spawn's.
///
/// Returns once the child exists; it may still be on its way to `execve` (see the module
/// documentation). Outside a [`Batch`], it returns once the child has left the daemon's fd
/// table.
pub fn spawn(
    request: &Request<'_>,
    dispatchers: impl FnOnce() -> Result<(), String>,
) -> Result<Child, String> {
    let base = LAUNCHER.with(|launcher| launcher.borrow_mut().environment());
    let Exec {
        filename,
        argv,
        environment,
    } = exec_args(request, &base).map_err(|error| error.message().to_string())?;
    dispatchers()?;
    let (identity, uid) = identity(request.user)?;

    let filename = cstring(filename.as_bytes(), "command")?;
    let argv_c = argv
        .iter()
        .map(|arg| cstring(arg.as_bytes(), "command"))
        .collect::<Result<Vec<_>, _>>()?;
    let envp_block = environment_block(&environment)?;
    drop(environment);
    let directory = request
        .directory
        .map(|dir| cstring(dir.as_bytes(), "directory"))
        .transpose()?;
    let argv_ptrs = null_terminated(&argv_c);
    let envp_ptrs = block_pointers(&envp_block);
    let argv0 = argv.into_iter().next().unwrap_or_default();

    let (stdin_read, stdin_write) = pipe(request.name)?;
    let (stdout_read, stdout_write) = pipe(request.name)?;
    let stderr_pipe = if request.redirect_stderr {
        None
    } else {
        Some(pipe(request.name)?)
    };
    let stderr_write_fd = stderr_pipe
        .as_ref()
        .map_or(stdout_write.as_raw_fd(), |(_, write)| write.as_raw_fd());
    let fds = [
        stdin_read.as_raw_fd(),
        stdout_write.as_raw_fd(),
        stderr_write_fd,
    ];

    let pid = LAUNCHER.with(|launcher| {
        let mut launcher = launcher.borrow_mut();
        launcher.reclaim();
        let slot = launcher.take_slot()?;
        let slots = launcher.slots[slot].fds;
        for (slot_fd, fd) in slots.iter().zip(fds) {
            // SAFETY: dup3 onto a slot we own; it replaces what it held atomically.
            if unsafe { libc::dup3(fd, *slot_fd, libc::O_CLOEXEC) } < 0 {
                let errno = Errno::last();
                launcher.park(slot);
                return Err(format!(
                    "unknown error making dispatchers for '{}': {errno:?}",
                    request.name
                ));
            }
        }
        let stack = match launcher.stacks.pop() {
            Some(stack) => stack,
            None => match Stack::new() {
                Ok(stack) => stack,
                Err(error) => {
                    launcher.park(slot);
                    return Err(error);
                }
            },
        };
        let plan = std::ptr::NonNull::from(Box::leak(Box::new(Plan {
            on_our_memory: AtomicU32::new(1),
            on_our_fds: AtomicU32::new(1),
            filename,
            argv_ptrs,
            envp_ptrs,
            directory,
            directory_text: request.directory.unwrap_or("").to_string(),
            umask: request.umask,
            identity,
            uid,
            argv0,
            die_with_parent: request.die_with_parent,
            // SAFETY: getpid has no preconditions.
            parent: unsafe { libc::getpid() },
            slots,
            _strings: (argv_c, envp_block),
        })));
        // SAFETY: `plan` is live (freed only through `Shared`).
        let memory_word = unsafe { plan.as_ref() }.on_our_memory.as_ptr();
        // SAFETY: the child runs `child_entry` on `stack` in our address space. `plan` and
        // `stack` are kept in `in_flight` until the kernel has cleared `on_our_memory` (the
        // child has exec'd or exited: CLONE_CHILD_CLEARTID), or the child is known to be
        // dead; the slots are not touched until it has cleared `on_our_fds`. The child only
        // reads `plan`, writes its own stack and the two flags, and makes raw system calls
        // (see `child_main`).
        let pid = unsafe {
            libc::clone(
                child_entry,
                stack.top(),
                CLONE_FLAGS | libc::CLONE_CHILD_CLEARTID,
                plan.as_ptr().cast(),
                std::ptr::null_mut::<libc::pid_t>(),
                std::ptr::null_mut::<libc::c_void>(),
                memory_word,
            )
        };
        if pid < 0 {
            let errno = Errno::last();
            // SAFETY: no child was created: the plan is ours alone.
            drop(unsafe { Box::from_raw(plan.as_ptr()) });
            launcher.park(slot);
            launcher.stacks.push(stack);
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
        // Also from this side, so that a signal to the group cannot find it missing before
        // the child has run (EACCES once it has exec'd, which means it did it itself).
        // SAFETY: setpgid on our own child.
        unsafe { libc::setpgid(pid, pid) };
        launcher.slots[slot].lent = true;
        launcher.in_flight.push(InFlight {
            plan: Shared(plan),
            stack,
            pid,
            slot: Some(slot),
        });
        if launcher.batch == 0 {
            launcher.settle();
        }
        Ok(pid)
    })?;
    Ok(Child {
        pid,
        stdin: stdin_write,
        stdout: stdout_read,
        stderr: stderr_pipe.map(|(read, _)| read),
    })
}

/// `NAME=VALUE\0` entries back to back, for `execve` (`Err` if one would hold a NUL).
fn environment_block(environment: &IndexMap<&[u8], &[u8]>) -> Result<Vec<u8>, String> {
    let size = environment
        .iter()
        .map(|(key, value)| key.len() + value.len() + 2)
        .sum();
    let mut block = Vec::with_capacity(size);
    for (key, value) in environment {
        if key.contains(&0) || value.contains(&0) {
            return Err("environment contains a NUL byte".into());
        }
        block.extend_from_slice(key);
        block.push(b'=');
        block.extend_from_slice(value);
        block.push(0);
    }
    Ok(block)
}

/// Pointers to the entries of an [`environment_block`], null-terminated.
fn block_pointers(block: &[u8]) -> Vec<*const libc::c_char> {
    let mut pointers = Vec::with_capacity(block.len() / 16 + 1);
    let mut start = 0;
    for (index, byte) in block.iter().enumerate() {
        if *byte == 0 {
            pointers.push(block[start..].as_ptr().cast());
            start = index + 1;
        }
    }
    pointers.push(std::ptr::null());
    pointers
}

fn null_terminated(strings: &[CString]) -> Vec<*const libc::c_char> {
    let mut pointers = Vec::with_capacity(strings.len() + 1);
    pointers.extend(strings.iter().map(|string| string.as_ptr()));
    pointers.push(std::ptr::null());
    pointers
}

/// Where the children run between `clone` and `execve`.
///
/// On x86_64 and aarch64 the child makes its system calls without libc (it shares the
/// calling thread's TLS, and with it `errno`), so the parent need not wait for its exec.
/// Elsewhere it uses libc's wrappers and the parent waits (CLONE_VFORK), as posix_spawn does.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const CLONE_FLAGS: libc::c_int = libc::CLONE_VM | libc::CLONE_FILES | libc::SIGCHLD;
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const CLONE_FLAGS: libc::c_int =
    libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_FILES | libc::SIGCHLD;

/// Triplets of fds reserved for carrying children's stdin, stdout and stderr across `clone`.
const SLOT_TRIPLETS: usize = 16;
/// Children allowed on their way to `execve` at once before a spawn waits for the oldest.
const MAX_IN_FLIGHT: usize = 32;
/// Child stacks kept for reuse (only the pages a child touched are resident: a few KiB
/// each).
const SPARE_STACKS: usize = MAX_IN_FLIGHT;
/// How long a spawn waits for children to leave the fd table (they may not be scheduled
/// yet on a busy machine) before reserving another triplet, or leaving them be.
const SLOT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(1);
/// How long a spawn waits for a child to leave the fd table before looking again (a child
/// killed before its first system call never clears the flag; the kernel clears the other).
const FLAG_WAIT: std::time::Duration = std::time::Duration::from_millis(10);

/// Everything the child reads, and the two words it (or the kernel for it) writes. It does
/// not move or change while the child may read it (it is boxed and only read through `&`).
struct Plan {
    /// Nonzero while the child may run on our memory: the kernel writes 0 when it exec's or
    /// exits (CLONE_CHILD_CLEARTID) and wakes futex waiters.
    on_our_memory: AtomicU32,
    /// Nonzero while the child may still read the slots in the shared fd table: it writes 0
    /// once it has a table of its own, and wakes futex waiters.
    on_our_fds: AtomicU32,
    filename: CString,
    argv_ptrs: Vec<*const libc::c_char>,
    envp_ptrs: Vec<*const libc::c_char>,
    directory: Option<CString>,
    directory_text: String,
    umask: Option<u32>,
    identity: Identity,
    uid: u32,
    argv0: String,
    die_with_parent: bool,
    /// Our pid: a child whose parent has already died does not wait for PR_SET_PDEATHSIG.
    parent: libc::pid_t,
    slots: [RawFd; 3],
    /// What `argv_ptrs` and `envp_ptrs` point into.
    _strings: (Vec<CString>, Vec<u8>),
}

/// A child that may still use our memory or our fd slots.
struct InFlight {
    plan: Shared,
    stack: Stack,
    pid: libc::pid_t,
    /// The slot triplet it borrowed, until it has left the fd table.
    slot: Option<usize>,
}

impl InFlight {
    fn plan(&self) -> &Plan {
        // SAFETY: live until `Shared` is dropped; only ever shared.
        unsafe { self.plan.0.as_ref() }
    }

    /// The child no longer reads the slots.
    fn off_our_fds(&self) -> bool {
        self.plan().on_our_fds.load(Ordering::Acquire) == 0 || self.off_our_memory()
    }

    /// The kernel says the child no longer runs on our memory (it exec'd or exited). It
    /// leaves the word alone when the child dumps core before exec'ing: see `dead`.
    fn off_our_memory(&self) -> bool {
        self.plan().on_our_memory.load(Ordering::Acquire) == 0
    }

    /// The child is dead or reaped (`waitid` with WNOWAIT leaves its status to the reaper).
    /// A pid reused since belongs to a later child, which is only possible once this one
    /// was reaped.
    fn dead(&self) -> bool {
        // SAFETY: waitid on a zeroed siginfo_t; WNOWAIT leaves the child unreaped.
        unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let result = libc::waitid(
                libc::P_PID,
                self.pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            );
            if result != 0 {
                return Errno::last() == Errno::ECHILD;
            }
            info.si_pid() != 0
        }
    }
}

/// A child's plan: owned (a leaked `Box`), but never moved or reached through `&mut`, as the
/// child may read it.
struct Shared(std::ptr::NonNull<Plan>);

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: dropped once the child no longer reads the plan (see `Launcher::reclaim`);
        // it came from `Box::leak`.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

/// A triplet of low fds parked on /dev/null, lent to one child at a time.
struct Slot {
    fds: [RawFd; 3],
    /// A child may still read it.
    lent: bool,
    /// It holds a child's pipe ends (to be parked back on /dev/null).
    dirty: bool,
}

/// The spawning state of a thread (one in the daemon).
struct Launcher {
    slots: Vec<Slot>,
    /// /dev/null, to park slots on.
    null: RawFd,
    in_flight: Vec<InFlight>,
    stacks: Vec<Stack>,
    /// Open [`Batch`]es.
    batch: usize,
    /// The daemon's environment, read once per batch.
    environment: Option<std::rc::Rc<Environment>>,
}

thread_local! {
    static LAUNCHER: RefCell<Launcher> = const {
        RefCell::new(Launcher {
            slots: Vec::new(),
            null: -1,
            in_flight: Vec::new(),
            stacks: Vec::new(),
            batch: 0,
            environment: None,
        })
    };
}

impl Launcher {
    /// The daemon's environment: read for each spawn, or once in a batch (nothing else runs
    /// during one).
    fn environment(&mut self) -> std::rc::Rc<Environment> {
        if let Some(environment) = &self.environment {
            return std::rc::Rc::clone(environment);
        }
        let environment = std::rc::Rc::new(std::env::vars_os().collect::<Environment>());
        if self.batch > 0 {
            self.environment = Some(std::rc::Rc::clone(&environment));
        }
        environment
    }

    fn reserve(&mut self) -> io::Result<()> {
        if !self.slots.is_empty() {
            return Ok(());
        }
        if self.null < 0 {
            self.null = open_null()?;
        }
        for _ in 0..SLOT_TRIPLETS {
            self.grow()?;
        }
        Ok(())
    }

    fn grow(&mut self) -> io::Result<usize> {
        use std::os::fd::{FromRawFd, IntoRawFd};
        let open = || {
            // SAFETY: a fresh fd of ours.
            open_null().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
        };
        let fds = [open()?, open()?, open()?];
        self.slots.push(Slot {
            fds: fds.map(IntoRawFd::into_raw_fd),
            lent: false,
            dirty: false,
        });
        Ok(self.slots.len() - 1)
    }

    /// A free slot triplet: one whose child has left the fd table, after waiting for the
    /// oldest (briefly) if none has.
    fn take_slot(&mut self) -> Result<usize, String> {
        self.reserve()
            .map_err(|error| format!("unknown error making dispatchers: {error}"))?;
        let deadline = std::time::Instant::now() + SLOT_PATIENCE;
        loop {
            if let Some(free) = self.slots.iter().position(|slot| !slot.lent) {
                return Ok(free);
            }
            self.release_slots();
            if let Some(free) = self.slots.iter().position(|slot| !slot.lent) {
                return Ok(free);
            }
            let Some(oldest) = self.in_flight.iter().find(|child| child.slot.is_some()) else {
                break;
            };
            if !wait_flag(&oldest.plan().on_our_fds, FLAG_WAIT)
                && std::time::Instant::now() >= deadline
            {
                // Children stopped before their first system call, perhaps: a new triplet
                // (above the daemon's other fds, so its children copy a larger table).
                break;
            }
        }
        self.grow()
            .map_err(|error| format!("unknown error making dispatchers: {error}"))
    }

    /// Marks the slots of children that have left the fd table free (still dirty).
    fn release_slots(&mut self) {
        for child in &mut self.in_flight {
            if let Some(slot) = child.slot
                && child.off_our_fds()
            {
                child.slot = None;
                self.slots[slot].lent = false;
                self.slots[slot].dirty = true;
            }
        }
    }

    /// Parks a slot on /dev/null, dropping our references to a child's pipe ends.
    fn park(&mut self, slot: usize) {
        for fd in self.slots[slot].fds {
            // SAFETY: dup3 of our /dev/null onto a slot we own.
            unsafe { libc::dup3(self.null, fd, libc::O_CLOEXEC) };
        }
        self.slots[slot].lent = false;
        self.slots[slot].dirty = false;
    }

    /// Forgets children that no longer use our memory, keeping their stacks for reuse.
    /// With too many still on their way to `execve`, waits (briefly) for the oldest.
    fn reclaim(&mut self) {
        self.release_slots();
        let mut index = 0;
        while index < self.in_flight.len() {
            let child = &self.in_flight[index];
            if child.off_our_memory() && child.slot.is_none() {
                self.forget(index);
            } else {
                index += 1;
            }
        }
        while self.in_flight.len() >= MAX_IN_FLIGHT {
            let oldest = &self.in_flight[0];
            // The kernel leaves the word alone when a child dumps core before exec'ing:
            // then its death says it.
            if !wait_flag(&oldest.plan().on_our_memory, FLAG_WAIT) && !oldest.dead() {
                // Stopped on its way, perhaps: wait on another one next time.
                self.in_flight.rotate_left(1);
                break;
            }
            self.release_slots();
            if self.in_flight[0].slot.is_some() {
                break;
            }
            self.forget(0);
        }
    }

    fn forget(&mut self, index: usize) {
        let child = self.in_flight.remove(index);
        if self.stacks.len() < SPARE_STACKS {
            self.stacks.push(child.stack);
        }
    }

    /// Waits until every child has left the fd table and parks the slots: the daemon holds
    /// no child's pipe ends any more. (A child stopped before its first system call, or
    /// not scheduled for `SLOT_PATIENCE`, keeps its triplet until a later spawn.)
    fn settle(&mut self) {
        let deadline = std::time::Instant::now() + SLOT_PATIENCE;
        for child in &self.in_flight {
            while child.slot.is_some()
                && !child.off_our_fds()
                && std::time::Instant::now() < deadline
            {
                wait_flag(&child.plan().on_our_fds, FLAG_WAIT);
            }
        }
        self.release_slots();
        for slot in 0..self.slots.len() {
            if self.slots[slot].dirty {
                self.park(slot);
            }
        }
    }
}

impl Drop for Launcher {
    /// Children may still read their plans and run on their stacks: leave them be.
    fn drop(&mut self) {
        std::mem::forget(std::mem::take(&mut self.in_flight));
    }
}

/// Waits (futex) until `flag` is 0, at most `timeout`. True if it is 0.
fn wait_flag(flag: &AtomicU32, timeout: std::time::Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let value = flag.load(Ordering::Acquire);
        if value == 0 {
            return true;
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return false;
        }
        let timespec = libc::timespec {
            tv_sec: left.as_secs() as libc::time_t,
            tv_nsec: left.subsec_nanos() as libc::c_long,
        };
        // SAFETY: FUTEX_WAIT on a live word of ours. Not FUTEX_PRIVATE: the kernel's
        // CLONE_CHILD_CLEARTID wake-up is a shared one.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                flag.as_ptr(),
                libc::FUTEX_WAIT,
                value,
                &timespec,
            )
        };
    }
}

fn open_null() -> io::Result<RawFd> {
    // SAFETY: opening /dev/null; the fd is ours for the daemon's lifetime.
    let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// Reserves the fds that carry children's stdin, stdout and stderr across `clone`.
///
/// A child created with CLONE_FILES shares the daemon's fd table (nothing is copied, however
/// many pipes and log files the daemon holds), then leaves it with
/// `close_range(slot + 1, ~0, CLOSE_RANGE_UNSHARE)`, which gives it a private table holding
/// only the fds below that bound: 0-2 and the slots. Call this early, while the lowest fds
/// are free, so that private table stays small. Idempotent.
pub fn reserve_slots() -> io::Result<()> {
    LAUNCHER.with(|launcher| launcher.borrow_mut().reserve())
}

/// Spawns that follow one another without the loop running in between (autostart).
///
/// Inside a batch, a spawn does not wait for its child to leave the daemon's fd table: the
/// slot triplets are reused as the children free them, and parked on /dev/null when the
/// last `Batch` is dropped, so the daemon never keeps a child's pipe ends once the loop
/// runs again.
pub struct Batch {
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Opens a [`Batch`].
pub fn batch() -> Batch {
    LAUNCHER.with(|launcher| launcher.borrow_mut().batch += 1);
    Batch {
        _not_send: std::marker::PhantomData,
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        LAUNCHER.with(|launcher| {
            let mut launcher = launcher.borrow_mut();
            launcher.batch -= 1;
            if launcher.batch == 0 {
                launcher.environment = None;
                launcher.settle();
            }
        });
    }
}

/// A child's stack: 256 KiB with a guard page at the bottom, reused once its child has
/// exec'd.
struct Stack {
    base: std::ptr::NonNull<libc::c_void>,
}

const CHILD_STACK_SIZE: usize = 256 * 1024;

impl Stack {
    fn new() -> Result<Stack, String> {
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
        let Some(base) = std::ptr::NonNull::new(base).filter(|_| base != libc::MAP_FAILED) else {
            return Err(format!(
                "unknown error making a stack for the child: {:?}",
                Errno::last()
            ));
        };
        // SAFETY: the first page of our own mapping.
        unsafe { libc::mprotect(base.as_ptr(), 4096, libc::PROT_NONE) };
        Ok(Stack { base })
    }

    /// The top of the stack (stacks grow down), 16-byte aligned (mmap is page-aligned).
    fn top(&self) -> *mut libc::c_void {
        // SAFETY: one past the end of the mapping.
        unsafe { self.base.as_ptr().cast::<u8>().add(CHILD_STACK_SIZE).cast() }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: our own mapping; no child uses it any more (see `Launcher::reclaim`).
        unsafe { libc::munmap(self.base.as_ptr(), CHILD_STACK_SIZE) };
    }
}

/// The child's entry point.
extern "C" fn child_entry(plan: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `plan` points at a `Plan` the parent keeps alive and unchanged until the
    // kernel clears `on_our_memory`; this is the cloned child.
    unsafe { child_main(&*plan.cast::<Plan>()) }
}

/// A system call made without libc: the child shares the calling thread's TLS, so libc's
/// wrappers would write the parent's `errno` under it. Returns `-errno` on failure.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn sys(number: libc::c_long, args: [usize; 6]) -> isize {
    let result: isize;
    // SAFETY: the x86_64 Linux system call convention; the caller vouches for the call.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") number as isize => result,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            in("r10") args[3],
            in("r8") args[4],
            in("r9") args[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags),
        );
    }
    result
}

/// See the x86_64 version.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
unsafe fn sys(number: libc::c_long, args: [usize; 6]) -> isize {
    let result: isize;
    // SAFETY: the aarch64 Linux system call convention; the caller vouches for the call.
    unsafe {
        std::arch::asm!(
            "svc 0",
            in("x8") number,
            inlateout("x0") args[0] as isize => result,
            in("x1") args[1],
            in("x2") args[2],
            in("x3") args[3],
            in("x4") args[4],
            in("x5") args[5],
            options(nostack, preserves_flags),
        );
    }
    result
}

/// Elsewhere: libc's wrapper, which is safe there because the parent waits (CLONE_VFORK).
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
unsafe fn sys(number: libc::c_long, args: [usize; 6]) -> isize {
    // SAFETY: the caller vouches for the call.
    let result =
        unsafe { libc::syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]) };
    if result < 0 {
        -(Errno::last() as isize)
    } else {
        result as isize
    }
}

/// The `Errno` of a failed [`sys`] result.
fn errno(result: isize) -> Errno {
    Errno::from_raw((-result) as i32)
}

/// Ends the child (never returns to the parent's code).
fn child_exit(code: i32) -> ! {
    loop {
        // SAFETY: exit_group ends this process only (it is not in our thread group).
        unsafe { sys(libc::SYS_exit_group, [code as usize, 0, 0, 0, 0, 0]) };
    }
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
    // SAFETY: write(2) from our own stack buffer.
    unsafe {
        sys(
            libc::SYS_write,
            [2, message.buffer.as_ptr() as usize, message.len, 0, 0, 0],
        )
    };
    child_exit(127)
}

/// Clears a flag the parent may be waiting on and wakes it.
///
/// # Safety
/// `flag` must be a live word of the parent's.
unsafe fn child_clear(flag: &AtomicU32) {
    flag.store(0, Ordering::Release);
    // SAFETY: FUTEX_WAKE on the parent's word (shared, as `wait_flag` waits).
    unsafe {
        sys(
            libc::SYS_futex,
            [
                flag.as_ptr() as usize,
                libc::FUTEX_WAKE as usize,
                1,
                0,
                0,
                0,
            ],
        )
    };
}

/// The child between clone and exec.
///
/// It shares the parent's memory (CLONE_VM) while the parent goes on, so it reads only
/// `plan`, writes nothing but its own stack and `plan`'s two flags, never allocates, and
/// makes its system calls through [`sys`]: no libc wrapper (they write the TLS `errno`, the
/// parent thread's), and none of glibc's `setuid` family (which would broadcast the change
/// to the parent's threads).
///
/// # Safety
/// Must only be called in a freshly cloned child.
unsafe fn child_main(plan: &Plan) -> ! {
    // SAFETY (the whole function): raw system calls on data the parent keeps alive and
    // unchanged (see `spawn`), or on our own stack.
    unsafe {
        // Leave the daemon's fd table first, freeing the slots: the private copy holds only
        // the fds below the highest slot (stdio and the slots), whatever the daemon has
        // open above them.
        let above = plan.slots.iter().copied().max().unwrap_or(2) as usize + 1;
        let unshared = sys(
            libc::SYS_close_range,
            [
                above,
                u32::MAX as usize,
                libc::CLOSE_RANGE_UNSHARE as usize,
                0,
                0,
                0,
            ],
        ) == 0
            || sys(
                libc::SYS_unshare,
                [libc::CLONE_FILES as usize, 0, 0, 0, 0, 0],
            ) == 0;
        child_clear(&plan.on_our_fds);
        if !unshared {
            // Still sharing the daemon's table: touching any fd would change the daemon's.
            child_exit(127);
        }
        sys(libc::SYS_setpgid, [0, 0, 0, 0, 0, 0]);
        if plan.die_with_parent {
            sys(
                libc::SYS_prctl,
                [
                    libc::PR_SET_PDEATHSIG as usize,
                    libc::SIGKILL as usize,
                    0,
                    0,
                    0,
                    0,
                ],
            );
            // The daemon died before the request: there is no one to wait for.
            if sys(libc::SYS_getppid, [0; 6]) != plan.parent as isize {
                child_exit(127);
            }
        }
        for (target, slot) in plan.slots.into_iter().enumerate() {
            // dup3 without flags clears FD_CLOEXEC on the target.
            sys(libc::SYS_dup3, [slot as usize, target, 0, 0, 0, 0]);
        }
        // Close everything else now (the private table is small; before Linux 5.9 it is a
        // full copy, whose fds are close-on-exec anyway).
        sys(libc::SYS_close_range, [3, u32::MAX as usize, 0, 0, 0, 0]);
        match &plan.identity {
            Identity::Keep => {}
            Identity::Refuse(message) => {
                child_fail(format_args!("couldn't setuid to {}: {message}", plan.uid))
            }
            Identity::Become { uid, gid, groups } => {
                let raw: &[Gid] = groups;
                if sys(
                    libc::SYS_setgroups,
                    [raw.len(), raw.as_ptr() as usize, 0, 0, 0, 0],
                ) != 0
                {
                    child_fail(format_args!(
                        "couldn't setuid to {}: Could not set groups of effective user",
                        plan.uid
                    ));
                }
                if sys(libc::SYS_setgid, [gid.as_raw() as usize, 0, 0, 0, 0, 0]) != 0 {
                    child_fail(format_args!(
                        "couldn't setuid to {}: Could not set group id of effective user",
                        plan.uid
                    ));
                }
                let result = sys(libc::SYS_setuid, [uid.as_raw() as usize, 0, 0, 0, 0, 0]);
                if result != 0 {
                    child_fail(format_args!(
                        "couldn't setuid to {}: {:?}",
                        plan.uid,
                        errno(result)
                    ));
                }
            }
        }
        if let Some(directory) = &plan.directory {
            let result = sys(
                libc::SYS_chdir,
                [directory.as_ptr() as usize, 0, 0, 0, 0, 0],
            );
            if result != 0 {
                child_fail(format_args!(
                    "couldn't chdir to {}: {:?}",
                    plan.directory_text,
                    errno(result)
                ));
            }
        }
        if let Some(umask) = plan.umask {
            sys(libc::SYS_umask, [umask as usize, 0, 0, 0, 0, 0]);
        }
        // SIGPIPE ignored, as supervisord's children inherit it from Python (an ignored
        // disposition survives exec), then an empty mask: a stop signal that arrived since
        // the clone is delivered now.
        let ignore = KernelSigaction {
            handler: libc::SIG_IGN,
            flags: 0,
            restorer: 0,
            mask: 0,
        };
        sys(
            libc::SYS_rt_sigaction,
            [
                libc::SIGPIPE as usize,
                (&raw const ignore) as usize,
                0,
                8,
                0,
                0,
            ],
        );
        let empty: u64 = 0;
        sys(
            libc::SYS_rt_sigprocmask,
            [
                libc::SIG_SETMASK as usize,
                (&raw const empty) as usize,
                0,
                8,
                0,
                0,
            ],
        );
        let result = sys(
            libc::SYS_execve,
            [
                plan.filename.as_ptr() as usize,
                plan.argv_ptrs.as_ptr() as usize,
                plan.envp_ptrs.as_ptr() as usize,
                0,
                0,
                0,
            ],
        );
        child_fail(format_args!(
            "couldn't exec {}: {:?}",
            plan.argv0,
            errno(result)
        ))
    }
}

/// The kernel's `struct sigaction` for `rt_sigaction` (x86_64 and aarch64 layout; the mask
/// is the kernel's 64-bit one).
#[repr(C)]
struct KernelSigaction {
    handler: libc::sighandler_t,
    flags: libc::c_ulong,
    restorer: usize,
    mask: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn slot_targets() -> Vec<String> {
        LAUNCHER.with(|launcher| {
            let launcher = launcher.borrow();
            launcher
                .slots
                .iter()
                .flat_map(|slot| slot.fds)
                .map(|fd| {
                    std::fs::read_link(format!("/proc/self/fd/{fd}"))
                        .map(|target| target.display().to_string())
                        .unwrap_or_default()
                })
                .collect()
        })
    }

    #[test]
    fn a_batch_of_spawns_leaves_the_daemon_no_pipe_end_and_every_child_runs() {
        reserve_slots().expect("reserve the slots");
        let environment = IndexMap::from([("GREETING".to_string(), "hi".to_string())]);
        let request = Request {
            name: "t",
            group: "t",
            command: "/bin/sh -c 'echo $GREETING $SUPERVISOR_PROCESS_NAME'",
            directory: None,
            umask: None,
            user: None,
            environment: &environment,
            serverurl: None,
            redirect_stderr: true,
            die_with_parent: false,
        };
        // More than the slot triplets and the children allowed on their way to exec.
        let count = SLOT_TRIPLETS.max(MAX_IN_FLIGHT) + 8;
        let children: Vec<Child> = {
            let _batch = batch();
            (0..count)
                .map(|_| spawn(&request, || Ok(())).expect("spawn"))
                .collect()
        };
        // Every slot is back on /dev/null: the children's pipes have no writer but them.
        assert!(
            slot_targets().iter().all(|target| target == "/dev/null"),
            "{:?}",
            slot_targets()
        );
        for child in children {
            let mut output = String::new();
            std::fs::File::from(child.stdout)
                .read_to_string(&mut output)
                .expect("read the child's output");
            assert_eq!(output, "hi t\n");
            let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(child.pid), None);
            assert_eq!(
                status,
                Ok(nix::sys::wait::WaitStatus::Exited(
                    nix::unistd::Pid::from_raw(child.pid),
                    0
                ))
            );
        }
    }

    #[test]
    fn a_spawn_outside_a_batch_returns_with_the_slots_parked() {
        reserve_slots().expect("reserve the slots");
        let environment = IndexMap::new();
        let request = Request {
            name: "u",
            group: "u",
            command: "/bin/sh -c 'exit 3'",
            directory: None,
            umask: None,
            user: None,
            environment: &environment,
            serverurl: None,
            redirect_stderr: false,
            die_with_parent: false,
        };
        let child = spawn(&request, || Ok(())).expect("spawn");
        assert!(slot_targets().iter().all(|target| target == "/dev/null"));
        let mut output = Vec::new();
        std::fs::File::from(child.stdout)
            .read_to_end(&mut output)
            .expect("read stdout to its end");
        let pid = nix::unistd::Pid::from_raw(child.pid);
        assert_eq!(
            nix::sys::wait::waitpid(pid, None),
            Ok(nix::sys::wait::WaitStatus::Exited(pid, 3))
        );
    }
}
