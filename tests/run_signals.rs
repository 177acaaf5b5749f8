//! `svc run`: signals, reload, shutdown, PID 1. Each test compares what svc logs and does
//! with supervisord 4.3.0 and passes against it too (`SVC_REFERENCE_SUPERVISORD`); the
//! timing differences of README's table (supervisord handles one signal and stops one group
//! per loop iteration, ~1 s when idle) are only waited out, never asserted. The one test of
//! svc's own `shutdown_on` fails against supervisord, which ignores the key, and so do
//! the one of SIGUSR1, which kills supervisord (it has no handler for it, so it dies and
//! leaves its children running) while svc logs it and goes on, and the one of a reload to
//! a main log that cannot be opened (supervisord dies). SIGWINCH is ignored by both.

use std::process::{Command, Stdio};

use crate::support::Test;
use crate::support::control::{UNIX_SERVER, supervisorctl};
use crate::support::daemon::{
    Daemon, LogLine, Process, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, Setup, daemon_args,
    group_members, kill_tagged, parse_log, send_signal, stat, wait_until,
};

/// SIGWINCH: default action "ignore", in svc and supervisord alike.
const SIGWINCH: i32 = 28;

/// Ignores SIGTERM (and so do the children it starts), says `ready` once it does.
const STUBBORN: &str = "trap '' TERM\necho ready\nwhile :; do sleep 0.1; done\n";

/// The normalized messages of `lines` that tell a reload's or a shutdown's story.
fn story(lines: &[LogLine]) -> Vec<String> {
    lines
        .iter()
        .filter(|line| {
            [
                "received ",
                "ignored ",
                "waiting for ",
                "stopped: ",
                "killing '",
                "supervisord started with pid",
                "spawned: ",
            ]
            .iter()
            .any(|prefix| line.message.starts_with(prefix))
        })
        .map(LogLine::normalized)
        .collect()
}

/// The command line of process `pid`, its arguments joined by spaces.
fn cmdline(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|bytes| {
            String::from_utf8_lossy(&bytes)
                .trim_end_matches('\0')
                .replace('\0', " ")
        })
        .unwrap_or_default()
}

const RELOAD_BEFORE: &str = "[program:a]\ncommand=sleep 1001\npriority=1\nstartsecs=0\n\
     [program:b]\ncommand=sleep 1001\npriority=2\nstartsecs=0\n\
     [program:c]\ncommand=sleep 1001\nautostart=false\nstartsecs=0\n";

/// `b` now starts first, `a` runs another command, `d` is new, `c` still does not autostart.
const RELOAD_AFTER: &str = "[program:a]\ncommand=sleep 1002\npriority=1\nstartsecs=0\n\
     [program:b]\ncommand=sleep 1001\npriority=0\nstartsecs=0\n\
     [program:c]\ncommand=sleep 1001\nautostart=false\nstartsecs=0\n\
     [program:d]\ncommand=sleep 1001\nstartsecs=0\n";

