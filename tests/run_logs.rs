//! Logs in `svc run`: the main log (levels, the debug copy of child output, rotation, stdout
//! in the foreground, `clearLog`), child logs (`maxbytes=0`, `backups=0`, `/dev/stdout`,
//! bytes kept exactly, files opened at each spawn) and the tails the control plane reads
//! from them after a rotation (`supervisorctl tail`, `maintail`, `clear`,
//! `readProcessStdoutLog`, `tailProcess*Log`).
//!
//! Expected output is supervisord 4.3.0's. With `SVC_REFERENCE_SUPERVISORD` set, every test
//! passes against supervisord. Where supervisord writes lines svc does not, on purpose,
//! the tests do not look for them: at `loglevel=debug` supervisord also logs `fd 7 closed,
//! stopped monitoring <POutputDispatcher at 140646345855440 ...>`, at `trace` the medusa
//! access log, at `blather` `read event caused by <POutputDispatcher ...>`: Python object
//! addresses and a web server svc does not have, with nothing to check.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::Test;
use crate::support::control::{UNIX_SERVER, supervisorctl, xmlrpc, xmlrpc_in};
use crate::support::daemon::{
    DEADLINE, Daemon, REFERENCE, SIGKILL, SIGTERM, Setup, all_pids, daemon_args, parse_log,
    send_signal, stat, wait_until,
};

/// `python3 steps.py`: writes `hello\n` to stdout, waits for the file `go1`, writes `oops\n`
/// to stderr, waits for `go2`, writes the undecodable `\xff\xfeabc\n` to stdout, waits for
/// `go3` and exits 0. Each write is one read for the daemon.
const STEPS: &str = r#"import os, sys, time
here = os.path.dirname(os.path.abspath(sys.argv[0]))
def wait(name):
    while not os.path.exists(os.path.join(here, name)):
        time.sleep(0.01)
os.write(1, b"hello\n")
wait("go1")
os.write(2, b"oops\n")
wait("go2")
os.write(1, b"\xff\xfeabc\n")
wait("go3")
"#;

const STEPS_PROGRAM: &str = "[program:p]\ncommand=python3 %(here)s/steps.py\nstartsecs=0\n\
     autorestart=false\nstdout_logfile=%(here)s/p.out\nstderr_logfile=%(here)s/p.err\n";

/// Runs [`STEPS`] at `loglevel`; `copied` says whether its output shows in the main log.
/// Returns the main log once the daemon has exited.
fn steps_at(loglevel: &str, copied: bool) -> String {
    let mut daemon = Setup::new()
        .supervisord(&format!("loglevel={loglevel}"))
        .file("steps.py", STEPS)
        .start(STEPS_PROGRAM);
    let hello = " DEBG 'p' stdout output:\nhello\n\n";
    let oops = " DEBG 'p' stderr output:\noops\n\n";
    let undecodable = " DEBG 'p' stdout output:\nUndecodable: b'\\xff\\xfeabc\\n'\n";
    let steps = [
        ("p.out", "hello\n", hello, "go1"),
        ("p.err", "oops\n", oops, "go2"),
        ("p.out", "\u{fffd}\u{fffd}abc\n", undecodable, "go3"),
    ];
    for (file, tail, line, go) in steps {
        daemon.wait_showing(
            &format!("{tail:?} in {file}"),
            || {
                String::from_utf8_lossy(&std::fs::read(daemon.join(file)).unwrap_or_default())
                    .ends_with(tail)
            },
            || format!("--- {file}\n{:?}\n", daemon.read(file)),
        );
        if copied {
            daemon.wait_for_log(line);
        }
        std::fs::write(daemon.join(go), "").expect("write a go file");
    }
    daemon.wait_for_log("exited: p (exit status 0; expected)");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0), "{}", daemon.report());
    daemon.main_log()
}

/// At `loglevel=debug` each read of a child's output is copied into the main log as one
/// `DEBG '<name>' <channel> output:` message with the bytes on the next lines (the record's
/// own newline follows them); bytes that are not UTF-8 show as `Undecodable: b'...'`.
/// Stopping logs the kill and the SIGCHLD at DEBG too.
#[test]
fn debug_copies_each_read_of_child_output_into_the_main_log() {
    let log = steps_at("debug", true);
    for line in [
        " DEBG 'p' stdout output:\nhello\n\n",
        " DEBG 'p' stderr output:\noops\n\n",
        " DEBG 'p' stdout output:\nUndecodable: b'\\xff\\xfeabc\\n'\n",
        " DEBG received SIGCHLD indicating a child quit\n",
    ] {
        assert!(log.contains(line), "no {line:?} in\n{log}");
    }
    // supervisord reaps (logging the exit) before it handles the SIGCHLD.
    let exited = log.find("exited: p (exit status 0; expected)");
    let sigchld = log.find("received SIGCHLD indicating a child quit");
    assert!(exited.is_some() && exited < sigchld, "{log}");
    // Every message is one stamped line plus its continuation lines.
    let levels: Vec<String> = parse_log(&log).into_iter().map(|line| line.level).collect();
    assert!(levels.iter().all(|level| level != "TRAC"), "{log}");
}

