//! The web interface, as supervisord serves it (`supervisor/web.py`, `ui/status.html`,
//! `ui/tail.html`): the status page at `/` and `/index.html`, `tail.html` and `ok.html`.
//!
//! - **Status page.** One row per process, sorted by group then name: the state in lower
//!   case with supervisord's class (`statusrunning`; `statuserror` for FATAL and BACKOFF;
//!   `statusnominal` otherwise), the description, the namespec (a link to `tail.html`) and
//!   the actions the state allows (Start, or Restart and Stop; Clear Log, Tail -f Stdout,
//!   Tail -f Stderr). Above the table: Refresh, Restart All, Stop All.
//! - **Actions** use supervisord's URLs: `index.html?processname=<ns>&action=start|stop|
//!   restart|clearlog` and `index.html?action=refresh|stopall|restartall`. An action runs
//!   to its end (a start waits for RUNNING, as supervisord's page does), then the answer is
//!   supervisord's `301` to `http://<Host>/?message=<text>`; the page shows that message
//!   above the table. The texts are supervisord's (`Process web stopped`, `ERROR: Process
//!   web: spawn error`, `unexpected rpc fault [70] NOT_RUNNING: web`, ...).
//! - **`tail.html?processname=<ns>&limit=<n>`**: the last `n` bytes of the process's stdout
//!   log (at least 1024, the default), with a Refresh link.
//! - **`ok.html`**: `OK` in plain text.
//!
//! The form is the query's fields (the first of a repeated name wins) and, for a `POST`, the
//! url-encoded body's (the last wins); fields with an empty value are dropped, as Python's
//! `parse_qs` does. Every method call goes through [`Api::call`], so the page sees exactly
//! what XML-RPC clients see, and needs nothing from the supervisor beyond it.
//!
//! Invariants:
//! - Everything shown that does not come from this file is escaped with [`html_escape`]
//!   (names, descriptions, messages, log text), and every URL built from a name is
//!   percent-encoded with [`quote`] before it is escaped into an attribute.
//! - Pages need no JavaScript and no other request: the style sheet is inline.
//! - The page answers only what authentication let through: the HTTP layer checks
//!   credentials before routing.
//!
//! Deliberate differences from supervisord 4.3.0: the page is svc's own HTML5 and style (the
//! same classes, URLs and texts); `/stylesheets/...` and `/images/...` are not served; a
//! failing `getAllProcessInfo` (during shutdown) shows its fault instead of a `500`.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use dxr::{Fault, Value};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use crate::http::{self, Body};
use crate::logtail::http_date;
use crate::rpc::{Api, faults};

/// Largest form body accepted in a `POST`.
const MAX_FORM: usize = 64 * 1024;
/// What `tail.html` shows at least and by default (bytes).
const TAIL_LIMIT: i64 = 1024;

/// The pages of the web interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    /// `/`, `/index.html`.
    Status,
    /// `/tail.html`.
    Tail,
    /// `/ok.html`.
    Ok,
}

impl Page {
    /// The page at `path` (leading slashes ignored, none means `index.html`), if any.
    pub(crate) fn at(path: &str) -> Option<Page> {
        match path.trim_start_matches('/') {
            "" | "index.html" => Some(Page::Status),
            "tail.html" => Some(Page::Tail),
            "ok.html" => Some(Page::Ok),
            _ => None,
        }
    }
}

