//! Log files: supervisord's rotating file handler, the daemon's own log (its exact line format)
//! and the AUTO child log names.
//!
//! Rotation is supervisord's `RotatingFileHandler.doRollover`: after a write leaves the file at
//! `maxbytes` or more, `log.(i)` becomes `log.(i+1)` for i = backups-1 … 1, `log` becomes
//! `log.1` and a new empty `log` is opened. A chunk is always written whole to one file, so
//! no byte is lost or written twice; a file may exceed `maxbytes` by one chunk, as in
//! supervisord. Files that are not regular (`/dev/stdout`, a FIFO) are never rotated.
//!
//! Files are opened without `O_APPEND` so that output can be spliced into them (splice(2)
//! refuses append-mode files); instead every write starts with a seek to the end, which
//! keeps appending right after an external truncation (logrotate's `copytruncate`) and when
//! two processes of one configuration share a file (their pumps run on one thread).

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::{Path, PathBuf};

use svc_schema::LogLevel;

/// A log file with supervisord's size-based rotation.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    file: Option<File>,
    size: u64,
    maxbytes: u64,
    backups: u32,
    regular: bool,
}

impl RotatingFile {
    /// Opens (appending, creating) `path`. `maxbytes = 0` never rotates.
    pub fn open(path: impl Into<PathBuf>, maxbytes: i64, backups: i64) -> io::Result<RotatingFile> {
        let mut log = RotatingFile::deferred(path, maxbytes, backups);
        log.reopen()?;
        Ok(log)
    }

    /// A log whose file is not opened (nor created) yet: the first [`RotatingFile::reopen`]
    /// or write opens it. supervisord opens a child's log files when it spawns the child
    /// (`make_dispatchers`), so a program never started has no file.
    pub fn deferred(path: impl Into<PathBuf>, maxbytes: i64, backups: i64) -> RotatingFile {
        RotatingFile {
            path: path.into(),
            file: None,
            size: 0,
            maxbytes: u64::try_from(maxbytes).unwrap_or(0),
            backups: u32::try_from(backups).unwrap_or(0),
            regular: true,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes and opens the file again (SIGUSR2, after an external rotation).
    pub fn reopen(&mut self) -> io::Result<()> {
        self.file = None;
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.path)?;
        let meta = file.metadata()?;
        self.regular = meta.is_file();
        self.size = if self.regular { meta.len() } else { 0 };
        self.file = Some(file);
        Ok(())
    }

    /// True if output can be spliced into this file (a regular file).
    pub fn can_splice(&self) -> bool {
        self.regular
    }

    /// The open file, positioned at its end.
    fn at_end(&mut self) -> io::Result<&mut File> {
        if self.file.is_none() {
            self.reopen()?;
        }
        let regular = self.regular;
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("log file not open"))?;
        if regular {
            self.size = file.seek(SeekFrom::End(0))?;
        }
        Ok(file)
    }

    /// Rotates if the file reached `maxbytes`.
    fn after_write(&mut self, written: usize) -> io::Result<()> {
        self.size += written as u64;
        if self.regular && self.maxbytes > 0 && self.size >= self.maxbytes {
            self.rotate()?;
        }
        Ok(())
    }