/// At `loglevel=trace` each XML-RPC call is traced with its outcome. (supervisord also
/// traces medusa's access log line, which svc does not write.)
#[test]
fn trace_shows_each_xmlrpc_call_and_its_outcome() {
    let mut daemon = Setup::new().supervisord("loglevel=trace").start(&format!(
        "{UNIX_SERVER}[program:p]\ncommand=sleep 1000\nstartsecs=0\n"
    ));
    daemon.wait_for_log("success: p entered RUNNING state");
    xmlrpc(
        &daemon,
        "proxy.supervisor.getAllProcessInfo()\n\
         try:\n    proxy.supervisor.getProcessInfo('nope')\nexcept xmlrpc.client.Fault:\n    pass",
    );
    let messages: Vec<String> = daemon
        .lines()
        .into_iter()
        .filter(|line| line.level == "TRAC" && line.message.starts_with("XML-RPC"))
        .map(|line| line.message)
        .collect();
    assert_eq!(
        messages,
        [
            "XML-RPC method called: supervisor.getAllProcessInfo()",
            "XML-RPC method supervisor.getAllProcessInfo() returned successfully",
            "XML-RPC method called: supervisor.getProcessInfo()",
            "XML-RPC method supervisor.getProcessInfo() returned fault: [10] BAD_NAME: nope",
        ],
        "{}",
        daemon.main_log()
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// `trace` and `blather` are below `debug`: the copies are there too.
#[test]
fn trace_and_blather_include_the_debug_lines() {
    for level in ["trace", "blather"] {
        let log = steps_at(level, true);
        assert!(
            log.contains(" DEBG 'p' stdout output:\nhello\n\n"),
            "{level}:\n{log}"
        );
    }
}

/// At the default `info` nothing of the output and no DEBG line reaches the main log.
#[test]
fn info_copies_nothing() {
    let log = steps_at("info", false);
    assert!(!log.contains("output:"), "{log}");
    let levels: Vec<String> = parse_log(&log).into_iter().map(|line| line.level).collect();
    assert!(
        levels
            .iter()
            .all(|level| ["CRIT", "ERRO", "WARN", "INFO"].contains(&level.as_str())),
        "{log}"
    );
}

/// `python3 blocks.py N`: writes its pid to the file `pid`, then N blocks of 20 lines
/// (`0000\n` …), one write each, 20 ms apart.
const BLOCKS: &str = r#"import os, sys, time
here = os.path.dirname(os.path.abspath(sys.argv[0]))
with open(os.path.join(here, "pid.tmp"), "w") as file:
    file.write(str(os.getpid()))
os.rename(os.path.join(here, "pid.tmp"), os.path.join(here, "pid"))
number = 0
for block in range(int(sys.argv[1])):
    data = b""
    for _ in range(20):
        data += b"%04d\n" % number
        number += 1
    os.write(1, data)
    time.sleep(0.02)
"#;

/// What [`BLOCKS`] writes for `blocks` blocks.
fn blocks_output(blocks: usize) -> String {
    (0..blocks * 20)
        .map(|number| format!("{number:04}\n"))
        .collect()
}

/// The bytes of the `'b' stdout output:` messages of a main log text, in order.
fn copied_output(text: &str) -> String {
    parse_log(text)
        .into_iter()
        .filter_map(|line| {
            line.message
                .strip_prefix("'b' stdout output:\n")
                .map(str::to_string)
        })
        .collect()
}

/// Runs [`BLOCKS`] with `loglevel=debug` and the given main log settings; returns the
/// daemon after it exited.
fn main_log_with(settings: &str, blocks: usize) -> Daemon {
    let mut daemon = Setup::new()
        .supervisord(&format!("loglevel=debug\n{settings}"))
        .file("blocks.py", BLOCKS)
        .start(&format!(
            "[program:b]\ncommand=python3 %(here)s/blocks.py {blocks}\nstartsecs=0\n\
             autorestart=false\nstdout_logfile=NONE\n"
        ));
    // The `exited:` line may be rotated away: wait for the child to be reaped instead (its
    // output is drained and its exit logged by then).
    daemon.wait_for("b's pid", || daemon.join("pid").exists());
    let pid: i32 = daemon.read("pid").parse().expect("a pid in the file pid");
    daemon.wait_for("b to be reaped", || stat(pid).is_none());
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0), "{}", daemon.report());
    daemon
}

/// The numbered backups of `name` in the test directory: their indexes, sorted.
fn backups(daemon: &Daemon, name: &str) -> Vec<u32> {
    let mut indexes: Vec<u32> = std::fs::read_dir(daemon.path())
        .expect("list the test directory")
        .flatten()
        .filter_map(|entry| {
            let file = entry.file_name().to_string_lossy().into_owned();
            file.strip_prefix(&format!("{name}."))?.parse().ok()
        })
        .collect();
    indexes.sort_unstable();
    indexes
}

