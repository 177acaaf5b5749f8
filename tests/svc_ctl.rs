//! `svc ctl` against supervisorctl 4.3.0: both clients run with the same arguments (and the
//! same stdin) against the same server, or against twin servers with one configuration when
//! the command changes state, and must print the same stdout and exit with the same code.
//!
//! The servers are the real supervisord 4.3.0 (`python -m supervisor.supervisord -n`, the
//! [`Supervisord`] guard) and `svc run` (the `Daemon` guard of `support::daemon`). What
//! changes from run to run is normalized before comparing: pids, uptimes, stop times, the
//! temporary directories, and the absolute path of Python's library in supervisorctl's
//! `error: ... file: <path> line: N` lines (svc prints the path relative to it).
//!
//! Synchronisation is on observable events (a main log line, a client's output, a process
//! exit), polled with a deadline; every daemon and its children are killed by the guards.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::support::control::UNIX_SERVER;
use crate::support::daemon::{DEADLINE, SIGINT, Setup, kill_tagged, send_signal, wait_until};
use crate::support::{CLEAN_ENV, Test, run_with_deadline, svc_binary};

/// A few programs: one alone, one not started, a group of two.
const PROGRAMS: &str = "[program:web]\ncommand=sleep 1000\nstartsecs=0\n\
     [program:idle]\ncommand=sleep 1000\nautostart=false\n\
     [program:pool]\ncommand=sleep 1000\nnumprocs=2\n\
     process_name=%(program_name)s_%(process_num)d\nstartsecs=0\n";

/// The Python interpreter with supervisor 4.3.0 (looked up once).
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(crate::oracle::oracle_python)
}

/// A running supervisord 4.3.0 in its own directory (the guard: dropping it kills it and
/// every process carrying its tag).
struct Supervisord {
    test: Test,
    child: Child,
    tag: String,
}

impl Supervisord {
    /// Starts supervisord with the unix server, `[supervisorctl]` and `sections`.
    fn start(sections: &str) -> Supervisord {
        Supervisord::start_raw(&format!("{UNIX_SERVER}{sections}"))
    }

    /// Starts supervisord with the fixed `[supervisord]` header and `sections` only.
    fn start_raw(sections: &str) -> Supervisord {
        let test = Test::new();
        let directory = test.path().display().to_string();
        let tag = format!("SVC_TEST_TAG={directory}");
        let test = test.env("SVC_TEST_TAG", &directory);
        let stderr =
            std::fs::File::create(test.path().join("supervisord.stderr")).expect("stderr file");
        let mut command = Command::new(python());
        command.args([
            "-m",
            "supervisor.supervisord",
            "-n",
            "-c",
            "supervisord.conf",
        ]);
        test.prepare(&mut command);
        command.stdout(Stdio::null()).stderr(stderr);
        let supervisord = Supervisord {
            child: {
                write_config(test.path(), sections);
                command.spawn().expect("spawn supervisord")
            },
            test,
            tag,
        };
        let started = format!("supervisord started with pid {}", supervisord.child.id());
        supervisord.wait_for_log(&started);
        supervisord
    }

    fn path(&self) -> &Path {
        self.test.path()
    }

    fn main_log(&self) -> String {
        std::fs::read_to_string(self.path().join("main.log")).unwrap_or_default()
    }

    /// Waits for a main log line containing `needle`.
    fn wait_for_log(&self, needle: &str) {
        wait_until(
            &format!("{needle:?} in supervisord's main log"),
            || self.main_log().contains(needle),
            || {
                format!(
                    "--- main log\n{}--- stderr\n{}",
                    self.main_log(),
                    std::fs::read_to_string(self.path().join("supervisord.stderr"))
                        .unwrap_or_default()
                )
            },
        );
    }

    /// Waits until `count` main log lines contain `needle`.
    fn wait_for_count(&self, needle: &str, count: usize) {
        wait_until(
            &format!("{count} lines with {needle:?} in supervisord's main log"),
            || self.main_log().matches(needle).count() >= count,
            || self.main_log(),
        );
    }
}

impl Drop for Supervisord {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        kill_tagged(&self.tag);
    }
}

