//! A running `svc run -n` daemon for integration tests, observed only from outside: its
//! main log, the files its children write, its pid file and `/proc`.
//!
//! - [`Setup`] writes `supervisord.conf` (main log, pid file and AUTO child logs all inside
//!   the test's own temporary directory) and starts the daemon; [`Daemon`] is the guard.
//! - Synchronisation is [`Daemon::wait_for`]: poll a condition every 10 ms until a deadline,
//!   and on timeout fail with the main log and svc's stderr. Deadlines bound failures; they
//!   never order events.
//! - Cleanup survives panics: dropping a [`Daemon`] SIGKILLs svc, then every process that
//!   still carries this test's `SVC_TEST_TAG` environment entry (svc's children and their
//!   descendants inherit it, whatever process group or session they moved to).
//! - Processes are named by [`Process`] (pid plus start time) so that a recycled pid is
//!   never mistaken for the process a test saw earlier.
//! - `SVC_REFERENCE_SUPERVISORD=/path/to/supervisord` runs the same tests against Python
//!   supervisord ([`REFERENCE`]).
//!
//! The one `unsafe` call of the test binary, `kill(2)`, lives in [`send_signal`].

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{Test, svc_binary};

/// An environment variable naming a `supervisord` binary: set, the tests run it instead of
/// svc (`-n -c supervisord.conf`, svc-only arguments dropped), to check that what they
/// expect is supervisord 4.3.0's behaviour. Tests of svc's extensions then fail.
pub const REFERENCE: &str = "SVC_REFERENCE_SUPERVISORD";

/// Polls `condition` every 10 ms until it holds; fails the test after [`DEADLINE`] with
/// `what` and `report()` (what was seen). The one way tests wait for something to happen.
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool, report: impl Fn() -> String) {
    let deadline = Instant::now() + DEADLINE;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {DEADLINE:?} waiting for {what}\n{}",
            report()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Appends the daemon under test to `command` (a wrapper such as `sh -c` or `unshare`):
/// `svc run`, or the supervisord named by [`REFERENCE`], then `-n -c supervisord.conf`.
pub fn daemon_args(command: &mut Command) {
    match std::env::var_os(REFERENCE) {
        Some(supervisord) => command.arg(supervisord),
        None => command.arg(svc_binary()).arg("run"),
    };
    command.args(["-n", "-c", "supervisord.conf"]);
}

/// How long any single wait may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Linux signal numbers the tests send.
pub const SIGHUP: i32 = 1;
/// `SIGINT`.
pub const SIGINT: i32 = 2;
/// `SIGQUIT`.
pub const SIGQUIT: i32 = 3;
/// `SIGKILL`.
pub const SIGKILL: i32 = 9;
/// `SIGUSR1`.
pub const SIGUSR1: i32 = 10;
/// `SIGUSR2`.
pub const SIGUSR2: i32 = 12;
/// `SIGTERM`.
pub const SIGTERM: i32 = 15;
/// `SIGCONT`.
pub const SIGCONT: i32 = 18;
/// `SIGSTOP`.
pub const SIGSTOP: i32 = 19;

/// Sends `signal` to `pid` (negative: a process group). False if the target does not exist.
pub fn send_signal(pid: i32, signal: i32) -> bool {
    unsafe extern "C" {
        fn kill(pid: i32, signal: i32) -> i32;
    }
    // SAFETY: kill(2) takes two integers and touches no memory of ours.
    unsafe { kill(pid, signal) == 0 }
}

/// What `/proc/<pid>/stat` says about a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// `comm`, the executable's name.
    pub comm: String,
    /// `R`, `S`, `Z`, ...
    pub state: char,
    /// Parent pid.
    pub ppid: i32,
    /// Process group id.
    pub pgid: i32,
    /// Start time in clock ticks since boot: with the pid, a process's identity.
    pub starttime: u64,
}

/// Reads `/proc/<pid>/stat`; `None` if there is no such process.
pub fn stat(pid: i32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text[open + 1..close].to_string();
    let fields: Vec<&str> = text[close + 1..].split_whitespace().collect();
    Some(Stat {
        comm,
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        pgid: fields.get(2)?.parse().ok()?,
        starttime: fields.get(19)?.parse().ok()?,
    })
}

/// Every pid in `/proc`.
pub fn all_pids() -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .collect()
}

/// One process, as first seen: a pid that is later reused is a different `Process`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Process {
    /// Its pid.
    pub pid: i32,
    starttime: u64,
}

impl Process {
    /// The process with this pid now; panics if there is none.
    pub fn of(pid: i32) -> Process {
        let stat = stat(pid).unwrap_or_else(|| panic!("no process with pid {pid}"));
        Process {
            pid,
            starttime: stat.starttime,
        }
    }

