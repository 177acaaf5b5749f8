//! The web interface and the log tails over HTTP, against `svc run` over TCP: the status
//! page and its actions, `tail.html`, `ok.html`, `/logtail/...` and `/mainlogtail`, escaping
//! of hostile names and log text, authentication, and the real `supervisorctl tail -f`, `fg`
//! and `maintail -f` reading the tails.
//!
//! Expected texts, URLs, classes and headers are supervisord 4.3.0's (reference §6.3,
//! `supervisor/web.py`); the HTML around them is svc's own. The client is a tiny HTTP/1.1
//! client on `std::net::TcpStream`; every wait is a read or a poll with a deadline.
//!
//! With `SVC_REFERENCE_SUPERVISORD` set, all pass against supervisord except two that test
//! where svc does better on purpose: `hostile_names_and_log_text_are_escaped` (supervisord
//! leaves `>` and `"` unescaped in text) and `logtail_streams_what_is_written_after_the_request`
//! (on Python 3, supervisord closes a tail when its file shrinks instead of sending
//! `==> File truncated <==`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use crate::oracle::oracle_python;
use crate::support::CLEAN_ENV;
use crate::support::daemon::{DEADLINE, Daemon, SIGTERM, Setup};

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("its address").port()
}

/// The server sections: the unix socket for `supervisorctl`, TCP on `port` (with
/// `credentials` as `username:password`, if any) for the HTTP client.
fn servers(port: u16, credentials: Option<(&str, &str)>) -> String {
    let auth = credentials.map_or(String::new(), |(user, password)| {
        format!("username={user}\npassword={password}\n")
    });
    format!(
        "[unix_http_server]\nfile=%(here)s/supervisor.sock\n\
         [inet_http_server]\nport=127.0.0.1:{port}\n{auth}\
         [rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
         [supervisorctl]\nserverurl=unix://%(here)s/supervisor.sock\n"
    )
}

/// A daemon serving HTTP on a free port, and that port.
fn start(programs: &str) -> (Daemon, u16) {
    let port = free_port();
    let daemon = Setup::new().start(&format!("{}{programs}", servers(port, None)));
    (daemon, port)
}

/// One HTTP exchange over TCP, read as far as the test needs.
struct Exchange {
    socket: TcpStream,
    raw: Vec<u8>,
    closed: bool,
}

