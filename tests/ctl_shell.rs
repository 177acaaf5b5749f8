//! `svc ctl`'s interactive shell on a real terminal: line editing, history and Tab
//! completion, driven through a pseudo-terminal, beside supervisorctl 4.3.0 driven with the
//! same keystrokes against the same `svc run`.
//!
//! The pseudo-terminal is Python's `pty` module ([`PTY_DRIVER`]): it forks the client on a
//! pty, sends keystrokes and waits, with a deadline, until the output since the previous
//! wait contains the expected text, then waits for the client's exit. Expected texts are
//! what both line editors print: readline writes only what completion inserts, rustyline
//! redraws the line, so a test waits for the inserted suffix (`rker `), never for a redraw.
//!
//! The driver and the clients carry the daemon's `SVC_TEST_TAG`, so the daemon's guard
//! kills whatever is left when a test ends, passed or failed.

use std::process::Command;

use serde_json::{Value, json};

use crate::support::daemon::{DEADLINE, Daemon, Setup};
use crate::support::{CLEAN_ENV, run_with_deadline, svc_binary};

/// The sections that give the daemon its unix socket and the clients their server URL and
/// history file.
const SERVER: &str = "[unix_http_server]\nfile=%(here)s/supervisor.sock\n\
     [rpcinterface:supervisor]\n\
     supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
     [supervisorctl]\nserverurl=unix://%(here)s/supervisor.sock\n\
     history_file=%(here)s/history\n";

/// One program alone, one not started, a group of two.
const PROGRAMS: &str = "[program:web]\ncommand=sleep 1000\nstartsecs=0\n\
     [program:worker]\ncommand=sleep 1000\nautostart=false\nstartsecs=0\n\
     [program:pool]\ncommand=sleep 1000\nnumprocs=2\n\
     process_name=%(program_name)s_%(process_num)d\nstartsecs=0\n";

/// Runs a command on a pseudo-terminal. `argv[1]` is a JSON list of steps, `["send", text]`
/// or `["expect", text]`; the command follows. Prints `{"output", "status", "failed"}`.
const PTY_DRIVER: &str = r#"
import json, os, pty, select, sys, time

DEADLINE = 20.0
steps = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
output = b""
mark = 0
failed = None

def read_some(until):
    global output
    remaining = until - time.monotonic()
    if remaining <= 0:
        return False
    ready, _, _ = select.select([fd], [], [], remaining)
    if not ready:
        return False
    try:
        data = os.read(fd, 4096)
    except OSError:
        return None
    if not data:
        return None
    output += data
    return True

for kind, text in steps:
    if failed:
        break
    if kind == "send":
        os.write(fd, text.encode())
        continue
    needle = text.encode()
    until = time.monotonic() + DEADLINE
    while needle not in output[mark:]:
        got = read_some(until)
        if not got:
            failed = "expected %r (%s)" % (text, "timeout" if got is False else "end of output")
            break
    else:
        mark = output.index(needle, mark) + len(needle)

if not failed:
    until = time.monotonic() + DEADLINE
    while True:
        got = read_some(until)
        if got is None:
            break
        if got is False:
            failed = "the client did not exit"
            break
if failed:
    os.kill(pid, 9)
_, raw = os.waitpid(pid, 0)
print(json.dumps({"output": output.decode("utf-8", "replace"),
                  "status": os.waitstatus_to_exitcode(raw), "failed": failed}))
"#;

/// Which interactive client a test drives.
#[derive(Debug, Clone, Copy)]
enum Client {
    Svc,
    Supervisorctl,
}

/// What a client printed on its terminal, and how it ended.
#[derive(Debug)]
struct Session {
    output: String,
    status: i64,
}

/// Keystrokes and the text to wait for after them.
fn send(text: &str) -> Value {
    json!(["send", text])
}

fn expect(text: &str) -> Value {
    json!(["expect", text])
}

/// Runs `client -c supervisord.conf` in the daemon's directory on a pseudo-terminal through
/// `steps`; fails the test with the transcript if a wait times out or the client does not
/// exit.
fn drive(daemon: &Daemon, client: Client, steps: &[Value]) -> Session {
    let driver = daemon.join("pty_driver.py");
    std::fs::write(&driver, PTY_DRIVER).expect("write the pty driver");
    let python = crate::oracle::oracle_python();
    let mut command = Command::new(&python);
    command
        .arg(&driver)
        .arg(Value::Array(steps.to_vec()).to_string())
        .current_dir(daemon.path())
        .env_clear()
        .envs(CLEAN_ENV.iter().copied())
        .env("TERM", "xterm")
        .env("SVC_TEST_TAG", daemon.path());
    match client {
        Client::Svc => command.arg(svc_binary()).arg("ctl"),
        Client::Supervisorctl => command
            .arg(&python)
            .args(["-m", "supervisor.supervisorctl"]),
    };
    command.args(["-c", "supervisord.conf"]);
    let output = run_with_deadline(command, DEADLINE * 4);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "the pty driver failed: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let session = Session {
        output: report["output"].as_str().unwrap_or_default().to_string(),
        status: report["status"].as_i64().unwrap_or(-1),
    };
    if let Some(failed) = report["failed"].as_str() {
        panic!(
            "{client:?}: {failed}; the terminal showed:\n{:?}",
            session.output
        );
    }
    session
}