/// Starts a, b (autostart) and c (by hand), edits the configuration, has `reload` restart
/// the daemon, and checks what supervisord does: every process stopped in reverse priority
/// (c, b, a), `supervisord started` again with the same pid, the new configuration's
/// autostart programs started in its priority order, c STOPPED, the pid file and the socket
/// in place. Returns the story of the restart (from the first line `reload` logged).
fn restart_story(reload: impl FnOnce(&Daemon)) -> Vec<String> {
    let mut daemon = Daemon::start(&format!("{UNIX_SERVER}{RELOAD_BEFORE}"));
    daemon.wait_for_log("success: a entered RUNNING");
    daemon.wait_for_log("success: b entered RUNNING");
    assert_eq!(
        supervisorctl(&daemon, &["start", "c"]).stdout,
        "c: started\n"
    );
    let before = daemon.lines().len();
    daemon.write_config(&format!("{UNIX_SERVER}{RELOAD_AFTER}"));
    reload(&daemon);
    daemon.wait_for_log("success: d entered RUNNING");
    daemon.wait_for("a and b RUNNING again", || {
        story(&daemon.lines()[before..])
            .iter()
            .filter(|l| l.starts_with("INFO spawned"))
            .count()
            == 3
            && daemon.count("success: a entered RUNNING") == 2
            && daemon.count("success: b entered RUNNING") == 2
    });
    assert!(daemon.is_running());
    let started = format!("supervisord started with pid {}", daemon.pid);
    assert_eq!(daemon.count(&started), 2, "{}", daemon.report());
    assert_eq!(daemon.read("svc.pid"), format!("{}\n", daemon.pid));
    // The socket of the new run answers; c was not started again.
    let status = supervisorctl(&daemon, &["status"]).stdout;
    let states: Vec<(&str, &str)> = status
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some((words.next()?, words.next()?))
        })
        .collect();
    assert_eq!(
        states,
        [
            ("a", "RUNNING"),
            ("b", "RUNNING"),
            ("c", "STOPPED"),
            ("d", "RUNNING")
        ],
        "{status}"
    );
    assert_eq!(cmdline(daemon.spawned_pid("a")), "sleep 1002");
    let story = story(&daemon.lines()[before..]);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
    assert!(!daemon.join("svc.pid").exists());
    assert!(!daemon.join("supervisor.sock").exists());
    story
}

/// The part of a restart's story after the request.
fn restart_tail() -> Vec<String> {
    vec![
        "INFO waiting for a, b, c to die".to_string(),
        "WARN stopped: c (terminated by SIGTERM)".to_string(),
        "WARN stopped: b (terminated by SIGTERM)".to_string(),
        "WARN stopped: a (terminated by SIGTERM)".to_string(),
        "INFO supervisord started with pid N".to_string(),
        "INFO spawned: 'b' with pid N".to_string(),
        "INFO spawned: 'a' with pid N".to_string(),
        "INFO spawned: 'd' with pid N".to_string(),
    ]
}

#[test]
fn sighup_stops_everything_in_reverse_priority_and_starts_the_new_configuration() {
    let story = restart_story(|daemon| daemon.signal(SIGHUP));
    let mut expected = vec!["WARN received SIGHUP indicating restart request".to_string()];
    expected.extend(restart_tail());
    assert_eq!(story, expected);
}

#[test]
fn supervisorctl_reload_restarts_as_sighup_does_without_the_signal_line() {
    let story = restart_story(|daemon| {
        assert_eq!(
            supervisorctl(daemon, &["reload"]).stdout,
            "Restarted supervisord\n"
        );
    });
    assert_eq!(story, restart_tail());
}

/// A slow shutdown (a child that ignores SIGTERM): further exit signals are logged and
/// change nothing, SIGHUP is ignored, the child gets SIGKILL after `stopwaitsecs`, then the
/// next group stops; the daemon exits 0 and removes its pid file.
#[test]
fn exit_signals_during_a_slow_shutdown_are_logged_and_change_nothing() {
    let mut daemon = Setup::new().file("stubborn.sh", STUBBORN).start(
        "[program:stubborn]\ncommand=sh %(here)s/stubborn.sh\nstartsecs=0\nstopwaitsecs=8\n\
         stdout_logfile=%(here)s/stubborn.out\n\
         [program:other]\ncommand=sleep 1000\npriority=1\nstartsecs=0\n",
    );
    daemon.wait_for_file("stubborn.out", "ready\n");
    daemon.wait_for_log("success: other entered RUNNING");
    daemon.signal(SIGTERM);
    daemon.wait_for_log("waiting for other, stubborn to die");
    daemon.signal(SIGTERM);
    daemon.wait_for_count("received SIGTERM indicating exit request", 2);
    daemon.signal(SIGINT);
    daemon.wait_for_log("received SIGINT indicating exit request");
    daemon.signal(SIGHUP);
    daemon.wait_for_log("ignored SIGHUP indicating restart request (shutdown in progress)");
    daemon.signal(SIGQUIT);
    daemon.wait_for_log("received SIGQUIT indicating exit request");
    assert!(
        daemon.is_running(),
        "the signals ended the shutdown early\n{}",
        daemon.report()
    );
    assert_eq!(daemon.wait_exit().code(), Some(0), "{}", daemon.report());
    assert!(!daemon.join("svc.pid").exists());
    let story: Vec<String> = story(&daemon.lines())
        .into_iter()
        .filter(|line| !line.starts_with("INFO waiting for"))
        .collect();
    assert_eq!(
        story,
        [
            "INFO supervisord started with pid N",
            "INFO spawned: 'other' with pid N",
            "INFO spawned: 'stubborn' with pid N",
            "WARN received SIGTERM indicating exit request",
            "WARN received SIGTERM indicating exit request",
            "WARN received SIGINT indicating exit request",
            "WARN ignored SIGHUP indicating restart request (shutdown in progress)",
            "WARN received SIGQUIT indicating exit request",
            "WARN killing 'stubborn' (N) with SIGKILL",
            "WARN stopped: stubborn (terminated by SIGKILL)",
            "WARN stopped: other (terminated by SIGTERM)",
        ]
    );
}

