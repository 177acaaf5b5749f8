//! Ctrl-C as an event: `svc ctl`'s `KeyboardInterrupt`.
//!
//! supervisorctl reacts to SIGINT in three ways: `tail -f` (and `fg`) stop following and
//! return normally, the interactive shell prints an empty line and exits 0, and anywhere else
//! the exception kills the program. svc has no signal handler: [`Interrupt::install`] blocks
//! SIGINT in the main thread before any other thread exists (threads started later, smol's
//! and the stdin reader's, inherit the mask) and reads it from a signalfd. Every wait of
//! `svc ctl` goes through [`Interrupt::block_on`], which races the work against that fd, so
//! Ctrl-C arrives as [`Interrupted`] wherever the program is waiting.
//!
//! **Invariant:** `install` runs before any thread is started; otherwise a thread with
//! SIGINT unblocked could take the signal and die of it.

use std::future::Future;
use std::rc::Rc;

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use smol::Async;
use smol::future::FutureExt as _;

/// Ctrl-C was pressed while svc waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Interrupted;

/// The SIGINT signalfd (cheap to clone; `None` if it could not be set up, in which case
/// SIGINT keeps its default action).
#[derive(Debug, Clone)]
pub(crate) struct Interrupt {
    fd: Option<Rc<Async<SignalFd>>>,
}

fn sigint() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set
}

impl Interrupt {
    /// Blocks SIGINT and opens its signalfd. Call before starting any thread.
    pub(crate) fn install() -> Interrupt {
        if sigint().thread_block().is_err() {
            return Interrupt { fd: None };
        }
        let fd = SignalFd::with_flags(&sigint(), SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .ok()
            .and_then(|fd| Async::new(fd).ok());
        if fd.is_none() {
            // Without the fd nobody would ever see the signal: give it back its default.
            let _ = sigint().thread_unblock();
        }
        Interrupt {
            fd: fd.map(Rc::new),
        }
    }

    /// Resolves when SIGINT arrives (never, without a signalfd).
    pub(crate) async fn wait(&self) {
        let Some(fd) = &self.fd else {
            return std::future::pending().await;
        };
        let received = fd
            .read_with(|fd| match fd.read_signal() {
                Ok(Some(_)) => Ok(()),
                Ok(None) => Err(std::io::ErrorKind::WouldBlock.into()),
                Err(errno) => Err(std::io::Error::from(errno)),
            })
            .await;
        if received.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Runs `future` to completion on this thread, unless Ctrl-C comes first.
    pub(crate) fn block_on<T>(&self, future: impl Future<Output = T>) -> Result<T, Interrupted> {
        smol::block_on(async {
            async { Ok(future.await) }
                .or(async {
                    self.wait().await;
                    Err(Interrupted)
                })
                .await
        })
    }

    /// Ends the program as an uncaught `KeyboardInterrupt` ends Python: killed by SIGINT.
    pub(crate) fn die() -> ! {
        let _ = sigint().thread_unblock();
        let _ = nix::sys::signal::raise(Signal::SIGINT);
        std::process::exit(130)
    }
}