/// Serves `page` (`GET` or `POST`; other methods are `400`).
pub(crate) async fn serve(page: Page, request: Request<Incoming>, api: &Api) -> Response<Body> {
    if request.method() != Method::GET && request.method() != Method::POST {
        return http::error_response(StatusCode::BAD_REQUEST);
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .map(str::to_string);
    let query = request.uri().query().unwrap_or_default().to_string();
    let body = if request.method() == Method::POST {
        match http::read_body(request.into_body(), MAX_FORM).await {
            Ok(body) => body,
            Err(response) => return response,
        }
    } else {
        bytes::Bytes::new()
    };
    let form = Form::parse(&query, &String::from_utf8_lossy(&body));
    match page {
        Page::Ok => {
            let mut response = Response::new(http::full("OK"));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            response
        }
        Page::Tail => html_response(tail_page(&form, api).await),
        Page::Status => match form.get("action") {
            Some(action) => match perform(action, form.get("processname"), api).await {
                Some(message) => redirect(host.as_deref(), &message),
                // supervisord's page raises ValueError here: a 500.
                None => http::error_response(StatusCode::INTERNAL_SERVER_ERROR),
            },
            None => {
                let processes = api.call("supervisor.getAllProcessInfo", Vec::new()).await;
                html_response(status_page(
                    processes.map(|value| rows(&value)),
                    form.get("message"),
                ))
            }
        },
    }
}

/// A page with supervisord's headers for its views (no caching).
fn html_response(html: String) -> Response<Body> {
    let mut response = Response::new(http::full(html));
    add_no_cache(response.headers_mut());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=utf-8"),
    );
    response
}

fn add_no_cache(headers: &mut hyper::HeaderMap) {
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(expires) = HeaderValue::from_str(&http_date(UNIX_EPOCH)) {
        headers.insert(header::EXPIRES, expires);
    }
}

/// supervisord's answer to an action: Medusa's `301` page, `Location:
/// http://<Host>/?message=<quoted message>` (a port 80 dropped; without a `Host` header the
/// location is relative).
fn redirect(host: Option<&str>, message: &str) -> Response<Body> {
    let server = match host.map(str::trim) {
        Some(host) if !host.is_empty() => {
            format!("http://{}", host.strip_suffix(":80").unwrap_or(host))
        }
        _ => String::new(),
    };
    let location = format!("{server}/?message={}", quote(message));
    let mut response = http::error_response(StatusCode::MOVED_PERMANENTLY);
    let headers = response.headers_mut();
    let location = HeaderValue::from_str(&location)
        .or_else(|_| HeaderValue::from_str(&format!("/?message={}", quote(message))));
    if let Ok(location) = location {
        headers.insert(header::LOCATION, location);
    }
    add_no_cache(headers);
    response
}

/// `unexpected rpc fault [code] text`, supervisord's words for a fault it did not expect.
fn unexpected(fault: &Fault) -> String {
    format!("unexpected rpc fault [{}] {}", fault.code(), fault.string())
}

fn string(text: &str) -> Value {
    Value::String(text.to_string())
}

/// A `system.multicall` entry.
fn call(method: &str, params: Vec<Value>) -> Value {
    Value::Struct(
        [
            ("methodName".to_string(), string(method)),
            ("params".to_string(), Value::Array(params)),
        ]
        .into_iter()
        .collect(),
    )
}

