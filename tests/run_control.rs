//! Process control through the real `supervisorctl` 4.3.0, and what a spawned child sees:
//! status descriptions in every state and the exit codes of `status`; `start`/`stop`/
//! `signal` outcomes that need timing (a start cut short by a stop, BACKOFF); the order of
//! a group's results; each `stopsignal`; `startsecs` against a quick and a late exit;
//! `exitcodes` with `autorestart=unexpected`; the child's signal dispositions, environment,
//! argv and supplementary groups; `update` after an edit.
//!
//! Expected outputs are supervisord 4.3.0's: every test passes with
//! `SVC_REFERENCE_SUPERVISORD` set (the daemon is then the real supervisord). Timings are
//! chosen so that supervisord's once-a-second poll cannot reorder what is asserted:
//! outcomes compared by order are at least a second apart.

use std::process::{Child, Command, Stdio};

use crate::support::control::{UNIX_SERVER, supervisorctl, supervisorctl_in};
use crate::support::daemon::{
    DEADLINE, Daemon, SIGINT, SIGTERM, Setup, daemon_args, kill_tagged, send_signal, wait_until,
};
use crate::support::{Test, run_with_deadline};

/// A daemon with the unix server and `[supervisorctl]`, then `sections`.
fn start(sections: &str) -> Daemon {
    Setup::new().start(&format!("{UNIX_SERVER}{sections}"))
}

/// `supervisorctl status NAME`'s state and description, e.g. `("EXITED", "Nov 22 12:38
/// AM")`: the name is padded to 33 columns, the state to 10.
fn state_of(daemon: &Daemon, name: &str) -> (String, String) {
    let status = supervisorctl(daemon, &["status", name]);
    let line = status.stdout.trim_end_matches('\n');
    assert!(
        line.len() >= 33 && line.starts_with(name),
        "status {name}: {status:?}"
    );
    let rest = &line[33..];
    let (state, description) = rest.split_at(rest.len().min(10));
    (state.trim_end().to_string(), description.to_string())
}

/// Waits until `supervisorctl status NAME` shows `state`.
fn wait_for_state(daemon: &Daemon, name: &str, state: &str) {
    daemon.wait_showing(
        &format!("{name} in state {state}"),
        || state_of(daemon, name).0 == state,
        || format!("--- status\n{:?}\n", state_of(daemon, name)),
    );
}

/// Whether `text` is supervisorctl's stop or exit date: `Nov 22 12:38 AM`.
fn is_date(text: &str) -> bool {
    let words: Vec<&str> = text.split(' ').collect();
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    words.len() == 4
        && months.contains(&words[0])
        && words[1].len() == 2
        && words[1].bytes().all(|byte| byte.is_ascii_digit())
        && words[2].len() == 5
        && words[2].as_bytes()[2] == b':'
        && (words[3] == "AM" || words[3] == "PM")
}