    /// Its current stat, if it still exists (a zombie still exists).
    pub fn stat(&self) -> Option<Stat> {
        stat(self.pid).filter(|stat| stat.starttime == self.starttime)
    }

    /// It exists and has not exited (zombies have exited).
    pub fn is_running(&self) -> bool {
        self.stat()
            .is_some_and(|stat| !matches!(stat.state, 'Z' | 'X'))
    }

    /// Running, and no signal is pending for it. A process that was sent a fatal signal may
    /// still look alive for a moment, but from the moment of the `kill` it has SIGKILL (or
    /// the signal itself) pending: this tells "never signalled" from "dying".
    pub fn is_untouched(&self) -> bool {
        if !self.is_running() {
            return false;
        }
        let Ok(status) = std::fs::read_to_string(format!("/proc/{}/status", self.pid)) else {
            return false;
        };
        let pending = |key: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(key))
                .map(|mask| mask.trim().chars().all(|digit| digit == '0'))
        };
        pending("SigPnd:") == Some(true) && pending("ShdPnd:") == Some(true)
    }
}

/// The processes in process group `pgid` that have not exited.
pub fn group_members(pgid: i32) -> Vec<(Process, Stat)> {
    all_pids()
        .into_iter()
        .filter_map(|pid| {
            let stat = stat(pid)?;
            let process = Process {
                pid,
                starttime: stat.starttime,
            };
            (stat.pgid == pgid && !matches!(stat.state, 'Z' | 'X')).then_some((process, stat))
        })
        .collect()
}

/// One line of the main log: `2026-11-21 20:13:17,534 INFO spawned: 'bad' with pid 28564`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// Local time in seconds (since 1970-01-01 in local time), with milliseconds.
    pub at: f64,
    /// `CRIT`, `ERRO`, `WARN`, `INFO`, `DEBG`, `TRAC` or `BLAT`.
    pub level: String,
    /// The message.
    pub message: String,
}

impl LogLine {
    /// `LEVEL message` with pids replaced by `N` (`pid 123` → `pid N`, `(123)` → `(N)`).
    pub fn normalized(&self) -> String {
        format!("{} {}", self.level, normalize_pids(&self.message))
    }
}

