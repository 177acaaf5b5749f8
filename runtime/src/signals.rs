//! The daemon's signals, read from a signalfd — no signal handlers at all.
//!
//! The signals svc acts on (TERM, INT, QUIT, HUP, USR2, CHLD) are blocked in every thread
//! before any thread exists ([`block`] is the first thing `run` does) and read as data from a
//! signalfd in the supervisor loop. Having no handlers closes supervisord's fork/exec race: a
//! child inherits the blocked mask, not a handler, so a stop signal sent between fork and
//! exec stays pending until the child unblocks it right before `execve`, and then kills it
//! (the default action) instead of being swallowed by a copy of the daemon's handler.

use std::io;
use std::os::fd::{AsRawFd, RawFd};

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use smol::Async;

/// supervisord's `signame`: `SIGTERM`, or `signal 42` for a number without a name.
pub fn signal_name(signal: i32) -> String {
    match Signal::try_from(signal) {
        Ok(known) => known.as_str().to_string(),
        Err(_) => format!("signal {signal}"),
    }
}

/// The signals the daemon handles.
fn handled() -> SigSet {
    let mut set = SigSet::empty();
    for signal in [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGHUP,
        Signal::SIGUSR2,
        // supervisord has no handler for it and dies, leaving its children behind; svc
        // logs it at blather and goes on (README, the table of differences).
        Signal::SIGUSR1,
        Signal::SIGCHLD,
    ] {
        set.add(signal);
    }
    set
}

/// Blocks the handled signals in the calling thread (and every thread it creates later),
/// then sets their dispositions as supervisord's are once it has installed its handlers:
/// whatever svc inherited (a shell's `svc run &` ignores INT and QUIT; an ignored SIGCHLD
/// makes the kernel reap children itself, and an ignored signal is discarded even while
/// blocked, so the signalfd would never see it), the handled signals are at their default
/// action, which children inherit too; SIGXFSZ is ignored, as Python ignores it (a log
/// write past RLIMIT_FSIZE fails with EFBIG instead of killing the daemon).
pub fn block() -> io::Result<()> {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, sigaction};
    handled().thread_block().map_err(io::Error::from)?;
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    for signal in handled().iter() {
        // supervisord has no handler for SIGUSR1 and leaves an inherited SIG_IGN alone
        // (its children inherit it); svc does too, and then never sees the signal.
        if signal == Signal::SIGUSR1 && ignored(signal) {
            continue;
        }
        // SAFETY: no handler is installed; the default action of a blocked signal.
        unsafe { sigaction(signal, &default) }.map_err(io::Error::from)?;
    }
    // SAFETY: ignoring a signal installs no handler.
    unsafe { sigaction(Signal::SIGXFSZ, &ignore) }.map_err(io::Error::from)?;
    Ok(())
}

/// Whether `signal`'s disposition is SIG_IGN (inherited through exec).
fn ignored(signal: Signal) -> bool {
    // SAFETY: sigaction(2) with no new action only reads the current one into `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal as libc::c_int, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}

/// The signalfd, readable in the supervisor loop.
#[derive(Debug)]
pub struct Signals {
    fd: Async<SignalFd>,
}

impl Signals {
    /// Opens the signalfd for the blocked signals.
    pub fn open() -> io::Result<Signals> {
        let fd = SignalFd::with_flags(&handled(), SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(io::Error::from)?;
        Ok(Signals {
            fd: Async::new(fd)?,
        })
    }

    /// Waits for the next signal.
    pub async fn next(&self) -> io::Result<i32> {
        self.fd.read_with(|fd| read_one(fd.as_raw_fd())).await
    }
}

/// Reads one `signalfd_siginfo`; `WouldBlock` when none is pending.
fn read_one(fd: RawFd) -> io::Result<i32> {
    // SAFETY: an all-zero signalfd_siginfo is valid; read(2) fills at most its size.
    let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::signalfd_siginfo>();
    let read = unsafe { libc::read(fd, (&raw mut info).cast(), size) };
    if read < 0 {
        return Err(io::Error::last_os_error());
    }
    if read as usize != size {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "short signalfd read",
        ));
    }
    Ok(info.ssi_signo as i32)
}