    /// Writes one chunk, then rotates if the file reached `maxbytes`.
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.at_end()?.write_all(data)?;
        self.after_write(data.len())
    }

    /// Moves up to `max` bytes from `pipe` into the file without copying them through user
    /// space, then rotates if needed. `Ok(0)` at end of file; `WouldBlock` if the pipe is
    /// empty.
    pub fn splice_from(&mut self, pipe: BorrowedFd<'_>, max: usize) -> io::Result<usize> {
        let file = self.at_end()?;
        // SAFETY: splice(2) between two fds we hold; null offsets use the fds' own.
        let moved = unsafe {
            libc::splice(
                pipe.as_raw_fd(),
                std::ptr::null_mut(),
                file.as_raw_fd(),
                std::ptr::null_mut(),
                max,
                libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
            )
        };
        if moved < 0 {
            return Err(io::Error::last_os_error());
        }
        let moved = moved as usize;
        self.after_write(moved)?;
        Ok(moved)
    }

    fn numbered(&self, index: u32) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{index}"));
        PathBuf::from(name)
    }

    /// `doRollover`.
    fn rotate(&mut self) -> io::Result<()> {
        self.file = None;
        if self.backups > 0 {
            for index in (1..self.backups).rev() {
                let from = self.numbered(index);
                if from.exists() {
                    ignore_missing(std::fs::rename(&from, self.numbered(index + 1)))?;
                }
            }
            ignore_missing(std::fs::rename(&self.path, self.numbered(1)))?;
        }
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&self.path)?;
        self.size = 0;
        self.file = Some(file);
        Ok(())
    }

    /// `clearLog`: removes the current file (not the backups) and opens a new one.
    pub fn clear(&mut self) -> io::Result<()> {
        self.file = None;
        ignore_missing(std::fs::remove_file(&self.path))?;
        self.reopen()
    }
}

fn ignore_missing(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// The four-letter level names of supervisord's log lines.
pub fn level_tag(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Critical => "CRIT",
        LogLevel::Error => "ERRO",
        LogLevel::Warn => "WARN",
        LogLevel::Info => "INFO",
        LogLevel::Debug => "DEBG",
        LogLevel::Trace => "TRAC",
        LogLevel::Blather => "BLAT",
    }
}

/// English month abbreviations, as C's and Python's time formatting write them.
pub(crate) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Local time as `YYYY-MM-DD HH:MM:SS,mmm` (milliseconds truncated), supervisord's asctime.
pub fn timestamp(now: std::time::SystemTime) -> String {
    let since = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = since.as_secs() as libc::time_t;
    // SAFETY: localtime_r writes into the zeroed struct we own.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe { libc::localtime_r(&seconds, &mut tm) };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        since.subsec_millis()
    )
}

/// Where the daemon's own log goes.
#[derive(Debug)]
pub enum MainTarget {
    /// A file, rotated.
    File(RotatingFile),
    /// syslog(3).
    Syslog,
    /// Nowhere (the file could not be opened).
    Nowhere,
}

/// The daemon's log: `%(asctime)s %(levelname)s %(message)s`.
#[derive(Debug)]
pub struct MainLog {
    /// The configured level; lines above it are dropped.
    pub level: LogLevel,
    target: MainTarget,
    /// Also write to stdout (`nodaemon` and not `silent`).
    stdout: bool,
}

impl MainLog {
    /// A main log.
    pub fn new(level: LogLevel, target: MainTarget, stdout: bool) -> MainLog {
        MainLog {
            level,
            target,
            stdout,
        }
    }

    /// True if a line at `level` would be written.
    pub fn enabled(&self, level: LogLevel) -> bool {
        level <= self.level
    }

    /// Writes one line.
    pub fn log(&mut self, level: LogLevel, message: &str) {
        if !self.enabled(level) {
            return;
        }
        let stamp = timestamp(std::time::SystemTime::now());
        let tag = level_tag(level);
        let line = format!("{stamp} {tag} {message}\n");
        if self.stdout {
            let _ = io::stdout().lock().write_all(line.as_bytes());
        }
        match &mut self.target {
            MainTarget::File(file) => {
                let _ = file.write(line.as_bytes());
            }
            // supervisord's SyslogHandler formats each line of the message on its own, with
            // the main log's format (`%(asctime)s %(levelname)s %(message)s\n`).
            MainTarget::Syslog => {
                for part in syslog_lines(message) {
                    send_syslog(&format!("{stamp} {tag} {part}\n"));
                }
            }
            MainTarget::Nowhere => {}
        }
    }

    /// Reopens the file (SIGUSR2).
    pub fn reopen(&mut self) {
        if let MainTarget::File(file) = &mut self.target {
            let _ = file.reopen();
        }
    }

