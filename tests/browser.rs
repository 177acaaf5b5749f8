//! The web page in a real browser: headless Chromium (Debian's `chromium` package, which
//! `.ci/run` installs) loads svc's status page over TCP, a real mouse click on `Stop` and
//! then on `Start` of a process goes through the page's own links, and the process's state
//! is checked over XML-RPC and on the page. A screenshot of the page is kept in
//! `target/tmp/browser/web-page.png` as the test's artifact.
//!
//! Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON
//! messages separated by NUL bytes, commands on the child's fd 3, answers on its fd 4), so
//! no driver or WebSocket library is needed. Every wait has a deadline; a reader thread
//! turns the browser's answers into a channel read with a timeout.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Instant;

use serde_json::{Value, json};

use crate::rpc::show;
use crate::support::control::UNIX_SERVER;
use crate::support::daemon::{DEADLINE, Daemon, SIGTERM, Setup};

/// A headless Chromium and one page of it.
struct Browser {
    child: Child,
    commands: std::fs::File,
    answers: Receiver<Value>,
    next_id: u64,
    session: String,
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the two-element array we own.
    let result = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(result, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both fds were just created and are owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

impl Browser {
    /// Starts Chromium with a fresh profile in `profile` and opens a blank page.
    fn launch(profile: &std::path::Path) -> Browser {
        let binary = ["chromium", "chromium-browser"]
            .into_iter()
            .find(|name| {
                Command::new(name)
                    .arg("--version")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|status| status.success())
            })
            .expect("headless Chromium is required: `apt-get install chromium` (.ci/run does)");
        let (their_commands, our_commands) = pipe();
        let (our_answers, their_answers) = pipe();
        let (commands_fd, answers_fd) = (their_commands.as_raw_fd(), their_answers.as_raw_fd());
        let mut command = Command::new(binary);
        command
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--remote-debugging-pipe",
                "--window-size=1100,700",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: between fork and exec only fcntl and dup2, which are async-signal-safe, on
        // fds that stay open in the parent until the spawn returns. Both are first copied
        // above 10, so that neither may be 3 or 4 already (dup2 onto itself would keep
        // close-on-exec, and the first dup2 could overwrite the other).
        unsafe {
            command.pre_exec(move || {
                let commands = libc::fcntl(commands_fd, libc::F_DUPFD, 10);
                let answers = libc::fcntl(answers_fd, libc::F_DUPFD, 10);
                if commands < 0
                    || answers < 0
                    || libc::dup2(commands, 3) < 0
                    || libc::dup2(answers, 4) < 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("start chromium");
        drop((their_commands, their_answers));
        let (sender, answers) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(std::fs::File::from(our_answers));
            let mut message = Vec::new();
            while reader.read_until(0, &mut message).is_ok_and(|n| n > 0) {
                if message.last() == Some(&0) {
                    message.pop();
                }
                if let Ok(value) = serde_json::from_slice::<Value>(&message)
                    && sender.send(value).is_err()
                {
                    return;
                }
                message.clear();
            }
        });
        let mut browser = Browser {
            child,
            commands: std::fs::File::from(our_commands),
            answers,
            next_id: 0,
            session: String::new(),
        };
        let target = browser.call("Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"]
            .as_str()
            .expect("a target id")
            .to_string();
        let attached = browser.call(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        browser.session = attached["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        browser
    }

    /// Sends one command (to the page once attached) and waits for its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        let mut bytes = serde_json::to_vec(&message).expect("serialize a command");
        bytes.push(0);
        self.commands
            .write_all(&bytes)
            .expect("write to chromium's pipe");
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let answer = self
                .answers
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("chromium did not answer {method} within {DEADLINE:?}"));
            if answer["id"] == json!(id) {
                assert!(answer.get("error").is_none(), "{method}: {answer}");
                return answer["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression in the page.
    fn evaluate(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        result["result"]["value"].clone()
    }

    /// Waits until the page's text satisfies `wanted`; returns the text.
    fn wait_for_text(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let text = self
                .evaluate("document.readyState === 'complete' ? document.body.innerText : ''")
                .as_str()
                .unwrap_or_default()
                .to_string();
            if wanted(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for the page to show {what}; it shows:\n{text}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    fn navigate(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}));
    }

    /// A real left click in the middle of the element `selector` matches.
    fn click(&mut self, selector: &str) {
        let expression = format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return null; \
             e.scrollIntoView(); const r = e.getBoundingClientRect(); \
             return [r.left + r.width / 2, r.top + r.height / 2]; }})()",
            json!(selector)
        );
        let point = self.evaluate(&expression);
        let (Some(x), Some(y)) = (point[0].as_f64(), point[1].as_f64()) else {
            panic!("nothing on the page matches {selector}");
        };
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    fn screenshot(&mut self, path: &std::path::Path) {
        use base64::Engine as _;
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let data = shot["data"].as_str().expect("screenshot data");
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64 PNG");
        assert!(png.starts_with(b"\x89PNG"), "a PNG image");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create the artifact directory");
        }
        std::fs::write(path, png).expect("write the screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The state of `name` as XML-RPC reports it.
fn state(daemon: &Daemon, name: &str) -> String {
    show(
        daemon,
        &format!("supervisor.getProcessInfo('{name}')['statename']"),
    )
}

#[test]
fn stop_and_start_from_the_page_in_chromium() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let mut daemon = Setup::new().start(&format!(
        "{UNIX_SERVER}[inet_http_server]\nport=127.0.0.1:{port}\n\
         [program:web]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:worker]\ncommand=sleep 1000\nstartsecs=0\n"
    ));
    daemon.wait_for_count("success: ", 2);
    let mut browser = Browser::launch(&daemon.join("chromium-profile"));
    browser.call("Page.enable", json!({}));
    browser.navigate(&format!("http://127.0.0.1:{port}/"));
    browser.wait_for_text("both processes running", |text| {
        text.contains("web") && text.contains("worker") && text.matches("running").count() >= 2
    });

    browser.click("a[href='index.html?processname=web&action=stop']");
    browser.wait_for_text("web stopped", |text| text.contains("Process web stopped"));
    assert_eq!(state(&daemon, "web"), "'STOPPED'");
    assert_eq!(
        state(&daemon, "worker"),
        "'RUNNING'",
        "only web was stopped"
    );

    browser.click("a[href='index.html?processname=web&action=start']");
    browser.wait_for_text("web started", |text| text.contains("Process web started"));
    assert_eq!(state(&daemon, "web"), "'RUNNING'");

    let artifact = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("browser")
        .join("web-page.png");
    browser.screenshot(&artifact);
    drop(browser);
    assert_eq!(daemon.count("spawned: 'web'"), 2);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}