#[test]
fn status_describes_every_state_and_exits_3_unless_all_run() {
    let mut daemon = Setup::new()
        .file("plain.txt", "not a program\n")
        .start(&format!(
            "{UNIX_SERVER}\
             [program:running]\ncommand=sleep 1000\nstartsecs=0\n\
             [program:starting]\ncommand=sleep 1000\nstartsecs=100\n\
             [program:idle]\ncommand=sleep 1000\nautostart=false\n\
             [program:done]\ncommand=true\nstartsecs=0\nautorestart=false\n\
             [program:missing]\ncommand=/nonexistent/binary\nstartretries=100\n\
             [program:plain]\ncommand=%(here)s/plain.txt\nstartretries=0\n\
             [program:quick]\ncommand=false\nstartretries=0\n"
        ));
    daemon.wait_for_log("gave up: quick entered FATAL state");
    daemon.wait_for_log("gave up: plain entered FATAL state");
    daemon.wait_for_log("exited: done (exit status 0; expected)");
    daemon.wait_for_log("success: running entered RUNNING state");
    wait_for_state(&daemon, "missing", "BACKOFF");

    let (state, description) = state_of(&daemon, "running");
    assert_eq!(state, "RUNNING");
    let uptime = description
        .strip_prefix(&format!("pid {}, uptime ", daemon.spawned_pid("running")))
        .unwrap_or_else(|| panic!("{description:?}"));
    assert!(
        uptime.starts_with("0:00:") && uptime.len() == 7,
        "{description:?}"
    );
    assert_eq!(
        state_of(&daemon, "starting"),
        ("STARTING".to_string(), String::new())
    );
    assert_eq!(
        state_of(&daemon, "idle"),
        ("STOPPED".to_string(), "Not started".to_string())
    );
    let (state, description) = state_of(&daemon, "done");
    assert_eq!(state, "EXITED");
    assert!(is_date(&description), "{description:?}");
    assert_eq!(
        state_of(&daemon, "missing"),
        (
            "BACKOFF".to_string(),
            "can't find command '/nonexistent/binary'".to_string()
        )
    );
    assert_eq!(
        state_of(&daemon, "plain"),
        (
            "FATAL".to_string(),
            format!(
                "command at '{}/plain.txt' is not executable",
                daemon.path().display()
            )
        )
    );
    assert_eq!(
        state_of(&daemon, "quick"),
        (
            "FATAL".to_string(),
            "Exited too quickly (process log may have details)".to_string()
        )
    );

    // Exit 3 (LSB "not running") as soon as one process shown is in a stopped state
    // (STOPPED, EXITED, FATAL); STARTING and BACKOFF count as running.
    assert_eq!(supervisorctl(&daemon, &["status"]).code, 3);
    assert_eq!(
        supervisorctl(&daemon, &["status", "running", "starting", "missing"]).code,
        0
    );
    for name in ["done", "idle", "plain", "quick"] {
        assert_eq!(supervisorctl(&daemon, &["status", name]).code, 3, "{name}");
    }

    // A stopped process shows when it stopped.
    let stopped = supervisorctl(&daemon, &["stop", "running", "starting", "missing"]);
    assert_eq!(
        (stopped.code, stopped.stdout.as_str()),
        (0, "running: stopped\nstarting: stopped\nmissing: stopped\n")
    );
    for name in ["running", "starting", "missing"] {
        let (state, description) = state_of(&daemon, name);
        assert_eq!(state, "STOPPED", "{name}");
        assert!(is_date(&description), "{name}: {description:?}");
    }
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn a_start_cut_short_by_a_stop_is_an_abnormal_termination() {
    let mut daemon = start(
        "[program:slow]\ncommand=sleep 1000\nstartsecs=30\nautostart=false\n\
         [program:retrying]\ncommand=/nonexistent/binary\nstartretries=100\n",
    );
    let path = daemon.path().to_path_buf();
    let starter = std::thread::spawn(move || supervisorctl_in(&path, &["start", "slow"]));
    daemon.wait_for_log("spawned: 'slow' with pid ");
    let stopped = supervisorctl(&daemon, &["stop", "slow"]);
    assert_eq!(
        (stopped.code, stopped.stdout.as_str()),
        (0, "slow: stopped\n")
    );
    let started = starter.join().expect("the starting supervisorctl");
    assert_eq!(
        (started.code, started.stdout.as_str()),
        (7, "slow: ERROR (abnormal termination)\n")
    );

    // A process in BACKOFF cannot be signalled (it has no pid) and can be stopped; starting
    // it checks its command before its state.
    wait_for_state(&daemon, "retrying", "BACKOFF");
    let signalled = supervisorctl(&daemon, &["signal", "HUP", "retrying"]);
    assert_eq!(
        (signalled.code, signalled.stdout.as_str()),
        (7, "retrying: ERROR (not running)\n")
    );
    let again = supervisorctl(&daemon, &["start", "retrying"]);
    assert_eq!(
        (again.code, again.stdout.as_str()),
        (1, "retrying: ERROR (no such file)\n")
    );
    let stopped = supervisorctl(&daemon, &["stop", "retrying"]);
    assert_eq!(
        (stopped.code, stopped.stdout.as_str()),
        (0, "retrying: stopped\n")
    );
    assert_eq!(state_of(&daemon, "retrying").0, "STOPPED");
    let signalled = supervisorctl(&daemon, &["signal", "HUP", "retrying"]);
    assert_eq!(
        (signalled.code, signalled.stdout.as_str()),
        (7, "retrying: ERROR (not running)\n")
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// supervisord reports a group's waited-for processes as they finish (checking them at
/// most every 50 ms, each check in group order), not in group order: a quick failure
/// first, then the shorter `startsecs`; on a stop, the process that takes longer to exit
/// comes last.
#[test]
fn group_results_come_in_the_order_the_processes_finish() {
    let mut daemon = start(
        "[group:g]\nprograms=slow,fast,quick\n\
         [program:slow]\ncommand=sleep 1000\nautostart=false\nstartsecs=3\n\
         [program:fast]\ncommand=sleep 1000\nautostart=false\nstartsecs=1\n\
         [program:quick]\ncommand=sh -c 'sleep 0.3; exit 3'\nautostart=false\nstartsecs=1\n\
         startretries=0\n\
         [group:h]\nprograms=lingers,quits\n\
         [program:lingers]\ncommand=sh -c 'trap \"sleep 1.5; exit 0\" TERM; while :; do sleep 0.05; done'\n\
         startsecs=1\n\
         [program:quits]\ncommand=sleep 1000\nstartsecs=1\n",
    );
    let started = supervisorctl(&daemon, &["start", "g:*"]);
    assert_eq!(
        (started.code, started.stdout.as_str()),
        (
            7,
            "g:quick: ERROR (spawn error)\ng:fast: started\ng:slow: started\n"
        )
    );
    daemon.wait_for_log("success: lingers entered RUNNING state");
    daemon.wait_for_log("success: quits entered RUNNING state");
    let stopped = supervisorctl(&daemon, &["stop", "h:*"]);
    assert_eq!(
        (stopped.code, stopped.stdout.as_str()),
        (0, "h:quits: stopped\nh:lingers: stopped\n")
    );
    // Processes that stop together come in group order.
    let stopped = supervisorctl(&daemon, &["stop", "g:*"]);
    assert_eq!(
        (stopped.code, stopped.stdout.as_str()),
        (0, "g:slow: stopped\ng:fast: stopped\n")
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn each_stopsignal_ends_the_process_as_supervisord_logs_it() {
    let trapping = |name: &str, signal: &str, code: i32, extra: &str| {
        format!(
            "[program:{name}]\ncommand=sh -c 'trap \"exit {code}\" {signal}; while :; do sleep 0.05; done'\n\
             stopsignal={signal}\nstartsecs=1\n{extra}"
        )
    };
    let mut sections = String::new();
    for (name, signal) in [
        ("int", "INT"),
        ("quit", "QUIT"),
        ("hup", "HUP"),
        ("usr1", "USR1"),
        ("kill", "KILL"),
        ("term", "TERM"),
    ] {
        sections.push_str(&format!(
            "[program:{name}]\ncommand=sleep 1000\nstopsignal={signal}\nstartsecs=0\n"
        ));
    }
    sections.push_str(&trapping("trapint", "INT", 7, ""));
    sections.push_str(&trapping("trapexpected", "TERM", 2, "exitcodes=0,2\n"));
    let mut daemon = start(&sections);
    daemon.wait_for_count("success: ", 8);
    let names = [
        "int",
        "quit",
        "hup",
        "usr1",
        "kill",
        "term",
        "trapint",
        "trapexpected",
    ];
    let mut args = vec!["stop"];
    args.extend(names);
    let stopped = supervisorctl(&daemon, &args);
    let expected: String = names
        .iter()
        .map(|name| format!("{name}: stopped\n"))
        .collect();
    assert_eq!((stopped.code, stopped.stdout), (0, expected));
    let stops: Vec<String> = daemon
        .lines()
        .iter()
        .filter(|line| line.message.starts_with("stopped: "))
        .map(crate::support::daemon::LogLine::normalized)
        .collect();
    // A stop signal is never "expected"; an exit status in `exitcodes` is, and logs INFO.
    assert_eq!(
        stops,
        [
            "WARN stopped: int (terminated by SIGINT)",
            "WARN stopped: quit (terminated by SIGQUIT)",
            "WARN stopped: hup (terminated by SIGHUP)",
            "WARN stopped: usr1 (terminated by SIGUSR1)",
            "WARN stopped: kill (terminated by SIGKILL)",
            "WARN stopped: term (terminated by SIGTERM)",
            "WARN stopped: trapint (exit status 7)",
            "INFO stopped: trapexpected (exit status 2)",
        ]
    );
    assert_eq!(daemon.count("killing "), 0, "{}", daemon.main_log());
    // A stop that waits reports once that it waits, before the process is gone (a trap
    // runs after the shell's current `sleep`, so these two are still there).
    for name in ["trapint", "trapexpected"] {
        let lines: Vec<String> = daemon
            .lines()
            .iter()
            .filter(|line| {
                line.message == format!("waiting for {name} to stop")
                    || line.message.starts_with(&format!("stopped: {name} "))
            })
            .map(crate::support::daemon::LogLine::normalized)
            .collect();
        assert_eq!(
            lines.first().map(String::as_str),
            Some(format!("INFO waiting for {name} to stop").as_str()),
            "{lines:#?}"
        );
        assert_eq!(lines.len(), 2, "{lines:#?}");
    }
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn startsecs_tells_a_quick_exit_from_a_late_one_and_exitcodes_decide_the_restart() {
    let mut daemon = start(
        "[program:early]\ncommand=sh -c 'sleep 0.5; exit 0'\nstartsecs=1\nstartretries=0\n\
         [program:late]\ncommand=sh -c 'sleep 1.5; exit 0'\nstartsecs=1\nautorestart=false\n\
         [program:listed]\ncommand=sh -c 'sleep 1.5; exit 2'\nstartsecs=1\n\
         autorestart=unexpected\nexitcodes=0,2\n\
         [program:unlisted]\ncommand=sh -c 'sleep 1.5; exit 3'\nstartsecs=1\n\
         autorestart=unexpected\nexitcodes=0,2\n",
    );
    daemon.wait_for_log("gave up: early entered FATAL state");
    daemon.wait_for_log("exited: late (exit status 0; expected)");
    daemon.wait_for_log("exited: listed (exit status 2; expected)");
    daemon.wait_for_log("exited: unlisted (exit status 3; not expected)");
    daemon.wait_for_count("spawned: 'unlisted' with pid ", 2);
    assert_eq!(
        daemon.about("early"),
        [
            "INFO spawned: 'early' with pid N",
            "WARN exited: early (exit status 0; not expected)",
            "INFO gave up: early entered FATAL state, too many start retries too quickly",
        ]
    );
    assert_eq!(
        state_of(&daemon, "early"),
        (
            "FATAL".to_string(),
            "Exited too quickly (process log may have details)".to_string()
        )
    );
    for name in ["late", "listed"] {
        let (state, description) = state_of(&daemon, name);
        assert_eq!(state, "EXITED", "{name}");
        assert!(is_date(&description), "{name}: {description:?}");
        assert_eq!(daemon.count(&format!("spawned: '{name}'")), 1, "{name}");
    }
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// A free TCP port on the loopback interface.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("bind a free port")
}

#[test]
fn the_child_sees_an_inet_server_url_its_numbered_name_and_its_exact_argv() {
    let port = free_port();
    let mut daemon = Setup::new().start(&format!(
        "[inet_http_server]\nport=127.0.0.1:{port}\n\
         [program:w]\n\
         command=sh -c 'printf \"%%s|\" \"$@\"; echo; env | grep ^SUPERVISOR_ | sort' x \"a b\" 'c \"d\"' \"e'f\" 100%%\n\
         numprocs=2\nnumprocs_start=5\nprocess_name=w%(process_num)d\n\
         environment=SUPERVISOR_ENABLED=\"overridden\"\n\
         startsecs=0\nautorestart=false\nstdout_logfile=%(here)s/%(process_num)d.out\n"
    ));
    for number in [5, 6] {
        daemon.wait_for_log(&format!("exited: w{number} (exit status 0; expected)"));
        assert_eq!(
            daemon.read(&format!("{number}.out")),
            format!(
                "a b|c \"d\"|e'f|100%|\n\
                 SUPERVISOR_ENABLED=overridden\n\
                 SUPERVISOR_GROUP_NAME=w\n\
                 SUPERVISOR_PROCESS_NAME=w{number}\n\
                 SUPERVISOR_SERVER_URL=http://127.0.0.1:{port}\n"
            )
        );
    }
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));

    // A port without a host is served on every interface and named `localhost`.
    let port = free_port();
    let mut daemon = Setup::new().start(&format!(
        "[inet_http_server]\nport=:{port}\n\
         [program:url]\ncommand=sh -c 'echo \"$SUPERVISOR_SERVER_URL\"'\n\
         startsecs=0\nautorestart=false\nstdout_logfile=%(here)s/url.out\n"
    ));
    assert_eq!(
        daemon.wait_for_file("url.out", "\n"),
        format!("http://localhost:{port}\n")
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// A user and a supplementary group made for one test, deleted when dropped.
struct TemporaryUser {
    name: String,
    group: String,
}

impl TemporaryUser {
    /// `useradd` a user whose primary group is `nogroup`, member of a new group too.
    fn create() -> TemporaryUser {
        let name = format!("svct{}", std::process::id());
        let group = format!("svcg{}", std::process::id());
        let run = |program: &str, args: &[&str]| {
            let mut command = Command::new(program);
            command.args(args);
            let output = run_with_deadline(command, DEADLINE);
            assert!(
                output.status.success(),
                "{program} {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        };
        run("groupadd", &[&group]);
        let user = TemporaryUser { name, group };
        run(
            "useradd",
            &[
                "-M",
                "-N",
                "-g",
                "nogroup",
                "-G",
                &user.group,
                "-s",
                "/usr/sbin/nologin",
                &user.name,
            ],
        );
        user
    }

    /// `id -G`: every group id of the user, sorted.
    fn group_ids(&self) -> Vec<u32> {
        let mut command = Command::new("id");
        command.args(["-G", &self.name]);
        let output = run_with_deadline(command, DEADLINE);
        let mut ids: Vec<u32> = String::from_utf8_lossy(&output.stdout)
            .split_whitespace()
            .filter_map(|id| id.parse().ok())
            .collect();
        ids.sort_unstable();
        ids
    }
}

impl Drop for TemporaryUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).status();
        let _ = Command::new("groupdel").arg(&self.group).status();
    }
}

#[test]
fn user_gets_the_supplementary_groups_of_the_user() {
    let user = TemporaryUser::create();
    let expected = user.group_ids();
    assert_eq!(expected.len(), 2, "nogroup and {}", user.group);
    let mut daemon = Setup::new().start(&format!(
        "[program:u]\ncommand=grep -E \"^(Uid|Gid|Groups):\" /proc/self/status\nuser={}\n\
         startsecs=0\nautorestart=false\nstdout_logfile=%(here)s/u.out\n",
        user.name
    ));
    daemon.wait_for_log("exited: u (exit status 0; expected)");
    let status = daemon.read("u.out");
    let field = |key: &str| -> Vec<u32> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {status}"))
            .split_whitespace()
            .filter_map(|id| id.parse().ok())
            .collect()
    };
    let mut groups = field("Groups:");
    groups.sort_unstable();
    assert_eq!(groups, expected, "{status}");
    assert_eq!(field("Gid:"), [65534; 4], "{status}");
    assert!(field("Uid:").iter().all(|&uid| uid != 0), "{status}");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// A daemon started by `sh -c 'trap "" INT QUIT; exec ...'`, as a shell script's `cmd &`
/// starts it: it inherits SIGINT and SIGQUIT ignored. The guard kills it and its children.
struct IgnoringDaemon {
    test: Test,
    child: Child,
    tag: String,
}

impl IgnoringDaemon {
    fn start(sections: &str) -> IgnoringDaemon {
        let test = Test::new();
        let directory = test.path().display().to_string();
        let tag = format!("SVC_TEST_TAG={directory}");
        let test = test.env("SVC_TEST_TAG", &directory).file(
            "supervisord.conf",
            format!(
                "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/svc.pid\n\
                 childlogdir=%(here)s\n{sections}"
            ),
        );
        let mut command = Command::new("sh");
        command.args(["-c", "trap '' INT QUIT CHLD USR1; exec \"$@\"", "sh"]);
        daemon_args(&mut command);
        test.prepare(&mut command);
        command.stdout(Stdio::null()).stderr(Stdio::null());
        let child = command.spawn().expect("spawn the daemon");
        IgnoringDaemon { test, child, tag }
    }

    fn main_log(&self) -> String {
        std::fs::read_to_string(self.test.path().join("main.log")).unwrap_or_default()
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.test.path().join(name)).unwrap_or_default()
    }

    fn wait_for(&self, what: &str, condition: impl FnMut() -> bool) {
        wait_until(what, condition, || {
            format!("--- main log\n{}", self.main_log())
        });
    }
}

impl Drop for IgnoringDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        kill_tagged(&self.tag);
    }
}

/// The signals supervisord handles (TERM, INT, QUIT, HUP, CHLD, USR2) reach its children
/// at their default action whatever supervisord inherited, since exec resets a handler: a
/// daemon started with INT, QUIT and CHLD ignored still stops `stopsignal=INT` and `QUIT`
/// children with those signals, sees its children exit (an ignored SIGCHLD would have the
/// kernel reap them) and shuts down on SIGINT. An ignored SIGUSR1 stays ignored, in the
/// children too.
#[test]
fn children_get_the_daemons_signals_at_their_default_action() {
    let daemon = IgnoringDaemon::start(
        "[program:signals]\ncommand=grep -E \"^SigIgn:\" /proc/self/status\n\
         startsecs=0\nautorestart=false\nstdout_logfile=%(here)s/signals.out\n\
         [program:int]\ncommand=sleep 1000\nstopsignal=INT\nstartsecs=0\nstopwaitsecs=2\n\
         [program:quit]\ncommand=sleep 1000\nstopsignal=QUIT\nstartsecs=0\nstopwaitsecs=2\n",
    );
    daemon.wait_for("the children to start", || {
        let log = daemon.main_log();
        log.contains("success: int entered RUNNING state")
            && log.contains("success: quit entered RUNNING state")
            && log.contains("exited: signals (exit status 0; expected)")
    });
    let ignored = daemon.read("signals.out");
    let mask = ignored
        .strip_prefix("SigIgn:")
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or_else(|| panic!("{ignored:?}"));
    let (sigint, sigquit, sigusr1) = (1 << (2 - 1), 1 << (3 - 1), 1 << (10 - 1));
    assert_eq!(mask & (sigint | sigquit), 0, "{ignored}");
    // A signal the daemon has no use for keeps the disposition it inherited.
    assert_eq!(mask & sigusr1, sigusr1, "{ignored}");
    let pid = i32::try_from(daemon.child.id()).expect("a pid fits in i32");
    assert!(send_signal(pid, SIGINT), "signal the daemon");
    daemon.wait_for("the daemon to exit", || {
        crate::support::daemon::stat(pid).is_none_or(|stat| stat.state == 'Z')
    });
    let log = daemon.main_log();
    assert!(
        log.contains("stopped: int (terminated by SIGINT)")
            && log.contains("stopped: quit (terminated by SIGQUIT)"),
        "{log}"
    );
}

#[test]
fn update_applies_an_edited_configuration_group_by_group() {
    let mut daemon = start(
        "[program:a]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:b]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:p]\ncommand=sleep 1000\nstartsecs=0\nnumprocs=2\nprocess_name=p%(process_num)d\n\
         [program:gone]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:still]\ncommand=sleep 1000\nstartsecs=0\n\
         [group:g]\nprograms=a,b\n",
    );
    daemon.wait_for_count("success: ", 6);
    let still = daemon.spawned_pid("still");
    daemon.write_config(&format!(
        "{UNIX_SERVER}\
         [program:a]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:b]\ncommand=sleep 1001\nstartsecs=0\n\
         [program:p]\ncommand=sleep 1000\nstartsecs=0\nnumprocs=3\nprocess_name=p%(process_num)d\n\
         [program:still]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:manual]\ncommand=sleep 1000\nautostart=false\n\
         [program:broken]\ncommand=/nonexistent/binary\nstartretries=0\n\
         [group:g]\nprograms=a,b\n"
    ));
    let reread = supervisorctl(&daemon, &["reread"]);
    assert_eq!(
        reread.stdout,
        "broken: available\ng: changed\ngone: disappeared\nmanual: available\np: changed\n"
    );
    let updated = supervisorctl(&daemon, &["update", "g", "gone"]);
    assert_eq!(
        (updated.code, updated.stdout.as_str()),
        (
            0,
            "gone: stopped\ngone: removed process group\ng: stopped\ng: updated process group\n"
        )
    );
    let updated = supervisorctl(&daemon, &["update"]);
    assert_eq!(
        (updated.code, updated.stdout.as_str()),
        (
            0,
            "p: stopped\np: updated process group\nbroken: added process group\n\
             manual: added process group\n"
        )
    );
    daemon.wait_for_log("gave up: broken entered FATAL state");
    daemon.wait_for_count("success: p2 entered RUNNING state", 1);
    daemon.wait_for_count("success: a entered RUNNING state", 2);
    daemon.wait_for_count("success: b entered RUNNING state", 2);
    let status = supervisorctl(&daemon, &["status"]);
    let states: Vec<(String, String)> = status
        .stdout
        .lines()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            (words[0].to_string(), words[1].to_string())
        })
        .collect();
    let expected = [
        ("broken", "FATAL"),
        ("g:a", "RUNNING"),
        ("g:b", "RUNNING"),
        ("manual", "STOPPED"),
        ("p:p0", "RUNNING"),
        ("p:p1", "RUNNING"),
        ("p:p2", "RUNNING"),
        ("still", "RUNNING"),
    ]
    .map(|(name, state)| (name.to_string(), state.to_string()));
    assert_eq!(states, expected, "{}", status.stdout);
    // An unchanged group is never touched; a removed one is stopped.
    assert_eq!(daemon.spawned_pid("still"), still);
    assert_eq!(daemon.count("spawned: 'still'"), 1);
    assert_eq!(daemon.count("stopped: gone ("), 1);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// supervisord opens a program's log files at each spawn (`make_dispatchers`): one that
/// cannot be opened is a spawn error, and the program starts once it can be.
#[test]
fn a_log_file_that_cannot_be_opened_is_a_spawn_error_until_it_can() {
    let mut daemon = Setup::new().file("out.log/.keep", "").start(&format!(
        "{UNIX_SERVER}\
         [program:logged]\ncommand=sh -c 'echo hello; exec sleep 1000'\n\
         stdout_logfile=%(here)s/out.log\nstartretries=0\nstartsecs=0\n"
    ));
    daemon.wait_for_log("gave up: logged entered FATAL state");
    assert_eq!(
        daemon.about("logged"),
        [
            "INFO spawnerr: unknown error making dispatchers for 'logged': EISDIR",
            "INFO gave up: logged entered FATAL state, too many start retries too quickly",
        ]
    );
    assert_eq!(
        state_of(&daemon, "logged"),
        (
            "FATAL".to_string(),
            "unknown error making dispatchers for 'logged': EISDIR".to_string()
        )
    );
    let refused = supervisorctl(&daemon, &["start", "logged"]);
    assert_eq!(
        (refused.code, refused.stdout.as_str()),
        (7, "logged: ERROR (spawn error)\n")
    );
    std::fs::remove_dir_all(daemon.join("out.log")).expect("remove the directory");
    let started = supervisorctl(&daemon, &["start", "logged"]);
    assert_eq!(
        (started.code, started.stdout.as_str()),
        (0, "logged: started\n")
    );
    assert_eq!(daemon.wait_for_file("out.log", "\n"), "hello\n");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// The AUTO log of `name`'s `channel` in the daemon's directory (its child log directory).
fn auto_log(daemon: &Daemon, name: &str, channel: &str) -> std::path::PathBuf {
    let prefix = format!("{name}-{channel}---");
    std::fs::read_dir(daemon.path())
        .expect("read the test directory")
        .flatten()
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name()
                .and_then(|file| file.to_str())
                .is_some_and(|file| file.starts_with(&prefix))
        })
        .unwrap_or_else(|| panic!("no {prefix}* log\n{}", daemon.report()))
}

