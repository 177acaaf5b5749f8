//! `svc run -n`: the daemon against real child processes, observed from outside only (the
//! main log, the files children write, the pid file, `/proc`, signals), as there is no
//! XML-RPC yet.
//!
//! Every test runs its own daemon in its own directory ([`Setup`]); waits are on events
//! ([`Daemon::wait_for`]), never on sleeps; the [`Daemon`] guard kills svc and everything it
//! started even when a test fails. Children that must wait for the test poll for a file
//! (`go`, `go-<name>`) that the test creates once it has seen what it waits for.
//!
//! Expected lines are supervisord 4.3.0's. With `SVC_REFERENCE_SUPERVISORD` set to a
//! `supervisord` binary the same tests run against it and pass, except:
//! - svc's extensions: `--subreaper`, `--die-with-parent`, refusing to reload a broken
//!   configuration (supervisord exits);
//! - tests of quick exits (backoff, missing directory), when supervisord's once-a-second
//!   poll promotes a quick exit to RUNNING (the race of the reference's §4.6, which svc does
//!   not have).
//!

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;

use crate::support::Test;
use crate::support::daemon::{
    Daemon, LogLine, Process, SIGCONT, SIGHUP, SIGINT, SIGKILL, SIGQUIT, SIGSTOP, SIGTERM, SIGUSR1,
    SIGUSR2, Setup, all_pids, group_members, parse_log, send_signal, stat,
};

/// `sh lifecycle.sh NAME CODE`: the first run waits for the file `go-NAME`, then exits with
/// CODE; every later run stays up.
const LIFECYCLE: &str = r#"#!/bin/sh
here=$(dirname "$0")
if [ -e "$here/ran-$1" ]; then exec sleep 1000; fi
: > "$here/ran-$1"
while [ ! -e "$here/go-$1" ]; do sleep 0.01; done
exit "$2"
"#;

/// Ignores SIGTERM, says `ready` once it does.
const STUBBORN: &str = r#"import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
while True:
    time.sleep(1000)
"#;

/// Prints `before`, then `after` on every SIGUSR1.
const ANSWER_USR1: &str = r#"import signal, time
signal.signal(signal.SIGUSR1, lambda signum, frame: print("after", flush=True))
print("before", flush=True)
while True:
    time.sleep(1000)
"#;

/// `python3 numbered.py N`: N numbered lines of 9 bytes each.
const NUMBERED: &str = r#"import sys
out = sys.stdout.buffer
for number in range(int(sys.argv[1])):
    out.write(b"%08d\n" % number)
out.flush()
"#;

fn spawned(name: &str) -> String {
    format!("INFO spawned: '{name}' with pid N")
}

fn success(name: &str, startsecs: u32) -> String {
    format!(
        "INFO success: {name} entered RUNNING state, process has stayed up for > than {startsecs} seconds (startsecs)"
    )
}

fn gave_up(name: &str) -> String {
    format!("INFO gave up: {name} entered FATAL state, too many start retries too quickly")
}

/// Runs `lifecycle.sh x CODE` under `autorestart`/`exitcodes`: waits for RUNNING, lets it
/// exit, waits for the restart if one is expected, shuts down; returns the lines about `x`.
fn exit_case(autorestart: &str, exitcodes: &str, code: i32, restarts: bool) -> Vec<String> {
    let mut daemon = Setup::new().file("lifecycle.sh", LIFECYCLE).start(&format!(
        "[program:x]\ncommand=sh %(here)s/lifecycle.sh x {code}\nstartsecs=1\nautorestart={autorestart}\nexitcodes={exitcodes}\n"
    ));
    daemon.wait_for_log("success: x entered RUNNING");
    std::fs::write(daemon.join("go-x"), "").expect("write go-x");
    daemon.wait_for_log("exited: x (");
    if restarts {
        daemon.wait_for_count("success: x entered RUNNING", 2);
    }
    let status = daemon.stop(SIGTERM);
    assert_eq!(status.code(), Some(0), "{}", daemon.report());
    daemon.about("x")
}

#[test]
fn exit_code_in_exitcodes_is_expected_and_not_restarted_with_autorestart_unexpected() {
    assert_eq!(
        exit_case("unexpected", "0,3", 3, false),
        vec![
            spawned("x"),
            success("x", 1),
            "INFO exited: x (exit status 3; expected)".into(),
        ]
    );
}

#[test]
fn unexpected_exit_is_restarted_with_autorestart_unexpected() {
    assert_eq!(
        exit_case("unexpected", "0", 2, true),
        vec![
            spawned("x"),
            success("x", 1),
            "WARN exited: x (exit status 2; not expected)".into(),
            spawned("x"),
            success("x", 1),
            "WARN stopped: x (terminated by SIGTERM)".into(),
        ]
    );
}

#[test]
fn expected_exit_is_restarted_with_autorestart_true() {
    assert_eq!(
        exit_case("true", "0", 0, true),
        vec![
            spawned("x"),
            success("x", 1),
            "INFO exited: x (exit status 0; expected)".into(),
            spawned("x"),
            success("x", 1),
            "WARN stopped: x (terminated by SIGTERM)".into(),
        ]
    );
}

#[test]
fn unexpected_exit_is_not_restarted_with_autorestart_false() {
    assert_eq!(
        exit_case("false", "0", 2, false),
        vec![
            spawned("x"),
            success("x", 1),
            "WARN exited: x (exit status 2; not expected)".into(),
        ]
    );
}

