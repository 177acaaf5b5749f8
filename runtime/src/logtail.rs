//! Log tails over HTTP, as supervisord serves them (`supervisor/http.py`: `logtail_handler`,
//! `mainlogtail_handler`, `tail_f_producer`): `GET /logtail/<namespec>[/stdout|/stderr]`
//! and `GET /mainlogtail`, what `supervisorctl tail -f`, `maintail -f` and `fg` read.
//!
//! A response is `200` with `Content-Type: text/plain;charset=utf-8`, `Last-Modified` (the
//! file's mtime) and, for a process log, `X-Accel-Buffering: no`; it has no length, so hyper
//! sends it chunked. The body starts with the last [`HEAD`] bytes of the file, then follows
//! it: new bytes are sent as they appear, a file that shrank sends [`TRUNCATED`] and starts
//! again from its beginning, and a file replaced at the same path (log rotation: another
//! inode) is followed from the new file's beginning. An unknown process, a process without
//! that log and a missing file are `404`; a method other than `GET` is `400`.
//!
//! This module owns the path parsing, the follower and the body stream. It deliberately
//! does not know where logs are: a process's paths come from `supervisor.getProcessInfo`
//! through [`Api::call`], the main log's from the supervisor task ([`main_log_path`]).
//!
//! Invariants:
//! - A tail lives exactly as long as its response body, and the body as long as its client.
//!   The body is a stream that owns the open file and its timer; hyper drops it when a write
//!   fails or it sees the client's EOF, and that closes the file. Nothing else refers to a
//!   tail. hyper may stop looking for EOF (the real `supervisorctl` sends a stray CRLF after
//!   its request), so an idle tail also asks [`Peer::hung_up`] at each poll and ends itself.
//! - A tail never blocks the executor: log files are regular files, read with positioned
//!   reads of at most [`MAX_CHUNK`] bytes, which is also the most memory a tail holds.
//! - An idle tail costs one timer wake-up per [`POLL_INTERVAL`], with an `fstat` of the open
//!   file, a `stat` of its path and a zero-timeout `poll` of the socket; no buffer is held
//!   between polls.
//! - Bytes are sent as they are in the file: no decoding, no re-encoding.
//!
//! Deliberate differences from supervisord 4.3.0: when the file is rotated, the bytes the
//! old file got after the last poll are sent before switching (supervisord drops them);
//! `/logtail` without a name is `404` (supervisord fails with `500`); after a truncation the
//! tail goes on (supervisord 4.3.0 on Python 3 sends nothing and closes the connection: its
//! producer returns a `str`); the poll interval is 200 ms (supervisord's is 100 ms). hyper
//! refuses a request target with a raw `<`, `>` or backtick (`400`), so `supervisorctl tail
//! -f` of a process so named fails; the web page's links are percent-encoded and work.

use std::convert::Infallible;
use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use dxr::Value;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use crate::http::{self, Body, Peer};
use crate::rpc::Api;
use crate::supervisor::Handle;
use crate::web::unquote;

/// How much of the file a tail sends first (supervisord's `tail_f_producer(..., 1024)`).
pub(crate) const HEAD: u64 = 1024;
/// What a tail sends when its file shrank (supervisord's text).
pub(crate) const TRUNCATED: &str = "==> File truncated <==\n";
/// How often an idle tail looks at its file again.
const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// The most a tail reads at once: one body frame.
const MAX_CHUNK: usize = 64 * 1024;

/// The main log's file, if the main log is a file (asked of the supervisor task).
pub(crate) async fn main_log_path(handle: &Handle) -> Option<PathBuf> {
    handle
        .with(|supervisor| supervisor.main_log_path())
        .await
        .flatten()
}

/// `GET /logtail/<namespec>[/<channel>]`: a process's stdout (the default) or stderr log.
pub(crate) async fn process_log<B>(request: &Request<B>, api: &Api) -> Response<Body> {
    if request.method() != Method::GET {
        return http::error_response(StatusCode::BAD_REQUEST);
    }
    let Some((namespec, channel)) = parse_path(request.uri().path()) else {
        return http::error_response(StatusCode::NOT_FOUND);
    };
    let key = match channel.as_str() {
        "stdout" => "stdout_logfile",
        "stderr" => "stderr_logfile",
        _ => return http::error_response(StatusCode::NOT_FOUND),
    };
    let info = api
        .call("supervisor.getProcessInfo", vec![Value::String(namespec)])
        .await;
    let path = match info {
        Ok(Value::Struct(info)) => match info.get(key) {
            Some(Value::String(path)) if !path.is_empty() => PathBuf::from(path),
            _ => return http::error_response(StatusCode::NOT_FOUND),
        },
        _ => return http::error_response(StatusCode::NOT_FOUND),
    };
    tail(&path, true, peer(request))
}