/// `logfile_maxbytes`/`logfile_backups`: after the record that takes the main log to
/// maxbytes, `main.log` becomes `main.log.1` (older ones move up); a record is never split
/// between files, so each file starts with a stamped line and every rotated one holds at
/// least maxbytes; read oldest first, the files hold every record once, in order.
#[test]
fn the_main_log_rotates_whole_records_into_numbered_backups() {
    let daemon = main_log_with("logfile_maxbytes=2KB\nlogfile_backups=30", 40);
    let indexes = backups(&daemon, "main.log");
    assert!(indexes.len() >= 3, "too few rotations: {indexes:?}");
    assert_eq!(indexes, (1..=indexes.len() as u32).collect::<Vec<_>>());
    let mut text = String::new();
    for index in indexes.iter().rev() {
        let name = format!("main.log.{index}");
        let part = daemon.read(&name);
        assert!(part.len() >= 2048, "{name} has {} bytes", part.len());
        assert!(part.ends_with('\n'), "{name} ends inside a record");
        // Panics unless the file starts with a stamped line.
        parse_log(&part);
        text.push_str(&part);
    }
    text.push_str(&daemon.main_log());
    assert_eq!(copied_output(&text), blocks_output(40));
}

/// `logfile_backups=0`: reaching maxbytes truncates the main log; no backup is made.
#[test]
fn the_main_log_without_backups_is_truncated() {
    let daemon = main_log_with("logfile_maxbytes=1KB\nlogfile_backups=0", 40);
    assert_eq!(backups(&daemon, "main.log"), Vec::<u32>::new());
    let text = daemon.main_log();
    parse_log(&text);
    assert!(text.len() < 2048, "main.log has {} bytes", text.len());
    let kept = copied_output(&text);
    assert!(!kept.starts_with("0000\n"), "never truncated:\n{text}");
    assert!(blocks_output(40).ends_with(&kept), "{kept:?}");
}

/// `logfile_maxbytes=0`: the main log never rotates, whatever `logfile_backups` says.
#[test]
fn the_main_log_with_maxbytes_0_never_rotates() {
    let daemon = main_log_with("logfile_maxbytes=0\nlogfile_backups=3", 40);
    assert_eq!(backups(&daemon, "main.log"), Vec::<u32>::new());
    assert_eq!(copied_output(&daemon.main_log()), blocks_output(40));
}

/// `python3 paced.py LOG N SIZE`: N lines of SIZE bytes (`000....\n`), one write each; after
/// each write it waits until its log file `LOG` changed size, so that every write is one
/// record of the log.
const PACED: &str = r#"import os, sys, time
log, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def size_of():
    try:
        return os.stat(log).st_size
    except FileNotFoundError:
        return -1
for number in range(count):
    before = size_of()
    os.write(1, b"%03d" % number + b"." * (size - 4) + b"\n")
    while size_of() == before:
        time.sleep(0.002)
"#;

fn paced_lines(numbers: std::ops::Range<usize>) -> String {
    numbers
        .map(|number| format!("{number:03}{}\n", ".".repeat(96)))
        .collect()
}

/// `stdout_logfile_maxbytes=0` never rotates (whatever the backups); with
/// `stdout_logfile_backups=0` a log that reaches maxbytes is truncated, no backup made.
#[test]
fn child_logs_with_maxbytes_0_or_no_backups() {
    let mut daemon = Setup::new().file("paced.py", PACED).start(
        "[program:z]\ncommand=python3 %(here)s/paced.py %(here)s/z.log 25 100\nstartsecs=0\n\
         autorestart=false\nstdout_logfile=%(here)s/z.log\nstdout_logfile_maxbytes=1KB\n\
         stdout_logfile_backups=0\n\
         [program:u]\ncommand=python3 %(here)s/paced.py %(here)s/u.log 25 100\nstartsecs=0\n\
         autorestart=false\nstdout_logfile=%(here)s/u.log\nstdout_logfile_maxbytes=0\n\
         stdout_logfile_backups=2\n",
    );
    daemon.wait_for_log("exited: z (exit status 0; expected)");
    daemon.wait_for_log("exited: u (exit status 0; expected)");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
    // 1024 bytes are reached by the 11th and the 22nd line: what is left is 3 lines.
    assert_eq!(daemon.read("z.log"), paced_lines(22..25));
    assert_eq!(backups(&daemon, "z.log"), Vec::<u32>::new());
    assert_eq!(daemon.read("u.log"), paced_lines(0..25));
    assert_eq!(backups(&daemon, "u.log"), Vec::<u32>::new());
}

/// Writes every byte value, an undecodable line without a newline, a 300,000-byte line
/// to stderr (more than a pipe holds, more than one read), then a UTF-8 line.
const BINARY: &str = r#"import os
os.write(1, bytes(range(256)))
os.write(1, b"\xff\xfe no newline")
os.write(2, b"L" * 300000)
os.write(1, "caf\u00e9 \u2603\n".encode())
os.write(2, b"\x00end")
"#;