/// The text after the last prompt, without escape sequences, bells and carriage returns:
/// what is left on the screen when the shell has ended.
fn after_last_prompt(output: &str) -> String {
    let tail = output.rsplit("supervisor> ").next().unwrap_or_default();
    let mut text = String::new();
    let mut characters = tail.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '\u{1b}' => {
                if characters.peek() == Some(&'[') {
                    characters.next();
                    for inner in characters.by_ref() {
                        if inner.is_ascii_alphabetic() || inner == '~' {
                            break;
                        }
                    }
                }
            }
            '\r' | '\u{7}' => {}
            other => text.push(other),
        }
    }
    text
}

fn start() -> Daemon {
    Setup::new().start(&format!("{SERVER}{PROGRAMS}"))
}

/// Runs the same keystrokes through both clients and checks that both got there and exited 0.
fn both(daemon: &Daemon, steps: &[Value]) -> [Session; 2] {
    [Client::Supervisorctl, Client::Svc].map(|client| {
        let session = drive(daemon, client, steps);
        assert_eq!(session.status, 0, "{client:?}: {:?}", session.output);
        session
    })
}

#[test]
fn command_names_complete_as_supervisorctl_completes_them() {
    let daemon = start();
    let steps = [
        expect("supervisor> "),
        // Two matches: the bell, then a second Tab lists them.
        send("sta\t"),
        expect("\u{7}"),
        send("\t"),
        expect("status"),
        expect("supervisor> "),
        // One match: inserted with its space.
        send("\u{15}he\t"),
        expect("lp "),
        // After `help`, command names again.
        send("sto\t"),
        expect("p "),
        send("\r"),
        expect("Stop a process"),
        // Ctrl-D reaches readline only once it reads again.
        expect("supervisor> "),
        send("\u{4}"),
    ];
    for session in both(&daemon, &steps) {
        assert!(session.output.contains("start"), "{:?}", session.output);
    }
}

#[test]
fn process_names_complete_from_the_server() {
    let daemon = start();
    let steps = [
        expect("supervisor> "),
        send("start w\t"),
        expect("\u{7}"),
        send("\t"),
        expect("worker"),
        expect("supervisor> "),
        send("o\t"),
        expect("rker "),
        // The completed line is what runs.
        send("\r"),
        expect("worker: "),
        expect("supervisor> "),
        send("\u{4}"),
    ];
    let sessions = both(&daemon, &steps);
    for session in &sessions {
        assert!(session.output.contains("web"), "{:?}", session.output);
    }
    // Groups with several processes, `group:*`, `signal`'s arguments, group names.
    let session = drive(
        &daemon,
        Client::Svc,
        &[
            expect("supervisor> "),
            send("stop pool\t"),
            expect(":"),
            send("\t"),
            expect("pool:*"),
            expect("supervisor> "),
            send("\u{15}signal HUP web:\t"),
            expect("\u{7}"),
            send("\t"),
            expect("web:web"),
            expect("supervisor> "),
            send("\u{15}update \t"),
            expect("\u{7}"),
            send("\t"),
            expect("worker"),
            expect("supervisor> "),
            send("\u{15}maintail \t"),
            expect("\u{7}"),
            send("\u{15}\u{4}"),
        ],
    );
    let listed = session.output.replace(['\r', '\n'], " ");
    for name in ["pool:pool_0", "pool:pool_1", "web:*", "pool ", "web "] {
        assert!(
            listed.contains(name),
            "{name} not listed: {:?}",
            session.output
        );
    }
}

#[test]
fn history_file_is_recalled_and_written_as_plain_lines() {
    let daemon = start();
    let steps = [
        expect("supervisor> "),
        // Up arrow: the last line of the history file.
        send("\u{1b}[A"),
        expect("status web"),
        send("\r"),
        expect("RUNNING"),
        expect("supervisor> "),
        send("version\r"),
        expect("supervisor> "),
        send("version\r"),
        expect("supervisor> "),
        send("\u{1b}[A\u{1b}[A"),
        expect("status web"),
        send("\u{15}\u{4}"),
    ];
    let mut files = Vec::new();
    for client in [Client::Supervisorctl, Client::Svc] {
        std::fs::write(daemon.join("history"), "pid\nstatus web\n").expect("seed the history");
        let session = drive(&daemon, client, &steps);
        assert_eq!(session.status, 0, "{client:?}: {:?}", session.output);
        files.push(daemon.read("history"));
    }
    // A recalled line equal to the last one and a repeated line are kept once.
    assert_eq!(files[1], "pid\nstatus web\nversion\n");
    assert_eq!(
        files[0], files[1],
        "supervisorctl's history file, then svc's"
    );
}

#[test]
fn ctrl_c_and_ctrl_d_at_the_prompt_end_the_shell_with_status_0() {
    let daemon = start();
    // Ctrl-D: both clients, compared.
    let ended = [expect("supervisor> "), send("\u{4}")];
    let [real, svc] = both(&daemon, &ended);
    assert_eq!(
        after_last_prompt(&svc.output),
        after_last_prompt(&real.output),
        "{:?}\n{:?}",
        real.output,
        svc.output
    );
    // Ctrl-C: svc only. The real supervisorctl gives the same screen and status when the
    // signal lands, but a SIGINT that arrives between two of Python readline's reads is
    // only acted on at the next key, so under load it may wait forever.
    let interrupted = [
        expect("supervisor> "),
        send("sto"),
        expect("o"),
        send("\u{3}"),
    ];
    let session = drive(&daemon, Client::Svc, &interrupted);
    assert_eq!(session.status, 0, "{:?}", session.output);
    assert_eq!(after_last_prompt(&session.output), "sto\n");
}

#[test]
fn the_screen_after_the_last_prompt_is_its_text() {
    assert_eq!(
        after_last_prompt("x\r\nsupervisor> \r\x1b[12Csto\x07\x1b[?2004l\r\n"),
        "sto\n"
    );
}