/// supervisord's shutdown report names each unstopped process's state at blather level,
/// right after `waiting for ... to die`.
#[test]
fn the_shutdown_report_names_each_unstopped_state_at_blather() {
    let mut daemon = Setup::new()
        .supervisord("loglevel=blather")
        .file("stubborn.sh", STUBBORN)
        .start(
            "[program:stubborn]\ncommand=sh %(here)s/stubborn.sh\nstartsecs=0\nstopwaitsecs=1\n\
             stdout_logfile=%(here)s/stubborn.out\n",
        );
    daemon.wait_for_file("stubborn.out", "ready\n");
    daemon.signal(SIGTERM);
    assert_eq!(daemon.wait_exit().code(), Some(0), "{}", daemon.report());
    let lines = daemon.lines();
    let waiting = lines
        .iter()
        .position(|line| line.message == "waiting for stubborn to die")
        .unwrap_or_else(|| panic!("no waiting line\n{}", daemon.report()));
    assert_eq!(
        lines.get(waiting + 1).map(LogLine::normalized).as_deref(),
        Some("BLAT stubborn state: STOPPING"),
        "{}",
        daemon.report()
    );
}

/// SIGTERM while a program is STARTING (long `startsecs`) and another in BACKOFF: the
/// STARTING one is stopped, the BACKOFF one gives up without another try (silently, as
/// supervisord's `give_up` at shutdown), exit 0.
#[test]
fn sigterm_during_startup_stops_starting_and_abandons_backoff() {
    let mut daemon = Daemon::start(
        "[program:slow]\ncommand=sleep 1000\nstartsecs=100\n\
         [program:flaky]\ncommand=sh -c 'sleep 0.2; exit 1'\nstartsecs=5\nstartretries=10\n",
    );
    // After the third failure the next try is 3 s away: a signal is handled well before.
    daemon.wait_for_count("exited: flaky (exit status 1; not expected)", 3);
    daemon.signal(SIGTERM);
    assert_eq!(daemon.wait_exit().code(), Some(0), "{}", daemon.report());
    let lines = daemon.lines();
    let term = lines
        .iter()
        .position(|line| line.message == "received SIGTERM indicating exit request")
        .unwrap_or_else(|| panic!("no SIGTERM line\n{}", daemon.report()));
    let after: Vec<String> = lines[term..]
        .iter()
        .filter(|line| !line.message.starts_with("waiting for"))
        .map(LogLine::normalized)
        .collect();
    assert_eq!(
        after,
        [
            "WARN received SIGTERM indicating exit request",
            "WARN stopped: slow (terminated by SIGTERM)",
        ],
        "{}",
        daemon.report()
    );
    assert_eq!(daemon.count("spawned: 'flaky'"), 3);
    assert_eq!(daemon.count("success: slow"), 0);
    assert!(!daemon.join("svc.pid").exists());
}

