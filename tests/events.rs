//! Events and event listeners: `svc run` with real listener processes.
//!
//! A hand-written listener ([`LISTENER`]) records every event it gets (headers and payload,
//! one JSON line each) and answers as its mode says, so the tests see exactly what crossed
//! the protocol: header fields, serials, `len`, payloads, re-deliveries. Other tests run the
//! real superlance plugins from PyPI (crashmail, memmon, httpok, fatalmailbatch) under svc.
//!
//! Waits are on events (a file's content, a main log line) with a deadline, never sleeps.
//! With `SVC_REFERENCE_SUPERVISORD` set, every test passes against supervisord except:
//! - those of svc's own `shutdown_on` (supervisord ignores the key);
//! - `process_state_events_have_supervisords_payloads`, when supervisord's once-a-second
//!   poll promotes the quick exit of `bad` to RUNNING (the race svc does not have; see the
//!   README's table of differences).

use std::collections::BTreeMap;

use crate::rpc::{check, show};
use crate::support::control::UNIX_SERVER;
use crate::support::daemon::{Daemon, SIGTERM, Setup};

/// `python3 listener.py MODE RECORD`: READY, then for each event one JSON line in RECORD
/// and an answer. Modes: `ok` (always OK), `fail-first` (the first event gets FAIL), `die`
/// (exits on its first event, once), `garbage` (answers the first event with a bad result
/// line), `hello` (says HELLO instead of READY), `late` (READY only once the file `go`
/// exists), `hold` (answers each event only once the file `go` exists).
const LISTENER: &str = r#"import json, os, sys, time
here = os.path.dirname(os.path.abspath(__file__))
mode, record = sys.argv[1], os.path.join(here, sys.argv[2])
def write(text):
    sys.stdout.write(text)
    sys.stdout.flush()
if mode == 'late':
    while not os.path.exists(os.path.join(here, 'go')):
        time.sleep(0.01)
if mode == 'hello':
    write('HELLO\n')
write('READY\n')
count = 0
while True:
    line = sys.stdin.readline()
    if not line:
        break
    headers = dict(part.split(':', 1) for part in line.split())
    payload = sys.stdin.read(int(headers['len']))
    with open(record, 'a') as out:
        out.write(json.dumps({'headers': headers, 'payload': payload}) + '\n')
    count += 1
    if mode == 'die' and not os.path.exists(os.path.join(here, 'died')):
        open(os.path.join(here, 'died'), 'w').close()
        sys.exit(1)
    while mode == 'hold' and not os.path.exists(os.path.join(here, 'go')):
        time.sleep(0.01)
    if mode == 'garbage' and count == 1:
        write('garbage\n')
        continue
    if mode == 'fail-first' and count == 1:
        write('RESULT 4\nFAIL')
    else:
        write('RESULT 2\nOK')
    write('READY\n')
"#;

/// One event as the listener recorded it.
#[derive(Debug, Clone)]
struct Seen {
    headers: BTreeMap<String, String>,
    payload: String,
}

impl Seen {
    fn name(&self) -> &str {
        &self.headers["eventname"]
    }

    fn number(&self, key: &str) -> u64 {
        self.headers[key].parse().expect("a numeric header")
    }
}

/// What the listener recorded in `record` so far.
fn seen(daemon: &Daemon, record: &str) -> Vec<Seen> {
    daemon
        .read(record)
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let headers = value["headers"]
                .as_object()
                .expect("headers")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
            Seen {
                headers,
                payload: value["payload"].as_str().unwrap_or_default().to_string(),
            }
        })
        .collect()
}

/// Waits until the listener recorded an event matching `wanted`; returns everything seen.
fn wait_seen(
    daemon: &Daemon,
    record: &str,
    what: &str,
    mut wanted: impl FnMut(&[Seen]) -> bool,
) -> Vec<Seen> {
    daemon.wait_for(what, || wanted(&seen(daemon, record)));
    seen(daemon, record)
}