/// supervisord opens a program's log files at each spawn: after a rotation by `mv`, a
/// restart writes to a new file at the configured path (an AUTO log keeps its name), and
/// the moved file keeps only what was written before.
#[test]
fn a_restart_opens_the_log_files_again() {
    let mut daemon = start(
        "[program:named]\ncommand=sh -c 'echo \"run $$\"; exec sleep 1000'\n\
         stdout_logfile=%(here)s/named.log\nstartsecs=0\n\
         [program:auto]\ncommand=sh -c 'echo \"run $$\"; exec sleep 1000'\nstartsecs=0\n",
    );
    let first = daemon.wait_for_file("named.log", "\n");
    let auto = auto_log(&daemon, "auto", "stdout");
    daemon.wait_for("the AUTO log's first line", || {
        std::fs::read_to_string(&auto).is_ok_and(|text| text.ends_with('\n'))
    });
    let auto_first = std::fs::read_to_string(&auto).unwrap_or_default();
    std::fs::rename(daemon.join("named.log"), daemon.join("named.log.1")).expect("mv");
    std::fs::rename(&auto, daemon.join("auto.log.1")).expect("mv the AUTO log");
    let restarted = supervisorctl(&daemon, &["restart", "named", "auto"]);
    assert_eq!(
        restarted.stdout,
        "named: stopped\nauto: stopped\nnamed: started\nauto: started\n"
    );
    let second = daemon.wait_for_file("named.log", "\n");
    assert_eq!(second, format!("run {}\n", daemon.spawned_pid("named")));
    assert_ne!(second, first);
    assert_eq!(daemon.read("named.log.1"), first);
    daemon.wait_for("the AUTO log again, under its name", || {
        std::fs::read_to_string(&auto).is_ok_and(|text| text.ends_with('\n'))
    });
    assert_eq!(
        std::fs::read_to_string(&auto).unwrap_or_default(),
        format!("run {}\n", daemon.spawned_pid("auto"))
    );
    assert_eq!(daemon.read("auto.log.1"), auto_first);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// A command that cannot be split is a spawn error worded as supervisord's (`%r`: Python
/// quotes it with double quotes when it holds a single quote).
#[test]
fn an_unsplittable_command_is_a_spawn_error_quoted_as_python_does() {
    let mut daemon = start(
        "[program:q]\ncommand=sh -c '(x\nstartretries=0\n\
         [program:d]\ncommand=sh -c \"(x\nstartretries=0\n",
    );
    daemon.wait_for_log("spawnerr: can't parse command \"sh -c '(x\": No closing quotation");
    daemon.wait_for_log("spawnerr: can't parse command 'sh -c \"(x': No closing quotation");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}