#[test]
fn backoff_waits_one_more_second_each_retry_then_gives_up() {
    let mut daemon =
        Daemon::start("[program:x]\ncommand=sh -c 'exit 1'\nstartsecs=1\nstartretries=3\n");
    daemon.wait_for_log("gave up: x");
    let mut expected = Vec::new();
    for _ in 0..4 {
        expected.push(spawned("x"));
        expected.push("WARN exited: x (exit status 1; not expected)".to_string());
    }
    expected.push(gave_up("x"));
    assert_eq!(daemon.about("x"), expected);

    let spawns: Vec<f64> = daemon
        .lines()
        .iter()
        .filter(|line| line.message.starts_with("spawned: 'x'"))
        .map(|line| line.at)
        .collect();
    let offsets: Vec<f64> = spawns.iter().map(|at| at - spawns[0]).collect();
    for (offset, wanted) in offsets.iter().zip([0.0, 1.0, 3.0, 6.0]) {
        assert!(
            (offset - wanted).abs() <= 0.4,
            "spawns at {offsets:?} s, expected 0, 1, 3, 6 (±0.4)\n{}",
            daemon.report()
        );
    }
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn command_not_found_is_a_spawn_error_and_ends_fatal() {
    let mut daemon = Daemon::start("[program:x]\ncommand=/nonexistent\nstartretries=1\n");
    daemon.wait_for_log("gave up: x");
    let messages: Vec<String> = daemon
        .lines()
        .iter()
        .filter(|line| {
            ["spawnerr:", "spawned:", "gave up:", "exited:"]
                .iter()
                .any(|prefix| line.message.starts_with(prefix))
        })
        .map(|line| line.normalized())
        .collect();
    assert_eq!(
        messages,
        vec![
            "INFO spawnerr: can't find command '/nonexistent'".to_string(),
            "INFO spawnerr: can't find command '/nonexistent'".to_string(),
            gave_up("x"),
        ],
        "{}",
        daemon.report()
    );
    assert_eq!(daemon.count("spawned:"), 0);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn missing_directory_is_reported_in_the_childs_stderr_log() {
    let mut daemon = Daemon::start(
        "[program:x]\ncommand=sh -c 'echo ran'\ndirectory=/nope\nstartretries=0\n\
         stdout_logfile=%(here)s/x.out\nstderr_logfile=%(here)s/x.err\n",
    );
    daemon.wait_for_log("gave up: x");
    assert_eq!(
        daemon.about("x"),
        vec![
            spawned("x"),
            "WARN exited: x (exit status 127; not expected)".to_string(),
            gave_up("x"),
        ]
    );
    let stderr = daemon.wait_for_file("x.err", "not spawned\n");
    assert_eq!(
        stderr,
        "supervisor: couldn't chdir to /nope: ENOENT\nsupervisor: child process was not spawned\n"
    );
    assert_eq!(daemon.read("x.out"), "");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn a_failed_exec_is_reported_in_the_childs_stderr_log() {
    let setup = Setup::new().file("noexec", "not a program\n");
    let program = setup.path().join("noexec");
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755))
        .expect("make the file executable");
    let mut daemon = setup.start(
        "[program:x]\ncommand=%(here)s/noexec\nstartretries=0\n\
         stdout_logfile=%(here)s/x.out\nstderr_logfile=%(here)s/x.err\n",
    );
    daemon.wait_for_log("gave up: x");
    let stderr = daemon.wait_for_file("x.err", "not spawned\n");
    assert_eq!(
        stderr,
        format!(
            "supervisor: couldn't exec {}: ENOEXEC\nsupervisor: child process was not spawned\n",
            program.display()
        )
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn a_child_ignoring_the_stop_signal_is_killed_after_stopwaitsecs() {
    let mut daemon = Setup::new().file("stubborn.py", STUBBORN).start(
        "[program:x]\ncommand=python3 %(here)s/stubborn.py\nstartsecs=0\nstopwaitsecs=1\n\
         stdout_logfile=%(here)s/x.out\n",
    );
    daemon.wait_for_file("x.out", "ready\n");
    let pid = daemon.spawned_pid("x");
    let child = Process::of(pid);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0), "{}", daemon.report());
    assert_eq!(
        daemon.about("x"),
        vec![
            spawned("x"),
            success("x", 0),
            "WARN killing 'x' (N) with SIGKILL".to_string(),
            "WARN stopped: x (terminated by SIGKILL)".to_string(),
        ]
    );
    let lines = daemon.lines();
    let at = |needle: &str| {
        lines
            .iter()
            .find(|line| line.message.contains(needle))
            .map(|line| line.at)
            .unwrap_or_else(|| panic!("no line with {needle:?}"))
    };
    assert!(
        daemon
            .main_log()
            .contains(&format!("killing 'x' ({pid}) with SIGKILL"))
    );
    let waited = at("with SIGKILL") - at("received SIGTERM indicating exit request");
    assert!(
        (0.9..2.0).contains(&waited),
        "SIGKILL came {waited} s after the exit request, stopwaitsecs=1"
    );
    assert!(!child.is_running());
}

/// Starts `sh -c '<before>sleep 1000 & sleep 1000 & wait'` with the given extra keys;
/// returns the daemon and the two sleeps once both run.
fn two_sleeps(before: &str, keys: &str) -> (Daemon, Vec<Process>) {
    let daemon = Daemon::start(&format!(
        "[program:g]\ncommand=sh -c '{before}sleep 1000 & sleep 1000 & wait'\nstartsecs=0\n{keys}\n"
    ));
    daemon.wait_for_log("spawned: 'g'");
    let pgid = daemon.spawned_pid("g");
    let sleeps = || -> Vec<Process> {
        group_members(pgid)
            .into_iter()
            .filter(|(process, stat)| stat.comm == "sleep" && process.pid != pgid)
            .map(|(process, _)| process)
            .collect()
    };
    daemon.wait_for("two sleeps in the child's process group", || {
        sleeps().len() == 2
    });
    let found = sleeps();
    (daemon, found)
}

#[test]
fn stopasgroup_stops_the_grandchildren() {
    let (mut daemon, sleeps) = two_sleeps("", "stopasgroup=true");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0), "{}", daemon.report());
    assert_eq!(
        daemon.about("g").last().map(String::as_str),
        Some("WARN stopped: g (terminated by SIGTERM)")
    );
    daemon.wait_for("the grandchildren to die", || {
        sleeps.iter().all(|sleep| !sleep.is_running())
    });
}

