//! Child output capture: one pump task per pipe copies what the child writes into its log.
//!
//! When nothing needs to see the bytes (no `strip_ansi`, no syslog, main log above `debug`)
//! and the log is a regular file, output is spliced from the pipe into the file: no copy
//! through user space. Otherwise reads go into one scratch buffer shared by every pump of the
//! thread (128 KiB, supervisord's read size), and each chunk is written out before the next
//! read, so an idle process costs no buffer at all. Work per chunk is only what a setting
//! asks for: `strip_ansi`, syslog lines, and the copy into the main log at `loglevel=debug`.
//!
//! A pipe that fills up (a read returns a full pipe buffer) is grown to 1 MiB once, so a
//! chatty child is served in fewer, larger moves; quiet pipes keep the kernel's 64 KiB.

use std::cell::RefCell;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use std::rc::Rc;

use smol::Async;
use svc_schema::LogLevel;

use crate::logs::{MainLog, RotatingFile, strip_ansi, syslog};

/// Bytes read from a pipe at once (supervisord reads `2 << 16`).
const CHUNK: usize = 128 * 1024;

/// Most bytes moved by one splice: supervisord's read size, so a rotated file exceeds
/// `maxbytes` by at most what supervisord allows.
const SPLICE_MAX: usize = CHUNK;

/// Size of a kernel pipe buffer by default, and what a busy pipe is grown to.
const PIPE_DEFAULT: usize = 64 * 1024;
const PIPE_BUSY: libc::c_int = 1 << 20;

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Where one output stream of a process goes.
#[derive(Debug)]
pub struct Capture {
    name: String,
    channel: &'static str,
    file: Option<RotatingFile>,
    strip_ansi: bool,
    syslog: bool,
    main_log: Rc<RefCell<MainLog>>,
}

impl Capture {
    /// A capture into `file` (`None`: output is read and dropped, as with `NONE`).
    pub fn new(
        name: String,
        channel: &'static str,
        file: Option<RotatingFile>,
        strip_ansi: bool,
        syslog: bool,
        main_log: Rc<RefCell<MainLog>>,
    ) -> Capture {
        Capture {
            name,
            channel,
            file,
            strip_ansi,
            syslog,
            main_log,
        }
    }

    /// Handles one chunk of output.
    pub fn write(&mut self, data: &[u8]) {
        let stripped;
        let data = if self.strip_ansi {
            stripped = strip_ansi(data);
            &stripped[..]
        } else {
            data
        };
        if let Some(file) = &mut self.file
            && let Err(error) = file.write(data)
        {
            self.main_log.borrow_mut().log(
                LogLevel::Error,
                &format!(
                    "could not write the {} log of '{}' ({}): {error}",
                    self.channel,
                    self.name,
                    file.path().display()
                ),
            );
        }
        if self.syslog {
            syslog(&format!("{} ", self.name), &String::from_utf8_lossy(data));
        }
        let mut main_log = self.main_log.borrow_mut();
        if main_log.enabled(LogLevel::Debug) {
            let text = match std::str::from_utf8(data) {
                Ok(text) => text.to_string(),
                Err(_) => format!("Undecodable: {}", python_bytes_repr(data)),
            };
            main_log.log(
                LogLevel::Debug,
                &format!("'{}' {} output:\n{text}", self.name, self.channel),
            );
        }
    }

    /// The log file's path (`None` for `NONE` or a file that could not be opened).
    pub fn path(&self) -> Option<std::path::PathBuf> {
        self.file.as_ref().map(|file| file.path().to_path_buf())
    }

    /// True if the bytes can go from the pipe to the file untouched.
    fn can_splice(&self) -> bool {
        !self.strip_ansi
            && !self.syslog
            && self.file.as_ref().is_some_and(RotatingFile::can_splice)
            && !self.main_log.borrow().enabled(LogLevel::Debug)
    }

    /// Moves what the pipe holds into the log: spliced, or read and written.
    fn drain(&mut self, pipe: &File) -> std::io::Result<usize> {
        if self.can_splice()
            && let Some(file) = &mut self.file
        {
            match file.splice_from(pipe.as_fd(), SPLICE_MAX) {
                // The kernel could not splice into this file: copy instead.
                Err(error) if error.raw_os_error() == Some(libc::EINVAL) => {}
                result => return result,
            }
        }
        SCRATCH.with_borrow_mut(|buffer| {
            buffer.resize(CHUNK, 0);
            let count = (&*pipe).read(buffer)?;
            if count > 0 {
                self.write(&buffer[..count]);
            }
            Ok(count)
        })
    }