/// `GET /mainlogtail`: the main log.
pub(crate) async fn main_log<B>(request: &Request<B>, handle: &Handle) -> Response<Body> {
    if request.method() != Method::GET {
        return http::error_response(StatusCode::BAD_REQUEST);
    }
    match main_log_path(handle).await {
        Some(path) => tail(&path, false, peer(request)),
        None => http::error_response(StatusCode::NOT_FOUND),
    }
}

/// supervisord's parsing of a logtail path: percent-decoded, leading slashes dropped, the
/// first segment (`logtail`) skipped, then `namespec` and an optional channel (default
/// `stdout`) split at the next `/`. `None` when there is no second segment.
fn parse_path(path: &str) -> Option<(String, String)> {
    let decoded = if path.contains('%') {
        unquote(path)
    } else {
        path.to_string()
    };
    let (_, rest) = decoded.trim_start_matches('/').split_once('/')?;
    Some(match rest.split_once('/') {
        Some((namespec, channel)) => (namespec.to_string(), channel.to_string()),
        None => (rest.to_string(), "stdout".to_string()),
    })
}

/// The connection's client, as the HTTP layer describes it.
fn peer<B>(request: &Request<B>) -> Option<Peer> {
    request.extensions().get::<Peer>().cloned()
}

/// The tail response for `path`: its headers and the following body, or `404` if the file
/// does not exist.
fn tail(path: &Path, process_log: bool, peer: Option<Peer>) -> Response<Body> {
    let (follower, modified) = match Follower::start(path, HEAD) {
        Ok(started) => started,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return http::error_response(StatusCode::NOT_FOUND);
        }
        Err(_) => return http::error_response(StatusCode::INTERNAL_SERVER_ERROR),
    };
    let mut response = Response::new(follow(follower, peer));
    let headers = response.headers_mut();
    if let Ok(date) = HeaderValue::from_str(&http_date(modified)) {
        headers.insert(header::LAST_MODIFIED, date);
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=utf-8"),
    );
    if process_log {
        headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    }
    response
}

/// The body that follows a file: each poll sends what is new, or waits [`POLL_INTERVAL`]
/// unless the client hung up (then the body ends).
fn follow(follower: Follower, peer: Option<Peer>) -> Body {
    let frames = smol::stream::unfold(follower, move |mut follower| {
        let peer = peer.clone();
        async move {
            loop {
                match follower.step() {
                    Step::Data(bytes) => {
                        return Some((Ok::<_, Infallible>(Frame::data(bytes)), follower));
                    }
                    Step::Idle if peer.as_ref().is_some_and(Peer::hung_up) => return None,
                    Step::Idle => {
                        smol::Timer::after(POLL_INTERVAL).await;
                    }
                    Step::End => return None,
                }
            }
        }
    });
    StreamBody::new(frames).boxed_unsync()
}

/// What one look at the file gave.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Bytes to send.
    Data(Bytes),
    /// Nothing new.
    Idle,
    /// The open file cannot be read any more: end the body.
    End,
}

/// A file being followed: the open file, its identity and how much of it was sent.
#[derive(Debug)]
struct Follower {
    path: PathBuf,
    file: File,
    /// `(device, inode)` of the open file.
    identity: (u64, u64),
    /// Bytes of the open file already sent (or skipped).
    position: u64,
}

impl Follower {
    /// Opens `path` positioned at its beginning.
    fn open(path: &Path) -> io::Result<Follower> {
        let file = File::open(path)?;
        let metadata = file.metadata()?;
        Ok(Follower {
            path: path.to_path_buf(),
            file,
            identity: (metadata.dev(), metadata.ino()),
            position: 0,
        })
    }

    /// Opens `path` positioned `head` bytes before its end; also returns its mtime.
    fn start(path: &Path, head: u64) -> io::Result<(Follower, SystemTime)> {
        let mut follower = Follower::open(path)?;
        let metadata = follower.file.metadata()?;
        follower.position = metadata.len().saturating_sub(head);
        Ok((follower, metadata.modified().unwrap_or(UNIX_EPOCH)))
    }

    /// One look at the file (supervisord's `more`): a new file at the path replaces the open
    /// one once the open one is drained; a file shorter than what was sent is truncated.
    fn step(&mut self) -> Step {
        let Ok(mut size) = self.file.metadata().map(|metadata| metadata.len()) else {
            return Step::End;
        };
        let replaced = std::fs::metadata(&self.path)
            .is_ok_and(|metadata| (metadata.dev(), metadata.ino()) != self.identity);
        if replaced && size <= self.position {
            // A path that vanished again before the open keeps the old file for now.
            let Ok(new) = Follower::open(&self.path) else {
                return Step::Idle;
            };
            *self = new;
            size = match self.file.metadata() {
                Ok(metadata) => metadata.len(),
                Err(_) => return Step::End,
            };
        }
        if size < self.position {
            self.position = 0;
            return Step::Data(Bytes::from_static(TRUNCATED.as_bytes()));
        }
        if size == self.position {
            return Step::Idle;
        }
        let wanted = usize::try_from(size - self.position).map_or(MAX_CHUNK, |n| n.min(MAX_CHUNK));
        let mut buffer = vec![0; wanted];
        let mut filled = 0;
        while filled < wanted {
            let offset = self.position + filled as u64;
            match self.file.read_at(&mut buffer[filled..], offset) {
                Ok(0) => break,
                Ok(read) => filled += read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) if filled > 0 => break,
                Err(_) => return Step::End,
            }
        }
        if filled == 0 {
            // It shrank since the fstat: the next look says so.
            return Step::Idle;
        }
        buffer.truncate(filled);
        self.position += filled as u64;
        Step::Data(Bytes::from(buffer))
    }
}