#[test]
fn without_stopasgroup_the_grandchildren_survive() {
    let (mut daemon, sleeps) = two_sleeps("", "");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0), "{}", daemon.report());
    assert_eq!(
        daemon.about("g").last().map(String::as_str),
        Some("WARN stopped: g (terminated by SIGTERM)")
    );
    for sleep in &sleeps {
        assert!(
            sleep.is_untouched(),
            "grandchild {sleep:?} was signalled: {:?}",
            sleep.stat()
        );
    }
    // The guard kills them.
}

#[test]
fn killasgroup_sigkills_the_whole_group() {
    // The sleeps inherit the ignored SIGTERM: only the group's SIGKILL stops them.
    let (mut daemon, sleeps) = two_sleeps("trap \"\" TERM; ", "stopwaitsecs=1\nkillasgroup=true");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0), "{}", daemon.report());
    assert_eq!(
        daemon.about("g"),
        vec![
            spawned("g"),
            success("g", 0),
            "WARN killing 'g' (N) with SIGKILL".to_string(),
            "WARN stopped: g (terminated by SIGKILL)".to_string(),
        ]
    );
    daemon.wait_for("the grandchildren to die", || {
        sleeps.iter().all(|sleep| !sleep.is_running())
    });
}

/// The process names of the messages starting with `prefix`, in order (`spawned: 'x'` or
/// `stopped: x (` → `x`).
fn subjects(lines: &[LogLine], prefix: &str) -> Vec<String> {
    lines
        .iter()
        .filter_map(|line| line.message.strip_prefix(prefix))
        .map(|rest| {
            rest.trim_start_matches('\'')
                .split(['\'', ' '])
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// The index of the first message starting with `prefix`.
fn position(lines: &[LogLine], prefix: &str) -> usize {
    lines
        .iter()
        .position(|line| line.message.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?}"))
}

#[test]
fn sighup_during_shutdown_is_ignored() {
    let mut daemon = Setup::new().file("stubborn.py", STUBBORN).start(
        "[program:x]\ncommand=python3 %(here)s/stubborn.py\nstartsecs=0\nstopwaitsecs=1\n\
         stdout_logfile=%(here)s/x.out\n",
    );
    daemon.wait_for_file("x.out", "ready\n");
    daemon.signal(SIGTERM);
    daemon.wait_for_log("waiting for x to die");
    daemon.signal(SIGHUP);
    daemon.wait_for_log("WARN ignored SIGHUP indicating restart request (shutdown in progress)");
    assert_eq!(daemon.wait_exit().code(), Some(0), "{}", daemon.report());
    assert_eq!(daemon.count("supervisord started with pid"), 1);
    assert_eq!(daemon.count("spawned: 'x'"), 1);
    assert_eq!(
        daemon.about("x").last().map(String::as_str),
        Some("WARN stopped: x (terminated by SIGKILL)")
    );
}

#[test]
fn groups_start_in_priority_order_and_stop_in_reverse() {
    let mut sections = String::new();
    for (name, priority) in [("last", 900), ("first", 100), ("middle", 500)] {
        sections.push_str(&format!(
            "[program:{name}]\ncommand=sleep 1000\npriority={priority}\nstartsecs=0\n"
        ));
    }
    sections.push_str("[group:grp]\nprograms=g1,g2\npriority=300\n");
    for (name, priority) in [("g1", 2), ("g2", 1)] {
        sections.push_str(&format!(
            "[program:{name}]\ncommand=sleep 1000\npriority={priority}\nstartsecs=0\n"
        ));
    }
    let mut daemon = Setup::new().supervisord("loglevel=debug").start(&sections);
    daemon.wait_for_count("entered RUNNING", 5);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0), "{}", daemon.report());
    let lines = daemon.lines();
    let names = |prefix: &str| subjects(&lines, prefix);
    let position = |needle: &str| position(&lines, needle);
    assert_eq!(
        names("spawned: "),
        ["first", "g1", "g2", "middle", "last"],
        "{}",
        daemon.report()
    );
    // Within a group all are signalled at once, in descending process priority.
    assert_eq!(names("killing "), ["last", "middle", "g1", "g2", "first"]);
    let stopped = names("stopped: ");
    assert_eq!(stopped[..2], ["last", "middle"], "{stopped:?}");
    let mut group: Vec<&String> = stopped[2..4].iter().collect();
    group.sort();
    assert_eq!(group, ["g1", "g2"], "{stopped:?}");
    assert_eq!(stopped[4..], ["first"], "{stopped:?}");
    // A group is signalled only when the one before it has stopped.
    assert!(position("stopped: middle") < position("killing g1"));
    assert!(position("stopped: g1") < position("killing first"));
    assert!(position("stopped: g2") < position("killing first"));
}

#[test]
fn groups_of_equal_priority_stop_one_at_a_time_in_reverse_order() {
    let mut sections = String::new();
    for name in ["a", "b", "c"] {
        sections.push_str(&format!(
            "[program:{name}]\ncommand=sleep 1000\nstartsecs=0\n"
        ));
    }
    let mut daemon = Setup::new().supervisord("loglevel=debug").start(&sections);
    daemon.wait_for_count("entered RUNNING", 3);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0), "{}", daemon.report());
    let lines = daemon.lines();
    assert_eq!(subjects(&lines, "spawned: "), ["a", "b", "c"]);
    assert_eq!(
        subjects(&lines, "killing "),
        ["c", "b", "a"],
        "{}",
        daemon.report()
    );
    assert_eq!(subjects(&lines, "stopped: "), ["c", "b", "a"]);
    assert!(position(&lines, "stopped: c") < position(&lines, "killing b"));
    assert!(position(&lines, "stopped: b") < position(&lines, "killing a"));
}

