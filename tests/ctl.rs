//! The control plane against its real clients: Python supervisor 4.3.0's `supervisorctl`
//! and `xmlrpc.client`, talking to `svc run` over its unix socket and over TCP.
//!
//! Expected outputs and exit codes are supervisord 4.3.0's (reference §6–7); with
//! `SVC_REFERENCE_SUPERVISORD` set, the daemon under test is the real supervisord.

use std::process::Command;

use crate::support::control::{UNIX_SERVER, supervisorctl, xmlrpc};
use crate::support::daemon::{Daemon, SIGTERM, Setup};
use crate::support::{CLEAN_ENV, run_with_deadline};

/// Replaces what changes from run to run (pids, uptimes, stop times) in status lines.
fn normalize_status(text: &str) -> String {
    text.lines()
        .map(|line| {
            let mut words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
            if words.get(2).is_some_and(|w| w == "pid") {
                words.truncate(3);
                words.push("N,".into());
                words.push("uptime".into());
                words.push("T".into());
            } else if words.len() == 5 && words[1] == "STOPPED"
                || words.len() == 5 && words[1] == "EXITED"
            {
                words.truncate(2);
                words.push("<time>".into());
            }
            words.join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn start(sections: &str) -> Daemon {
    Setup::new().start(&format!("{UNIX_SERVER}{sections}"))
}

#[test]
fn status_start_stop_and_their_exit_codes() {
    let mut daemon = start(
        "[program:web]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:idle]\ncommand=sleep 1000\nautostart=false\n\
         [program:pool]\ncommand=sleep 1000\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)d\nstartsecs=0\n",
    );
    daemon.wait_for_count("success: ", 3);

    let status = supervisorctl(&daemon, &["status"]);
    assert_eq!(status.code, 3, "a stopped process makes status exit 3");
    assert_eq!(
        normalize_status(&status.stdout),
        "idle STOPPED Not started\n\
         pool:pool_0 RUNNING pid N, uptime T\n\
         pool:pool_1 RUNNING pid N, uptime T\n\
         web RUNNING pid N, uptime T"
    );
    // Column layout: the state starts at column 33.
    let line = status.stdout.lines().next().unwrap_or_default();
    assert_eq!(&line[..33], format!("{:<33}", "idle"));

    let started = supervisorctl(&daemon, &["start", "idle"]);
    assert_eq!(
        (started.code, started.stdout.as_str()),
        (0, "idle: started\n")
    );
    let again = supervisorctl(&daemon, &["start", "idle"]);
    assert_eq!(again.stdout, "idle: ERROR (already started)\n");
    assert_eq!(supervisorctl(&daemon, &["status"]).code, 0);

    let stopped = supervisorctl(&daemon, &["stop", "pool:*"]);
    assert_eq!(stopped.code, 0);
    assert_eq!(
        stopped.stdout,
        "pool:pool_0: stopped\npool:pool_1: stopped\n"
    );
    let not_running = supervisorctl(&daemon, &["stop", "pool:pool_0"]);
    assert_eq!(not_running.stdout, "pool:pool_0: ERROR (not running)\n");

    let unknown = supervisorctl(&daemon, &["start", "nosuch"]);
    assert_eq!(unknown.stdout, "nosuch: ERROR (no such process)\n");
    assert_eq!(unknown.code, 1);
    let unknown_status = supervisorctl(&daemon, &["status", "nosuch"]);
    assert_eq!(unknown_status.stdout, "nosuch: ERROR (no such process)\n");
    assert_eq!(unknown_status.code, 4);

    let restarted = supervisorctl(&daemon, &["restart", "web"]);
    assert_eq!(restarted.stdout, "web: stopped\nweb: started\n");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn spawn_errors_reach_supervisorctl() {
    let mut daemon = start(
        "[program:missing]\ncommand=/nonexistent/binary\nautostart=false\n\
         [program:quick]\ncommand=sh -c 'exit 1'\nautostart=false\nstartretries=0\n",
    );
    let missing = supervisorctl(&daemon, &["start", "missing"]);
    assert_eq!(missing.stdout, "missing: ERROR (no such file)\n");
    assert_eq!(missing.code, 1);
    let quick = supervisorctl(&daemon, &["start", "quick"]);
    assert_eq!(quick.stdout, "quick: ERROR (spawn error)\n");
    assert_eq!(quick.code, 7);
    let status = supervisorctl(&daemon, &["status", "quick"]);
    assert_eq!(
        normalize_status(&status.stdout),
        "quick FATAL Exited too quickly (process log may have details)"
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn tail_pid_and_shutdown() {
    let mut daemon = start(
        "[program:talker]\ncommand=sh -c 'echo first; echo second; exec sleep 1000'\nstartsecs=0\n",
    );
    daemon.wait_for_log("success: talker entered RUNNING");
    // supervisorctl prints the log, then a newline of its own.
    daemon.wait_for("the output", || {
        supervisorctl(&daemon, &["tail", "talker"]).stdout == "first\nsecond\n\n"
    });
    let tail = supervisorctl(&daemon, &["tail", "-7", "talker"]);
    assert_eq!(tail.stdout, "second\n\n");
    let pid = supervisorctl(&daemon, &["pid"]);
    assert_eq!(pid.stdout.trim(), daemon.pid.to_string());
    let child = supervisorctl(&daemon, &["pid", "talker"]);
    assert_eq!(
        child.stdout.trim(),
        daemon.spawned_pid("talker").to_string()
    );
    let shutdown = supervisorctl(&daemon, &["shutdown"]);
    assert_eq!(shutdown.stdout, "Shut down\n");
    assert_eq!(daemon.wait_exit().code(), Some(0));
    assert!(
        !daemon.path().join("supervisor.sock").exists(),
        "the socket file is removed at exit"
    );
    let gone = supervisorctl(&daemon, &["status"]);
    assert_eq!(gone.code, 4);
    assert!(gone.stdout.contains("no such file"), "{}", gone.stdout);
}

#[test]
fn xmlrpc_structures_and_faults() {
    let mut daemon = start("[program:web]\ncommand=sleep 1000\nstartsecs=0\n");
    daemon.wait_for_log("success: web entered RUNNING");
    let out = xmlrpc(
        &daemon,
        "info = proxy.supervisor.getProcessInfo('web')\n\
         print(sorted(info))\n\
         print(info['statename'], info['state'], info['group'], info['exitstatus'])\n\
         print(proxy.supervisor.getAPIVersion(), proxy.supervisor.getSupervisorVersion())\n\
         print(proxy.supervisor.getState())\n\
         try:\n    proxy.supervisor.getProcessInfo('nosuch')\n\
         except xmlrpc.client.Fault as f:\n    print(f.faultCode, f.faultString)\n\
         try:\n    proxy.supervisor.noSuchMethod()\n\
         except xmlrpc.client.Fault as f:\n    print(f.faultCode, f.faultString)\n\
         try:\n    proxy.supervisor.getProcessInfo()\n\
         except xmlrpc.client.Fault as f:\n    print(f.faultCode, f.faultString)\n\
         print(proxy.system.multicall([{'methodName': 'supervisor.getPID'}, {'methodName': 'supervisor.getProcessInfo', 'params': ['x']}, {'methodName': 'system.multicall', 'params': [[]]}])[1:])\n\
         print(proxy.supervisor.stopProcess('web'))\n\
         print(proxy.supervisor.stopProcess('web', False) if False else proxy.supervisor.getProcessInfo('web')['statename'])\n\
         print(proxy.supervisor.startProcessGroup('web'))\n\
         print(proxy.system.methodSignature('supervisor.startProcess'), 'supervisor.getPID' in proxy.system.listMethods())\n\
         try:\n    proxy.system.methodHelp('nope')\n\
         except xmlrpc.client.Fault as f:\n    print(f.faultCode, f.faultString)",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "['description', 'exitstatus', 'group', 'logfile', 'name', 'now', 'pid', 'spawnerr', 'start', 'state', 'statename', 'stderr_logfile', 'stdout_logfile', 'stop']"
    );
    assert_eq!(lines[1], "RUNNING 20 web 0");
    assert_eq!(lines[2], "3.0 4.3.0");
    assert_eq!(lines[3], "{'statecode': 1, 'statename': 'RUNNING'}");
    assert_eq!(lines[4], "10 BAD_NAME: nosuch");
    assert_eq!(lines[5], "1 UNKNOWN_METHOD");
    assert_eq!(lines[6], "2 INCORRECT_PARAMETERS");
    assert_eq!(
        lines[7],
        "[{'faultCode': 10, 'faultString': 'BAD_NAME: x'}, {'faultCode': 2, 'faultString': 'INCORRECT_PARAMETERS: Recursive system.multicall forbidden'}]"
    );
    assert_eq!(lines[8], "True");
    assert_eq!(lines[9], "STOPPED");
    assert_eq!(
        lines[10],
        "[{'description': 'OK', 'group': 'web', 'name': 'web', 'status': 80}]"
    );
    assert_eq!(lines[11], "['boolean', 'string', 'boolean'] True");
    assert_eq!(lines[12], "4 SIGNATURE_UNSUPPORTED");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn reread_update_add_remove() {
    let mut daemon = start(
        "[program:keep]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:gone]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:edit]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    daemon.wait_for_count("success: ", 3);
    let same = supervisorctl(&daemon, &["reread"]);
    assert_eq!(same.stdout, "No config updates to processes\n");

    // Moving a section changes no value: only `edit`'s command does.
    daemon.write_config(&format!(
        "{UNIX_SERVER}[program:edit]\ncommand=sleep 999\nstartsecs=0\n\
         [program:keep]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:new]\ncommand=sleep 1000\nstartsecs=0\n"
    ));
    let reread = supervisorctl(&daemon, &["reread"]);
    assert_eq!(
        reread.stdout,
        "edit: changed\ngone: disappeared\nnew: available\n"
    );
    let avail = supervisorctl(&daemon, &["avail"]);
    assert!(
        avail
            .stdout
            .contains("new                              avail     auto      999:999\n"),
        "{}",
        avail.stdout
    );
    let keep_pid = daemon.spawned_pid("keep");
    let update = supervisorctl(&daemon, &["update"]);
    assert_eq!(update.code, 0);
    assert_eq!(
        update.stdout,
        "gone: stopped\ngone: removed process group\nedit: stopped\nedit: updated process group\nnew: added process group\n"
    );
    daemon.wait_for_log("success: new entered RUNNING");
    let status = supervisorctl(&daemon, &["status"]);
    assert_eq!(
        normalize_status(&status.stdout),
        "edit RUNNING pid N, uptime T\nkeep RUNNING pid N, uptime T\nnew RUNNING pid N, uptime T"
    );
    // An unchanged group is never touched.
    assert_eq!(daemon.spawned_pid("keep"), keep_pid);
    assert_eq!(daemon.count("spawned: 'keep'"), 1);

    let still = supervisorctl(&daemon, &["remove", "keep"]);
    assert_eq!(still.stdout, "ERROR: process/group still running: keep\n");
    supervisorctl(&daemon, &["stop", "keep"]);
    let removed = supervisorctl(&daemon, &["remove", "keep"]);
    assert_eq!(removed.stdout, "keep: removed process group\n");
    let added = supervisorctl(&daemon, &["add", "keep"]);
    assert_eq!(added.stdout, "keep: added process group\n");
    let again = supervisorctl(&daemon, &["add", "keep"]);
    assert_eq!(again.stdout, "ERROR: process group already active\n");
    let unknown = supervisorctl(&daemon, &["add", "nosuch"]);
    assert_eq!(unknown.stdout, "ERROR: no such process/group: nosuch\n");

    // A configuration that no longer compiles is CANT_REREAD, with the diagnostics.
    std::fs::write(
        daemon.path().join("supervisord.conf"),
        format!("{}\n[program:broken]\n", daemon.read("supervisord.conf")),
    )
    .expect("break the configuration");
    let out = xmlrpc(
        &daemon,
        "try:\n    proxy.supervisor.reloadConfig()\n\
         except xmlrpc.client.Fault as f:\n    print(f.faultCode, f.faultString.splitlines()[0])",
    );
    assert_eq!(out, "92 CANT_REREAD: svc::program::missing_command\n");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn avail_clear_and_stdin() {
    let mut daemon = start(
        "[program:echo]\ncommand=sh -c 'while read line; do echo \"got $line\"; done'\nstartsecs=0\n\
         [program:manual]\ncommand=sleep 1000\nautostart=false\npriority=5\n",
    );
    daemon.wait_for_log("success: echo entered RUNNING");
    let avail = supervisorctl(&daemon, &["avail"]);
    assert_eq!(
        avail.stdout,
        "echo                             in use    auto      999:999\n\
         manual                           in use    manual    5:5\n"
    );
    let out = xmlrpc(
        &daemon,
        "print(proxy.supervisor.sendProcessStdin('echo', 'hello\\n'))\n\
         try:\n    proxy.supervisor.sendProcessStdin('manual', 'x')\n\
         except xmlrpc.client.Fault as f:\n    print(f.faultCode, f.faultString)\n\
         info = [i for i in proxy.supervisor.getAllConfigInfo() if i['name'] == 'manual'][0]\n\
         import os\n\
         print(info['autostart'], info['process_prio'], os.path.basename(info['stdout_logfile'])[:27], info['stopsignal'], info['uid'])",
    );
    // An AUTO log of a group in use shows its file, as in supervisord.
    assert_eq!(
        out,
        "True\n70 NOT_RUNNING: manual\nFalse 5 manual-stdout---supervisor- 15 none\n"
    );
    daemon.wait_for("the echo", || {
        supervisorctl(&daemon, &["tail", "echo"]).stdout == "got hello\n\n"
    });
    let cleared = supervisorctl(&daemon, &["clear", "echo"]);
    assert_eq!(cleared.stdout, "echo: cleared\n");
    assert_eq!(supervisorctl(&daemon, &["tail", "echo"]).stdout, "\n");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn update_plan_names_the_changed_fields_and_applies_nothing() {
    let mut daemon = start(
        "[program:web]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:old]\ncommand=sleep 1000\nstartsecs=0\n\
         [group:app]\nprograms=web\npriority=10\n",
    );
    daemon.wait_for_count("success: ", 2);
    daemon.write_config(&format!(
        "{UNIX_SERVER}[program:web]\ncommand=sleep 999\nstartsecs=0\nstopwaitsecs=3\n\
         [program:fresh]\ncommand=sleep 1000\n\
         [group:app]\nprograms=web\npriority=20\n"
    ));
    let out = xmlrpc(&daemon, "print(proxy.svc.updatePlan())");
    assert_eq!(
        out,
        "{'added': ['fresh'], 'changed': [{'changes': ['priority', 'web: command', 'web: stopwaitsecs'], 'group': 'app'}], 'removed': ['old']}\n"
    );
    let mut command = Command::new(crate::support::svc_binary());
    command
        .args(["ctl", "-c", "supervisord.conf", "update", "--plan"])
        .current_dir(daemon.path())
        .env_clear()
        .envs(CLEAN_ENV.iter().copied());
    let plan = run_with_deadline(command, crate::support::daemon::DEADLINE);
    assert_eq!(
        String::from_utf8_lossy(&plan.stdout),
        "old: would be stopped and removed\n\
         app: would be restarted (priority, web: command, web: stopwaitsecs)\n\
         fresh: would be added\n"
    );
    assert_eq!(plan.status.code(), Some(0));
    // Nothing was applied.
    let status = supervisorctl(&daemon, &["status"]);
    assert_eq!(
        normalize_status(&status.stdout),
        "app:web RUNNING pid N, uptime T\nold RUNNING pid N, uptime T"
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn a_slow_stop_reports_waiting_every_two_seconds() {
    let mut daemon = start(
        "[program:slow]\ncommand=sh -c 'trap \"\" TERM; while :; do sleep 0.1; done'\n\
         startsecs=0\nstopwaitsecs=3\n",
    );
    daemon.wait_for_log("success: slow entered RUNNING");
    let stopped = supervisorctl(&daemon, &["stop", "slow"]);
    assert_eq!(stopped.stdout, "slow: stopped\n");
    let about: Vec<String> = daemon
        .lines()
        .iter()
        .map(crate::support::daemon::LogLine::normalized)
        .collect();
    let waiting: Vec<&String> = about
        .iter()
        .filter(|line| line.as_str() == "INFO waiting for slow to stop")
        .collect();
    assert_eq!(waiting.len(), 2, "{about:#?}");
    let killed = about
        .iter()
        .position(|line| line.starts_with("WARN killing 'slow'"))
        .expect("the SIGKILL line");
    let last_wait = about
        .iter()
        .rposition(|line| line.as_str() == "INFO waiting for slow to stop")
        .expect("a waiting line");
    assert!(last_wait < killed, "{about:#?}");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}
