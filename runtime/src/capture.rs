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
//!
//! Events ([`Tap`]): a listener's stdout is also fed to its protocol parser on the bus; other
//! output publishes `PROCESS_LOG_*` when `*_events_enabled` is set (and a pool listens), and
//! with `*_capture_maxbytes` it is scanned for supervisord's capture-mode tokens: what lies
//! between `<!--XSUPERVISOR:BEGIN-->` and `<!--XSUPERVISOR:END-->` goes to a bounded buffer
//! instead of the log and is published as one `PROCESS_COMMUNICATION_*` event.

use std::cell::RefCell;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use std::rc::Rc;

use smol::Async;
use svc_schema::LogLevel;

use crate::events::{Kind, SharedBus, output_text};
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
    tap: Option<Tap>,
    /// The last chunk was spliced (no user-space work).
    spliced: bool,
    /// A child was spawned with this stream: supervisord has made its dispatchers, so
    /// clearing and reopening the log act on the file (before that, they do nothing).
    spawned: bool,
    /// Its process is gone (see [`Capture::retire`]): what still arrives is dropped.
    retired: bool,
    /// The last write to the log file failed (and was logged).
    write_failing: bool,
}

/// What must see a stream's bytes besides its log: the event system.
#[derive(Debug)]
pub struct Tap {
    bus: SharedBus,
    /// The process's id in the supervisor (listeners are known by it).
    id: usize,
    group: String,
    /// The pid of the running child (0 before the first spawn), for payloads.
    pid: i32,
    role: Role,
}

#[derive(Debug)]
enum Role {
    /// An event listener's stdout: the protocol channel.
    Listener,
    /// Ordinary output.
    Output {
        events_enabled: bool,
        capture: Option<CaptureMode>,
    },
}

/// supervisord's capture mode on one stream.
#[derive(Debug)]
struct CaptureMode {
    maxbytes: usize,
    /// Between a BEGIN and an END token.
    active: bool,
    /// Bytes not yet known not to start a token (supervisord's `output_buffer`).
    pending: Vec<u8>,
    /// What was captured so far (supervisord's `BoundIO`).
    captured: Vec<u8>,
}

const BEGIN_TOKEN: &[u8] = b"<!--XSUPERVISOR:BEGIN-->";
const END_TOKEN: &[u8] = b"<!--XSUPERVISOR:END-->";

impl Tap {
    /// A listener's stdout.
    pub fn listener(bus: SharedBus, id: usize, group: String) -> Tap {
        Tap {
            bus,
            id,
            group,
            pid: 0,
            role: Role::Listener,
        }
    }

    /// Ordinary output with `*_events_enabled` and `*_capture_maxbytes`; `None` when neither
    /// is set (nothing but the log needs the bytes).
    pub fn output(
        bus: SharedBus,
        id: usize,
        group: String,
        events_enabled: bool,
        capture_maxbytes: i64,
    ) -> Option<Tap> {
        let capture = usize::try_from(capture_maxbytes)
            .ok()
            .filter(|&maxbytes| maxbytes > 0)
            .map(|maxbytes| CaptureMode {
                maxbytes,
                active: false,
                pending: Vec::new(),
                captured: Vec::new(),
            });
        (events_enabled || capture.is_some()).then_some(Tap {
            bus,
            id,
            group,
            pid: 0,
            role: Role::Output {
                events_enabled,
                capture,
            },
        })
    }
}