#[test]
fn numprocs_instances_get_their_names_and_own_logs() {
    let mut daemon = Daemon::start(
        "[program:w]\ncommand=sh -c 'echo \"I am $SUPERVISOR_PROCESS_NAME in $SUPERVISOR_GROUP_NAME, num %(process_num)s\"; exec sleep 1000'\n\
         numprocs=3\nnumprocs_start=1\nprocess_name=%(program_name)s_%(process_num)02d\n\
         stdout_logfile=%(here)s/w-%(process_num)s.log\nstartsecs=0\n",
    );
    for number in 1..=3 {
        let content = daemon.wait_for_file(&format!("w-{number}.log"), "\n");
        assert_eq!(content, format!("I am w_0{number} in w, num {number}\n"));
    }
    let spawns: Vec<String> = daemon
        .lines()
        .iter()
        .filter(|line| line.message.starts_with("spawned: "))
        .map(|line| line.normalized())
        .collect();
    assert_eq!(spawns, [spawned("w_01"), spawned("w_02"), spawned("w_03")]);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
    assert_eq!(daemon.count("stopped: w_0"), 3);
}

#[test]
fn the_child_sees_its_environment_directory_and_umask() {
    let mut daemon = Setup::new()
        .supervisord("environment=FROM_SUPERVISORD=\"global\",OVERRIDDEN=\"global\"")
        .file("work/.keep", "")
        .start(
            "[unix_http_server]\nfile=%(here)s/svc.sock\n\
             [group:grp]\nprograms=e\n\
             [program:e]\ncommand=sh -c 'env; echo \"pwd=$(pwd)\"; echo \"umask=$(umask)\"; touch made; echo done'\n\
             directory=%(here)s/work\numask=027\nenvironment=OVERRIDDEN=\"program\",SPACED=\"a b\"\n\
             startsecs=0\nautorestart=false\nstdout_logfile=%(here)s/e.out\n",
        );
    let output = daemon.wait_for_file("e.out", "done\n");
    let dir = daemon.path().display().to_string();
    let variables: std::collections::BTreeMap<&str, &str> = output
        .lines()
        .filter_map(|line| line.split_once('='))
        .collect();
    let expected = [
        ("SUPERVISOR_ENABLED", "1"),
        ("SUPERVISOR_PROCESS_NAME", "e"),
        ("SUPERVISOR_GROUP_NAME", "grp"),
        ("FROM_SUPERVISORD", "global"),
        ("OVERRIDDEN", "program"),
        ("SPACED", "a b"),
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("HOME", "/root"),
        ("LANG", "C.UTF-8"),
        ("SVC_TEST_TAG", dir.as_str()),
        ("umask", "0027"),
    ];
    for (key, value) in expected {
        assert_eq!(variables.get(key), Some(&value), "{key} in\n{output}");
    }
    let url = format!("unix://{dir}/svc.sock");
    assert_eq!(variables.get("SUPERVISOR_SERVER_URL"), Some(&url.as_str()));
    assert_eq!(variables.get("pwd"), Some(&format!("{dir}/work").as_str()));
    let mode = std::fs::metadata(daemon.join("work/made"))
        .expect("the child created work/made")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);
    daemon.wait_for_log("exited: e (exit status 0; expected)");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn user_switches_the_child_to_nobody() {
    let mut daemon = Daemon::start(
        "[program:u]\ncommand=sh -c 'id -u; echo \"HOME=$HOME\"'\nuser=nobody\nstartsecs=0\n\
         autorestart=false\nstdout_logfile=%(here)s/u.out\n",
    );
    // supervisord does not set HOME (or USER, LOGNAME) for user=. The output is in the
    // log before the exit is logged.
    daemon.wait_for_log("exited: u (exit status 0; expected)");
    assert_eq!(daemon.read("u.out"), "65534\nHOME=/root\n");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn log_rotation_keeps_every_byte_in_order() {
    const LINES: usize = 230_000;
    let mut daemon = Setup::new().file("numbered.py", NUMBERED).start(&format!(
        "[program:n]\ncommand=python3 %(here)s/numbered.py {LINES}\nstartsecs=0\nautorestart=false\n\
         stdout_logfile=%(here)s/n.log\nstdout_logfile_maxbytes=100KB\nstdout_logfile_backups=50\n"
    ));
    let expected: Vec<u8> = (0..LINES)
        .flat_map(|number| format!("{number:08}\n").into_bytes())
        .collect();
    let files = |daemon: &Daemon| -> Vec<std::path::PathBuf> {
        // Oldest first: n.log.N … n.log.1, then n.log.
        let mut numbered: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir(daemon.path())
            .expect("list the test directory")
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let index = name.strip_prefix("n.log.")?.parse().ok()?;
                Some((index, entry.path()))
            })
            .collect();
        numbered.sort_by_key(|(index, _)| std::cmp::Reverse(*index));
        let mut paths: Vec<_> = numbered.into_iter().map(|(_, path)| path).collect();
        paths.push(daemon.join("n.log"));
        paths
    };
    let total = |daemon: &Daemon| -> u64 {
        files(daemon)
            .iter()
            .map(|path| std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0))
            .sum()
    };
    daemon.wait_for_log("exited: n (exit status 0; expected)");
    daemon.wait_for("every byte in the log files", || {
        total(&daemon) >= expected.len() as u64
    });
    // A file rotates after the write that takes it to maxbytes: each backup holds at least
    // maxbytes (how much more is `a_log_file_overshoots_maxbytes_by_at_most_one_read`), so
    // 50 backups keep everything.
    let paths = files(&daemon);
    assert!(paths.len() >= 2, "no rotation: {paths:?}");
    let mut reassembled = Vec::new();
    for (index, path) in paths.iter().enumerate() {
        let bytes = std::fs::read(path).expect("read a log file");
        if index + 1 < paths.len() {
            assert!(
                bytes.len() >= 100 * 1024,
                "{} has {} bytes, maxbytes is 100KB",
                path.display(),
                bytes.len()
            );
        }
        reassembled.extend_from_slice(&bytes);
    }
    assert!(
        reassembled == expected,
        "reassembled {} bytes, expected {}; first difference at byte {:?}",
        reassembled.len(),
        expected.len(),
        reassembled.iter().zip(&expected).position(|(a, b)| a != b)
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn output_is_in_the_log_before_the_exit_is_logged() {
    const LINES: usize = 5_000;
    let mut daemon = Setup::new().file("numbered.py", NUMBERED).start(&format!(
        "[program:n]\ncommand=sh -c 'while [ ! -e %(here)s/go ]; do sleep 0.01; done; exec python3 %(here)s/numbered.py {LINES}'\n\
         startsecs=0\nautorestart=false\nnumprocs=4\nprocess_name=n%(process_num)s\n\
         stdout_logfile=%(here)s/n%(process_num)s.log\n"
    ));
    daemon.wait_for_count("entered RUNNING", 4);
    let children: Vec<Process> = (0..4)
        .map(|number| Process::of(daemon.spawned_pid(&format!("n{number}"))))
        .collect();
    // With svc frozen, each child writes its output (less than a pipe holds) and exits:
    // svc wakes up to readable pipes and the exits at once.
    daemon.signal(SIGSTOP);
    std::fs::write(daemon.join("go"), "").expect("write go");
    daemon.wait_for("the children to exit", || {
        children
            .iter()
            .all(|child| child.stat().is_some_and(|stat| stat.state == 'Z'))
    });
    daemon.signal(SIGCONT);
    let expected: String = (0..LINES).map(|number| format!("{number:08}\n")).collect();
    for number in 0..4 {
        daemon.wait_for_log(&format!("exited: n{number} (exit status 0; expected)"));
        // No wait: supervisord drains the pipes before it handles an exit.
        let log = daemon.read(&format!("n{number}.log"));
        assert!(
            log == expected,
            "n{number}.log has {} of {} bytes when its exit is logged",
            log.len(),
            expected.len()
        );
    }
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// Writes 8 KiB blocks to stdout forever.
const FLOOD: &str = r#"import sys
out = sys.stdout.buffer
block = b"0123456789abcdef" * 512
while True:
    out.write(block)
    out.flush()
"#;

#[test]
fn a_log_file_overshoots_maxbytes_by_at_most_one_read() {
    let mut daemon = Setup::new().file("flood.py", FLOOD).start(
        "[program:f]\ncommand=python3 %(here)s/flood.py\nstartsecs=0\n\
         stdout_logfile=%(here)s/f.log\nstdout_logfile_maxbytes=100KB\nstdout_logfile_backups=100\n",
    );
    daemon.wait_for_log("spawned: 'f'");
    let child = daemon.spawned_pid("f");
    let blocked_on_the_pipe = || {
        std::fs::read_to_string(format!("/proc/{child}/wchan"))
            .is_ok_and(|wchan| wchan.contains("pipe_write"))
    };
    let logged = || -> u64 {
        auto_logs(&daemon, "", "f.log")
            .iter()
            .map(|name| std::fs::metadata(daemon.join(name)).map_or(0, |meta| meta.len()))
            .sum()
    };
    // Freeze svc until the child has filled its pipe, then let svc drain it: whatever the
    // pipe holds is there at once. (After a drain the child was woken, so a child blocked
    // while svc is stopped is blocked on a full pipe.)
    for _ in 0..3 {
        daemon.signal(SIGSTOP);
        daemon.wait_for("the child to block on a full pipe", blocked_on_the_pipe);
        let before = logged();
        daemon.signal(SIGCONT);
        daemon.wait_for("svc to drain the pipe", || logged() > before);
    }
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0), "{}", daemon.report());
    let rotated = auto_logs(&daemon, "", "f.log.");
    assert!(!rotated.is_empty(), "{}", daemon.report());
    for name in rotated {
        let size = std::fs::metadata(daemon.join(&name)).map_or(0, |meta| meta.len());
        assert!(
            (100 * 1024..(100 + 128) * 1024).contains(&size),
            "{name} has {size} bytes; maxbytes is 100KB, a read at most 128 KiB"
        );
    }
}