/// Output lands in the logs byte for byte: binary bytes, no trailing newline, lines longer
/// than a read; stdout and stderr each in their own file. Spliced (`info`) and read
/// through user space (`debug`) alike.
#[test]
fn output_lands_in_the_logs_byte_for_byte() {
    let mut stdout = (0..=255u8).collect::<Vec<u8>>();
    stdout.extend_from_slice(b"\xff\xfe no newline");
    stdout.extend_from_slice("caf\u{e9} \u{2603}\n".as_bytes());
    let mut stderr = vec![b'L'; 300_000];
    stderr.extend_from_slice(b"\x00end");
    for loglevel in ["info", "debug"] {
        let mut daemon = Setup::new()
            .supervisord(&format!("loglevel={loglevel}"))
            .file("binary.py", BINARY)
            .start(
                "[program:b]\ncommand=python3 %(here)s/binary.py\nstartsecs=0\nautorestart=false\n\
                 stdout_logfile=%(here)s/b.out\nstderr_logfile=%(here)s/b.err\n",
            );
        daemon.wait_for_log("exited: b (exit status 0; expected)");
        assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
        let read = |name: &str| std::fs::read(daemon.join(name)).unwrap_or_default();
        assert!(read("b.out") == stdout, "{loglevel}: b.out differs");
        assert!(read("b.err") == stderr, "{loglevel}: b.err differs");
    }
}

/// Writes 1,500 bytes to stdout (a rotation at 1KB: `r.log.1` takes them, `r.log` starts
/// empty), waits for the file `go`, then writes `tail-me\n` to stdout and 1,500 bytes to
/// stderr (rotated the same way).
const ROTATE: &str = r#"import os, sys, time
here = os.path.dirname(os.path.abspath(sys.argv[0]))
os.write(1, b"A" * 1500 + b"\n")
while not os.path.exists(os.path.join(here, "go")):
    time.sleep(0.01)
os.write(1, b"tail-me\n")
os.write(2, b"E" * 1500 + b"\n")
time.sleep(1000)
"#;