/// At shutdown, `stopasgroup` sends the stop signal to the process group, and once
/// `stopwaitsecs` passed, SIGKILL to the group (`killasgroup`): no grandchild survives.
#[test]
fn shutdown_kills_the_whole_group_after_stopwaitsecs_with_stopasgroup() {
    let mut daemon = Setup::new().start(
        "[program:x]\ncommand=sh -c \"trap '' TERM; sleep 1000 & sleep 1000 & wait\"\n\
         startsecs=0\nstopasgroup=true\nstopwaitsecs=1\n",
    );
    daemon.wait_for_log("success: x entered RUNNING");
    let x = daemon.spawned_pid("x");
    daemon.wait_for("x and its two sleeps", || group_members(x).len() == 3);
    let members: Vec<Process> = group_members(x).into_iter().map(|(p, _)| p).collect();
    daemon.signal(SIGTERM);
    assert_eq!(daemon.wait_exit().code(), Some(0), "{}", daemon.report());
    assert_eq!(
        daemon.about("x")[2..],
        [
            "WARN killing 'x' (N) with SIGKILL".to_string(),
            "WARN stopped: x (terminated by SIGKILL)".to_string(),
        ],
        "{}",
        daemon.report()
    );
    daemon.wait_for("the group to be gone", || {
        members.iter().all(|member| !member.is_running())
    });
}

/// An event listener pool (priority -1 by default) is stopped after the programs at
/// shutdown; the daemon exits 0.
#[test]
fn an_event_listener_pool_stops_last_at_shutdown() {
    let mut daemon = Setup::new()
        .file(
            "listener.py",
            "import sys\nwhile True:\n    sys.stdout.write('READY\\n'); sys.stdout.flush()\n    \
             line = sys.stdin.readline()\n    if not line: break\n    \
             sys.stdin.read(int(line.split('len:')[1]))\n    \
             sys.stdout.write('RESULT 2\\nOK'); sys.stdout.flush()\n",
        )
        .start(
            "[eventlistener:pool]\ncommand=python3 %(here)s/listener.py\nevents=PROCESS_STATE\n\
             numprocs=2\nprocess_name=%(program_name)s_%(process_num)s\nstartsecs=0\n\
             [program:a]\ncommand=sleep 1000\nstartsecs=0\n",
        );
    daemon.wait_for_log("success: a entered RUNNING");
    daemon.wait_for_log("success: pool_0 entered RUNNING");
    daemon.wait_for_log("success: pool_1 entered RUNNING");
    daemon.signal(SIGTERM);
    assert_eq!(daemon.wait_exit().code(), Some(0), "{}", daemon.report());
    let mut stopped: Vec<String> = story(&daemon.lines())
        .into_iter()
        .filter(|line| line.starts_with("WARN stopped: "))
        .collect();
    assert_eq!(
        stopped.first().map(String::as_str),
        Some("WARN stopped: a (terminated by SIGTERM)"),
        "{}",
        daemon.report()
    );
    // The two listeners are signalled together; their exits come in either order.
    stopped[1..].sort();
    assert_eq!(
        stopped[1..],
        [
            "WARN stopped: pool_0 (terminated by SIGTERM)".to_string(),
            "WARN stopped: pool_1 (terminated by SIGTERM)".to_string(),
        ]
    );
}

/// The daemon under test as PID 1 of a new pid namespace (`unshare`); dropping it kills
/// the namespace and whatever the test's tag marks.
struct Pid1 {
    test: Test,
    unshare: std::process::Child,
}

impl Pid1 {
    fn start(test: Test) -> Pid1 {
        let mut command = Command::new("unshare");
        command.args(["--pid", "--fork", "--mount-proc", "--kill-child=SIGKILL"]);
        daemon_args(&mut command);
        test.prepare(&mut command);
        command.stdout(Stdio::null()).stderr(Stdio::null());
        let unshare = command.spawn().expect("run unshare");
        Pid1 { test, unshare }
    }