/// Starts the SIGUSR1-answering child, waits for `before`, moves its log and the main log
/// away and sends SIGUSR2; returns once the new main log exists.
fn reopen_after_moving_logs() -> (Daemon, Process) {
    let daemon = Setup::new().file("answer.py", ANSWER_USR1).start(
        "[program:x]\ncommand=python3 %(here)s/answer.py\nstartsecs=0\nstdout_logfile=%(here)s/x.out\n",
    );
    daemon.wait_for_file("x.out", "before\n");
    let child = Process::of(daemon.spawned_pid("x"));
    std::fs::rename(daemon.join("x.out"), daemon.join("x.out.moved")).expect("move x.out");
    std::fs::rename(daemon.join("main.log"), daemon.join("main.log.moved")).expect("move main.log");
    daemon.signal(SIGUSR2);
    daemon.wait_for("a new main.log", || daemon.join("main.log").exists());
    (daemon, child)
}

#[test]
fn sigusr2_reopens_the_child_and_main_logs() {
    let (mut daemon, child) = reopen_after_moving_logs();
    // The child logs were reopened in the same signal handling as the main log.
    assert!(send_signal(child.pid, SIGUSR1));
    assert_eq!(daemon.wait_for_file("x.out", "\n"), "after\n");
    assert_eq!(daemon.read("x.out.moved"), "before\n");
    let moved = daemon.read("main.log.moved");
    assert!(
        moved.contains(" INFO received SIGUSR2 indicating log reopen request\n"),
        "{moved}"
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
    assert!(
        daemon
            .main_log()
            .contains("WARN received SIGTERM indicating exit request")
    );
    assert!(!daemon.read("main.log.moved").contains("SIGTERM"));
}

#[test]
fn sigusr2_logs_logreopen_before_reopening() {
    let (mut daemon, _child) = reopen_after_moving_logs();
    daemon.wait_for("the reopen lines", || {
        daemon.read("main.log.moved").contains("logreopen")
            || daemon.main_log().contains("logreopen")
    });
    let moved = parse_log(&daemon.read("main.log.moved"));
    let tail: Vec<String> = moved
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(|line| line.normalized())
        .collect();
    assert_eq!(
        tail,
        [
            "INFO received SIGUSR2 indicating log reopen request",
            "INFO supervisord logreopen"
        ]
    );
    assert!(!daemon.main_log().contains("logreopen"));
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn sighup_reloads_the_configuration_in_the_same_process() {
    const A: &str = "[program:a]\ncommand=sleep 1000\nstartsecs=0\n";
    let mut daemon = Daemon::start(A);
    daemon.wait_for_log("success: a entered RUNNING");
    let first_a = Process::of(daemon.spawned_pid("a"));
    let first_log = auto_logs(&daemon, "", "a-stdout---");
    assert_eq!(first_log.len(), 1, "{first_log:?}");

    daemon.write_config(&format!(
        "{A}[program:b]\ncommand=sleep 1000\nstartsecs=0\n"
    ));
    daemon.signal(SIGHUP);
    daemon.wait_for_log("success: b entered RUNNING");
    assert!(daemon.is_running());
    let started = format!("supervisord started with pid {}", daemon.pid);
    assert_eq!(daemon.count(&started), 2, "{}", daemon.report());
    assert_eq!(daemon.read("svc.pid"), format!("{}\n", daemon.pid));
    assert_eq!(
        daemon.count("received SIGHUP indicating restart request"),
        1
    );
    assert_eq!(
        daemon.about("a"),
        vec![
            spawned("a"),
            success("a", 0),
            "WARN stopped: a (terminated by SIGTERM)".to_string(),
            spawned("a"),
            success("a", 0),
        ]
    );
    assert!(!first_a.is_running());
    assert!(Process::of(daemon.spawned_pid("b")).is_running());
    // The AUTO logs of the first run were deleted and new ones created.
    let second_log = auto_logs(&daemon, "", "a-stdout---");
    assert_eq!(second_log.len(), 1, "{second_log:?}");
    assert_ne!(first_log, second_log);
    assert_eq!(auto_logs(&daemon, "", "b-stdout---").len(), 1);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn sighup_with_a_broken_configuration_keeps_everything_running() {
    const A: &str = "[program:a]\ncommand=sleep 1000\nstartsecs=0\n";
    let mut daemon = Daemon::start(&format!(
        "{A}[program:b]\ncommand=sleep 1000\nstartsecs=0\n"
    ));
    daemon.wait_for_log("success: a entered RUNNING");
    daemon.wait_for_log("success: b entered RUNNING");
    let a = Process::of(daemon.spawned_pid("a"));
    let b = Process::of(daemon.spawned_pid("b"));
    let started = format!("supervisord started with pid {}", daemon.pid);

    daemon.write_config(&format!("{A}this is not a key value line\n"));
    daemon.signal(SIGHUP);
    daemon.wait_for_log("svc::ini::invalid_line");
    let refused: Vec<String> = daemon
        .lines()
        .into_iter()
        .skip_while(|line| line.message != "received SIGHUP indicating restart request")
        .map(|line| line.message)
        .collect();
    let refused = refused.join("\n");
    assert!(
        refused.contains("svc::ini::invalid_line"),
        "{}",
        daemon.report()
    );
    assert!(
        refused.contains("`this is not a key value line` is not a key = value line"),
        "{}",
        daemon.report()
    );
    assert!(a.is_untouched() && b.is_untouched());
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
    let lines = daemon.lines();
    let hup = lines
        .iter()
        .position(|line| line.message == "received SIGHUP indicating restart request")
        .expect("the SIGHUP");
    let term = lines
        .iter()
        .position(|line| line.message == "received SIGTERM indicating exit request")
        .expect("the SIGTERM");
    let between: Vec<&str> = lines[hup..term]
        .iter()
        .map(|line| line.message.as_str())
        .filter(|message| {
            message.starts_with("spawned:")
                || message.starts_with("stopped:")
                || message.starts_with("supervisord started")
        })
        .collect();
    assert!(between.is_empty(), "{between:?}");
    assert_eq!(daemon.count(&started), 1);
}

#[test]
fn subreaper_reaps_orphaned_grandchildren() {
    let mut daemon = Setup::new()
        .arg("--subreaper")
        .start("[program:orphaner]\ncommand=sh -c '(sleep 0.2 &); exec sleep 1000'\nstartsecs=0\n");
    daemon.wait_for_log("reaped unknown pid ");
    let child = daemon.spawned_pid("orphaner");
    let line = daemon
        .lines()
        .into_iter()
        .find(|line| line.message.starts_with("reaped unknown pid "))
        .expect("the reaped line");
    assert_eq!(line.level, "INFO");
    let orphan: i32 = line
        .message
        .strip_prefix("reaped unknown pid ")
        .and_then(|rest| rest.strip_suffix(" (exit status 0)"))
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("unexpected line {:?}", line.message));
    assert_ne!(orphan, child);
    assert!(
        stat(orphan).is_none_or(|stat| stat.ppid != daemon.pid),
        "the orphan is still a child of svc: {:?}",
        stat(orphan)
    );
    let zombies: Vec<i32> = all_pids()
        .into_iter()
        .filter(|&pid| stat(pid).is_some_and(|stat| stat.ppid == daemon.pid && stat.state == 'Z'))
        .collect();
    assert!(zombies.is_empty(), "zombie children of svc: {zombies:?}");
    assert!(Process::of(child).is_running());
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn a_configuration_with_errors_exits_2_and_starts_nothing() {
    let test = Test::new().file(
        "supervisord.conf",
        "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/svc.pid\n\
         [program:ok]\ncommand=touch %(here)s/started\n\
         [program:broken]\nautostart=maybe\n",
    );
    let run = test
        .svc(&["run", "-n", "-c", "supervisord.conf"])
        .expect_code(2);
    let stderr = run.stderr();
    assert!(stderr.contains("svc::program::missing_command"), "{stderr}");
    assert!(stderr.contains("svc::value::invalid_boolean"), "{stderr}");
    assert!(
        stderr.ends_with("supervisord.conf: the configuration has errors; nothing was started\n"),
        "{stderr}"
    );
    assert_eq!(run.stdout(), "");
    for file in ["started", "main.log", "svc.pid"] {
        assert!(!test.path().join(file).exists(), "{file} exists");
    }
}

#[test]
fn pidfile_lives_while_running_and_each_exit_signal_exits_0() {
    for (signal, name) in [
        (SIGTERM, "SIGTERM"),
        (SIGINT, "SIGINT"),
        (SIGQUIT, "SIGQUIT"),
    ] {
        let mut daemon = Daemon::start("[program:s]\ncommand=sleep 1000\nstartsecs=0\n");
        daemon.wait_for_log("success: s entered RUNNING");
        assert_eq!(daemon.read("svc.pid"), format!("{}\n", daemon.pid));
        let child = Process::of(daemon.spawned_pid("s"));
        let status = daemon.stop(signal);
        assert_eq!(
            status.code(),
            Some(0),
            "{name}: {status:?}\n{}",
            daemon.report()
        );
        assert!(
            !daemon.join("svc.pid").exists(),
            "{name}: the pid file is left"
        );
        let log = daemon.main_log();
        assert!(
            log.contains(&format!(" WARN received {name} indicating exit request\n")),
            "{log}"
        );
        assert_eq!(
            daemon.about("s").last().map(String::as_str),
            Some("WARN stopped: s (terminated by SIGTERM)")
        );
        assert!(!child.is_running());
    }
}

#[test]
fn redirect_stderr_sends_stderr_into_the_stdout_log() {
    let mut daemon = Daemon::start(
        "[program:r]\ncommand=sh -c 'echo out1; echo err1 >&2; echo out2; printf \"\\033[31mred\\033[0m\\n\"; echo end >&2'\n\
         redirect_stderr=true\nstartsecs=0\nautorestart=false\nstdout_logfile=%(here)s/r.out\n",
    );
    let output = daemon.wait_for_file("r.out", "end\n");
    assert_eq!(output, "out1\nerr1\nout2\n\x1b[31mred\x1b[0m\nend\n");
    let stderr_logs: Vec<String> = std::fs::read_dir(daemon.path())
        .expect("list the test directory")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("r-stderr---"))
        .collect();
    assert!(stderr_logs.is_empty(), "{stderr_logs:?}");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn strip_ansi_removes_escape_sequences_from_both_streams() {
    let mut daemon = Setup::new().supervisord("strip_ansi=true").start(
        "[program:c]\ncommand=sh -c 'printf \"\\033[1;31mbold red\\033[0m \\033[2Jcleared \\033[10;5Hmoved\\n\"; printf \"\\033[Kerr\\033[33m!\\n\" >&2'\n\
         startsecs=0\nautorestart=false\nstdout_logfile=%(here)s/c.out\nstderr_logfile=%(here)s/c.err\n",
    );
    assert_eq!(
        daemon.wait_for_file("c.out", "\n"),
        "bold red cleared moved\n"
    );
    assert_eq!(daemon.wait_for_file("c.err", "\n"), "err!\n");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// The names in directory `under` of the test directory that start with `prefix`, sorted.
fn auto_logs(daemon: &Daemon, under: &str, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(daemon.join(under))
        .expect("list the directory")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(prefix))
        .collect();
    names.sort();
    names
}

#[test]
fn auto_logs_are_created_in_childlogdir_and_old_ones_removed() {
    let mut daemon = Setup::new()
        .supervisord("childlogdir=%(here)s/logs")
        .file("logs/old-stdout---supervisor-abcd1234.log", "stale")
        .file("logs/old-stdout---supervisor-abcd1234.log.3", "stale")
        .file("logs/keep.txt", "mine")
        .start(
            "[program:a]\ncommand=sh -c 'echo to-stdout; echo to-stderr >&2; exec sleep 1000'\nstartsecs=0\n\
             [program:n]\ncommand=sh -c 'echo dropped; exec sleep 1000'\nstartsecs=0\n\
             stdout_logfile=NONE\nstderr_logfile=NONE\n",
        );
    let mut names: Vec<String> = std::fs::read_dir(daemon.join("logs"))
        .expect("list childlogdir")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    assert_eq!(names[2], "keep.txt");
    for (name, channel) in names[..2].iter().zip(["stderr", "stdout"]) {
        let random = name
            .strip_prefix(&format!("a-{channel}---supervisor-"))
            .and_then(|rest| rest.strip_suffix(".log"))
            .unwrap_or_else(|| panic!("unexpected AUTO log name {name:?}"));
        assert_eq!(random.len(), 8, "{name}");
    }
    let stdout_log = format!("logs/{}", names[1]);
    let stderr_log = format!("logs/{}", names[0]);
    assert_eq!(daemon.wait_for_file(&stdout_log, "\n"), "to-stdout\n");
    assert_eq!(daemon.wait_for_file(&stderr_log, "\n"), "to-stderr\n");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn auto_log_names_use_the_mkstemp_alphabet() {
    let mut daemon = Daemon::start(
        "[program:a]\ncommand=sleep 1000\nstartsecs=0\nnumprocs=8\nprocess_name=a%(process_num)s\n",
    );
    daemon.wait_for_count("entered RUNNING", 8);
    let names = auto_logs(&daemon, "", "a");
    assert_eq!(names.len(), 16, "{names:?}");
    for name in &names {
        let random = name
            .rsplit_once("---supervisor-")
            .and_then(|(_, rest)| rest.strip_suffix(".log"))
            .unwrap_or_else(|| panic!("unexpected AUTO log name {name:?}"));
        assert!(
            random.len() == 8
                && random
                    .bytes()
                    .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_'),
            "{name}"
        );
    }
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn the_child_gets_only_its_three_pipes_no_blocked_signal_and_sigpipe_ignored() {
    // Spawned after `a`, whose pipes and log files svc holds open too. `grep` is run
    // directly: a shell changes dispositions of its own.
    let mut daemon = Daemon::start(
        "[program:a]\ncommand=sleep 1000\nstartsecs=0\npriority=1\n\
         [program:fds]\ncommand=sh -c 'ls /proc/$$/fd; for fd in 0 1 2; do readlink /proc/$$/fd/$fd; done'\n\
         startsecs=0\nautorestart=false\npriority=2\nstdout_logfile=%(here)s/fds.out\n\
         [program:signals]\ncommand=grep -E \"^Sig(Blk|Ign)\" /proc/self/status\n\
         startsecs=0\nautorestart=false\npriority=2\nstdout_logfile=%(here)s/signals.out\n",
    );
    daemon.wait_for_log("exited: fds (exit status 0; expected)");
    let fds = daemon.wait_for_file("fds.out", "]\n");
    let lines: Vec<&str> = fds.lines().collect();
    assert_eq!(lines.len(), 6, "{fds}");
    assert_eq!(lines[..3], ["0", "1", "2"], "{fds}");
    for pipe in &lines[3..] {
        assert!(pipe.starts_with("pipe:["), "{fds}");
    }
    // Nothing blocked (svc blocks the signals it reads from a signalfd); ignored signals are
    // inherited from svc's own parent, as from supervisord's, and SIGPIPE is ignored, as
    // supervisord's children inherit it from Python.
    let signals = daemon.wait_for_file("signals.out", "\n");
    let mask = |status: &str, key: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .unwrap_or_else(|| panic!("no {key} in {status}"))
    };
    let svc_status =
        std::fs::read_to_string(format!("/proc/{}/status", daemon.pid)).expect("svc's status");
    let sigpipe = 1 << (13 - 1);
    assert_eq!(mask(&signals, "SigBlk:"), 0, "{signals}");
    assert_eq!(
        mask(&signals, "SigIgn:"),
        mask(&svc_status, "SigIgn:") | sigpipe,
        "{signals}"
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn die_with_parent_kills_the_children_when_svc_is_killed() {
    for (flag, dies) in [(Some("--die-with-parent"), true), (None, false)] {
        let mut setup = Setup::new();
        if let Some(flag) = flag {
            setup = setup.arg(flag);
        }
        let mut daemon = setup.start("[program:s]\ncommand=sleep 1000\nstartsecs=0\n");
        daemon.wait_for_log("success: s entered RUNNING");
        let child = Process::of(daemon.spawned_pid("s"));
        let status = daemon.stop(SIGKILL);
        assert_eq!(status.signal(), Some(SIGKILL));
        if dies {
            daemon.wait_for("the child to die with svc", || !child.is_running());
        } else {
            assert!(child.is_untouched(), "{flag:?}: {:?}", child.stat());
        }
    }
}

/// Kills `unshare` (and with it, through `--kill-child`, everything in its pid namespace)
/// when a test ends, even by a panic.
struct Namespace(std::process::Child);

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn as_pid_1_it_reaps_orphans_and_shuts_down_on_sigterm() {
    let test = Test::new().file(
        "supervisord.conf",
        "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/svc.pid\n\
         childlogdir=%(here)s\n\
         [program:orphaner]\ncommand=sh -c '(sleep 0.2 &); exec sleep 1000'\nstartsecs=0\n",
    );
    let mut command = std::process::Command::new("unshare");
    command
        .args(["--pid", "--fork", "--mount-proc", "--kill-child=SIGKILL"])
        .arg(crate::support::svc_binary())
        .args(["run", "-n", "-c", "supervisord.conf"]);
    test.prepare(&mut command);
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut namespace = Namespace(command.spawn().expect("run unshare"));
    let main_log = || std::fs::read_to_string(test.path().join("main.log")).unwrap_or_default();
    let wait_for = |what: &str, condition: &dyn Fn() -> bool| {
        let deadline = std::time::Instant::now() + crate::support::daemon::DEADLINE;
        while !condition() {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}\n{}",
                main_log()
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    };
    wait_for("the orphan to be reaped", &|| {
        main_log().contains("INFO reaped unknown pid ")
    });
    let log = main_log();
    assert!(
        log.contains("INFO supervisord started with pid 1\n"),
        "{log}"
    );
    // svc's pid outside the namespace: unshare's only child.
    let unshare = namespace.0.id();
    let children = std::fs::read_to_string(format!("/proc/{unshare}/task/{unshare}/children"))
        .expect("unshare's children");
    let svc: i32 = children
        .split_whitespace()
        .next()
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no child of unshare: {children:?}"));
    assert_eq!(stat(svc).map(|s| s.comm), Some("svc".to_string()));
    assert!(send_signal(svc, SIGTERM));
    let status = namespace.0.wait().expect("wait for unshare");
    assert_eq!(status.code(), Some(0), "{}", main_log());
    let log = main_log();
    assert!(
        log.contains("WARN received SIGTERM indicating exit request\n"),
        "{log}"
    );
    assert!(
        log.contains("WARN stopped: orphaner (terminated by SIGTERM)\n"),
        "{log}"
    );
}