/// Runs one action and returns the message to show (supervisord's `make_callback`); `None`
/// for an action supervisord does not know (its page fails with a 500).
async fn perform(action: &str, namespec: Option<&str>, api: &Api) -> Option<String> {
    let now = || ctime(SystemTime::now());
    match action {
        "refresh" => return Some(format!("Page refreshed at {}", now())),
        "stopall" => {
            let done = api.call("supervisor.stopAllProcesses", Vec::new()).await;
            return Some(match done {
                Ok(_) => format!("All stopped at {}", now()),
                Err(fault) => unexpected(&fault),
            });
        }
        "restartall" => {
            let calls = Value::Array(vec![
                call("supervisor.stopAllProcesses", Vec::new()),
                call("supervisor.startAllProcesses", Vec::new()),
            ]);
            let done = api.call("system.multicall", vec![calls]).await;
            return Some(match done {
                Ok(_) => format!("All restarted at {}", now()),
                Err(fault) => unexpected(&fault),
            });
        }
        _ => {}
    }
    let namespec = namespec?;
    let name = || vec![string(namespec)];
    if let Err(fault) = api.call("supervisor.getProcessInfo", name()).await
        && fault.code() == faults::BAD_NAME
    {
        return Some(format!("No such process named {namespec}"));
    }
    Some(match action {
        "start" => match api.call("supervisor.startProcess", name()).await {
            Ok(_) => format!("Process {namespec} started"),
            Err(fault) => {
                let reason = match fault.code() {
                    faults::NO_FILE => "no such file".to_string(),
                    faults::NOT_EXECUTABLE => "file not executable".to_string(),
                    faults::ALREADY_STARTED => "already started".to_string(),
                    faults::SPAWN_ERROR => "spawn error".to_string(),
                    faults::ABNORMAL_TERMINATION => "abnormal termination".to_string(),
                    _ => unexpected(&fault),
                };
                format!("ERROR: Process {namespec}: {reason}")
            }
        },
        "stop" => match api.call("supervisor.stopProcess", name()).await {
            Ok(_) => format!("Process {namespec} stopped"),
            Err(fault) => unexpected(&fault),
        },
        "restart" => {
            // As supervisord: the results are not looked at.
            let calls = Value::Array(vec![
                call("supervisor.stopProcess", name()),
                call("supervisor.startProcess", name()),
            ]);
            let _ = api.call("system.multicall", vec![calls]).await;
            format!("Process {namespec} restarted")
        }
        "clearlog" => match api.call("supervisor.clearProcessLogs", name()).await {
            Ok(_) => format!("Log for {namespec} cleared"),
            Err(fault) => unexpected(&fault),
        },
        _ => return None,
    })
}

/// One process of the status table, from its `getProcessInfo` struct.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    namespec: String,
    statename: String,
    state: i32,
    description: String,
}

/// The rows of a `getAllProcessInfo` result (already sorted by group, then name).
fn rows(value: &Value) -> Vec<Row> {
    let Value::Array(items) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let Value::Struct(info) = item else {
                return None;
            };
            let text = |key: &str| match info.get(key) {
                Some(Value::String(text)) => text.clone(),
                _ => String::new(),
            };
            let (name, group) = (text("name"), text("group"));
            let state = match info.get("state") {
                Some(Value::Integer(state)) => *state,
                _ => -1,
            };
            Some(Row {
                namespec: if name == group {
                    name
                } else {
                    format!("{group}:{name}")
                },
                statename: text("statename"),
                state,
                description: text("description"),
            })
        })
        .collect()
}

/// supervisord's class for a state's cell.
fn state_class(state: i32) -> &'static str {
    const RUNNING: i32 = 20;
    const BACKOFF: i32 = 30;
    const FATAL: i32 = 200;
    match state {
        RUNNING => "statusrunning",
        FATAL | BACKOFF => "statuserror",
        _ => "statusnominal",
    }
}

/// One link of a row's action list.
struct Action {
    label: &'static str,
    href: String,
    new_tab: bool,
}

/// supervisord's actions for a process in `state`; `None` keeps a hidden place.
fn actions(namespec: &str, state: i32) -> [Option<Action>; 5] {
    const STOPPED: i32 = 0;
    const RUNNING: i32 = 20;
    const EXITED: i32 = 100;
    const FATAL: i32 = 200;
    let quoted = quote(namespec);
    let on_page = |label, action| Action {
        label,
        href: format!("index.html?processname={quoted}&action={action}"),
        new_tab: false,
    };
    let tail = |label, suffix| Action {
        label,
        href: format!("logtail/{quoted}{suffix}"),
        new_tab: true,
    };
    let (first, second) = match state {
        RUNNING => (
            Some(on_page("Restart", "restart")),
            Some(on_page("Stop", "stop")),
        ),
        STOPPED | EXITED | FATAL => (Some(on_page("Start", "start")), None),
        _ => (None, None),
    };
    [
        first,
        second,
        Some(on_page("Clear Log", "clearlog")),
        Some(tail("Tail -f Stdout", "")),
        Some(tail("Tail -f Stderr", "/stderr")),
    ]
}