/// Writes `supervisord.conf`: main log, pid file and child logs in `dir`, then `sections`.
fn write_config(dir: &Path, sections: &str) {
    let conf = format!(
        "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/supervisord.pid\n\
         childlogdir=%(here)s\n{sections}"
    );
    std::fs::write(dir.join("supervisord.conf"), conf).expect("write supervisord.conf");
}

/// Which client runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    /// `python -m supervisor.supervisorctl`.
    Supervisorctl,
    /// `svc ctl`.
    Svc,
}

impl Client {
    /// The command, run in `dir` with the clean environment and `-c supervisord.conf` when
    /// `dir` has one.
    fn command(self, dir: &Path, args: &[&str]) -> Command {
        let mut command = match self {
            Client::Supervisorctl => {
                let mut command = Command::new(python());
                command.args(["-m", "supervisor.supervisorctl"]);
                command
            }
            Client::Svc => {
                let mut command = Command::new(svc_binary());
                command.arg("ctl");
                command
            }
        };
        if dir.join("supervisord.conf").exists() && args.first() != Some(&"-c") {
            command.args(["-c", "supervisord.conf"]);
        }
        command
            .args(args)
            .current_dir(dir)
            .env_clear()
            .envs(CLEAN_ENV.iter().copied());
        command
    }
}