    /// `clearProcessLogs`: deletes the current file (not the backups) and starts a new one.
    pub fn clear(&mut self) -> std::io::Result<()> {
        match &mut self.file {
            Some(file) => file.clear(),
            None => Ok(()),
        }
    }

    /// Reopens the log file (SIGUSR2).
    pub fn reopen(&mut self) {
        if let Some(file) = &mut self.file {
            let _ = file.reopen();
        }
    }
}

/// Python's `repr(bytes)`, for undecodable output in the main log.
fn python_bytes_repr(data: &[u8]) -> String {
    let mut out = String::from("b'");
    for &byte in data {
        match byte {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(byte as char),
            _ => out.push_str(&format!("\\x{byte:02x}")),
        }
    }
    out.push('\'');
    out
}

/// A child's pipe, readable without blocking.
pub type Pipe = Rc<Async<File>>;

/// Makes a pipe's read end non-blocking and registers it with the reactor.
pub fn pipe(fd: OwnedFd) -> std::io::Result<Pipe> {
    Ok(Rc::new(Async::new(File::from(fd))?))
}

/// Moves everything the pipe holds right now into the capture (supervisord drains a child's
/// output before it handles its exit, so the log is complete when `exited:` is logged).
pub fn drain_now(pipe: &Pipe, capture: &RefCell<Capture>) {
    while let Ok(count) = capture.borrow_mut().drain(pipe.get_ref()) {
        if count == 0 {
            break;
        }
    }
}

/// Copies a pipe into its capture until EOF.
pub async fn pump(pipe: Pipe, capture: Rc<RefCell<Capture>>) {
    let mut grown = false;
    loop {
        let moved = pipe
            .read_with(|file| capture.borrow_mut().drain(file))
            .await;
        match moved {
            Ok(0) | Err(_) => return,
            Ok(count) => {
                // A child that writes without pause must not starve the supervisor and the
                // other pumps: after every chunk, let the other tasks run.
                smol::future::yield_now().await;
                if !grown && count >= PIPE_DEFAULT {
                    grown = true;
                    // SAFETY: fcntl on our own pipe; failure (limits) just keeps 64 KiB.
                    unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_BUSY) };
                }
            }
        }
    }
}

/// A child's stdin (`sendProcessStdin`): bytes are written at once as far as the pipe takes
/// them; the rest waits in a buffer that one writer task drains as the pipe empties, so a
/// child that does not read never blocks the daemon.
#[derive(Debug)]
pub struct StdinPipe {
    pipe: Rc<Async<File>>,
    pending: Rc<RefCell<Vec<u8>>>,
}

impl StdinPipe {
    /// Wraps the write end of a child's stdin.
    pub fn new(fd: OwnedFd) -> std::io::Result<StdinPipe> {
        Ok(StdinPipe {
            pipe: Rc::new(Async::new(File::from(fd))?),
            pending: Rc::new(RefCell::new(Vec::new())),
        })
    }

    /// Queues `data`. `Err` with `BrokenPipe` when the child has closed its stdin.
    pub fn send(
        &self,
        data: &[u8],
        executor: &smol::LocalExecutor<'static>,
    ) -> std::io::Result<()> {
        let idle = self.pending.borrow().is_empty();
        self.pending.borrow_mut().extend_from_slice(data);
        if !idle {
            // The writer task is already waiting for the pipe to drain.
            return Ok(());
        }
        match flush(&self.pipe, &self.pending) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                let pipe = Rc::clone(&self.pipe);
                let pending = Rc::clone(&self.pending);
                executor
                    .spawn(async move {
                        while !pending.borrow().is_empty() {
                            if pipe.writable().await.is_err() {
                                break;
                            }
                            match flush(&pipe, &pending) {
                                Ok(()) => {}
                                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                                Err(_) => {
                                    pending.borrow_mut().clear();
                                    break;
                                }
                            }
                        }
                    })
                    .detach();
                Ok(())
            }
            Err(error) => {
                self.pending.borrow_mut().clear();
                Err(error)
            }
        }
    }
}

/// Writes what the pipe takes from the front of `pending`.
fn flush(pipe: &Async<File>, pending: &RefCell<Vec<u8>>) -> std::io::Result<()> {
    use std::io::Write;
    let mut pending = pending.borrow_mut();
    while !pending.is_empty() {
        let written = pipe.get_ref().write(&pending)?;
        pending.drain(..written);
    }
    Ok(())
}