/// medusa's `find_prefix_at_end`: the length of the longest proper prefix of `token` that
/// `data` ends with.
fn prefix_at_end(data: &[u8], token: &[u8]) -> usize {
    (1..token.len())
        .rev()
        .find(|&length| data.ends_with(&token[..length]))
        .unwrap_or(0)
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
            tap: None,
            spliced: false,
            spawned: false,
            retired: false,
            write_failing: false,
        }
    }

    /// Lets the event system see this stream.
    pub fn with_tap(mut self, tap: Option<Tap>) -> Capture {
        self.tap = tap;
        self
    }

    /// supervisord's `make_dispatchers`, before each spawn: (re)opens the log file, creating
    /// it if it is missing (deleted since the last run, or never created), so each child
    /// writes to the file at the configured path. supervisord makes an error here the
    /// spawn's error (`unknown error making dispatchers for 'name': EISDIR`), and the caller
    /// should too.
    pub fn spawning(&mut self) -> std::io::Result<()> {
        self.spawned = true;
        // A new dispatcher starts outside capture mode with nothing buffered: what the last
        // child left held back is logged (as at its end of file), what it had captured
        // without an END token is dropped.
        self.finish();
        if let Some(mode) = self.capture_mode() {
            mode.active = false;
            mode.captured.clear();
        }
        match &mut self.file {
            Some(file) => file.reopen(),
            None => Ok(()),
        }
    }

    /// The process is gone (a reload replaced every process): what a lingering writer (a
    /// grandchild holding the pipe) still sends is read and dropped, neither logged nor
    /// given to the event system, whose ids now name other processes. supervisord closes
    /// every such fd when it restarts.
    pub fn retire(&mut self) {
        self.retired = true;
        self.file = None;
        self.tap = None;
    }

    /// The pid of the child now writing to this stream (for event payloads).
    pub fn set_pid(&mut self, pid: i32) {
        if let Some(tap) = &mut self.tap {
            tap.pid = pid;
        }
    }

    /// Handles one chunk of output.
    pub fn write(&mut self, data: &[u8]) {
        if self.retired {
            return;
        }
        match self.tap.as_ref().map(|tap| &tap.role) {
            None | Some(Role::Output { capture: None, .. }) => self.record(data),
            Some(Role::Listener) => self.record_listener(data),
            Some(Role::Output {
                capture: Some(_), ..
            }) => {
                if let Some(mode) = self.capture_mode() {
                    mode.pending.extend_from_slice(data);
                }
                self.scan_tokens();
            }
        }
    }

    fn capture_mode(&mut self) -> Option<&mut CaptureMode> {
        match &mut self.tap {
            Some(Tap {
                role:
                    Role::Output {
                        capture: Some(mode),
                        ..
                    },
                ..
            }) => Some(mode),
            _ => None,
        }
    }

    /// supervisord's `record_output`: logs what cannot be part of a token and switches
    /// capture mode on and off at the tokens.
    fn scan_tokens(&mut self) {
        loop {
            let Some(mode) = self.capture_mode() else {
                return;
            };
            let token = if mode.active { END_TOKEN } else { BEGIN_TOKEN };
            if mode.pending.len() <= token.len() {
                return;
            }
            let data = std::mem::take(&mut mode.pending);
            match data.windows(token.len()).position(|window| window == token) {
                None => {
                    let keep = prefix_at_end(&data, token);
                    let (now, later) = data.split_at(data.len() - keep);
                    mode.pending = later.to_vec();
                    self.record(now);
                    return;
                }
                Some(at) => {
                    mode.pending = data[at + token.len()..].to_vec();
                    self.record(&data[..at]);
                    self.toggle_capture();
                }
            }
        }
    }

    /// Enters or leaves capture mode; leaving publishes what was captured.
    fn toggle_capture(&mut self) {
        let Some(tap) = &mut self.tap else {
            return;
        };
        let Role::Output {
            capture: Some(mode),
            ..
        } = &mut tap.role
        else {
            return;
        };
        mode.active = !mode.active;
        if mode.active {
            return;
        }
        let captured = std::mem::take(&mut mode.captured);
        let (kind, _) = Kind::of_channel(self.channel);
        let (name, group, pid) = (&self.name, &tap.group, tap.pid);
        tap.bus.borrow_mut().publish(kind, || {
            format!(
                "processname:{name} groupname:{group} pid:{pid}\n{}",
                output_text(&captured)
            )
        });
        self.main_log.borrow_mut().log(
            LogLevel::Debug,
            &format!(
                "{} {} emitted a comm event",
                svc_schema::python::repr(&self.name),
                self.channel
            ),
        );
    }

    /// At EOF: what was held back in case it started a token is logged.
    fn finish(&mut self) {
        if self.retired {
            return;
        }
        if let Some(mode) = self.capture_mode()
            && !mode.pending.is_empty()
        {
            let pending = std::mem::take(&mut mode.pending);
            self.record(&pending);
        }
    }

    /// supervisord's `'name' stdout output:` line, at `loglevel=debug` only.
    fn debug_output(&self, shown: impl FnOnce() -> String) {
        let mut main_log = self.main_log.borrow_mut();
        if main_log.enabled(LogLevel::Debug) {
            let line = format!(
                "{} {} output:\n{}",
                svc_schema::python::repr(&self.name),
                self.channel,
                shown()
            );
            main_log.log(LogLevel::Debug, &line);
        }
    }

    /// The bytes as logged: without ANSI escapes under `strip_ansi`.
    fn stripped<'d>(&self, data: &'d [u8]) -> std::borrow::Cow<'d, [u8]> {
        if self.strip_ansi {
            std::borrow::Cow::Owned(strip_ansi(data))
        } else {
            std::borrow::Cow::Borrowed(data)
        }
    }

    /// A listener's stdout: logged as written, then read as protocol.
    fn record_listener(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let logged = self.stripped(data);
        self.write_file(&logged);
        // supervisord shows a listener's output as bytes (`b'READY\n'`).
        self.debug_output(|| svc_schema::python::bytes_repr(data));
        if let Some(tap) = &self.tap {
            tap.bus.borrow_mut().listener_output(tap.id, data);
        }
    }

    /// Writes to the log file. A failure is logged once, not again until a write succeeds.
    fn write_file(&mut self, data: &[u8]) {
        let Some(file) = &mut self.file else {
            return;
        };
        match file.write(data) {
            Ok(()) => self.write_failing = false,
            Err(error) => self.write_failed(&error),
        }
    }

    /// A write to the log file failed: an ERRO line, once until a write succeeds again.
    fn write_failed(&mut self, error: &std::io::Error) {
        if std::mem::replace(&mut self.write_failing, true) {
            return;
        }
        let path = self
            .file
            .as_ref()
            .map(|file| file.path().display().to_string())
            .unwrap_or_default();
        self.main_log.borrow_mut().log(
            LogLevel::Error,
            &format!(
                "could not write the {} log of '{}' ({path}): {error}",
                self.channel, self.name
            ),
        );
    }

    /// supervisord's `_log`: one chunk of ordinary output to the log (or to the capture
    /// buffer in capture mode), syslog, the main log at `debug`, and `PROCESS_LOG_*`.
    fn record(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let stripped = self.stripped(data);
        let data = &stripped[..];
        match self.capture_mode() {
            Some(mode) if mode.active => {
                // supervisord's BoundIO: a write that would overflow first drops as many
                // bytes from the front as it adds.
                if mode.captured.len() + data.len() > mode.maxbytes {
                    let drop = data.len().min(mode.captured.len());
                    mode.captured.drain(..drop);
                }
                mode.captured.extend_from_slice(data);
            }
            _ => {
                self.write_file(data);
                if self.syslog {
                    syslog(&format!("{} ", self.name), &String::from_utf8_lossy(data));
                }
            }
        }
        self.debug_output(|| output_text(data));
        if let Some(Tap {
            bus,
            group,
            pid,
            role:
                Role::Output {
                    events_enabled: true,
                    ..
                },
            ..
        }) = &self.tap
        {
            let (_, kind) = Kind::of_channel(self.channel);
            let (name, channel) = (&self.name, self.channel);
            bus.borrow_mut().publish(kind, || {
                format!(
                    "processname:{name} groupname:{group} pid:{pid} channel:{channel}\n{}",
                    output_text(data)
                )
            });
        }
    }

    /// The log file's path (`None` for `NONE`), whether or not it is open.
    pub fn path(&self) -> Option<std::path::PathBuf> {
        self.file.as_ref().map(|file| file.path().to_path_buf())
    }

    /// True if the bytes can go from the pipe to the file untouched.
    fn can_splice(&self) -> bool {
        let untapped = match &self.tap {
            None => true,
            Some(Tap {
                bus,
                role:
                    Role::Output {
                        events_enabled: true,
                        capture: None,
                    },
                ..
            }) => !bus.borrow().wants(Kind::of_channel(self.channel).1),
            Some(_) => false,
        };
        untapped
            && !self.strip_ansi
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
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                    return Err(error);
                }
                // The file cannot take the bytes (a full disk, EFBIG, its directory gone):
                // logged once, and the pipe is read on below, the chunk dropped as
                // supervisord's handler drops it, so that the child never blocks on a full
                // pipe. A later splice that succeeds finds the file usable again.
                Err(error) => self.write_failed(&error),
                Ok(moved) => {
                    self.spliced = true;
                    self.write_failing = false;
                    return Ok(moved);
                }
            }
        }
        self.spliced = false;
        SCRATCH.with_borrow_mut(|buffer| {
            buffer.resize(CHUNK, 0);
            let count = (&*pipe).read(buffer)?;
            if count > 0 {
                self.write(&buffer[..count]);
            } else {
                self.finish();
            }
            Ok(count)
        })
    }

    /// `clearProcessLogs`: deletes the current file (not the backups) and starts a new one,
    /// then empties what capture mode has collected so far (supervisord clears both of the
    /// stream's logs). Before the first spawn it does nothing, as in supervisord (no
    /// dispatchers yet).
    pub fn clear(&mut self) -> std::io::Result<()> {
        if !self.spawned {
            return Ok(());
        }
        if let Some(file) = &mut self.file {
            file.clear()?;
        }
        if let Some(mode) = self.capture_mode() {
            mode.captured.clear();
        }
        Ok(())
    }

    /// Reopens the log file (SIGUSR2). Before the first spawn it does nothing, as in
    /// supervisord (no dispatchers yet).
    pub fn reopen(&mut self) {
        if let Some(file) = &mut self.file
            && self.spawned
        {
            let _ = file.reopen();
        }
    }
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
                // other pumps: after every chunk, let the other tasks run. A chunk read
                // into user space (events built from it, ANSI stripped) waits for the
                // reactor's next pass as well: the executor looks at I/O only every 200
                // task runs while tasks stay runnable, which would delay a SIGCHLD by 200
                // such chunks (25 ms with events, measured). Spliced chunks are cheap.
                if !capture.borrow().spliced {
                    smol::Timer::after(std::time::Duration::from_micros(1)).await;
                } else {
                    smol::future::yield_now().await;
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(path: &std::path::Path) -> Capture {
        let main_log = Rc::new(RefCell::new(MainLog::new(
            LogLevel::Info,
            crate::logs::MainTarget::Nowhere,
            false,
        )));
        Capture::new(
            "p".into(),
            "stdout",
            Some(RotatingFile::deferred(path, 0, 0)),
            false,
            false,
            main_log,
        )
    }

    #[test]
    fn clear_and_reopen_do_nothing_before_the_first_spawn() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.log");
        let mut capture = capture(&path);
        capture.clear().unwrap();
        capture.reopen();
        assert!(!path.exists());
        capture.spawning().unwrap();
        assert!(path.exists());
        capture.write(b"one\n");
        assert_eq!(std::fs::read(&path).unwrap(), b"one\n");
        capture.clear().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"");
    }

    #[test]
    fn each_spawn_opens_the_file_at_the_path_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.log");
        let mut capture = capture(&path);
        capture.spawning().unwrap();
        capture.write(b"first\n");
        std::fs::remove_file(&path).unwrap();
        capture.spawning().unwrap();
        capture.write(b"second\n");
        assert_eq!(std::fs::read(&path).unwrap(), b"second\n");
    }

    #[test]
    fn clear_empties_what_capture_mode_collected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.log");
        let main_log = Rc::new(RefCell::new(MainLog::new(
            LogLevel::Info,
            crate::logs::MainTarget::Nowhere,
            false,
        )));
        let executor = Rc::new(smol::LocalExecutor::new());
        let bus = Rc::new(RefCell::new(crate::events::Bus::new(
            "supervisor".into(),
            Rc::clone(&main_log),
            executor,
        )));
        let mut capture = capture(&path).with_tap(Tap::output(bus, 0, "p".into(), false, 100));
        capture.spawning().unwrap();
        capture.write(b"before<!--XSUPERVISOR:BEGIN-->captured text, longer than the end token");
        let captured = |capture: &mut Capture| capture.capture_mode().unwrap().captured.clone();
        assert!(captured(&mut capture).starts_with(b"captured"));
        capture.clear().unwrap();
        assert_eq!(captured(&mut capture), b"");
        assert_eq!(std::fs::read(&path).unwrap(), b"");
    }

    #[test]
    fn a_spawn_error_when_the_file_cannot_be_opened() {
        let dir = tempfile::tempdir().unwrap();
        let mut capture = capture(dir.path());
        let error = capture.spawning().unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::EISDIR));
    }
}