/// A listener pool section.
fn pool(name: &str, mode: &str, events: &str, extra: &str) -> String {
    format!(
        "[eventlistener:{name}]\ncommand=python3 %(here)s/listener.py {mode} {name}.jsonl\n\
         events={events}\n{extra}\n"
    )
}

fn start(sections: &str) -> Daemon {
    Setup::new()
        .supervisord("loglevel=debug")
        .file("listener.py", LISTENER)
        .start(&format!("{UNIX_SERVER}{sections}"))
}

/// Every recorded event's header is well-formed: supervisord's fields, the pool's serials
/// counting from 0 in delivery order, `len` the payload's length in characters.
fn assert_headers(events: &[Seen], pool: &str) {
    for (index, event) in events.iter().enumerate() {
        let keys: Vec<&str> = event.headers.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "eventname",
                "len",
                "pool",
                "poolserial",
                "serial",
                "server",
                "ver"
            ]
        );
        assert_eq!(event.headers["ver"], "3.0");
        assert_eq!(event.headers["server"], "supervisor");
        assert_eq!(event.headers["pool"], pool);
        assert_eq!(event.number("poolserial"), index as u64, "{events:#?}");
        assert_eq!(
            event.number("len"),
            event.payload.chars().count() as u64,
            "{event:?}"
        );
        if index > 0 {
            assert!(event.number("serial") > events[index - 1].number("serial"));
        }
    }
}

/// The events about process `name`, as `EVENTNAME payload`.
fn about(events: &[Seen], name: &str) -> Vec<String> {
    let needle = format!("processname:{name} ");
    events
        .iter()
        .filter(|event| event.payload.starts_with(&needle))
        .map(|event| format!("{} {}", event.name(), event.payload))
        .collect()
}