impl Exchange {
    /// Sends `method target` with `Host` and `Connection: close`, `headers` and `body`.
    fn send(port: u16, method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> Self {
        let mut with_close = vec![("Connection", "close")];
        with_close.extend_from_slice(headers);
        Exchange::open(port, method, target, &with_close, body)
    }

    /// Starts a `GET` of a stream, as `supervisorctl` does (no `Connection: close`, which
    /// makes supervisord hold the response back until it ends).
    fn follow(port: u16, target: &str, headers: &[(&str, &str)]) -> Self {
        Exchange::open(port, "GET", target, headers, "")
    }

    fn open(port: u16, method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> Self {
        let mut socket = TcpStream::connect(("127.0.0.1", port)).expect("connect to svc");
        let mut request = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() {
            request.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        request.push_str(body);
        socket
            .write_all(request.as_bytes())
            .expect("send the request");
        Exchange {
            socket,
            raw: Vec::new(),
            closed: false,
        }
    }

    fn get(port: u16, target: &str) -> Self {
        Exchange::send(port, "GET", target, &[], "")
    }

    /// Reads once, waiting at most until `deadline`; false when nothing more can come.
    fn read_some(&mut self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        if self.closed || left.is_zero() {
            return false;
        }
        self.socket
            .set_read_timeout(Some(left))
            .expect("set the read timeout");
        let mut buffer = [0; 16 * 1024];
        match self.socket.read(&mut buffer) {
            Ok(0) | Err(_) => {
                self.closed = true;
                false
            }
            Ok(read) => {
                self.raw.extend_from_slice(&buffer[..read]);
                true
            }
        }
    }

    fn split(&self) -> Option<(&[u8], &[u8])> {
        let end = self
            .raw
            .windows(4)
            .position(|window| window == b"\r\n\r\n")?;
        Some((&self.raw[..end], &self.raw[end + 4..]))
    }

    /// The status line and headers, once they arrived.
    fn head(&self) -> Option<Head> {
        let (head, _) = self.split()?;
        let text = String::from_utf8_lossy(head);
        let mut lines = text.split("\r\n");
        let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        Some(Head { status, headers })
    }

    /// The body so far (de-chunked when chunked, complete chunks only).
    fn body(&self) -> String {
        let Some((_, body)) = self.split() else {
            return String::new();
        };
        let chunked = self
            .head()
            .is_some_and(|head| head.header("transfer-encoding") == Some("chunked"));
        String::from_utf8_lossy(&if chunked {
            dechunk(body)
        } else {
            body.to_vec()
        })
        .into_owned()
    }

    /// Reads until the body contains `needle`; fails after [`DEADLINE`] with what came.
    fn wait_for_body(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + DEADLINE;
        while !self.body().contains(needle) {
            if !self.read_some(deadline) {
                panic!(
                    "no {needle:?} in the response (closed: {})\n{}",
                    self.closed,
                    String::from_utf8_lossy(&self.raw)
                );
            }
        }
        self.body()
    }

    /// Reads the head (without waiting for the body).
    fn wait_for_head(&mut self) -> Head {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(head) = self.head() {
                return head;
            }
            if !self.read_some(deadline) {
                panic!("no response head\n{}", String::from_utf8_lossy(&self.raw));
            }
        }
    }

    /// Reads to the end (the server closes: `Connection: close`).
    fn finish(mut self) -> Reply {
        let deadline = Instant::now() + DEADLINE;
        while self.read_some(deadline) {}
        assert!(
            self.closed,
            "the response did not end within {DEADLINE:?}\n{}",
            String::from_utf8_lossy(&self.raw)
        );
        let head = self
            .head()
            .unwrap_or_else(|| panic!("no response head\n{}", String::from_utf8_lossy(&self.raw)));
        Reply {
            body: self.body(),
            head,
        }
    }
}

/// `chunk-size CRLF data CRLF ...`: the data of the complete chunks.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    loop {
        let Some(line_end) = raw.windows(2).position(|window| window == b"\r\n") else {
            return data;
        };
        let size_text = String::from_utf8_lossy(&raw[..line_end]);
        let Ok(size) = usize::from_str_radix(size_text.trim(), 16) else {
            return data;
        };
        let start = line_end + 2;
        if size == 0 || raw.len() < start + size + 2 {
            return data;
        }
        data.extend_from_slice(&raw[start..start + size]);
        raw = &raw[start + size + 2..];
    }
}

/// A status line and headers (names in lower case).
struct Head {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A whole response.
struct Reply {
    head: Head,
    body: String,
}

fn get(port: u16, target: &str) -> Reply {
    Exchange::get(port, target).finish()
}

/// The rows of the status table: each `<tr>` of its body.
fn rows(page: &str) -> Vec<String> {
    let Some((_, body)) = page.split_once("<tbody>") else {
        return Vec::new();
    };
    let body = body.split("</tbody>").next().unwrap_or_default();
    body.split("<tr")
        .skip(1)
        .map(|row| format!("<tr{row}"))
        .collect()
}

/// The row whose name link shows `shown` (the namespec, HTML-escaped).
fn row_of(page: &str, shown: &str) -> String {
    rows(page)
        .into_iter()
        .find(|row| row.contains(&format!(" target=\"_blank\">{shown}</a>")))
        .unwrap_or_else(|| panic!("no row for {shown}\n{page}"))
}

/// The `<a>` with this `href` in `html`: its start tag and its text.
fn link<'a>(html: &'a str, href: &str) -> Option<(&'a str, &'a str)> {
    let at = html.find(&format!("href=\"{href}\""))?;
    let start = html[..at].rfind("<a ")?;
    let tag_end = start + html[start..].find('>')?;
    let text_end = tag_end + html[tag_end..].find("</a>")?;
    Some((&html[start..=tag_end], &html[tag_end + 1..text_end]))
}

/// Asserts that a status action answers supervisord's redirect with `message`.
fn assert_redirect(reply: &Reply, port: u16, message: &str) {
    assert_eq!(reply.head.status, 301, "{}", reply.body);
    assert_eq!(
        reply.head.header("location"),
        Some(format!("http://127.0.0.1:{port}/?message={message}").as_str())
    );
}