/// What a client printed and its exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Output {
    fn of(output: &std::process::Output) -> Output {
        Output {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs `client` with `args` in `dir`, `stdin` as its input.
fn run(client: Client, dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut command = client.command(dir, args);
    let input = tempfile::tempfile().expect("a file for stdin");
    {
        let mut writer = &input;
        std::io::Write::write_all(&mut writer, stdin.as_bytes()).expect("write stdin");
        std::io::Seek::rewind(&mut writer).expect("rewind stdin");
    }
    command.stdin(Stdio::from(input));
    Output::of(&run_with_deadline(command, DEADLINE))
}

/// `text` with what changes between runs replaced: `dirs` by `[DIR]`, then line by line
/// (see [`normalize_line`]).
fn normalize(text: &str, dirs: &[&Path]) -> String {
    let mut text = text.to_string();
    for dir in dirs {
        text = text.replace(&dir.display().to_string(), "[DIR]");
    }
    text.split_inclusive('\n').map(normalize_line).collect()
}

/// A line of digits is `N`; `pid 123, uptime 0:00:01` is `pid N, uptime T`; a stop time
/// (`Nov 21 06:29 PM`) at the end is `TIME`; the Python library path in `file: <path>` is
/// cut down to the part svc prints.
fn normalize_line(line: &str) -> String {
    let (body, end) = match line.strip_suffix('\n') {
        Some(body) => (body, "\n"),
        None => (line, ""),
    };
    if !body.is_empty() && body.bytes().all(|byte| byte.is_ascii_digit()) {
        return format!("N{end}");
    }
    let mut body = body.to_string();
    if let Some(at) = body.find("pid ") {
        let rest = &body[at + 4..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with(", uptime ") {
            body.truncate(at);
            body.push_str("pid N, uptime T");
        }
    }
    let shape = "Aaa 00 00:00 AM";
    if body.len() >= shape.len() && body.is_char_boundary(body.len() - shape.len()) {
        let tail = &body[body.len() - shape.len()..];
        let matches = tail
            .bytes()
            .zip(shape.bytes())
            .all(|(byte, expected)| match expected {
                b'A' => byte.is_ascii_uppercase(),
                b'a' => byte.is_ascii_lowercase(),
                b'0' => byte.is_ascii_digit(),
                b'M' => byte == b'M',
                other => byte == other,
            });
        if matches {
            body.truncate(body.len() - shape.len());
            body.push_str("TIME");
        }
    }
    if let Some(at) = body.rfind("file: ") {
        let start = at + "file: ".len();
        if let Some(length) = body[start..].find(" line: ") {
            let path = body[start..start + length].to_string();
            let short = match (path.find("site-packages/"), path.find("/lib/python")) {
                (Some(index), _) => path[index + "site-packages/".len()..].to_string(),
                (None, Some(index)) => {
                    let after = &path[index + "/lib/python".len()..];
                    after
                        .split_once('/')
                        .map_or(after.to_string(), |(_, rest)| rest.to_string())
                }
                (None, None) => path.clone(),
            };
            body.replace_range(start..start + length, &short);
        }
    }
    format!("{body}{end}")
}

/// Runs supervisorctl against `real` and `svc ctl` against `twin` (the same server, or one
/// with the same configuration), with `stdin`; asserts the same normalized stdout and exit
/// code and returns svc's output (normalized).
fn compare_with_input(real: &Path, twin: &Path, args: &[&str], stdin: &str) -> Output {
    compare_lines(real, twin, args, stdin, |text| text)
}

/// [`compare_with_input`] after `arrange` (the identity, or a sort of the lines).
fn compare_lines(
    real: &Path,
    twin: &Path,
    args: &[&str],
    stdin: &str,
    arrange: fn(String) -> String,
) -> Output {
    let expected = run(Client::Supervisorctl, real, args, stdin);
    let actual = run(Client::Svc, twin, args, stdin);
    let dirs = [real, twin];
    let expected_stdout = arrange(normalize(&expected.stdout, &dirs));
    let actual_stdout = arrange(normalize(&actual.stdout, &dirs));
    assert_eq!(
        (actual_stdout.as_str(), actual.code),
        (expected_stdout.as_str(), expected.code),
        "svc ctl {args:?} (left) differs from supervisorctl (right)\n--- svc stderr\n{}\n--- supervisorctl stderr\n{}",
        actual.stderr,
        expected.stderr
    );
    Output {
        code: actual.code,
        stdout: actual_stdout,
        stderr: normalize(&actual.stderr, &dirs),
    }
}

/// [`compare_with_input`] with an empty stdin.
fn compare(real: &Path, twin: &Path, args: &[&str]) -> Output {
    compare_with_input(real, twin, args, "")
}

/// [`compare`], ignoring the order of the lines: supervisord reports the processes of a
/// group (or of `all`) in the order they finish starting or stopping, which varies from
/// run to run.
fn compare_unordered(real: &Path, twin: &Path, args: &[&str]) -> Output {
    compare_lines(real, twin, args, "", |text| {
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        lines.join("\n")
    })
}

/// Both clients against one server.
fn same(dir: &Path, args: &[&str]) -> Output {
    compare(dir, dir, args)
}

/// Starts `client` with `args`, waits until its stdout contains `ready` or it exits, then
/// (if it still runs) sends it SIGINT, as Ctrl-C, and collects what it printed.
fn interrupted(client: Client, dir: &Path, args: &[&str], ready: &str) -> Output {
    let mut command = client.command(dir, args);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn the client");
    let stdout = Arc::new(Mutex::new(Vec::new()));
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let readers: Vec<_> = [
        (
            child
                .stdout
                .take()
                .map(|pipe| Box::new(pipe) as Box<dyn std::io::Read + Send>),
            Arc::clone(&stdout),
        ),
        (
            child
                .stderr
                .take()
                .map(|pipe| Box::new(pipe) as Box<dyn std::io::Read + Send>),
            Arc::clone(&stderr),
        ),
    ]
    .into_iter()
    .map(|(pipe, sink)| {
        std::thread::spawn(move || {
            let Some(mut pipe) = pipe else { return };
            let mut buffer = [0u8; 4096];
            while let Ok(read) = pipe.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                sink.lock()
                    .expect("output lock")
                    .extend_from_slice(&buffer[..read]);
            }
        })
    })
    .collect();
    let pid = i32::try_from(child.id()).expect("pid fits i32");
    let text = |buffer: &Arc<Mutex<Vec<u8>>>| {
        String::from_utf8_lossy(&buffer.lock().expect("output lock")).into_owned()
    };
    let mut exited = None;
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            exited = Some(status);
            break;
        }
        if text(&stdout).contains(ready) {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "{client:?} {args:?} printed neither {ready:?} nor exited\n--- stdout\n{}\n--- stderr\n{}",
                text(&stdout),
                text(&stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = match exited {
        Some(status) => status,
        None => {
            send_signal(pid, SIGINT);
            let deadline = Instant::now() + DEADLINE;
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    break status;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("{client:?} {args:?} ignored SIGINT");
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    };
    for reader in readers {
        let _ = reader.join();
    }
    Output {
        code: status.code(),
        stdout: text(&stdout),
        stderr: text(&stderr),
    }
}

/// Both clients following with Ctrl-C: the same stdout, stderr and exit code.
fn same_interrupted(dir: &Path, args: &[&str], ready: &str) -> Output {
    let expected = interrupted(Client::Supervisorctl, dir, args, ready);
    let actual = interrupted(Client::Svc, dir, args, ready);
    let dirs = [dir];
    let normalized = |output: &Output| Output {
        code: output.code,
        stdout: normalize(&output.stdout, &dirs),
        stderr: normalize(&output.stderr, &dirs),
    };
    assert_eq!(
        normalized(&actual),
        normalized(&expected),
        "svc ctl {args:?} (left) differs from supervisorctl (right)"
    );
    normalized(&actual)
}

/// A TCP port nothing listens on (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("bind an ephemeral port")
}

#[test]
fn status_and_queries_match_supervisorctl() {
    let supervisord = Supervisord::start(PROGRAMS);
    supervisord.wait_for_count("entered RUNNING state", 3);
    let dir = supervisord.path();

    let status = same(dir, &["status"]);
    assert_eq!(
        status.code,
        Some(3),
        "a stopped process makes status exit 3"
    );
    assert_eq!(
        status.stdout,
        format!(
            "{:<33}{:<10}Not started\n{:<33}{:<10}pid N, uptime T\n{:<33}{:<10}pid N, uptime T\n{:<33}{:<10}pid N, uptime T\n",
            "idle", "STOPPED", "pool:pool_0", "RUNNING", "pool:pool_1", "RUNNING", "web", "RUNNING"
        )
    );
    assert_eq!(same(dir, &["status", "web"]).code, Some(0));
    same(dir, &["status", "pool:*"]);
    same(dir, &["status", "web", "idle", "pool:pool_1"]);
    same(dir, &["status", "all"]);
    let unknown = same(dir, &["status", "nosuch"]);
    assert_eq!(
        (unknown.code, unknown.stdout.as_str()),
        (Some(4), "nosuch: ERROR (no such process)\n")
    );
    same(dir, &["status", "nogroup:*"]);
    same(dir, &["status", "web", "nosuch"]);
    same(dir, &["status;x"]);

    same(dir, &["pid"]);
    same(dir, &["pid", "web"]);
    assert_eq!(same(dir, &["pid", "idle"]).code, Some(7));
    same(dir, &["pid", "nosuch"]);
    same(dir, &["pid", "all"]);
    assert_eq!(same(dir, &["version"]).stdout, "4.3.0\n");
    same(dir, &["version", "x"]);
    let avail = same(dir, &["avail"]);
    assert!(
        avail
            .stdout
            .starts_with("idle                             in use    manual    999:999\n"),
        "{}",
        avail.stdout
    );
    same(dir, &["avail", "x"]);
    same(dir, &["reread"]);
    same(dir, &["reread", "x"]);
    same(dir, &["update", "nosuch"]);
    same(dir, &["clear", "nosuch"]);
    same(dir, &["clear"]);
    same(dir, &["add", "nosuch"]);
    same(dir, &["add"]);
    same(dir, &["remove", "web"]);
    same(dir, &["remove", "nosuch"]);
    same(dir, &["open", "ftp://x"]);
    for usage in [
        &["start"][..],
        &["stop"],
        &["restart"],
        &["signal"],
        &["signal", "HUP"],
        &["reload", "x"],
        &["shutdown", "x"],
        &["fg"],
        &["fg", "a", "b"],
        &["fg", "nosuch"],
        &["fg", "idle"],
    ] {
        same(dir, usage);
    }
}

#[test]
fn help_and_unknown_commands_match_supervisorctl() {
    let dir = Test::new();
    let dir = dir.path();
    let topics = same(dir, &["help"]);
    assert!(
        topics
            .stdout
            .contains("default commands (type help <topic>):")
    );
    for topic in [
        "add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload",
        "remove", "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail",
        "update", "version", "help", "nosuch", "EOF",
    ] {
        same(dir, &["help", topic]);
    }
    same(dir, &["help", "start", "stop"]);
    same(dir, &["?"]);
    let unknown = same(dir, &["frobnicate", "x"]);
    assert_eq!(
        (unknown.code, unknown.stdout.as_str()),
        (Some(1), "*** Unknown syntax: frobnicate x\n")
    );
    same(dir, &["!ls"]);
    same(dir, &["--", "-x"]);
    same(dir, &["quit"]);
    same(dir, &["exit"]);
    same(dir, &["EOF"]);
}

#[test]
fn tail_and_maintail_match_supervisorctl() {
    let supervisord = Supervisord::start(
        "[program:talker]\ncommand=sh -c 'echo first; echo second; echo oops >&2; exec sleep 1000'\n\
         startsecs=0\n",
    );
    supervisord.wait_for_log("success: talker entered RUNNING");
    let dir = supervisord.path();
    wait_until(
        "the talker's output",
        || run(Client::Supervisorctl, dir, &["tail", "talker"], "").stdout == "first\nsecond\n\n",
        || run(Client::Supervisorctl, dir, &["tail", "talker"], "").stdout,
    );
    assert_eq!(same(dir, &["tail", "talker"]).stdout, "first\nsecond\n\n");
    same(dir, &["tail", "-7", "talker"]);
    same(dir, &["tail", "-0", "talker"]);
    same(dir, &["tail", "+3", "talker"]);
    same(dir, &["tail", "talker", "stderr"]);
    same(dir, &["tail", "talker", "STDOUT"]);
    same(dir, &["tail", "nosuch"]);
    same(dir, &["tail"]);
    same(dir, &["tail", "a", "b", "c", "d"]);
    same(dir, &["tail", "-x", "talker"]);
    same(dir, &["tail", "talker", "other"]);
    same(dir, &["tail", "-f"]);
    let overflow = same(dir, &["tail", "-99999999999", "talker"]);
    assert_eq!(
        overflow.stdout,
        "error: <class 'OverflowError'>, int exceeds XML-RPC limits: file: xmlrpc/client.py line: 552\n"
    );
    same(dir, &["maintail", "-200"]);
    same(dir, &["maintail"]);
    same(dir, &["maintail", "-x"]);
    same(dir, &["maintail", "x"]);
    same(dir, &["maintail", "a", "b"]);

    let followed = same_interrupted(dir, &["tail", "-f", "talker"], "second\n");
    assert_eq!(
        (followed.code, followed.stdout.as_str()),
        (Some(0), "==> Press Ctrl-C to exit <==\nfirst\nsecond\n\n")
    );
    same_interrupted(dir, &["tail", "-f", "talker", "stderr"], "oops\n");
    same_interrupted(dir, &["maintail", "-f"], "success: talker entered RUNNING");
}

/// Two supervisord with one configuration, each waiting for `running` processes.
fn twins(sections: &str, running: usize) -> (Supervisord, Supervisord) {
    let real = Supervisord::start(sections);
    let twin = Supervisord::start(sections);
    for supervisord in [&real, &twin] {
        supervisord.wait_for_count("entered RUNNING state", running);
    }
    (real, twin)
}

#[test]
fn process_control_matches_supervisorctl_on_twin_daemons() {
    let (real, twin) = twins(PROGRAMS, 3);
    let steps: &[&[&str]] = &[
        &["start", "idle"],
        &["start", "idle"],
        &["stop", "pool:*"],
        &["stop", "pool:pool_0"],
        &["status"],
        &["restart", "web"],
        &["start", "nosuch"],
        &["start", "nogroup:*"],
        &["stop", "nosuch"],
        &["stop", "nogroup:*"],
        &["start", "pool:"],
        &["signal", "HUP", "web"],
        &["signal", "BAD", "web"],
        &["signal", "USR1", "pool:*"],
        &["signal", "HUP", "nogroup:*"],
        &["signal", "HUP", "nosuch"],
        &["signal", "HUP", "all"],
        &["clear", "all"],
        &["clear", "web"],
        &["clear", "pool:*"],
        &["pid", "all"],
        &["stop", "web", "idle"],
        &["signal", "HUP", "idle"],
        &["status"],
        &["start", "all"],
        &["restart", "all"],
        &["stop", "all"],
        &["status"],
    ];
    for step in steps {
        let many = step
            .iter()
            .any(|arg| *arg == "all" || arg.ends_with(":*") || arg.ends_with(':'));
        if many {
            compare_unordered(real.path(), twin.path(), step);
        } else {
            compare(real.path(), twin.path(), step);
        }
    }
}

#[test]
fn spawn_errors_match_supervisorctl_on_twin_daemons() {
    let (real, twin) = twins(
        "[program:missing]\ncommand=/nonexistent/binary\nautostart=false\n\
         [program:quick]\ncommand=sh -c 'exit 1'\nautostart=false\nstartretries=0\n",
        0,
    );
    let missing = compare(real.path(), twin.path(), &["start", "missing"]);
    assert_eq!(
        (missing.code, missing.stdout.as_str()),
        (Some(1), "missing: ERROR (no such file)\n")
    );
    let quick = compare(real.path(), twin.path(), &["start", "quick"]);
    assert_eq!(
        (quick.code, quick.stdout.as_str()),
        (Some(7), "quick: ERROR (spawn error)\n")
    );
    compare(real.path(), twin.path(), &["status", "quick"]);
    compare(real.path(), twin.path(), &["signal", "HUP", "quick"]);
    compare(real.path(), twin.path(), &["stop", "quick"]);
}

#[test]
fn reread_and_update_match_supervisorctl_on_twin_daemons() {
    let (real, twin) = twins(PROGRAMS, 3);
    let changed = PROGRAMS
        .replace("[program:idle]\ncommand=sleep 1000\nautostart=false\n", "")
        .replace(
            "[program:web]\ncommand=sleep 1000",
            "[program:web]\ncommand=sleep 1001",
        );
    let changed = format!(
        "{UNIX_SERVER}{changed}[program:new]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:other]\ncommand=sleep 1000\nstartsecs=0\n"
    );
    for supervisord in [&real, &twin] {
        write_config(supervisord.path(), &changed);
    }
    let reread = compare(real.path(), twin.path(), &["reread"]);
    assert_eq!(
        reread.stdout,
        "idle: disappeared\nnew: available\nother: available\nweb: changed\n"
    );
    let steps: &[&[&str]] = &[
        &["avail"],
        &["update", "nosuch", "new"],
        &["status"],
        &["update"],
        &["reread"],
        &["update", "all"],
        &["status"],
        &["remove", "new"],
        &["stop", "new"],
        &["remove", "new"],
        &["add", "new"],
        &["add", "new"],
        &["status", "new"],
    ];
    for step in steps {
        compare(real.path(), twin.path(), step);
    }
    // A configuration supervisord cannot read: `reread` reports it, `update` raises it.
    for supervisord in [&real, &twin] {
        write_config(
            supervisord.path(),
            &format!("{UNIX_SERVER}[program:broken]\nnumprocs=x\ncommand=sleep 1\n"),
        );
    }
    let reread = compare(real.path(), twin.path(), &["reread"]);
    assert!(
        reread.stdout.starts_with("ERROR: CANT_REREAD: "),
        "{}",
        reread.stdout
    );
    let update = compare(real.path(), twin.path(), &["update"]);
    assert!(
        update
            .stdout
            .starts_with("error: <class 'xmlrpc.client.Fault'>, <Fault 92: "),
        "{}",
        update.stdout
    );
}

#[test]
fn shutdown_and_reload_match_supervisorctl_on_twin_daemons() {
    let (real, twin) = twins(PROGRAMS, 3);
    // Confirmations are read from stdin with -i; "n" does nothing.
    compare_with_input(real.path(), twin.path(), &["-i", "shutdown"], "n\n");
    compare_with_input(real.path(), twin.path(), &["-i", "reload"], "no\n");
    compare_with_input(real.path(), twin.path(), &["-i", "shutdown"], "");
    let reload = compare(real.path(), twin.path(), &["reload"]);
    assert_eq!(reload.stdout, "Restarted supervisord\n");
    for supervisord in [&real, &twin] {
        supervisord.wait_for_count("supervisord started with pid", 2);
    }
    let shutdown = compare(real.path(), twin.path(), &["shutdown"]);
    assert_eq!(
        (shutdown.code, shutdown.stdout.as_str()),
        (Some(0), "Shut down\n")
    );
    for supervisord in [&real, &twin] {
        wait_until(
            "the socket file to be removed at exit",
            || !supervisord.path().join("supervisor.sock").exists(),
            || supervisord.main_log(),
        );
    }
    let gone = compare(real.path(), twin.path(), &["shutdown"]);
    assert_eq!(gone.code, Some(1));
    assert!(
        gone.stdout.contains("no such file (already shut down?)"),
        "{}",
        gone.stdout
    );
    compare(real.path(), twin.path(), &["status"]);
    compare(real.path(), twin.path(), &["version"]);
    compare(real.path(), twin.path(), &["avail"]);
}

#[test]
fn interactive_shell_matches_supervisorctl() {
    let supervisord = Supervisord::start(PROGRAMS);
    supervisord.wait_for_count("entered RUNNING state", 3);
    let dir = supervisord.path();
    let session = compare_with_input(
        dir,
        dir,
        &[],
        "status web\n\n  \nfoo\nhelp quit\nversion\nstart nosuch\n",
    );
    assert_eq!(session.code, Some(0), "the shell always exits 0");
    assert!(
        session
            .stdout
            .ends_with("supervisor> *** Unknown syntax: foo\nsupervisor> quit\tExit the supervisor shell.\nsupervisor> 4.3.0\nsupervisor> nosuch: ERROR (no such process)\nsupervisor> \n"),
        "{}",
        session.stdout
    );
    compare_with_input(dir, dir, &["-i"], "quit\nstatus\n");
    compare_with_input(
        dir,
        dir,
        &[],
        "open unix:///nonexistent.sock\nstatus\nopen x\n",
    );
    compare_with_input(dir, dir, &[], "shutdown\nn\nreload\n\nexit\n");
    compare_with_input(dir, dir, &["-i", "status", "web"], "");
    // The prompt comes from [supervisorctl].
    let prompted = Test::new();
    std::fs::write(
        prompted.path().join("supervisord.conf"),
        format!(
            "[supervisorctl]\nserverurl=unix://{}/supervisor.sock\nprompt=mine\n",
            dir.display()
        ),
    )
    .expect("write the client configuration");
    let session = compare_with_input(prompted.path(), prompted.path(), &[], "version\n");
    assert!(
        session.stdout.ends_with("mine> 4.3.0\nmine> \n"),
        "{}",
        session.stdout
    );
}

#[test]
fn authentication_over_tcp_matches_supervisorctl() {
    let port = free_port();
    let supervisord = Supervisord::start(&format!(
        "[inet_http_server]\nport=127.0.0.1:{port}\nusername=user\npassword=secret\n{PROGRAMS}"
    ));
    supervisord.wait_for_count("entered RUNNING state", 3);
    let dir = supervisord.path();
    let url = format!("http://127.0.0.1:{port}");
    let anonymous = same(dir, &["-s", &url, "status"]);
    assert_eq!(
        (anonymous.code, anonymous.stdout.as_str()),
        (
            Some(1),
            "Server requires authentication\nerror: <class 'xmlrpc.client.ProtocolError'>, \
             <ProtocolError for 127.0.0.1/RPC2: 401 Unauthorized>: file: supervisor/xmlrpc.py line: 539\n"
        )
    );
    same(dir, &["-s", &url, "-u", "user", "-p", "wrong", "status"]);
    same(dir, &["-s", &url, "-u", "user", "-p", "wrong", "avail"]);
    same(dir, &["-s", &url, "-u", "user", "-p", "wrong", "shutdown"]);
    same(
        dir,
        &["-s", &url, "-u", "user", "-p", "secret", "status", "web"],
    );
    same(
        dir,
        &["-s", &url, "-u", "user", "-p", "secret", "tail", "web"],
    );
    // Interactively, a 401 asks for credentials and runs the command again.
    compare_with_input(dir, dir, &["-s", &url], "user\nsecret\nversion\n");
}

#[test]
fn connection_failures_match_supervisorctl() {
    let test = Test::new();
    let dir = test.path();
    let refused = format!("http://127.0.0.1:{}", free_port());
    let status = same(dir, &["-s", &refused, "status"]);
    assert_eq!(
        (status.code, status.stdout),
        (Some(4), format!("{refused} refused connection\n"))
    );
    for command in [
        &["start", "web"][..],
        &["pid"],
        &["version"],
        &["avail"],
        &["reload"],
        &["shutdown"],
        &["add", "x"],
        &["tail", "-f", "web"],
    ] {
        let mut args = vec!["-s", refused.as_str()];
        args.extend_from_slice(command);
        same(dir, &args);
    }
    let missing = format!("unix://{}/missing.sock", dir.display());
    let status = same(dir, &["-s", &missing, "status"]);
    assert_eq!(
        (status.code, status.stdout),
        (
            Some(4),
            "unix://[DIR]/missing.sock no such file\n".to_string()
        )
    );
    for command in [&["version"][..], &["avail"], &["shutdown"], &["update"]] {
        let mut args = vec!["-s", missing.as_str()];
        args.extend_from_slice(command);
        same(dir, &args);
    }
    same(dir, &["-s", "https://example.invalid", "status"]);
    same(dir, &["-s", "http://host:port", "status"]);
    same(dir, &["-s", "not-a-url", "status"]);
}

#[test]
fn configuration_problems_match_supervisorctl() {
    let test = Test::new()
        .file("client-only.conf", "[unix_http_server]\nfile=/tmp/x.sock\n")
        .file(
            "ctl.conf",
            "[supervisorctl]\nserverurl=unix://%(here)s/nothing.sock\n",
        );
    let dir = test.path();
    same(dir, &["-c", "missing.conf", "status"]);
    let no_section = same(dir, &["-c", "client-only.conf", "status"]);
    assert_eq!((no_section.code, no_section.stdout.as_str()), (Some(2), ""));
    let relative = same(dir, &["-c", "ctl.conf", "status"]);
    assert_eq!(relative.stdout, "unix://[DIR]/nothing.sock no such file\n");
}

/// Where svc ctl differs on purpose: a file with INI syntax errors makes supervisorctl die
/// with a Python traceback (exit 1); svc ctl prints the diagnostics and exits 2.
#[test]
fn a_file_that_does_not_parse_is_refused_with_diagnostics() {
    let test = Test::new().file(
        "supervisord.conf",
        "[supervisorctl]\nserverurl=unix:///tmp/x.sock\nthis line has no equals sign\n",
    );
    let refused = run(Client::Svc, test.path(), &["status"], "");
    assert_eq!((refused.code, refused.stdout.as_str()), (Some(2), ""));
    assert!(refused.stderr.contains("svc::ini::"), "{}", refused.stderr);
    let traceback = run(Client::Supervisorctl, test.path(), &["status"], "");
    assert_eq!(traceback.code, Some(1), "{}", traceback.stderr);
}

#[test]
fn svc_run_serves_svc_ctl_as_it_serves_supervisorctl() {
    let daemon = Setup::new().start(&format!(
        "{UNIX_SERVER}{PROGRAMS}[program:talker]\ncommand=sh -c 'echo first; echo second; exec sleep 1000'\nstartsecs=0\n"
    ));
    daemon.wait_for_count("success: ", 4);
    let dir = daemon.path();
    for command in [
        &["status"][..],
        &["status", "pool:*"],
        &["status", "nosuch"],
        &["pid", "idle"],
        &["version"],
        &["avail"],
        &["reread"],
        &["clear", "nosuch"],
        &["maintail", "-300"],
        &["signal", "HUP", "idle"],
        &["start", "nosuch"],
    ] {
        same(dir, command);
    }
    wait_until(
        "the talker's output",
        || run(Client::Svc, dir, &["tail", "talker"], "").stdout == "first\nsecond\n\n",
        || run(Client::Svc, dir, &["tail", "talker"], "").stdout,
    );
    same(dir, &["tail", "talker"]);
    // Whether svc serves /logtail yet or answers 404, both clients must agree.
    same_interrupted(dir, &["tail", "-f", "talker"], "second\n");
}

#[test]
fn normalization_keeps_what_matters() {
    assert_eq!(
        normalize_line(
            "web                              RUNNING   pid 123, uptime 1 day, 0:00:02\n"
        ),
        "web                              RUNNING   pid N, uptime T\n"
    );
    assert_eq!(
        normalize_line("idle                             STOPPED   Nov 21 06:29 PM"),
        "idle                             STOPPED   TIME"
    );
    assert_eq!(normalize_line("12345\n"), "N\n");
    assert_eq!(
        normalize_line(
            "error: <class 'X'>, y: file: /root/.pyenv/versions/3.11.7/lib/python3.11/socket.py line: 836"
        ),
        "error: <class 'X'>, y: file: socket.py line: 836"
    );
    assert_eq!(
        normalize_line("file: /usr/lib/python3/site-packages/supervisor/xmlrpc.py line: 539"),
        "file: supervisor/xmlrpc.py line: 539"
    );
}