/// Replaces the digits after `pid ` and between `(` and `)` with `N`.
pub fn normalize_pids(message: &str) -> String {
    let bytes = message.as_bytes();
    let mut out = String::new();
    let mut index = 0;
    while index < bytes.len() {
        let digits = bytes[index..]
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        if digits > 0 {
            let after_pid = message[..index].ends_with("pid ");
            let parenthesized =
                message[..index].ends_with('(') && bytes.get(index + digits) == Some(&b')');
            if after_pid || parenthesized {
                out.push('N');
            } else {
                out.push_str(&message[index..index + digits]);
            }
            index += digits;
        } else {
            let ch = message[index..].chars().next().unwrap_or_default();
            out.push(ch);
            index += ch.len_utf8().max(1);
        }
    }
    out
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Parses one main log line; `None` if it is not in supervisord's format.
pub fn parse_line(line: &str) -> Option<LogLine> {
    let bytes = line.as_bytes();
    // `YYYY-MM-DD HH:MM:SS,mmm LEVL message`
    let shape = "dddd-dd-dd dd:dd:dd,ddd ";
    if bytes.len() < shape.len() + 5 {
        return None;
    }
    for (byte, expected) in bytes.iter().zip(shape.bytes()) {
        let ok = match expected {
            b'd' => byte.is_ascii_digit(),
            other => *byte == other,
        };
        if !ok {
            return None;
        }
    }
    let number = |range: std::ops::Range<usize>| line[range].parse::<i64>().ok();
    let days = days_from_civil(number(0..4)?, number(5..7)?, number(8..10)?);
    let seconds = days * 86_400 + number(11..13)? * 3600 + number(14..16)? * 60 + number(17..19)?;
    let at = seconds as f64 + number(20..23)? as f64 / 1000.0;
    let level = &line[24..28];
    if !["CRIT", "ERRO", "WARN", "INFO", "DEBG", "TRAC", "BLAT"].contains(&level)
        || bytes.get(28) != Some(&b' ')
    {
        return None;
    }
    Some(LogLine {
        at,
        level: level.to_string(),
        message: line[29..].to_string(),
    })
}

/// Whether a main log message is about process `name` (the state machine's lines).
fn is_about(message: &str, name: &str) -> bool {
    message.contains(&format!("'{name}'"))
        || [
            format!("success: {name} entered "),
            format!("exited: {name} ("),
            format!("gave up: {name} entered "),
            format!("stopped: {name} ("),
        ]
        .iter()
        .any(|prefix| message.starts_with(prefix.as_str()))
}

/// The test directory and configuration of a daemon not yet started.
#[must_use]
pub struct Setup {
    test: Test,
    supervisord: String,
    args: Vec<String>,
}

impl Default for Setup {
    fn default() -> Setup {
        Setup::new()
    }
}

impl Setup {
    /// A fresh directory; the daemon will get the tag `SVC_TEST_TAG=<directory>`.
    pub fn new() -> Setup {
        let test = Test::new();
        let tag = test.path().display().to_string();
        Setup {
            test: test.env("SVC_TEST_TAG", &tag),
            supervisord: String::new(),
            args: Vec::new(),
        }
    }

    /// Adds `key=value` lines to the `[supervisord]` section.
    pub fn supervisord(mut self, lines: &str) -> Setup {
        self.supervisord.push_str(lines.trim());
        self.supervisord.push('\n');
        self
    }

    /// Adds an argument after `svc run -n -c supervisord.conf`.
    pub fn arg(mut self, arg: &str) -> Setup {
        self.args.push(arg.to_string());
        self
    }

    /// Writes a file (a script, a directory's placeholder) into the test directory.
    pub fn file(mut self, name: &str, content: impl AsRef<[u8]>) -> Setup {
        self.test = self.test.file(name, content);
        self
    }

    /// The test directory.
    pub fn path(&self) -> &Path {
        self.test.path()
    }

    /// Writes the configuration (the fixed `[supervisord]` header, then `sections`), starts
    /// `svc run -n` and waits for `supervisord started with pid <pid>`.
    pub fn start(self, sections: &str) -> Daemon {
        let header = self.supervisord.clone();
        let mut daemon = Daemon {
            tag: format!("SVC_TEST_TAG={}", self.test.path().display()),
            test: self.test,
            supervisord: header,
            child: None,
            pid: 0,
        };
        daemon.write_config(sections);
        let stderr = std::fs::File::create(daemon.path().join("svc.stderr"))
            .expect("create the file for svc's stderr");
        let mut command = match std::env::var_os(REFERENCE) {
            Some(supervisord) => {
                let mut command = Command::new(supervisord);
                command.args(["-n", "-c", "supervisord.conf"]);
                command
            }
            None => {
                let mut command = Command::new(svc_binary());
                command
                    .args(["run", "-n", "-c", "supervisord.conf"])
                    .args(&self.args);
                command
            }
        };
        daemon.test.prepare(&mut command);
        command.stdout(Stdio::null()).stderr(stderr);
        let child = command.spawn().expect("spawn svc run");
        daemon.pid = i32::try_from(child.id()).expect("a pid fits in i32");
        daemon.child = Some(child);
        let started = format!("supervisord started with pid {}", daemon.pid);
        let exited = || stat(daemon.pid).is_none_or(|stat| stat.state == 'Z');
        daemon.wait_for(&format!("{started:?} (or svc's exit)"), || {
            daemon.main_log().contains(&started) || exited()
        });
        assert!(
            daemon.main_log().contains(&started),
            "svc exited before starting\n{}",
            daemon.report()
        );
        daemon
    }
}

/// A running `svc run -n` (the guard: dropping it kills svc and everything it started).
pub struct Daemon {
    test: Test,
    supervisord: String,
    tag: String,
    child: Option<Child>,
    /// svc's pid.
    pub pid: i32,
}

impl Daemon {
    /// Starts a daemon with the default `[supervisord]` header in a fresh directory.
    pub fn start(sections: &str) -> Daemon {
        Setup::new().start(sections)
    }

    /// The test directory (`%(here)s` in the configuration).
    pub fn path(&self) -> &Path {
        self.test.path()
    }

    /// A path inside the test directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    /// Writes `supervisord.conf` again with the same header and new `sections`.
    pub fn write_config(&self, sections: &str) {
        let conf = format!(
            "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/svc.pid\nchildlogdir=%(here)s\n{}\n{}",
            self.supervisord, sections
        );
        std::fs::write(self.join("supervisord.conf"), conf).expect("write supervisord.conf");
    }

    /// A file of the test directory as text; empty if it does not exist.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.join(name)).unwrap_or_default()
    }

    /// The main log's text.
    pub fn main_log(&self) -> String {
        self.read("main.log")
    }

    /// The main log's lines, parsed (see [`parse_log`]).
    pub fn lines(&self) -> Vec<LogLine> {
        parse_log(&self.main_log())
    }

    /// The normalized lines (see [`LogLine::normalized`]) about process `name`, in order.
    pub fn about(&self, name: &str) -> Vec<String> {
        self.lines()
            .iter()
            .filter(|line| is_about(&line.message, name))
            .map(LogLine::normalized)
            .collect()
    }

    /// How many main log messages contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.lines()
            .iter()
            .filter(|line| line.message.contains(needle))
            .count()
    }

    /// Polls `condition` every 10 ms; fails the test after [`DEADLINE`] with the main log.
    pub fn wait_for(&self, what: &str, condition: impl FnMut() -> bool) {
        self.wait_showing(what, condition, String::new);
    }

    /// [`Daemon::wait_for`], adding `last_seen()` (what was observed) to the failure.
    pub fn wait_showing(
        &self,
        what: &str,
        condition: impl FnMut() -> bool,
        last_seen: impl Fn() -> String,
    ) {
        wait_until(what, condition, || {
            format!("{}{}", last_seen(), self.report())
        });
    }

    /// Waits until a main log message contains `needle`.
    pub fn wait_for_log(&self, needle: &str) {
        self.wait_for(&format!("a main log line containing {needle:?}"), || {
            self.main_log().contains(needle)
        });
    }

    /// Waits until `count` main log messages contain `needle`.
    pub fn wait_for_count(&self, needle: &str, count: usize) {
        self.wait_for(
            &format!("{count} main log lines containing {needle:?}"),
            || self.count(needle) >= count,
        );
    }

    /// Waits until file `name` of the test directory ends with `suffix`, then returns it.
    pub fn wait_for_file(&self, name: &str, suffix: &str) -> String {
        self.wait_showing(
            &format!("{name} to end with {suffix:?}"),
            || self.read(name).ends_with(suffix),
            || format!("--- {name}\n{:?}\n", self.read(name)),
        );
        self.read(name)
    }

    /// The pid in the last `spawned: '<name>' with pid N` line.
    pub fn spawned_pid(&self, name: &str) -> i32 {
        let prefix = format!("spawned: '{name}' with pid ");
        self.lines()
            .iter()
            .rev()
            .find_map(|line| line.message.strip_prefix(&prefix)?.parse().ok())
            .unwrap_or_else(|| panic!("no {prefix:?} line\n{}", self.report()))
    }

    /// Sends `signal` to svc.
    pub fn signal(&self, signal: i32) {
        assert!(
            send_signal(self.pid, signal),
            "could not signal svc\n{}",
            self.report()
        );
    }

    /// True while svc has not exited.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Waits for svc to exit and returns its status.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let child = self.child.as_mut().expect("svc was started");
            if let Some(status) = child.try_wait().expect("wait for svc") {
                return status;
            }
            if Instant::now() > deadline {
                panic!("svc did not exit within {DEADLINE:?}\n{}", self.report());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends `signal` to svc and waits for it to exit.
    pub fn stop(&mut self, signal: i32) -> ExitStatus {
        self.signal(signal);
        self.wait_exit()
    }

    /// svc's stderr so far.
    pub fn stderr(&self) -> String {
        self.read("svc.stderr")
    }

    /// The main log and svc's stderr, for failure messages.
    pub fn report(&self) -> String {
        format!(
            "--- main log\n{}--- svc stderr\n{}",
            self.main_log(),
            self.stderr()
        )
    }
}