    /// `clearLog`: deletes the file and opens a new one. supervisord logs `reopening log
    /// file` before it reopens each of its handlers (stdout in the foreground, then the
    /// file): the line goes to stdout once per handler and to the deleted file, so the new
    /// file starts empty.
    pub fn clear(&mut self) -> io::Result<()> {
        if let MainTarget::File(file) = &mut self.target {
            std::fs::remove_file(file.path())?;
            let handlers = if self.stdout { 2 } else { 1 };
            for _ in 0..handlers {
                self.log(LogLevel::Info, "reopening log file");
            }
            if let MainTarget::File(file) = &mut self.target {
                file.reopen()?;
            }
        }
        Ok(())
    }

    /// The log file's path, if it is a file.
    pub fn path(&self) -> Option<&Path> {
        match &self.target {
            MainTarget::File(file) => Some(file.path()),
            _ => None,
        }
    }
}

/// supervisord's `SyslogHandler` for a child's output: each line of `message` becomes one
/// syslog(3) message, `prefix` + line.
pub fn syslog(prefix: &str, message: &str) {
    for line in syslog_lines(message) {
        send_syslog(&format!("{prefix}{line}"));
    }
}

/// The lines `SyslogHandler` sends one by one: `message.rstrip('\n').split('\n')`.
fn syslog_lines(message: &str) -> std::str::Split<'_, char> {
    message.trim_end_matches('\n').split('\n')
}

/// One syslog(3) message at Python's default priority (LOG_INFO); a NUL becomes a space.
/// The first one opens the log as Python's `syslog` module does on its own (ident
/// `supervisord`, the basename of supervisord's `argv[0]`; no options; LOG_USER), so that
/// filters written for supervisord's messages keep matching.
fn send_syslog(text: &str) {
    static OPEN: std::sync::Once = std::sync::Once::new();
    // SAFETY: the ident is a static C string, which openlog(3) may keep.
    OPEN.call_once(|| unsafe { libc::openlog(c"supervisord".as_ptr(), 0, libc::LOG_USER) });
    let Ok(text) = std::ffi::CString::new(text.replace('\0', " ")) else {
        return;
    };
    // SAFETY: a constant format string and a valid C string.
    unsafe { libc::syslog(libc::LOG_INFO, c"%s".as_ptr(), text.as_ptr()) };
}

/// Creates an AUTO child log: `mkstemp(prefix='<name>-<channel>---<identifier>-',
/// suffix='.log', dir=childlogdir)`, with Python's alphabet for the 8 random characters.
pub fn auto_log_path(
    childlogdir: &str,
    name: &str,
    channel: &str,
    identifier: &str,
) -> io::Result<PathBuf> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
    for _ in 0..100 {
        let mut random = [0u8; 8];
        // SAFETY: getrandom(2) fills the buffer we own.
        let filled = unsafe { libc::getrandom(random.as_mut_ptr().cast(), random.len(), 0) };
        if filled != random.len() as isize {
            return Err(io::Error::last_os_error());
        }
        let letters: String = random
            .iter()
            .map(|byte| ALPHABET[usize::from(*byte) % ALPHABET.len()] as char)
            .collect();
        let path =
            Path::new(childlogdir).join(format!("{name}-{channel}---{identifier}-{letters}.log"));
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(_) => return Ok(path),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(error),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no unused AUTO log name after 100 tries",
    ))
}

/// True for a file name supervisord's `clear_autochildlogdir` deletes:
/// `re.match(r'.+?---<identifier>-\S+\.log\.{0,1}\d{0,4}', name)`.
pub fn is_auto_log_name(name: &str, identifier: &str) -> bool {
    let marker = format!("---{identifier}-");
    name.match_indices(&marker).any(|(index, _)| {
        if index == 0 {
            return false;
        }
        let rest = &name[index + marker.len()..];
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        // `\S+\.log`: at least one non-space character, then `.log`, all without spaces.
        rest[..word_end]
            .match_indices(".log")
            .any(|(at, _)| at >= 1)
    })
}