    fn main_log(&self) -> String {
        std::fs::read_to_string(self.test.path().join("main.log")).unwrap_or_default()
    }

    fn wait_for(&self, what: &str, condition: impl Fn(&str) -> bool) {
        wait_until(what, || condition(&self.main_log()), || self.main_log());
    }

    /// The daemon's pid outside the namespace: unshare's only child.
    fn daemon_pid(&self) -> i32 {
        let unshare = self.unshare.id();
        let children = std::fs::read_to_string(format!("/proc/{unshare}/task/{unshare}/children"))
            .expect("unshare's children");
        children
            .split_whitespace()
            .next()
            .and_then(|pid| pid.parse().ok())
            .unwrap_or_else(|| panic!("no child of unshare: {children:?}"))
    }
}

impl Drop for Pid1 {
    fn drop(&mut self) {
        let _ = self.unshare.kill();
        let _ = self.unshare.wait();
        kill_tagged(&format!("SVC_TEST_TAG={}", self.test.path().display()));
    }
}

/// As PID 1: orphans that exit or are killed are reaped and logged (`reaped unknown pid N
/// (exit status 0)`, `(terminated by SIGKILL)`) while a managed child exits with its own
/// status (never stolen by the orphan reaping); SIGUSR1 and SIGWINCH are ignored (the
/// kernel drops signals with the default action for a namespace's init); SIGQUIT shuts
/// down in priority order and exits 0.
#[test]
fn as_pid_1_orphans_are_reaped_and_a_managed_exit_status_is_kept() {
    let tag = Test::new();
    let tag_value = tag.path().display().to_string();
    let test = tag
        .env("SVC_TEST_TAG", &tag_value)
        .file(
            "orphaner.sh",
            "(sleep 0.2 &)\n(sh -c 'sleep 0.3; kill -9 $$' &)\nsleep 0.6\nexit 3\n",
        )
        .file(
            "supervisord.conf",
            "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/svc.pid\n\
             childlogdir=%(here)s\n\
             [program:orphaner]\ncommand=sh %(here)s/orphaner.sh\nstartsecs=0\n\
             autorestart=false\n\
             [program:first]\ncommand=sleep 1000\nstartsecs=0\npriority=1\n\
             [program:last]\ncommand=sleep 1000\nstartsecs=0\npriority=2\n",
        );
    let mut pid1 = Pid1::start(test);
    pid1.wait_for("the managed exit and two reaped orphans", |log| {
        log.contains("exited: orphaner") && log.matches("reaped unknown pid ").count() == 2
    });
    let lines = parse_log(&pid1.main_log());
    assert!(
        lines
            .iter()
            .any(|line| line.message == "supervisord started with pid 1"),
        "{}",
        pid1.main_log()
    );
    let mut reaped: Vec<String> = lines
        .iter()
        .filter(|line| line.message.starts_with("reaped unknown pid "))
        .map(|line| {
            format!(
                "{} {}",
                line.level,
                line.message.split_once(" (").map_or("", |(_, why)| why)
            )
        })
        .collect();
    reaped.sort();
    assert_eq!(
        reaped,
        ["INFO exit status 0)", "INFO terminated by SIGKILL)"]
    );
    assert_eq!(
        lines
            .iter()
            .filter(|line| line.message.starts_with("exited: orphaner"))
            .map(LogLine::normalized)
            .collect::<Vec<_>>(),
        ["WARN exited: orphaner (exit status 3; not expected)"]
    );
    let daemon = pid1.daemon_pid();
    assert!(stat(daemon).is_some());
    assert!(send_signal(daemon, SIGUSR1));
    assert!(send_signal(daemon, SIGWINCH));
    assert!(send_signal(daemon, SIGQUIT));
    let status = pid1.unshare.wait().expect("wait for unshare");
    assert_eq!(status.code(), Some(0), "{}", pid1.main_log());
    let story = story(&parse_log(&pid1.main_log()));
    let quit = story
        .iter()
        .position(|line| line == "WARN received SIGQUIT indicating exit request")
        .unwrap_or_else(|| panic!("no SIGQUIT line\n{}", pid1.main_log()));
    assert_eq!(
        story[quit..],
        [
            "WARN received SIGQUIT indicating exit request".to_string(),
            "INFO waiting for first, last to die".to_string(),
            "WARN stopped: last (terminated by SIGTERM)".to_string(),
            "WARN stopped: first (terminated by SIGTERM)".to_string(),
        ]
    );
}