/// Tails are read from the current file only: after a rotation `tail` shows what was
/// written since, `readProcessStdoutLog` and `tailProcess*Log` count offsets in the new
/// file, and `clear` empties the current files and leaves the backups alone. `maintail`
/// is the end of the main log file.
#[test]
fn tails_after_a_rotation_read_the_current_file_and_clear_keeps_backups() {
    let mut daemon = Setup::new().file("rotate.py", ROTATE).start(&format!(
        "{UNIX_SERVER}[program:r]\ncommand=python3 %(here)s/rotate.py\nstartsecs=0\n\
         stdout_logfile=%(here)s/r.log\nstdout_logfile_maxbytes=1KB\nstdout_logfile_backups=3\n\
         stderr_logfile=%(here)s/r.err\nstderr_logfile_maxbytes=1KB\nstderr_logfile_backups=1\n"
    ));
    let a_line = format!("{}\n", "A".repeat(1500));
    daemon.wait_for_file("r.log.1", &a_line);
    assert_eq!(daemon.read("r.log"), "");
    // supervisorctl prints the bytes, then a newline of its own.
    assert_eq!(supervisorctl(&daemon, &["tail", "r"]).stdout, "\n");
    std::fs::write(daemon.join("go"), "").expect("write go");
    daemon.wait_for_file("r.log", "tail-me\n");
    let e_line = format!("{}\n", "E".repeat(1500));
    daemon.wait_for_file("r.err.1", &e_line);
    assert_eq!(supervisorctl(&daemon, &["tail", "r"]).stdout, "tail-me\n\n");
    assert_eq!(
        supervisorctl(&daemon, &["tail", "-3", "r"]).stdout,
        "me\n\n"
    );
    assert_eq!(
        supervisorctl(&daemon, &["tail", "r", "stderr"]).stdout,
        "\n"
    );
    assert_eq!(
        xmlrpc_in(
            daemon.path(),
            "s = proxy.supervisor\n\
             print(repr(s.readProcessStdoutLog('r', 0, 0)))\n\
             print(repr(s.readProcessStdoutLog('r', -3, 0)))\n\
             print(repr(s.readProcessStdoutLog('r', 2, 3)))\n\
             print(s.tailProcessStdoutLog('r', 0, 100))\n\
             print(s.tailProcessStdoutLog('r', 0, 4))\n\
             print(s.tailProcessStderrLog('r', 0, 100))"
        ),
        "'tail-me\\n'\n'me\\n'\n'il-'\n['tail-me\\n', 8, False]\n['-me\\n', 8, True]\n\
         ['', 0, False]\n"
    );
    let clear = supervisorctl(&daemon, &["clear", "r"]);
    assert_eq!((clear.code, clear.stdout.as_str()), (0, "r: cleared\n"));
    assert_eq!(daemon.read("r.log"), "");
    assert!(daemon.join("r.log").exists() && daemon.join("r.err").exists());
    assert_eq!(daemon.read("r.log.1"), a_line);
    assert_eq!(daemon.read("r.err.1"), e_line);
    let main_log = daemon.main_log();
    let maintail = supervisorctl(&daemon, &["maintail", "-100"]);
    assert_eq!(
        maintail.stdout,
        format!("{}\n", &main_log[main_log.len() - 100..])
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// supervisord opens a child's log files each time it spawns it: a log deleted while the
/// program is stopped is created again by the next start, and the new output goes there.
#[test]
fn a_deleted_log_file_is_created_again_by_the_next_spawn() {
    let mut daemon = Setup::new().start(&format!(
        "{UNIX_SERVER}[program:r]\ncommand=sh -c 'echo run-out; exec sleep 1000'\nstartsecs=0\n\
         stdout_logfile=%(here)s/r.log\n"
    ));
    daemon.wait_for_file("r.log", "run-out\n");
    assert_eq!(
        supervisorctl(&daemon, &["stop", "r"]).stdout,
        "r: stopped\n"
    );
    std::fs::remove_file(daemon.join("r.log")).expect("remove r.log");
    assert_eq!(
        supervisorctl(&daemon, &["start", "r"]).stdout,
        "r: started\n"
    );
    assert_eq!(daemon.wait_for_file("r.log", "\n"), "run-out\n");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// Before its first spawn a program has no log file (an explicit path is opened by the
/// spawn): `tail` says `ERROR (no log file)` (exit 1), `clear` has nothing to remove, and
/// the first start creates the file.
#[test]
fn a_program_never_started_has_no_log_file() {
    let mut daemon = Setup::new().start(&format!(
        "{UNIX_SERVER}[program:idle]\ncommand=sh -c 'echo idle-out; exec sleep 1000'\n\
         autostart=false\nstdout_logfile=%(here)s/idle.log\nstderr_logfile=%(here)s/idle.err\n"
    ));
    assert!(!daemon.join("idle.log").exists());
    assert!(!daemon.join("idle.err").exists());
    let tail = supervisorctl(&daemon, &["tail", "idle"]);
    assert_eq!(
        (tail.code, tail.stdout.as_str()),
        (1, "idle: ERROR (no log file)\n")
    );
    assert_eq!(
        supervisorctl(&daemon, &["clear", "idle"]).stdout,
        "idle: cleared\n"
    );
    assert!(!daemon.join("idle.log").exists());
    assert_eq!(
        supervisorctl(&daemon, &["start", "idle"]).stdout,
        "idle: started\n"
    );
    assert_eq!(daemon.wait_for_file("idle.log", "\n"), "idle-out\n");
    assert!(daemon.join("idle.err").exists());
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// A log file that cannot be opened when the program is spawned (a directory at the path,
/// or its directory removed since the configuration was read) is a spawn error,
/// `unknown error making dispatchers for '<name>': <errno name>`, and the program is not
/// started.
#[test]
fn a_log_file_that_cannot_be_opened_is_a_spawn_error() {
    let mut daemon = Setup::new()
        .file("dir/placeholder", "")
        .file("gone/placeholder", "")
        .start(&format!(
            "{UNIX_SERVER}[program:d]\ncommand=sleep 1000\nstartsecs=0\nstartretries=0\n\
             stdout_logfile=%(here)s/dir\n\
             [program:g]\ncommand=sleep 1000\nstartsecs=0\nstartretries=0\nautostart=false\n\
             stdout_logfile=%(here)s/gone/g.log\n"
        ));
    daemon.wait_for_log("gave up: d entered FATAL state");
    std::fs::remove_dir_all(daemon.join("gone")).expect("remove gone/");
    let start = supervisorctl(&daemon, &["start", "g"]);
    assert_eq!(
        (start.code, start.stdout.as_str()),
        (7, "g: ERROR (spawn error)\n")
    );
    daemon.wait_for_log("gave up: g entered FATAL state");
    assert_eq!(
        daemon.about("d"),
        [
            "INFO spawnerr: unknown error making dispatchers for 'd': EISDIR",
            "INFO gave up: d entered FATAL state, too many start retries too quickly",
        ]
    );
    assert_eq!(
        daemon.about("g"),
        [
            "INFO spawnerr: unknown error making dispatchers for 'g': ENOENT",
            "INFO gave up: g entered FATAL state, too many start retries too quickly",
        ]
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// A daemon in the foreground whose stdout the test reads (the [`Daemon`] harness sends it
/// to /dev/null and waits for an INFO line). Dropping it kills it and everything tagged
/// with its test directory.
struct Foreground {
    test: Test,
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    /// The reader of the daemon's stdout saw its end (the daemon and every child gone).
    stdout_closed: Arc<AtomicBool>,
}

impl Foreground {
    /// Writes `conf` as `supervisord.conf` and runs `svc run -n` (or the reference) on it.
    fn start(conf: &str) -> Foreground {
        Foreground::start_under(&["env"], conf)
    }

    /// [`Foreground::start`] under `wrapper` (a program that execs the rest of its
    /// arguments, such as `prlimit --fsize=N --`).
    fn start_under(wrapper: &[&str], conf: &str) -> Foreground {
        let test = Test::new().file("supervisord.conf", conf);
        let tag = test.path().display().to_string();
        Foreground::launch(test.env("SVC_TEST_TAG", &tag), wrapper)
    }

    /// Runs the daemon under `wrapper` in `test`'s directory (where `supervisord.conf` is,
    /// with the test's tag in its environment), its stdout collected by a thread.
    fn launch(test: Test, wrapper: &[&str]) -> Foreground {
        let mut command = Command::new(wrapper[0]);
        command.args(&wrapper[1..]);
        daemon_args(&mut command);
        test.prepare(&mut command);
        command.stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = command.spawn().expect("start the daemon");
        let mut pipe = child.stdout.take().expect("the daemon's stdout");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stdout_closed = Arc::new(AtomicBool::new(false));
        let (sink, closed) = (Arc::clone(&stdout), Arc::clone(&stdout_closed));
        std::thread::spawn(move || {
            let mut buffer = [0u8; 8192];
            while let Ok(count) = pipe.read(&mut buffer) {
                if count == 0 {
                    break;
                }
                sink.lock()
                    .expect("the stdout buffer")
                    .extend_from_slice(&buffer[..count]);
            }
            closed.store(true, Ordering::Release);
        });
        Foreground {
            test,
            child,
            stdout,
            stdout_closed,
        }
    }

    fn path(&self) -> &Path {
        self.test.path()
    }

    fn join(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.join(name)).unwrap_or_default()
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().expect("the stdout buffer")).into_owned()
    }

    fn report(&self) -> String {
        format!(
            "--- stdout\n{}--- main.log\n{}",
            self.stdout(),
            self.read("main.log")
        )
    }

    fn wait_for(&self, what: &str, condition: impl FnMut() -> bool) {
        wait_until(what, condition, || self.report());
    }

    /// SIGTERM, then waits for the exit and for stdout to close; returns the exit code.
    fn stop(&mut self) -> Option<i32> {
        let pid = i32::try_from(self.child.id()).expect("a pid fits in i32");
        assert!(send_signal(pid, SIGTERM));
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the daemon") {
                // The reader thread sees EOF once the daemon and its children are gone.
                self.wait_for("the daemon's stdout to close", || {
                    self.stdout_closed.load(Ordering::Acquire)
                });
                return status.code();
            }
            assert!(Instant::now() < deadline, "no exit\n{}", self.report());
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Foreground {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        let tag = format!("SVC_TEST_TAG={}", self.path().display());
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left: Vec<i32> = all_pids()
                .into_iter()
                .filter(|pid| {
                    std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
                        environ
                            .split(|&byte| byte == 0)
                            .any(|entry| entry == tag.as_bytes())
                    })
                })
                .collect();
            if left.is_empty() || Instant::now() > deadline {
                return;
            }
            for pid in left {
                send_signal(pid, SIGKILL);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

const HEADER: &str = "[supervisord]\npidfile=%(here)s/svc.pid\nchildlogdir=%(here)s\n";

/// In the foreground every main log line also goes to stdout, the same bytes; `loglevel`
/// filters both (at `warn`, not even `supervisord started` is written).
#[test]
fn in_the_foreground_stdout_gets_the_main_log_lines_at_or_above_loglevel() {
    let mut daemon = Foreground::start(&format!(
        "{HEADER}logfile=%(here)s/main.log\nloglevel=warn\n\
         [program:x]\ncommand=sh -c 'exit 3'\nstartsecs=0\nautorestart=false\n"
    ));
    daemon.wait_for("the exit of x", || {
        daemon.read("main.log").contains("exited: x")
    });
    assert_eq!(daemon.stop(), Some(0));
    let log = daemon.read("main.log");
    assert_eq!(daemon.stdout(), log);
    let lines: Vec<String> = parse_log(&log)
        .into_iter()
        .filter(|line| line.level != "CRIT")
        .map(|line| line.normalized())
        .collect();
    assert_eq!(
        lines,
        [
            "WARN exited: x (exit status 3; not expected)",
            "WARN received SIGTERM indicating exit request",
        ]
    );
}

/// `logfile=/dev/stdout` with `logfile_maxbytes=0` in the foreground: stdout gets each line
/// twice (the stdout handler and the file). A child log on `/dev/stdout`
/// (`stdout_logfile_maxbytes=0`) writes the child's bytes there too.
#[test]
fn dev_stdout_as_main_and_child_log() {
    let mut daemon = Foreground::start(&format!(
        "{HEADER}logfile=/dev/stdout\nlogfile_maxbytes=0\n\
         [program:o]\ncommand=sh -c 'printf child-bytes'\nstartsecs=0\nautorestart=false\n\
         stdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\n"
    ));
    daemon.wait_for("the exit of o", || {
        daemon
            .stdout()
            .matches("exited: o (exit status 0; expected)")
            .count()
            == 2
    });
    assert_eq!(daemon.stop(), Some(0));
    let stdout = daemon.stdout();
    assert!(stdout.contains("child-bytes"), "{stdout}");
    let lines: Vec<String> = parse_log(&stdout.replace("child-bytes", ""))
        .into_iter()
        .map(|line| line.normalized())
        .collect();
    for line in &lines {
        let count = lines.iter().filter(|other| *other == line).count();
        assert_eq!(count, 2, "{line:?} is on stdout {count} times\n{stdout}");
    }
    assert!(lines.contains(&"INFO spawned: 'o' with pid N".to_string()));
}

/// `clearLog` deletes the main log and reopens each handler, logging `reopening log file`
/// before each reopen: twice on stdout in the foreground, and into the deleted file, so
/// the new file starts empty.
#[test]
fn clear_log_reopens_each_handler() {
    let mut daemon =
        Foreground::start(&format!("{HEADER}logfile=%(here)s/main.log\n{UNIX_SERVER}"));
    daemon.wait_for("the start", || {
        daemon
            .read("main.log")
            .contains("supervisord started with pid")
    });
    assert_eq!(
        xmlrpc_in(daemon.path(), "print(proxy.supervisor.clearLog())"),
        "True\n"
    );
    assert_eq!(daemon.read("main.log"), "");
    assert_eq!(daemon.stop(), Some(0));
    let stdout = daemon.stdout();
    assert_eq!(
        stdout.matches(" INFO reopening log file\n").count(),
        2,
        "{stdout}"
    );
    let log: Vec<String> = parse_log(&daemon.read("main.log"))
        .into_iter()
        .map(|line| line.normalized())
        .collect();
    assert_eq!(log, ["WARN received SIGTERM indicating exit request"]);
}

/// Run inside `unshare -m` as `sh ns.sh DIR DAEMON ARGS...`: puts a private tmpfs on /dev
/// (the mount namespace's own: unshare makes mounts private), with the few device nodes a
/// daemon needs, starts `receiver.py` on /dev/log and then becomes the daemon.
const NAMESPACE: &str = r#"set -e
dir=$1; shift
mount -t tmpfs tmpfs /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/zero c 1 5
mknod -m 444 /dev/random c 1 8
mknod -m 444 /dev/urandom c 1 9
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
python3 "$dir/receiver.py" "$dir" > /dev/null &
while [ ! -e "$dir/ready" ]; do sleep 0.01; done
exec "$@"
"#;

/// A syslog daemon on /dev/log: writes each datagram to the file `syslog` as one line,
/// `<priority>ident: message` (the date syslog(3) adds left out, the main log's timestamps
/// as `T`, pids as `N`, newlines as `\n`).
const RECEIVER: &str = r#"import os, re, socket, sys
here = sys.argv[1]
server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
server.bind("/dev/log")
open(os.path.join(here, "ready"), "w").close()
with open(os.path.join(here, "syslog"), "a") as out:
    while True:
        data = server.recv(65536).decode("utf-8", "replace")
        match = re.match(r"<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d (.*)", data, re.S)
        text = "<%s>%s" % match.groups() if match else "?" + data
        text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", "T ", text)
        text = re.sub(r"pid \d+", "pid N", text)
        out.write(text.replace("\n", "\\n") + "\n")
        out.flush()
"#;

/// `logfile=syslog` and `*_syslog=true`, seen by a syslog daemon the test owns (on its own
/// /dev in a mount namespace): a child's output goes out line by line as `<name> <line>`,
/// each main log line with its timestamp and level, a multi-line message (the debug copy of
/// output) one line per record, each record ending in a newline; ident `supervisord`,
/// facility user, priority info (`<14>`).
#[test]
fn syslog_gets_one_record_per_line() {
    let test = Test::new()
        .file(
            "supervisord.conf",
            "[supervisord]\nlogfile=syslog\nloglevel=debug\npidfile=%(here)s/daemon.pid\n\
             childlogdir=%(here)s\n\
             [program:p]\ncommand=sh -c 'printf \"one\\ntwo\\n\\n\"; \
             while [ ! -e %(here)s/go ]; do sleep 0.01; done; echo err >&2'\n\
             startsecs=0\nautorestart=false\nstdout_logfile=NONE\nstdout_syslog=true\n\
             stderr_logfile=%(here)s/p.err\nstderr_syslog=true\n",
        )
        .file("ns.sh", NAMESPACE)
        .file("receiver.py", RECEIVER);
    let tag = test.path().display().to_string();
    let test = test.env("SVC_TEST_TAG", &tag);
    let dir = test.path().to_path_buf();
    // Cleanup (also of the receiver) by the tag, as for the foreground daemons.
    let dir_arg = dir.display().to_string();
    let mut daemon = Foreground::launch(test, &["unshare", "-m", "sh", "ns.sh", &dir_arg]);
    let syslog_path = dir.join("syslog");
    let syslog = || std::fs::read_to_string(&syslog_path).unwrap_or_default();
    let report = || format!("--- syslog\n{}", syslog());
    wait_until(
        "p's stdout in syslog",
        || syslog().contains("DEBG two\\n"),
        report,
    );
    std::fs::write(dir.join("go"), "").expect("write go");
    wait_until(
        "p's exit in syslog",
        || syslog().contains("exited: p"),
        report,
    );
    assert_eq!(daemon.stop(), Some(0));
    wait_until("the SIGTERM line", || syslog().contains("SIGTERM"), report);
    let records = syslog();
    let records: Vec<&str> = records.lines().collect();
    assert!(
        records.contains(&"<14>supervisord: T INFO supervisord started with pid N\\n"),
        "{records:#?}"
    );
    let output: Vec<&str> = records
        .iter()
        .copied()
        .filter(|record| {
            record.starts_with("<14>supervisord: p ")
                || record.contains(" DEBG 'p' ")
                || [" DEBG one", " DEBG two", " DEBG err"]
                    .iter()
                    .any(|line| record.contains(line))
        })
        .collect();
    assert_eq!(
        output,
        [
            "<14>supervisord: p one",
            "<14>supervisord: p two",
            "<14>supervisord: T DEBG 'p' stdout output:\\n",
            "<14>supervisord: T DEBG one\\n",
            "<14>supervisord: T DEBG two\\n",
            "<14>supervisord: p err",
            "<14>supervisord: T DEBG 'p' stderr output:\\n",
            "<14>supervisord: T DEBG err\\n",
        ],
        "{records:#?}"
    );
    assert_eq!(daemon.read("p.err"), "err\n");
}

/// supervisord's parse warnings go to the main log at startup, after the root CRIT and
/// before every INFO line: an include pattern that matches nothing, then per process (each
/// numprocs instance) `*_logfile=syslog` and AUTO logs without rotation stream by stream,
/// then an ignored `stderr_logfile`.
#[test]
fn parse_warnings_are_logged_at_startup_in_supervisords_order() {
    let daemon = Setup::new().start(
        "[include]\nfiles=nothing/*.conf\n\
         [program:a]\ncommand=sleep 1000\nprocess_name=%(program_name)s_%(process_num)s\n\
         numprocs=2\nstdout_logfile_maxbytes=0\nstderr_logfile=syslog\n\
         [program:b]\ncommand=sleep 1000\nredirect_stderr=true\n\
         stderr_logfile=%(here)s/ignored.log\n",
    );
    let dir = daemon.path().display().to_string();
    let auto = "For [program:a], AUTO logging used for stdout_logfile without rollover, set \
                maxbytes > 0 to avoid filling up filesystem unintentionally";
    let syslog = "For [program:a], stderr_logfile=syslog but this is deprecated and will be \
                  removed.  Use stderr_syslog=true to enable syslog instead.";
    let expected = vec![
        format!("No file matches via include \"{dir}/nothing/*.conf\""),
        auto.to_string(),
        syslog.to_string(),
        auto.to_string(),
        syslog.to_string(),
        "For [program:b], redirect_stderr=true but stderr_logfile has also been set to a \
         filename, the filename has been ignored"
            .to_string(),
    ];
    let lines = daemon.lines();
    let warnings: Vec<String> = lines
        .iter()
        .filter(|line| line.level == "WARN")
        .map(|line| line.message.clone())
        .collect();
    assert_eq!(warnings, expected, "{}", daemon.main_log());
    let levels: Vec<&str> = lines.iter().map(|line| line.level.as_str()).collect();
    let first_info = levels.iter().position(|level| *level == "INFO");
    let last_warn = levels.iter().rposition(|level| *level == "WARN");
    assert!(last_warn < first_info, "{}", daemon.main_log());
}

/// A log file that cannot take more bytes (here the file size limit, EFBIG; a full disk
/// alike) does not stop the capture: the output is dropped, as supervisord's handler drops
/// it, the pipe is still read, so the child never blocks on it and exits; svc says so once
/// in its log.
#[test]
fn a_log_write_that_fails_drops_the_output_and_keeps_reading() {
    let daemon = Foreground::start_under(
        &["prlimit", "--fsize=200000", "--"],
        &format!(
            "{HEADER}logfile=%(here)s/main.log\n\
             [program:big]\ncommand=sh -c 'head -c 3000000 /dev/zero; echo done > %(here)s/done'\n\
             startsecs=0\nautorestart=false\nstdout_logfile=%(here)s/big.log\n\
             stdout_logfile_maxbytes=0\n"
        ),
    );
    wait_until(
        "the writer to finish",
        || {
            daemon
                .read("main.log")
                .contains("exited: big (exit status 0; expected)")
        },
        || daemon.report(),
    );
    assert_eq!(daemon.read("done"), "done\n");
    let size = std::fs::metadata(daemon.join("big.log")).map_or(0, |meta| meta.len());
    assert!(size <= 200_000, "big.log has {size} bytes");
    if std::env::var_os(REFERENCE).is_none() {
        let log = daemon.read("main.log");
        assert_eq!(
            log.matches("could not write the stdout log of 'big'")
                .count(),
            1,
            "{log}"
        );
    }
}

/// Each spawn gets a fresh output dispatcher, as in supervisord: a child that died between
/// `<!--XSUPERVISOR:BEGIN-->` and the END token leaves nothing of capture mode to the next
/// one, whose output goes to the log (once it is longer than a token: shorter output is
/// held back in case a token starts, by svc as by supervisord).
#[test]
fn capture_mode_does_not_outlive_the_child_that_began_it() {
    let mut daemon = Setup::new()
        .file(
            "once.sh",
            "if [ -e \"$1/ran\" ]; then echo second run, longer than a token; exec sleep 1000; fi\n\
             : > \"$1/ran\"\nprintf 'first run <!--XSUPERVISOR:BEGIN-->never ended\\n'\nexit 1\n",
        )
        .start(
            "[program:c]\ncommand=sh %(here)s/once.sh %(here)s\nstartsecs=0\nautorestart=true\n\
             stdout_capture_maxbytes=1KB\nstdout_logfile=%(here)s/c.log\n",
        );
    let log = daemon.wait_for_file("c.log", "second run, longer than a token\n");
    assert_eq!(log, "first run second run, longer than a token\n");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// The command is checked before the log files are opened (supervisord's
/// `get_execv_args`, then `make_dispatchers`): a program whose command cannot be found
/// never creates its log files.
#[test]
fn a_command_that_cannot_be_found_creates_no_log_file() {
    let mut daemon = Setup::new().start(
        "[program:x]\ncommand=/nonexistent/cmd\nstartretries=0\n\
         stdout_logfile=%(here)s/x.log\nstderr_logfile=%(here)s/x.err\n",
    );
    daemon.wait_for_log("spawnerr: can't find command '/nonexistent/cmd'");
    for file in ["x.log", "x.err"] {
        assert!(!daemon.join(file).exists(), "{file} was created");
    }
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}