const STYLE: &str = "\
body{margin:0;background:#f5f6f8;color:#1f2328;font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif}
header,main,footer{max-width:72rem;margin:0 auto;padding:0 1rem}
h1{font-size:1.25rem;margin:1.25rem 0 .75rem}
a{color:#0b57d0}
.status_msg{margin:0 0 .75rem;padding:.5rem .75rem;background:#e9f4ea;border:1px solid #b6d8b9;border-radius:4px}
#buttons{display:flex;gap:.5rem;list-style:none;margin:0 0 .75rem;padding:0}
#buttons a,.button{display:inline-block;padding:.3rem .8rem;background:#fff;border:1px solid #c4c8cf;border-radius:4px;color:#1f2328;text-decoration:none}
#buttons a:hover,.button:hover{background:#eceef1}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #d8dbe0}
th,td{padding:.45rem .6rem;border-bottom:1px solid #eceef1;text-align:left;vertical-align:top}
th{background:#fafbfc;font-weight:600}
tr.shade td{background:#fafbfc}
.statusrunning,.statuserror,.statusnominal{display:inline-block;min-width:5.5em;padding:.05rem .4rem;border-radius:3px;font-size:.85em;font-weight:600;text-align:center}
.statusrunning{background:#dcf2dd;color:#17622a}
.statuserror{background:#fbe1e1;color:#a3161c}
.statusnominal{background:#eceff3;color:#4d5560}
td.action ul{display:flex;flex-wrap:wrap;gap:.2rem .9rem;list-style:none;margin:0;padding:0}
td.action li:nth-child(-n+2){min-width:3.6em}
td.action li.hidden{visibility:hidden}
.empty{padding:1rem;background:#fff;border:1px solid #d8dbe0}
pre{padding:.75rem;background:#fff;border:1px solid #d8dbe0;overflow:auto;white-space:pre-wrap;word-break:break-all}
footer{margin-top:1rem;padding-bottom:1rem;color:#6b7280;font-size:.85em}
";

/// The start of a page, through `<body>`.
fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        html_escape(title)
    )
}

/// The status page: `processes` (or the fault that prevented reading them) and a message.
fn status_page(processes: Result<Vec<Row>, Fault>, message: Option<&str>) -> String {
    let mut html = head("Supervisor Status");
    html.push_str("<header><h1>Supervisor status</h1></header>\n<main>\n");
    if let Some(message) = message {
        html.push_str(&format!(
            "<div class=\"status_msg\">{}</div>\n",
            html_escape(message)
        ));
    }
    html.push_str(
        "<ul id=\"buttons\">\n\
         <li class=\"action-button\"><a href=\"index.html?action=refresh\">Refresh</a></li>\n\
         <li class=\"action-button\"><a href=\"index.html?action=restartall\">Restart All</a></li>\n\
         <li class=\"action-button\"><a href=\"index.html?action=stopall\">Stop All</a></li>\n\
         </ul>\n",
    );
    match processes {
        Err(fault) => html.push_str(&format!(
            "<p class=\"empty\">{}</p>\n",
            html_escape(&format!("ERROR: {}", unexpected(&fault)))
        )),
        Ok(rows) if rows.is_empty() => {
            html.push_str("<p class=\"empty\">No programs to manage</p>\n");
        }
        Ok(rows) => {
            html.push_str(
                "<table>\n<thead>\n<tr><th class=\"state\">State</th>\
                 <th class=\"desc\">Description</th><th class=\"name\">Name</th>\
                 <th class=\"action\">Action</th></tr>\n</thead>\n<tbody>\n",
            );
            for (index, row) in rows.iter().enumerate() {
                push_row(&mut html, row, index % 2 == 1);
            }
            html.push_str("</tbody>\n</table>\n");
        }
    }
    html.push_str(&format!(
        "</main>\n<footer>svc {}</footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    ));
    html
}

fn push_row(html: &mut String, row: &Row, shaded: bool) {
    html.push_str(&format!(
        "<tr class=\"{}\">\n<td class=\"status\"><span class=\"{}\">{}</span></td>\n\
         <td><span>{}</span></td>\n\
         <td><a href=\"{}\" target=\"_blank\">{}</a></td>\n<td class=\"action\"><ul>\n",
        if shaded { "shade" } else { "" },
        state_class(row.state),
        html_escape(&row.statename.to_lowercase()),
        html_escape(&row.description),
        html_escape(&format!("tail.html?processname={}", quote(&row.namespec))),
        html_escape(&row.namespec),
    ));
    for action in actions(&row.namespec, row.state) {
        match action {
            Some(action) => html.push_str(&format!(
                "<li><a href=\"{}\"{}>{}</a></li>\n",
                html_escape(&action.href),
                if action.new_tab {
                    " target=\"_blank\""
                } else {
                    ""
                },
                action.label
            )),
            None => html.push_str("<li class=\"hidden\"></li>\n"),
        }
    }
    html.push_str("</ul></td>\n</tr>\n");
}

/// `tail.html`: the last `limit` bytes (at least [`TAIL_LIMIT`]) of a process's stdout log.
async fn tail_page(form: &Form, api: &Api) -> String {
    let Some(processname) = form.get("processname") else {
        return tail_html("None", "No process name found", None);
    };
    let limit = form
        .get("limit")
        .filter(|limit| limit.bytes().all(|byte| byte.is_ascii_digit()))
        .map_or(TAIL_LIMIT, |digits| {
            digits.parse::<i64>().unwrap_or(i64::from(i32::MAX))
        })
        .clamp(TAIL_LIMIT, i64::from(i32::MAX));
    let offset = i32::try_from(-limit).unwrap_or(i32::MIN + 1);
    let read = api
        .call(
            "supervisor.readProcessStdoutLog",
            vec![
                string(processname),
                Value::Integer(offset),
                Value::Integer(0),
            ],
        )
        .await;
    let text = match read {
        Ok(Value::String(text)) => text,
        Ok(_) => String::new(),
        Err(fault) if fault.code() == faults::NO_FILE => format!("No file for {processname}"),
        Err(fault) => format!("ERROR: {}", unexpected(&fault)),
    };
    let refresh = format!(
        "tail.html?processname={}&limit={}",
        quote(processname),
        quote(&limit.to_string())
    );
    tail_html(processname, &text, Some(&refresh))
}

fn tail_html(processname: &str, text: &str, refresh: Option<&str>) -> String {
    let mut html = head(&format!("Supervisor tail of process {processname}"));
    html.push_str(&format!("<main>\n<pre>{}</pre>\n", html_escape(text)));
    if let Some(refresh) = refresh {
        html.push_str(&format!(
            "<p><a class=\"button\" href=\"{}\">Refresh</a></p>\n",
            html_escape(refresh)
        ));
    }
    html.push_str("</main>\n</body>\n</html>\n");
    html
}

/// A request's form fields (see the module docs for how they merge).
#[derive(Debug, Default)]
struct Form {
    fields: HashMap<String, String>,
}

impl Form {
    fn parse(query: &str, body: &str) -> Form {
        let mut fields = HashMap::new();
        for (name, value) in pairs(query) {
            fields.entry(name).or_insert(value);
        }
        for (name, value) in pairs(body) {
            fields.insert(name, value);
        }
        Form { fields }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// Python's `parse_qsl` without blank values: `&`-separated `name=value` pairs, `+` as
/// space, percent-decoded; pairs without `=` or with an empty value are skipped.
fn pairs(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.split('&').filter_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        if value.is_empty() {
            return None;
        }
        let decode = |text: &str| unquote(&text.replace('+', " "));
        Some((decode(name), decode(value)))
    })
}

/// Python's `urllib.parse.unquote`: each valid `%XX` is a byte, the result is UTF-8 with
/// invalid sequences replaced.
pub(crate) fn unquote(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = |offset: usize| {
            bytes
                .get(index + offset)
                .and_then(|byte| char::from(*byte).to_digit(16))
        };
        match (bytes[index], hex(1), hex(2)) {
            (b'%', Some(high), Some(low)) => {
                decoded.push((high * 16 + low) as u8);
                index += 3;
            }
            (byte, _, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Python's `urllib.parse.quote(text)`: UTF-8 bytes other than letters, digits, `_.-~` and
/// `/` become `%XX`.
pub(crate) fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"_.-~/".contains(&byte) {
            quoted.push(char::from(byte));
        } else {
            quoted.push_str(&format!("%{byte:02X}"));
        }
    }
    quoted
}

/// Text made safe for HTML content and quoted attribute values.
pub(crate) fn html_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#x27;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Python's `time.ctime()` in local time: `Sat Nov 21 21:07:20 2026`.
fn ctime(time: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let seconds = libc::time_t::try_from(seconds).unwrap_or(0);
    // SAFETY: localtime_r reads `seconds` and writes into the zeroed struct we own.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    if unsafe { libc::localtime_r(&seconds, &mut tm) }.is_null() {
        return String::new();
    }
    let index = |value: libc::c_int, length: usize| usize::try_from(value).unwrap_or(0) % length;
    format!(
        "{} {} {:>2} {:02}:{:02}:{:02} {}",
        DAYS[index(tm.tm_wday, 7)],
        crate::logs::MONTHS[index(tm.tm_mon, 12)],
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        i64::from(tm.tm_year) + 1900
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<b>&\"x'</b><script>alert(1)</script>";

    #[test]
    fn html_escape_neutralises_markup() {
        assert_eq!(
            html_escape(HOSTILE),
            "&lt;b&gt;&amp;&quot;x&#x27;&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(html_escape("plain é"), "plain é");
        assert_eq!(html_escape("&amp;"), "&amp;amp;");
        let escaped = html_escape(HOSTILE);
        assert!(!escaped.contains(['<', '>', '"', '\'']));
    }

    #[test]
    fn quote_and_unquote_like_python() {
        assert_eq!(quote("<b>&\"x"), "%3Cb%3E%26%22x");
        assert_eq!(quote("grp:bad"), "grp%3Abad");
        assert_eq!(quote("a/b c_d.e-f~"), "a/b%20c_d.e-f~");
        assert_eq!(quote("é"), "%C3%A9");
        assert_eq!(
            quote("Page refreshed at Sat Nov 21 21:07:20 2026"),
            "Page%20refreshed%20at%20Sat%20Nov%2021%2021%3A07%3A20%202026"
        );
        assert_eq!(unquote("%3Cb%3E%26%22x"), "<b>&\"x");
        assert_eq!(unquote("%C3%A9"), "é");
        assert_eq!(unquote("100%"), "100%");
        assert_eq!(unquote("%zz%4"), "%zz%4");
        assert_eq!(unquote("%FF"), "\u{FFFD}");
        assert_eq!(unquote(&quote(HOSTILE)), HOSTILE);
    }

    #[test]
    fn forms_merge_like_supervisord() {
        let form = Form::parse(
            "processname=a+b&action=stop&processname=second&message=&bare",
            "action=start&action=restart",
        );
        assert_eq!(form.get("processname"), Some("a b"));
        assert_eq!(form.get("action"), Some("restart"));
        assert_eq!(form.get("message"), None);
        assert_eq!(form.get("bare"), None);
    }

    #[test]
    fn pages_by_path() {
        assert_eq!(Page::at("/"), Some(Page::Status));
        assert_eq!(Page::at("//index.html"), Some(Page::Status));
        assert_eq!(Page::at("/tail.html"), Some(Page::Tail));
        assert_eq!(Page::at("/ok.html"), Some(Page::Ok));
        assert_eq!(Page::at("/index.htm"), None);
        assert_eq!(Page::at("/stylesheets/supervisor.css"), None);
    }

    fn row(namespec: &str, statename: &str, state: i32, description: &str) -> Row {
        Row {
            namespec: namespec.into(),
            statename: statename.into(),
            state,
            description: description.into(),
        }
    }

    #[test]
    fn status_rows_escape_names_and_descriptions() {
        let html = status_page(
            Ok(vec![
                row(HOSTILE, "STOPPED", 0, "Not started <now>"),
                row("grp:bad", "FATAL", 200, "Exited too quickly"),
                row("web", "RUNNING", 20, "pid 1, uptime 0:00:01"),
            ]),
            Some("Process <i>x</i> started"),
        );
        assert!(!html.contains("<b>"), "{html}");
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<i>"), "{html}");
        assert!(
            html.contains("<div class=\"status_msg\">Process &lt;i&gt;x&lt;/i&gt; started</div>")
        );
        assert!(html.contains("Not started &lt;now&gt;"));
        let quoted = quote(HOSTILE);
        assert!(html.contains(&format!(
            "<a href=\"index.html?processname={quoted}&amp;action=start\">Start</a>"
        )));
        assert!(html.contains(&format!(
            "<a href=\"logtail/{quoted}/stderr\" target=\"_blank\">Tail -f Stderr</a>"
        )));
        assert!(html.contains(&format!(
            "<a href=\"tail.html?processname={quoted}\" target=\"_blank\">{}</a>",
            html_escape(HOSTILE)
        )));
        assert!(html.contains("<span class=\"statuserror\">fatal</span>"));
        assert!(html.contains("<span class=\"statusrunning\">running</span>"));
        assert!(html.contains("<span class=\"statusnominal\">stopped</span>"));
        assert!(html.contains("<tr class=\"shade\">"));
        assert!(
            html.contains("<a href=\"index.html?processname=web&amp;action=restart\">Restart</a>")
        );
        assert!(html.contains("<a href=\"index.html?processname=grp%3Abad&amp;action=start\">"));
    }

    #[test]
    fn actions_follow_the_state() {
        let labels = |state| {
            actions("web", state)
                .iter()
                .map(|action| action.as_ref().map_or("-", |action| action.label))
                .collect::<Vec<_>>()
        };
        let tails = ["Clear Log", "Tail -f Stdout", "Tail -f Stderr"];
        assert_eq!(labels(20), [&["Restart", "Stop"][..], &tails].concat());
        for stopped in [0, 100, 200] {
            assert_eq!(labels(stopped), [&["Start", "-"][..], &tails].concat());
        }
        for busy in [10, 30, 40, 1000] {
            assert_eq!(labels(busy), [&["-", "-"][..], &tails].concat());
        }
    }

    #[test]
    fn empty_and_failed_tables() {
        assert!(status_page(Ok(Vec::new()), None).contains("No programs to manage"));
        let failed = status_page(Err(Fault::new(6, "SHUTDOWN_STATE".into())), None);
        assert!(failed.contains("ERROR: unexpected rpc fault [6] SHUTDOWN_STATE"));
    }

    #[test]
    fn tail_page_escapes_log_text() {
        let html = tail_html(HOSTILE, "<script>x</script>\n", Some("tail.html?a=1&b=2"));
        assert!(html.contains("<pre>&lt;script&gt;x&lt;/script&gt;\n</pre>"));
        assert!(html.contains("href=\"tail.html?a=1&amp;b=2\""));
        assert!(!html.contains("<b>"));
    }

    #[test]
    fn ctime_has_pythons_shape() {
        let text = ctime(SystemTime::now());
        let fields: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(fields.len(), 5, "{text}");
        assert_eq!(text.len(), 24, "{text}");
    }
}