/// Deletes the AUTO logs of an earlier run in `childlogdir` (unless `nocleanup`).
pub fn clear_auto_logs(childlogdir: &str, identifier: &str, log: &mut MainLog) {
    let Ok(entries) = std::fs::read_dir(childlogdir) else {
        log.log(LogLevel::Warn, "Could not clear childlog dir");
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if is_auto_log_name(&name.to_string_lossy(), identifier)
            && std::fs::remove_file(entry.path()).is_err()
        {
            log.log(
                LogLevel::Warn,
                &format!("Failed to clean up '{}'", entry.path().display()),
            );
        }
    }
}

/// supervisord's `stripEscapes`: removes `ESC [` … up to one of `HfABCDRsuJKhlpm`.
pub fn strip_ansi(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut index = 0;
    while index < data.len() {
        if data[index] == 0x1b && data.get(index + 1) == Some(&b'[') {
            match data[index + 2..]
                .iter()
                .position(|byte| b"HfABCDRsuJKhlpm".contains(byte))
            {
                Some(end) => index += 2 + end + 1,
                None => break,
            }
        } else {
            out.push(data[index]);
            index += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_log_names() {
        assert!(is_auto_log_name(
            "web-stdout---supervisor-ab12_x.log",
            "supervisor"
        ));
        assert!(is_auto_log_name(
            "web-stdout---supervisor-ab12_x.log.3",
            "supervisor"
        ));
        assert!(!is_auto_log_name("---supervisor-ab12.log", "supervisor"));
        assert!(!is_auto_log_name(
            "web-stdout---other-ab12.log",
            "supervisor"
        ));
        assert!(!is_auto_log_name(
            "web-stdout---supervisor-.log",
            "supervisor"
        ));
        assert!(!is_auto_log_name("notes.txt", "supervisor"));
    }

    #[test]
    fn strip_ansi_escapes() {
        assert_eq!(strip_ansi(b"a\x1b[31mred\x1b[0m b"), b"ared b");
        assert_eq!(strip_ansi(b"\x1b[2J\x1b[Hx"), b"x");
        assert_eq!(strip_ansi(b"plain"), b"plain");
    }

    #[test]
    fn rotation_keeps_every_byte_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let mut log = RotatingFile::open(&path, 100, 3).unwrap();
        for chunk in 0..10u8 {
            log.write(&[b'a' + chunk; 60]).unwrap();
        }
        // 10 chunks of 60 bytes, rotation after every second chunk: 4 full files were
        // rotated and only the 3 newest were kept, plus the current (empty) file.
        let mut all = Vec::new();
        for index in (1..=3).rev() {
            all.extend(std::fs::read(dir.path().join(format!("app.log.{index}"))).unwrap());
        }
        all.extend(std::fs::read(&path).unwrap());
        let expected: Vec<u8> = (4..10u8).flat_map(|c| [b'a' + c; 60]).collect();
        assert_eq!(all, expected);
        assert!(!dir.path().join("app.log.4").exists());
    }

    #[test]
    fn deferred_creates_the_file_at_the_first_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let mut log = RotatingFile::deferred(&path, 0, 0);
        assert!(!path.exists());
        log.write(b"x").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"x");
    }

    #[test]
    fn syslog_sends_each_line_without_trailing_newlines() {
        let lines = |text| syslog_lines(text).collect::<Vec<_>>();
        assert_eq!(lines("a\nb\n\n"), ["a", "b"]);
        assert_eq!(lines("a\n\nb"), ["a", "", "b"]);
        assert_eq!(lines(""), [""]);
    }

    #[test]
    fn clear_leaves_the_new_main_log_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("main.log");
        let file = RotatingFile::open(&path, 0, 0).unwrap();
        let mut log = MainLog::new(LogLevel::Info, MainTarget::File(file), false);
        log.log(LogLevel::Info, "before");
        log.clear().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"");
        log.log(LogLevel::Debug, "hidden");
        log.log(LogLevel::Warn, "after");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with(" WARN after\n"), "{text}");
        assert_eq!(text.lines().count(), 1);
    }

    #[test]
    fn no_backups_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let mut log = RotatingFile::open(&path, 10, 0).unwrap();
        log.write(b"0123456789ab").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"");
        log.write(b"xy").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"xy");
        assert!(!dir.path().join("app.log.1").exists());
    }
}