/// An HTTP date (RFC 9110 IMF-fixdate): `Thu, 01 Jan 1970 00:00:00 GMT`. Times before 1970
/// are shown as 1970.
pub(crate) fn http_date(time: SystemTime) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days % 7) as usize],
        crate::logs::MONTHS[(month - 1) as usize],
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// `(year, month 1-12, day 1-31)` of a day count since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn data(step: Step) -> String {
        match step {
            Step::Data(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            other => panic!("expected data, got {other:?}"),
        }
    }

    fn append(path: &Path, text: &str) {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn paths_like_supervisord() {
        let parse = |path| parse_path(path);
        assert_eq!(parse("/logtail/web"), Some(("web".into(), "stdout".into())));
        assert_eq!(
            parse("/logtail/grp:web/stderr"),
            Some(("grp:web".into(), "stderr".into()))
        );
        assert_eq!(
            parse("//logtail/grp%3Aweb/stdout"),
            Some(("grp:web".into(), "stdout".into()))
        );
        assert_eq!(
            parse("/logtail/%3Cb%3E%26%22x"),
            Some(("<b>&\"x".into(), "stdout".into()))
        );
        assert_eq!(
            parse("/logtail/web/stdout/more"),
            Some(("web".into(), "stdout/more".into()))
        );
        assert_eq!(parse("/logtail/"), Some((String::new(), "stdout".into())));
        assert_eq!(parse("/logtail"), None);
    }

    #[test]
    fn starts_with_the_last_head_bytes_then_follows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        append(&path, &"x".repeat(2000));
        let (mut follower, _) = Follower::start(&path, HEAD).unwrap();
        assert_eq!(data(follower.step()).len(), 1024);
        assert_eq!(follower.step(), Step::Idle);
        append(&path, "new line\n");
        assert_eq!(data(follower.step()), "new line\n");
        assert_eq!(follower.step(), Step::Idle);
    }

    #[test]
    fn a_short_file_is_sent_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        append(&path, "short\n");
        let (mut follower, _) = Follower::start(&path, HEAD).unwrap();
        assert_eq!(data(follower.step()), "short\n");
    }

    #[test]
    fn large_growth_comes_in_bounded_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        append(&path, "");
        let (mut follower, _) = Follower::start(&path, HEAD).unwrap();
        append(&path, &"y".repeat(MAX_CHUNK + 10));
        assert_eq!(data(follower.step()).len(), MAX_CHUNK);
        assert_eq!(data(follower.step()).len(), 10);
    }

    #[test]
    fn truncation_is_announced_and_the_file_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        append(&path, "one\ntwo\n");
        let (mut follower, _) = Follower::start(&path, HEAD).unwrap();
        data(follower.step());
        std::fs::write(&path, "").unwrap();
        assert_eq!(data(follower.step()), TRUNCATED);
        assert_eq!(follower.step(), Step::Idle);
        append(&path, "three\n");
        assert_eq!(data(follower.step()), "three\n");
    }

    #[test]
    fn rotation_drains_the_old_file_then_follows_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        append(&path, "before\n");
        let (mut follower, _) = Follower::start(&path, HEAD).unwrap();
        data(follower.step());
        append(&path, "late\n");
        std::fs::rename(&path, dir.path().join("log.1")).unwrap();
        append(&path, "fresh\n");
        assert_eq!(data(follower.step()), "late\n");
        assert_eq!(data(follower.step()), "fresh\n");
        assert_eq!(follower.step(), Step::Idle);
    }

    #[test]
    fn an_unlinked_file_is_still_followed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        append(&path, "a\n");
        let (mut follower, _) = Follower::start(&path, HEAD).unwrap();
        data(follower.step());
        let mut still_open = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        still_open.write_all(b"b\n").unwrap();
        assert_eq!(data(follower.step()), "b\n");
    }

    #[test]
    fn http_dates() {
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
        let at = |seconds| UNIX_EPOCH + Duration::from_secs(seconds);
        assert_eq!(http_date(at(784_111_777)), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(at(951_782_400)), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(
            http_date(at(1_795_374_437)),
            "Sun, 22 Nov 2026 19:07:17 GMT"
        );
    }
}