/// SIGWINCH (default action: ignore) changes nothing: the daemon and its children run on.
#[test]
fn sigwinch_is_ignored() {
    let mut daemon = Daemon::start("[program:a]\ncommand=sleep 1000\nstartsecs=0\n");
    daemon.wait_for_log("success: a entered RUNNING");
    let a = Process::of(daemon.spawned_pid("a"));
    daemon.signal(SIGWINCH);
    daemon.signal(SIGTERM);
    daemon.wait_for_log("received SIGTERM indicating exit request");
    assert_eq!(daemon.wait_exit().code(), Some(0));
    assert_eq!(daemon.count("SIGWINCH"), 0);
    assert!(!a.is_running());
}

/// SIGUSR1 is logged at blather and changes nothing (svc only: it kills supervisord).
#[test]
fn sigusr1_is_logged_and_changes_nothing() {
    let mut daemon = Setup::new()
        .supervisord("loglevel=blather")
        .start("[program:a]\ncommand=sleep 1000\nstartsecs=0\n");
    daemon.wait_for_log("success: a entered RUNNING");
    let a = Process::of(daemon.spawned_pid("a"));
    daemon.signal(SIGUSR1);
    daemon.wait_for_log("BLAT received SIGUSR1 indicating nothing");
    assert!(a.is_running());
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// A reload that moves the pid file and the unix socket: supervisord's `cleanup` removes the
/// old ones when the first run ends, the new run creates the new ones, and the exit removes
/// those.
#[test]
fn a_reload_moves_the_pid_file_and_the_socket() {
    let mut daemon = Daemon::start(&format!(
        "{UNIX_SERVER}[program:a]\ncommand=sleep 1000\nstartsecs=0\n"
    ));
    daemon.wait_for_log("success: a entered RUNNING");
    assert!(daemon.join("svc.pid").exists() && daemon.join("supervisor.sock").exists());
    std::fs::write(
        daemon.join("supervisord.conf"),
        "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/moved.pid\n\
         childlogdir=%(here)s\n\
         [unix_http_server]\nfile=%(here)s/moved.sock\n\
         [program:a]\ncommand=sleep 1000\nstartsecs=0\n",
    )
    .expect("write supervisord.conf");
    daemon.signal(SIGHUP);
    daemon.wait_for_count("success: a entered RUNNING", 2);
    daemon.wait_for("the moved socket", || daemon.join("moved.sock").exists());
    assert_eq!(daemon.read("moved.pid"), format!("{}\n", daemon.pid));
    assert!(!daemon.join("svc.pid").exists(), "{}", daemon.report());
    assert!(!daemon.join("supervisor.sock").exists());
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
    assert!(!daemon.join("moved.pid").exists(), "{}", daemon.report());
    assert!(!daemon.join("moved.sock").exists());
}

/// svc's `shutdown_on` (supervisord ignores the key, so this fails against it): the exit
/// status it sets survives a SIGTERM that arrives while the shutdown it started is under way
/// (a container runtime stopping the container then).
#[test]
fn a_sigterm_during_a_shutdown_on_shutdown_keeps_its_exit_status() {
    let mut daemon = Setup::new().file("stubborn.sh", STUBBORN).start(
        "[program:key]\ncommand=sh -c 'while [ ! -e go ]; do sleep 0.01; done; exit 1'\n\
         startsecs=0\nshutdown_on=unexpected\nshutdown_exitcode=3\n\
         [program:stubborn]\ncommand=sh %(here)s/stubborn.sh\nstartsecs=0\nstopwaitsecs=2\n\
         priority=1\nstdout_logfile=%(here)s/stubborn.out\n",
    );
    daemon.wait_for_file("stubborn.out", "ready\n");
    daemon.wait_for_log("success: key entered RUNNING");
    std::fs::write(daemon.join("go"), "").expect("write go");
    daemon.wait_for_log("waiting for stubborn to die");
    daemon.signal(SIGTERM);
    daemon.wait_for_log("received SIGTERM indicating exit request");
    assert_eq!(daemon.wait_exit().code(), Some(3), "{}", daemon.report());
}

/// Each start after a reload switches to `user=` again and says so, as supervisord's
/// `set_uid_or_exit` does at every start.
#[test]
fn a_reload_sets_the_user_again() {
    let mut daemon = Setup::new()
        .supervisord("user=root")
        .start("[program:a]\ncommand=sleep 1000\nstartsecs=0\n");
    daemon.wait_for_log("success: a entered RUNNING");
    assert_eq!(daemon.count("Set uid to user 0 succeeded"), 1);
    daemon.signal(SIGHUP);
    daemon.wait_for_count("success: a entered RUNNING", 2);
    assert_eq!(daemon.count("Set uid to user 0 succeeded"), 2);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// A reload whose new `logfile=` cannot be opened keeps logging where it was, with a CRIT
/// line saying why, and runs the new configuration (svc only: supervisord dies with a
/// traceback).
#[test]
fn a_reload_to_a_main_log_that_cannot_be_opened_keeps_the_old_one() {
    let mut daemon = Setup::new()
        .file("adir/.keep", "")
        .start("[program:a]\ncommand=sleep 1000\nstartsecs=0\n");
    daemon.wait_for_log("success: a entered RUNNING");
    std::fs::write(
        daemon.join("supervisord.conf"),
        "[supervisord]\nlogfile=%(here)s/adir\npidfile=%(here)s/svc.pid\nchildlogdir=%(here)s\n\
         [program:b]\ncommand=sleep 1000\nstartsecs=0\n",
    )
    .expect("write the new configuration");
    daemon.signal(SIGHUP);
    daemon.wait_for_log("success: b entered RUNNING");
    assert!(
        daemon
            .main_log()
            .contains(" CRIT could not open the log file "),
        "{}",
        daemon.report()
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// After a reload, output from a grandchild of a process of the previous run (it still
/// holds that process's stdout) reaches neither the log nor the new processes: supervisord
/// closes the old pipes when it restarts; svc reads and drops what comes through them.
#[test]
fn a_reload_drops_what_the_previous_runs_grandchildren_still_write() {
    let mut daemon = Setup::new()
        .file(
            "ticker.sh",
            "if [ -e \"$1/ran\" ]; then echo second; exec sleep 1000; fi\n: > \"$1/ran\"\n\
             (while :; do echo tick; echo t >> \"$1/ticks\"; sleep 0.02; done) &\n\
             exec sleep 1000\n",
        )
        .start(
            "[program:p]\ncommand=sh %(here)s/ticker.sh %(here)s\nstartsecs=0\n\
             stdout_logfile=%(here)s/p.log\n",
        );
    daemon.wait_for_file("p.log", "tick\n");
    daemon.signal(SIGHUP);
    daemon.wait_for_file("p.log", "second\n");
    let ticks = |daemon: &Daemon| daemon.read("ticks").lines().count();
    let seen = ticks(&daemon);
    daemon.wait_for("five more ticks", || ticks(&daemon) >= seen + 5);
    let log = daemon.read("p.log");
    assert!(log.ends_with("tick\nsecond\n"), "{log}");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}