#[test]
fn process_state_events_have_supervisords_payloads() {
    let mut daemon = start(&format!(
        "{}\
         [program:short]\ncommand=sh -c 'exit 3'\nstartsecs=0\nautorestart=false\n\
         [program:bad]\ncommand=sh -c 'exit 1'\nstartsecs=1\nstartretries=1\n\
         [program:slow]\ncommand=sleep 1000\nstartsecs=0\n",
        pool("lst", "ok", "PROCESS_STATE", "buffer_size=100")
    ));
    daemon.wait_for_log("gave up: bad entered FATAL state");
    daemon.wait_for_log("success: slow entered RUNNING state");
    assert_eq!(show(&daemon, "supervisor.stopProcess('slow')"), "True");
    let events = wait_seen(
        &daemon,
        "lst.jsonl",
        "slow STOPPED and bad FATAL",
        |events| {
            let all = about(events, "slow").join("\n") + &about(events, "bad").join("\n");
            all.contains("PROCESS_STATE_STOPPED") && all.contains("PROCESS_STATE_FATAL")
        },
    );
    assert_headers(&events, "lst");
    let short = daemon.spawned_pid("short");
    assert_eq!(
        about(&events, "short"),
        [
            "PROCESS_STATE_STARTING processname:short groupname:short from_state:STOPPED tries:0"
                .to_string(),
            format!(
                "PROCESS_STATE_RUNNING processname:short groupname:short from_state:STARTING pid:{short}"
            ),
            format!(
                "PROCESS_STATE_EXITED processname:short groupname:short from_state:RUNNING expected:0 pid:{short}"
            ),
        ]
    );
    assert_eq!(
        about(&events, "bad"),
        [
            "PROCESS_STATE_STARTING processname:bad groupname:bad from_state:STOPPED tries:0",
            "PROCESS_STATE_BACKOFF processname:bad groupname:bad from_state:STARTING tries:1",
            "PROCESS_STATE_STARTING processname:bad groupname:bad from_state:BACKOFF tries:1",
            "PROCESS_STATE_BACKOFF processname:bad groupname:bad from_state:STARTING tries:2",
            "PROCESS_STATE_FATAL processname:bad groupname:bad from_state:BACKOFF",
        ]
    );
    let slow = daemon.spawned_pid("slow");
    assert_eq!(
        about(&events, "slow"),
        [
            "PROCESS_STATE_STARTING processname:slow groupname:slow from_state:STOPPED tries:0"
                .to_string(),
            format!(
                "PROCESS_STATE_RUNNING processname:slow groupname:slow from_state:STARTING pid:{slow}"
            ),
            format!(
                "PROCESS_STATE_STOPPING processname:slow groupname:slow from_state:RUNNING pid:{slow}"
            ),
            format!(
                "PROCESS_STATE_STOPPED processname:slow groupname:slow from_state:STOPPING pid:{slow}"
            ),
        ]
    );
    // The listener hears of itself too.
    let listener = about(&events, "lst");
    assert_eq!(
        listener.first().map(String::as_str),
        Some("PROCESS_STATE_STARTING processname:lst groupname:lst from_state:STOPPED tries:0")
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn group_and_daemon_events_follow_supervisords_order() {
    let mut daemon = start(&format!(
        "{}[program:other]\ncommand=sleep 1000\nstartsecs=0\n",
        pool("lst", "ok", "SUPERVISOR_STATE_CHANGE,PROCESS_GROUP", "")
    ));
    let names = |events: &[Seen]| -> Vec<String> {
        events
            .iter()
            .map(|event| format!("{} {:?}", event.name(), event.payload))
            .collect()
    };
    let events = wait_seen(&daemon, "lst.jsonl", "three startup events", |e| {
        e.len() >= 3
    });
    // Each pool subscribes when its group is added: it hears its own PROCESS_GROUP_ADDED
    // and every later one, then the daemon's RUNNING.
    assert_eq!(
        names(&events),
        [
            "PROCESS_GROUP_ADDED \"groupname:lst\\n\"",
            "PROCESS_GROUP_ADDED \"groupname:other\\n\"",
            "SUPERVISOR_STATE_CHANGE_RUNNING \"\"",
        ]
    );
    check(
        &daemon,
        &[
            ("supervisor.stopProcess('other')", "True"),
            ("supervisor.removeProcessGroup('other')", "True"),
            ("supervisor.reloadConfig()", "[[['other'], [], []]]"),
            ("supervisor.addProcessGroup('other')", "True"),
        ],
    );
    let events = wait_seen(&daemon, "lst.jsonl", "removed and added", |e| e.len() >= 5);
    assert_eq!(
        names(&events[3..]),
        [
            "PROCESS_GROUP_REMOVED \"groupname:other\\n\"",
            "PROCESS_GROUP_ADDED \"groupname:other\\n\"",
        ]
    );
    // Shutting down: the listener (priority -1) stops last, after hearing STOPPING.
    daemon.signal(SIGTERM);
    let events = wait_seen(&daemon, "lst.jsonl", "STOPPING", |e| e.len() >= 6);
    assert_eq!(events[5].name(), "SUPERVISOR_STATE_CHANGE_STOPPING");
    assert_headers(&events, "lst");
    assert_eq!(daemon.wait_exit().code(), Some(0));
}

#[test]
fn remote_communication_len_counts_characters() {
    let mut daemon = start(&pool("lst", "ok", "REMOTE_COMMUNICATION", ""));
    daemon.wait_for_log("lst: ACKNOWLEDGED -> READY");
    check(
        &daemon,
        &[(
            "supervisor.sendRemoteCommEvent('note', 'héllo ✓ wörld')",
            "True",
        )],
    );
    let events = wait_seen(&daemon, "lst.jsonl", "the remote event", |e| !e.is_empty());
    assert_eq!(events[0].name(), "REMOTE_COMMUNICATION");
    assert_eq!(events[0].payload, "type:note\nhéllo ✓ wörld");
    // Characters, not UTF-8 bytes (supervisord measures the Python str).
    assert_eq!(events[0].number("len"), 23);
    assert_ne!(events[0].payload.len(), 23);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn a_rejected_event_is_delivered_again() {
    let mut daemon = start(&pool("lst", "fail-first", "REMOTE_COMMUNICATION", ""));
    daemon.wait_for_log("lst: ACKNOWLEDGED -> READY");
    check(
        &daemon,
        &[("supervisor.sendRemoteCommEvent('t', 'once')", "True")],
    );
    let events = wait_seen(&daemon, "lst.jsonl", "two deliveries", |e| e.len() >= 2);
    assert_eq!(events[0].headers, events[1].headers, "same serials");
    assert_eq!(events[1].payload, "type:t\nonce");
    daemon.wait_for_log("WARN lst: event was rejected");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn a_pool_of_two_gives_each_event_to_a_ready_listener() {
    let mut daemon = start(
        "[eventlistener:lst]\ncommand=python3 %(here)s/listener.py hold lst_%(process_num)d.jsonl\n\
         process_name=%(program_name)s_%(process_num)d\nnumprocs=2\nevents=REMOTE_COMMUNICATION\n",
    );
    daemon.wait_for_log("lst_0: ACKNOWLEDGED -> READY");
    daemon.wait_for_log("lst_1: ACKNOWLEDGED -> READY");
    daemon.wait_for_count("entered RUNNING state", 2);
    // The first listener holds its event (BUSY): the second event goes to the other one.
    check(
        &daemon,
        &[("supervisor.sendRemoteCommEvent('t', 'one')", "True")],
    );
    wait_seen(&daemon, "lst_0.jsonl", "the first event", |e| !e.is_empty());
    check(
        &daemon,
        &[("supervisor.sendRemoteCommEvent('t', 'two')", "True")],
    );
    let second = wait_seen(&daemon, "lst_1.jsonl", "the second event", |e| {
        !e.is_empty()
    });
    assert_eq!(second[0].payload, "type:t\ntwo");
    assert_eq!(second[0].number("serial"), 1);
    assert_eq!(second[0].number("poolserial"), 1);
    let first = seen(&daemon, "lst_0.jsonl");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].payload, "type:t\none");
    std::fs::write(daemon.join("go"), "").expect("create go");
    daemon.wait_for_count("event was processed", 2);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn a_full_buffer_discards_the_oldest_event() {
    let mut daemon = start(&pool(
        "lst",
        "late",
        "REMOTE_COMMUNICATION",
        "buffer_size=2",
    ));
    daemon.wait_for_log("success: lst entered RUNNING state");
    check(
        &daemon,
        &[
            ("supervisor.sendRemoteCommEvent('t', 'e0')", "True"),
            ("supervisor.sendRemoteCommEvent('t', 'e1')", "True"),
            ("supervisor.sendRemoteCommEvent('t', 'e2')", "True"),
            ("supervisor.sendRemoteCommEvent('t', 'e3')", "True"),
            ("supervisor.sendRemoteCommEvent('t', 'e4')", "True"),
        ],
    );
    for serial in 0..3 {
        daemon.wait_for_log(&format!(
            "ERRO pool lst event buffer overflowed, discarding event {serial}"
        ));
    }
    std::fs::write(daemon.join("go"), "").expect("create go");
    let events = wait_seen(&daemon, "lst.jsonl", "the two newest", |e| e.len() >= 2);
    let got: Vec<(u64, &str)> = events
        .iter()
        .map(|e| (e.number("serial"), e.payload.as_str()))
        .collect();
    assert_eq!(got, [(3, "type:t\ne3"), (4, "type:t\ne4")]);
    assert_eq!(daemon.count("overflowed"), 3);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn a_protocol_violation_makes_the_listener_unknown() {
    let mut daemon = start(&format!(
        "{}{}{}",
        pool("lst", "garbage", "REMOTE_COMMUNICATION", ""),
        pool("rude", "hello", "REMOTE_COMMUNICATION", ""),
        pool("watch", "ok", "REMOTE_COMMUNICATION", ""),
    ));
    daemon.wait_for_log("WARN rude: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol");
    daemon.wait_for_log("lst: ACKNOWLEDGED -> READY");
    daemon.wait_for_log("watch: ACKNOWLEDGED -> READY");
    check(
        &daemon,
        &[("supervisor.sendRemoteCommEvent('t', 'first')", "True")],
    );
    wait_seen(&daemon, "lst.jsonl", "the first event", |e| !e.is_empty());
    daemon.wait_for_log("WARN lst: bad result line: 'garbage'");
    daemon.wait_for_log("WARN lst: has entered the UNKNOWN state");
    check(
        &daemon,
        &[("supervisor.sendRemoteCommEvent('t', 'second')", "True")],
    );
    wait_seen(&daemon, "watch.jsonl", "both events", |e| e.len() >= 2);
    // The UNKNOWN listeners got nothing more; the event stays buffered in their pools.
    assert_eq!(seen(&daemon, "lst.jsonl").len(), 1);
    assert!(seen(&daemon, "rude.jsonl").is_empty());
    assert_eq!(
        daemon.count("sent to listener lst"),
        1,
        "{}",
        daemon.main_log()
    );
    assert_eq!(daemon.count("sent to listener rude"), 0);
    // Both keep running: a protocol violation is not a process failure.
    check(
        &daemon,
        &[(
            "[i['statename'] for i in supervisor.getAllProcessInfo()]",
            "['RUNNING', 'RUNNING', 'RUNNING']",
        )],
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn an_event_in_flight_when_the_listener_dies_is_delivered_again() {
    let mut daemon = start(&pool("lst", "die", "REMOTE_COMMUNICATION", ""));
    daemon.wait_for_log("lst: ACKNOWLEDGED -> READY");
    check(
        &daemon,
        &[("supervisor.sendRemoteCommEvent('t', 'x')", "True")],
    );
    daemon.wait_for_log("exited: lst (exit status 1; not expected)");
    let events = wait_seen(&daemon, "lst.jsonl", "a second delivery", |e| e.len() >= 2);
    assert_eq!(events[0].headers, events[1].headers);
    assert_eq!(events[1].payload, "type:t\nx");
    assert_eq!(daemon.count("spawned: 'lst'"), 2);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// Prints a capture-mode block with its BEGIN token split across two writes, then waits.
const TALKER: &str = r#"import sys, time
out = sys.stdout
out.write('before<!--XSUPERVISOR:BEG'); out.flush(); time.sleep(0.2)
out.write('IN-->the block\nline 2<!--XSUPERVISOR:END-->after it, long enough to pass\n')
out.flush()
time.sleep(1000)
"#;

#[test]
fn capture_mode_emits_one_communication_event() {
    let mut daemon = Setup::new()
        .supervisord("loglevel=debug")
        .file("listener.py", LISTENER)
        .file("talker.py", TALKER)
        .start(&format!(
            "{UNIX_SERVER}{}\
             [program:talker]\ncommand=python3 -u %(here)s/talker.py\nstartsecs=0\n\
             stdout_capture_maxbytes=1MB\nstdout_logfile=%(here)s/talker.out\n",
            pool("lst", "ok", "PROCESS_COMMUNICATION", "")
        ));
    let events = wait_seen(&daemon, "lst.jsonl", "the block", |e| !e.is_empty());
    let pid = daemon.spawned_pid("talker");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].name(), "PROCESS_COMMUNICATION_STDOUT");
    assert_eq!(
        events[0].payload,
        format!("processname:talker groupname:talker pid:{pid}\nthe block\nline 2")
    );
    // The block is not in the log; what surrounds it is.
    // (supervisord holds back output no longer than a token until more comes.)
    daemon.wait_for_file("talker.out", "beforeafter it, long enough to pass\n");
    daemon.wait_for_log("'talker' stdout emitted a comm event");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn process_log_events_carry_the_output() {
    let mut daemon = start(&format!(
        "{}[program:p]\ncommand=sh -c 'echo out; echo err >&2; exec sleep 1000'\n\
         startsecs=0\nstdout_events_enabled=true\nstderr_events_enabled=true\n\
         [program:quiet]\ncommand=sh -c 'echo unseen; exec sleep 1000'\nstartsecs=0\n",
        pool("lst", "ok", "PROCESS_LOG", "")
    ));
    let events = wait_seen(&daemon, "lst.jsonl", "both channels", |e| e.len() >= 2);
    let pid = daemon.spawned_pid("p");
    let mut got: Vec<String> = events
        .iter()
        .map(|event| format!("{} {}", event.name(), event.payload))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            format!("PROCESS_LOG_STDERR processname:p groupname:p pid:{pid} channel:stderr\nerr\n"),
            format!("PROCESS_LOG_STDOUT processname:p groupname:p pid:{pid} channel:stdout\nout\n"),
        ]
    );
    daemon.wait_for_log("'quiet' stdout output:\nunseen");
    assert_eq!(seen(&daemon, "lst.jsonl").len(), 2, "quiet has no events");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn tick_events_fire_on_the_period() {
    let mut daemon = start(&pool("lst", "ok", "TICK_5", ""));
    let events = wait_seen(&daemon, "lst.jsonl", "a tick", |e| !e.is_empty());
    assert_eq!(events[0].name(), "TICK_5");
    let when: u64 = events[0]
        .payload
        .strip_prefix("when:")
        .and_then(|t| t.parse().ok())
        .expect("when:<seconds>");
    assert_eq!(when % 5, 0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    assert!(
        now.abs_diff(when) < 60,
        "tick {when} is not about now ({now})"
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn under_load_events_are_lost_only_by_the_buffer_policy() {
    const LINES: usize = 20_000;
    let mut daemon = start(&format!(
        "{}[program:chatty]\ncommand=python3 -c \"import sys; out = sys.stdout.buffer; \
         [out.write(b'%%07d %%s\\n' %% (i, b'x' * 100)) for i in range({LINES})]\"\n\
         startsecs=0\nautorestart=false\nstdout_events_enabled=true\n\
         stdout_logfile=%(here)s/chatty.out\n",
        pool("lst", "ok", "PROCESS_LOG_STDOUT,PROCESS_STATE_EXITED", "")
    ));
    let events = wait_seen(&daemon, "lst.jsonl", "chatty's EXITED", |e| {
        e.iter().any(|event| event.name() == "PROCESS_STATE_EXITED")
    });
    let exited = events
        .iter()
        .find(|event| event.name() == "PROCESS_STATE_EXITED")
        .expect("EXITED")
        .number("serial");
    let main_log = daemon.main_log();
    let discarded: Vec<u64> = main_log
        .lines()
        .filter_map(|line| line.split("discarding event ").nth(1))
        .filter_map(|serial| serial.trim().parse().ok())
        .collect();
    let received: Vec<u64> = events.iter().map(|event| event.number("serial")).collect();
    // Every event before EXITED was either delivered or discarded with its log line, never
    // both, never twice, in order.
    let mut all: Vec<u64> = received.iter().chain(&discarded).copied().collect();
    all.sort_unstable();
    let expected: Vec<u64> = (0..=exited).collect();
    assert_eq!(
        all, expected,
        "delivered {received:?}, discarded {discarded:?}"
    );
    assert!(received.windows(2).all(|w| w[0] < w[1]));
    // Capture itself lost nothing.
    let log = daemon.wait_for_file(
        "chatty.out",
        &format!("{:07} {}\n", LINES - 1, "x".repeat(100)),
    );
    assert_eq!(log.lines().count(), LINES);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

// The real superlance plugins (`pip install superlance`), run as svc's listeners with the
// interpreter that has supervisor 4.3.0 and superlance (see `oracle_python`).

/// `python -m superlance.<plugin> ARGS` as a listener command.
fn superlance(plugin: &str, args: &str) -> String {
    let python = crate::oracle::oracle_python();
    let python = python.display();
    let check = std::process::Command::new(crate::oracle::oracle_python())
        .args(["-c", "import superlance"])
        .output()
        .expect("run python");
    assert!(
        check.status.success(),
        "superlance is required: `{python} -m pip install superlance==2.0.0`"
    );
    format!("{python} -m superlance.{plugin} {args}")
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a free port")
        .port()
}

#[test]
fn crashmail_mails_an_unexpected_exit() {
    let mut daemon = Setup::new()
        .file("sendmail.sh", "#!/bin/sh\ncat >> \"$(dirname \"$0\")/mail.txt\"\n")
        .start(&format!(
            "{UNIX_SERVER}[eventlistener:crashmail]\ncommand={}\nevents=PROCESS_STATE_EXITED\n\
             [program:crashy]\ncommand=sh -c 'while [ ! -e %(here)s/go ]; do sleep 0.01; done; exit 2'\n\
             startsecs=0\nautorestart=false\n\
             [program:fine]\ncommand=sh -c 'while [ ! -e %(here)s/go ]; do sleep 0.01; done; exit 0'\n\
             startsecs=0\nautorestart=false\n",
            superlance(
                "crashmail",
                "-a -m ops@example.com -s 'sh %(here)s/sendmail.sh'"
            )
        ));
    daemon.wait_for_log("success: crashmail entered RUNNING state");
    std::fs::write(daemon.join("go"), "").expect("create go");
    let mail = daemon.wait_for_file("mail.txt", "from state RUNNING");
    daemon.wait_for_log("exited: fine (exit status 0; expected)");
    let crashy = daemon.spawned_pid("crashy");
    assert!(mail.contains("To: ops@example.com"), "{mail}");
    assert!(
        mail.contains(&format!(
            "Process crashy in group crashy exited unexpectedly (pid {crashy}) from state RUNNING"
        )),
        "{mail}"
    );
    assert!(
        !mail.contains("fine"),
        "an expected exit is not mailed: {mail}"
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn memmon_restarts_a_program_that_grows_past_its_limit() {
    let mut daemon = Setup::new().start(&format!(
        "{UNIX_SERVER}[eventlistener:memmon]\ncommand={}\nevents=TICK_5\n\
         [program:hog]\ncommand=python3 -c \"import time; hold = b'x' * (64 << 20); time.sleep(1000)\"\n\
         startsecs=0\n\
         [program:small]\ncommand=sleep 1000\nstartsecs=0\n",
        superlance("memmon", "-p hog=20MB")
    ));
    daemon.wait_for_log("success: hog entered RUNNING state");
    let first = daemon.spawned_pid("hog");
    // memmon looks at each TICK_5 and restarts hog over XML-RPC (stop, then start).
    daemon.wait_for_count("spawned: 'hog'", 2);
    daemon.wait_for_log("stopped: hog (terminated by SIGTERM)");
    assert_ne!(daemon.spawned_pid("hog"), first);
    assert_eq!(
        daemon.count("spawned: 'small'"),
        1,
        "small is under no limit"
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// `python3 web.py PORT`: answers 200 on GET, except that once the file `hang` exists, the
/// request that finds it removes it and hangs (so only this process stops answering).
const WEB: &str = r#"import http.server, os, sys, time
here = os.path.dirname(os.path.abspath(__file__))
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        hang = os.path.join(here, 'hang')
        if os.path.exists(hang):
            os.remove(hang)
            time.sleep(1000)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'ok')
    def log_message(self, *args):
        pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), Handler).serve_forever()
"#;

#[test]
fn httpok_restarts_a_program_whose_port_stops_answering() {
    let port = free_port();
    let mut daemon = Setup::new().file("web.py", WEB).start(&format!(
        "{UNIX_SERVER}[eventlistener:httpok]\ncommand={}\nevents=TICK_5\n\
         [program:web]\ncommand=python3 %(here)s/web.py {port}\nstartsecs=0\n",
        superlance("httpok", &format!("-p web -t 2 http://127.0.0.1:{port}/"))
    ));
    daemon.wait_for_log("success: web entered RUNNING state");
    let first = daemon.spawned_pid("web");
    std::fs::write(daemon.join("hang"), "").expect("create hang");
    daemon.wait_for_count("spawned: 'web'", 2);
    assert_ne!(daemon.spawned_pid("web"), first);
    assert!(
        !daemon.join("hang").exists(),
        "the hung process saw the file"
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// `python3 smtp.py PORT`: a minimal SMTP server that appends each message to `smtp.txt`.
const SMTP: &str = r#"import os, socketserver, sys
here = os.path.dirname(os.path.abspath(__file__))
class Handler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write(text.encode() + b'\r\n')
        self.wfile.flush()
    def handle(self):
        self.reply('220 test')
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode(errors='replace').strip().upper()
            if command == 'DATA':
                self.reply('354 go on')
                body = []
                while True:
                    line = self.rfile.readline()
                    if line in (b'.\r\n', b'.\n', b''):
                        break
                    body.append(line.decode(errors='replace'))
                with open(os.path.join(here, 'smtp.txt'), 'a') as out:
                    out.write(''.join(body) + '\n.\n')
                self.reply('250 queued')
            elif command == 'QUIT':
                self.reply('221 bye')
                return
            else:
                self.reply('250 ok')
socketserver.TCPServer.allow_reuse_address = True
with socketserver.TCPServer(('127.0.0.1', int(sys.argv[1])), Handler) as server:
    server.serve_forever()
"#;

#[test]
fn fatalmailbatch_reports_a_fatal_program() {
    let port = free_port();
    let mut daemon = Setup::new().file("smtp.py", SMTP).start(&format!(
        "{UNIX_SERVER}[program:smtp]\ncommand=python3 %(here)s/smtp.py {port}\nstartsecs=0\npriority=1\n\
         [eventlistener:fatal]\ncommand={}\nevents=PROCESS_STATE,TICK_5\n\
         [program:broken]\ncommand=sh -c 'exit 1'\nstartretries=0\n",
        superlance(
            "fatalmailbatch",
            &format!(
                "-t ops@example.com -f svc@example.com -H 127.0.0.1:{port} -e TICK_5 -i 0.01"
            )
        )
    ));
    daemon.wait_for_log("gave up: broken entered FATAL state");
    let mail = daemon.wait_for_file("smtp.txt", "\n.\n");
    assert!(
        mail.contains("Subject: Fatal start alert from supervisord"),
        "{mail}"
    );
    assert!(
        mail.contains("Process broken:broken failed to start too many times"),
        "{mail}"
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

// svc's own `shutdown_on` (supervisord ignores the key: these fail in reference mode).

#[test]
fn shutdown_on_fatal_stops_everything_and_exits_with_the_code() {
    let mut daemon = Daemon::start(
        "[program:key]\ncommand=sh -c 'exit 1'\nstartretries=1\nshutdown_on=fatal\n\
         shutdown_exitcode=3\n\
         [program:other]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    let status = daemon.wait_exit();
    assert_eq!(status.code(), Some(3), "{}", daemon.report());
    let log = daemon.main_log();
    assert!(log.contains("gave up: key entered FATAL state"), "{log}");
    assert!(
        log.contains(
            "CRIT key entered FATAL state and has shutdown_on=fatal: shutting down, exit status will be 3"
        ),
        "{log}"
    );
    assert!(
        log.contains("stopped: other (terminated by SIGTERM)"),
        "{log}"
    );
}

#[test]
fn shutdown_on_unexpected_exits_instead_of_restarting() {
    let mut daemon = Daemon::start(
        "[program:key]\ncommand=sh -c 'while [ ! -e %(here)s/go ]; do sleep 0.01; done; exit 2'\n\
         startsecs=0\nautorestart=true\nshutdown_on=unexpected\n\
         [program:expected]\ncommand=sh -c 'exit 0'\nstartsecs=0\nautorestart=false\n\
         shutdown_on=unexpected\n",
    );
    // An expected exit does not count.
    daemon.wait_for_log("exited: expected (exit status 0; expected)");
    assert!(daemon.is_running());
    std::fs::write(daemon.join("go"), "").expect("create go");
    let status = daemon.wait_exit();
    assert_eq!(status.code(), Some(1), "{}", daemon.report());
    assert_eq!(
        daemon.count("spawned: 'key'"),
        1,
        "no restart after the trigger"
    );
    assert_eq!(
        daemon.count("key exited unexpectedly and has shutdown_on=unexpected"),
        1
    );
}