/// The processes whose environment holds the entry `tag` (`SVC_TEST_TAG=<directory>`).
pub fn tagged(tag: &str) -> Vec<i32> {
    let tag = tag.as_bytes();
    all_pids()
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|environ| environ.split(|&byte| byte == 0).any(|entry| entry == tag))
        })
        .collect()
}

/// SIGKILLs every process carrying `tag` until none is left (at most 5 s): what a test
/// started, whatever process group or session it moved to.
pub fn kill_tagged(tag: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = tagged(tag);
        if left.is_empty() || Instant::now() > deadline {
            return;
        }
        for pid in left {
            send_signal(pid, SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Parses a main log; panics if it does not start with a stamped line. A message may
/// span lines (child output at `loglevel=debug`, diagnostics): only its first is stamped,
/// the others are appended to it.
pub fn parse_log(text: &str) -> Vec<LogLine> {
    // A line still being written (no newline yet) is left for the next read.
    let complete = &text[..text.rfind('\n').map_or(0, |end| end + 1)];
    let mut lines: Vec<LogLine> = Vec::new();
    for line in complete.lines() {
        match (parse_line(line), lines.last_mut()) {
            (Some(parsed), _) => lines.push(parsed),
            (None, Some(last)) => {
                last.message.push('\n');
                last.message.push_str(line);
            }
            (None, None) => panic!("main log line not in supervisord's format: {line:?}\n{text}"),
        }
    }
    lines
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            if matches!(child.try_wait(), Ok(None)) {
                send_signal(self.pid, SIGKILL);
            }
            let _ = child.wait();
        }
        kill_tagged(&self.tag);
    }
}