#[test]
fn status_page_shows_states_classes_and_actions() {
    let (mut daemon, port) = start(
        "[program:web]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:idle]\ncommand=sleep 1000\nautostart=false\n\
         [program:bad]\ncommand=sh -c 'exit 1'\nstartretries=0\n\
         [group:grp]\nprograms=bad\n",
    );
    daemon.wait_for_log("success: web entered RUNNING");
    daemon.wait_for_log("gave up: bad entered FATAL");

    for target in ["/", "/index.html"] {
        let reply = get(port, target);
        assert_eq!(reply.head.status, 200);
        assert_eq!(
            reply.head.header("content-type"),
            Some("text/html;charset=utf-8")
        );
        assert_eq!(reply.head.header("cache-control"), Some("no-cache"));
        let page = reply.body;
        // supervisord's order: group name, then process name.
        let names: Vec<String> = rows(&page)
            .iter()
            .filter_map(|row| {
                let link = row.split("target=\"_blank\">").nth(1)?;
                Some(link.split("</a>").next()?.to_string())
            })
            .collect();
        assert_eq!(names, ["grp:bad", "idle", "web"]);

        let web = row_of(&page, "web");
        assert!(web.contains("<span class=\"statusrunning\">running</span>"));
        assert!(web.contains("pid "), "{web}");
        assert!(web.contains("href=\"index.html?processname=web&amp;action=restart\""));
        assert!(web.contains("href=\"index.html?processname=web&amp;action=stop\""));
        assert!(web.contains("href=\"index.html?processname=web&amp;action=clearlog\""));
        for (href, label) in [
            ("logtail/web", "Tail -f Stdout"),
            ("logtail/web/stderr", "Tail -f Stderr"),
        ] {
            let (tag, text) = link(&web, href).unwrap_or_else(|| panic!("no {href}\n{web}"));
            assert_eq!(text, label);
            assert!(tag.contains("target=\"_blank\""), "{tag}");
        }
        assert!(web.contains("href=\"tail.html?processname=web\""));

        let idle = row_of(&page, "idle");
        assert!(idle.contains("<span class=\"statusnominal\">stopped</span>"));
        assert!(idle.contains("Not started"));
        assert!(idle.contains("href=\"index.html?processname=idle&amp;action=start\""));
        assert!(!idle.contains("action=stop"), "{idle}");

        let bad = row_of(&page, "grp:bad");
        assert!(bad.contains("<span class=\"statuserror\">fatal</span>"));
        assert!(bad.contains("Exited too quickly (process log may have details)"));
        assert!(bad.contains("href=\"index.html?processname=grp%3Abad&amp;action=start\""));

        for action in ["refresh", "restartall", "stopall"] {
            assert!(page.contains(&format!("href=\"index.html?action={action}\"")));
        }
    }

    let ok = get(port, "/ok.html");
    assert_eq!((ok.head.status, ok.body.as_str()), (200, "OK"));
    assert_eq!(get(port, "/nothing.html").head.status, 404);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn actions_run_and_report_supervisords_messages() {
    let (mut daemon, port) = start(
        "[program:web]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:bad]\ncommand=sh -c 'exit 1'\nautostart=false\nstartretries=0\n",
    );
    daemon.wait_for_log("success: web entered RUNNING");

    let stop = get(port, "/index.html?processname=web&action=stop");
    assert_redirect(&stop, port, "Process%20web%20stopped");
    daemon.wait_for_log("stopped: web (terminated by SIGTERM)");
    let page = get(port, "/?message=Process%20web%20stopped").body;
    assert!(page.contains("<div class=\"status_msg\">Process web stopped</div>"));
    assert!(row_of(&page, "web").contains("<span class=\"statusnominal\">stopped</span>"));

    let again = get(port, "/index.html?processname=web&action=stop");
    assert_redirect(
        &again,
        port,
        "unexpected%20rpc%20fault%20%5B70%5D%20NOT_RUNNING%3A%20web",
    );

    // A POST form works as the query does.
    let start = Exchange::send(
        port,
        "POST",
        "/index.html",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "processname=web&action=start",
    )
    .finish();
    assert_redirect(&start, port, "Process%20web%20started");
    assert!(row_of(&get(port, "/").body, "web").contains("statusrunning"));

    let started = get(port, "/index.html?processname=web&action=start");
    assert_redirect(
        &started,
        port,
        "ERROR%3A%20Process%20web%3A%20already%20started",
    );
    let restart = get(port, "/index.html?processname=web&action=restart");
    assert_redirect(&restart, port, "Process%20web%20restarted");
    daemon.wait_for_count("spawned: 'web'", 2);

    let spawn_error = get(port, "/index.html?processname=bad&action=start");
    assert_redirect(
        &spawn_error,
        port,
        "ERROR%3A%20Process%20bad%3A%20spawn%20error",
    );
    let unknown = get(port, "/index.html?processname=nosuch&action=stop");
    assert_redirect(&unknown, port, "No%20such%20process%20named%20nosuch");

    let refresh = get(port, "/index.html?action=refresh");
    assert_eq!(refresh.head.status, 301);
    let location = refresh.head.header("location").unwrap_or_default();
    assert!(
        location.starts_with(&format!(
            "http://127.0.0.1:{port}/?message=Page%20refreshed%20at%20"
        )),
        "{location}"
    );

    let stopall = get(port, "/index.html?action=stopall");
    let location = stopall.head.header("location").unwrap_or_default();
    assert!(
        location.contains("message=All%20stopped%20at%20"),
        "{location}"
    );
    daemon.wait_for_count("stopped: web (terminated by SIGTERM)", 2);
    let restartall = get(port, "/index.html?action=restartall");
    let location = restartall.head.header("location").unwrap_or_default();
    assert!(
        location.contains("message=All%20restarted%20at%20"),
        "{location}"
    );
    daemon.wait_for_count("spawned: 'web'", 3);

    // supervisord fails with a 500 on an unknown action for a known process.
    assert_eq!(
        get(port, "/index.html?processname=web&action=bogus")
            .head
            .status,
        500
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn hostile_names_and_log_text_are_escaped() {
    let (mut daemon, port) = start(
        "[program:<b>&\"x]\ncommand=sh -c 'echo \"<script>alert(1)</script>\"; exec sleep 1000'\nstartsecs=0\n",
    );
    daemon.wait_for_log("success: <b>&\"x entered RUNNING");
    let page = get(port, "/").body;
    assert!(!page.contains("<b>"), "{page}");
    let row = row_of(&page, "&lt;b&gt;&amp;&quot;x");
    assert!(row.contains("href=\"tail.html?processname=%3Cb%3E%26%22x\""));
    assert!(row.contains("href=\"index.html?processname=%3Cb%3E%26%22x&amp;action=stop\""));
    assert!(row.contains("href=\"logtail/%3Cb%3E%26%22x/stderr\""));

    let message = get(port, "/?message=%3Cimg%20src%3Dx%3E").body;
    assert!(message.contains("<div class=\"status_msg\">&lt;img src=x&gt;</div>"));

    let tail_page = || get(port, "/tail.html?processname=%3Cb%3E%26%22x").body;
    daemon.wait_for("the output in tail.html", || tail_page().contains("alert"));
    let tail = tail_page();
    assert!(
        tail.contains("<pre>&lt;script&gt;alert(1)&lt;/script&gt;\n</pre>"),
        "{tail}"
    );
    assert!(tail.contains("<title>Supervisor tail of process &lt;b&gt;&amp;&quot;x</title>"));
    assert!(tail.contains("href=\"tail.html?processname=%3Cb%3E%26%22x&amp;limit=1024\""));

    // The page's own tail link reaches the process's log.
    let mut logtail = Exchange::follow(port, "/logtail/%3Cb%3E%26%22x", &[]);
    assert_eq!(logtail.wait_for_head().status, 200);
    logtail.wait_for_body("<script>alert(1)</script>\n");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn tail_html_shows_the_end_of_stdout() {
    let (mut daemon, port) =
        start("[program:counter]\ncommand=sh -c 'seq 1 2000; exec sleep 1000'\nstartsecs=0\n");
    daemon.wait_for_log("success: counter entered RUNNING");
    let pre = |target: &str| {
        let page = get(port, target).body;
        let text = page.split("<pre>").nth(1).unwrap_or_default();
        text.split("</pre>").next().unwrap_or_default().to_string()
    };
    daemon.wait_for("seq's output in tail.html", || {
        pre("/tail.html?processname=counter").ends_with("2000\n")
    });
    // At least 1024 bytes, whatever the limit asks for.
    assert_eq!(pre("/tail.html?processname=counter").len(), 1024);
    assert_eq!(pre("/tail.html?processname=counter&limit=10").len(), 1024);
    assert_eq!(pre("/tail.html?processname=counter&limit=3000").len(), 3000);
    assert_eq!(pre("/tail.html?processname=counter&limit=x").len(), 1024);
    assert_eq!(
        pre("/tail.html?processname=nosuch"),
        "ERROR: unexpected rpc fault [10] BAD_NAME: nosuch"
    );
    let nameless = get(port, "/tail.html").body;
    assert!(nameless.contains("<title>Supervisor tail of process None</title>"));
    assert!(nameless.contains("<pre>No process name found</pre>"));
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn logtail_streams_what_is_written_after_the_request() {
    let (mut daemon, port) = start(
        "[program:talker]\ncommand=sh -c 'echo first; echo oops >&2; exec sleep 1000'\n\
         startsecs=0\nstdout_logfile=%(here)s/talker.log\nstderr_logfile=%(here)s/talker.err\n",
    );
    daemon.wait_for_log("success: talker entered RUNNING");
    daemon.wait_for_file("talker.log", "first\n");

    let mut tail = Exchange::follow(port, "/logtail/talker", &[]);
    let head = tail.wait_for_head();
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-type"),
        Some("text/plain;charset=utf-8")
    );
    assert_eq!(head.header("x-accel-buffering"), Some("no"));
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
    assert!(
        head.header("last-modified")
            .is_some_and(|date| date.ends_with(" GMT"))
    );
    assert!(head.header("content-length").is_none());
    tail.wait_for_body("first\n");

    let log = daemon.join("talker.log");
    let append = |text: &str| {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .expect("open talker.log");
        file.write_all(text.as_bytes()).expect("append");
    };
    append("written after the request\n");
    assert_eq!(
        tail.wait_for_body("written after the request\n"),
        "first\nwritten after the request\n"
    );

    // Truncation is announced; then the file is read from its start.
    std::fs::write(&log, "").expect("truncate talker.log");
    tail.wait_for_body("==> File truncated <==\n");
    append("after truncation\n");
    tail.wait_for_body("==> File truncated <==\nafter truncation\n");

    // Rotation: a new file at the path is followed from its start.
    std::fs::rename(&log, daemon.join("talker.log.1")).expect("rotate");
    std::fs::write(&log, "in the new file\n").expect("create the new log");
    tail.wait_for_body("after truncation\nin the new file\n");

    let mut stderr = Exchange::follow(port, "/logtail/talker/stderr", &[]);
    assert_eq!(stderr.wait_for_head().status, 200);
    stderr.wait_for_body("oops\n");

    for missing in [
        "/logtail/nosuch",
        "/logtail/talker/bogus",
        "/logtail/",
        "/logtail/grp:",
    ] {
        assert_eq!(get(port, missing).head.status, 404, "{missing}");
    }
    let post = Exchange::send(port, "POST", "/logtail/talker", &[], "x").finish();
    assert_eq!(post.head.status, 400);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn mainlogtail_follows_the_main_log() {
    let (mut daemon, port) = start("[program:web]\ncommand=sleep 1000\nstartsecs=0\n");
    daemon.wait_for_log("success: web entered RUNNING");
    let mut tail = Exchange::follow(port, "/mainlogtail", &[]);
    let head = tail.wait_for_head();
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-type"),
        Some("text/plain;charset=utf-8")
    );
    assert_eq!(head.header("x-accel-buffering"), None);
    tail.wait_for_body("success: web entered RUNNING");
    let stop = get(port, "/index.html?processname=web&action=stop");
    assert_eq!(stop.head.status, 301);
    tail.wait_for_body("stopped: web (terminated by SIGTERM)");
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

#[test]
fn pages_and_tails_require_credentials_when_configured() {
    let port = free_port();
    let mut daemon = Setup::new().start(&format!(
        "{}[program:web]\ncommand=sleep 1000\nstartsecs=0\n",
        servers(port, Some(("admin", "s3cret")))
    ));
    for target in [
        "/",
        "/index.html?processname=web&action=stop",
        "/tail.html?processname=web",
        "/ok.html",
        "/logtail/web",
        "/mainlogtail",
    ] {
        let reply = get(port, target);
        assert_eq!(reply.head.status, 401, "{target}");
        assert_eq!(
            reply.head.header("www-authenticate"),
            Some("Basic realm=\"default\""),
            "{target}"
        );
    }
    // admin:s3cret
    let authorized = Exchange::send(
        port,
        "GET",
        "/ok.html",
        &[("Authorization", "Basic YWRtaW46czNjcmV0")],
        "",
    )
    .finish();
    assert_eq!(
        (authorized.head.status, authorized.body.as_str()),
        (200, "OK")
    );
    let mut tail = Exchange::follow(
        port,
        "/mainlogtail",
        &[("Authorization", "Basic YWRtaW46czNjcmV0")],
    );
    assert_eq!(tail.wait_for_head().status, 200);
    tail.wait_for_body("supervisord started with pid");
    assert!(
        !daemon.main_log().contains("stopped: web"),
        "an unauthenticated action ran"
    );
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}

/// A running `supervisorctl` whose stdout lines arrive on a channel; killed on drop.
struct Ctl {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Ctl {
    fn spawn(daemon: &Daemon, args: &[&str]) -> Ctl {
        let mut child = Command::new(oracle_python())
            .args(["-m", "supervisor.supervisorctl", "-c", "supervisord.conf"])
            .args(args)
            .current_dir(daemon.path())
            .env_clear()
            .envs(CLEAN_ENV.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn supervisorctl");
        let stdout = child.stdout.take().expect("supervisorctl's stdout");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Ctl {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line equal to `expected`.
    fn wait_for_line(&mut self, expected: &str) {
        let deadline = Instant::now() + DEADLINE;
        while !self.seen.iter().any(|line| line == expected) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!(
                    "supervisorctl never printed {expected:?}; it printed {:?}",
                    self.seen
                ),
            }
        }
    }
}

impl Drop for Ctl {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The sockets svc holds open (listeners and connections).
fn open_sockets(daemon: &Daemon) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", daemon.pid))
        .map(|entries| {
            entries
                .flatten()
                .filter(|entry| {
                    std::fs::read_link(entry.path())
                        .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"))
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn supervisorctl_tail_f_fg_and_maintail_f_read_the_tails() {
    let (mut daemon, _port) = start(
        "[program:talker]\ncommand=sh -c 'echo hello from talker; exec sleep 1000'\n\
         startsecs=0\nstdout_logfile=%(here)s/talker.log\n",
    );
    daemon.wait_for_log("success: talker entered RUNNING");
    daemon.wait_for_file("talker.log", "hello from talker\n");
    let sockets = open_sockets(&daemon);

    let mut tail = Ctl::spawn(&daemon, &["tail", "-f", "talker"]);
    tail.wait_for_line("==> Press Ctrl-C to exit <==");
    tail.wait_for_line("hello from talker");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(daemon.join("talker.log"))
        .expect("open talker.log");
    file.write_all(b"a later line\n").expect("append");
    tail.wait_for_line("a later line");
    drop(tail);
    // The log stays idle: svc notices the client left without writing to it.
    daemon.wait_showing(
        "svc to close the tail's connection",
        || open_sockets(&daemon) == sockets,
        || {
            format!(
                "open sockets: {} (before: {sockets})\n",
                open_sockets(&daemon)
            )
        },
    );

    let mut fg = Ctl::spawn(&daemon, &["fg", "talker"]);
    fg.wait_for_line("==> Press Ctrl-C to exit <==");
    fg.wait_for_line("a later line");
    drop(fg);

    let mut maintail = Ctl::spawn(&daemon, &["maintail", "-f"]);
    maintail.wait_for_line("==> Press Ctrl-C to exit <==");
    let deadline = Instant::now() + DEADLINE;
    while !maintail
        .seen
        .iter()
        .any(|line| line.contains("success: talker entered RUNNING"))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match maintail.lines.recv_timeout(left) {
            Ok(line) => maintail.seen.push(line),
            Err(_) => panic!("maintail -f printed {:?}", maintail.seen),
        }
    }
    drop(maintail);
    assert_eq!(daemon.stop(SIGTERM).code(), Some(0));
}
