//! XML-RPC latency of `svc run` and supervisord 4.3.0 side by side, on the same machine in
//! the same run: what `supervisorctl status` waits for.
//!
//! Run it with:
//!
//! ```text
//! cargo bench --bench rpc
//! ```
//!
//! supervisord is the one next to `python3` (`pip install supervisor==4.3.0`), or the path in
//! `SVC_SUPERVISORD`; `SVC_BENCH_ONLY=svc` skips it (it needs about 10 s to start 1,000
//! programs, and almost a second per `getAllProcessInfo`).
//!
//! Each daemon runs 1,000 programs (`command=/bin/sleep 100000`, `startsecs=0`, logs `NONE`,
//! `minfds=8192`) and serves XML-RPC on a unix socket. Once `getAllProcessInfo` reports all
//! 1,000 RUNNING, each call below is made 5 times to warm up, then 50 times; the table shows
//! the median. One call is one new connection (as `supervisorctl status` makes), `POST
//! /RPC2` with `Content-Length`, and the whole response read (its `Content-Length`) by the
//! small HTTP/1.1 client below on a `std::os::unix::net::UnixStream`:
//!
//! - `supervisor.getAllProcessInfo()`: 1,000 structs, about 1 MB of XML (target from
//!   DESIGN.md: ≤ 5 ms);
//! - `supervisor.getProcessInfo('p500')`: one struct;
//! - `supervisor.getState()`: the round trip of a call that does nothing.
//!
//! Nothing is asserted about the times (STYLE.md: measure with benchmarks, never assert
//! timings); the responses are checked (1,000 RUNNING, the right process).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const PROGRAMS: usize = 1000;
const WARMUP: usize = 5;
const SAMPLES: usize = 50;

mod common;

use common::{Daemon, Running};

/// The sections of the benchmarked configuration: the socket and 1,000 programs.
fn sections() -> String {
    let programs: String = (0..PROGRAMS)
        .map(|n| {
            format!(
                "[program:p{n}]\ncommand=/bin/sleep 100000\nstartsecs=0\n\
                 stdout_logfile=NONE\nstderr_logfile=NONE\n"
            )
        })
        .collect();
    format!(
        "[unix_http_server]\n\
         file=%(here)s/supervisor.sock\n\
         [rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
         {programs}"
    )
}

impl Running {
    fn socket(&self) -> PathBuf {
        self.dir.path().join("supervisor.sock")
    }

    /// One call on a new connection: the response body, or why there is none (the daemon
    /// is not listening yet).
    fn call(&self, body: &str) -> Result<String, String> {
        let stream = UnixStream::connect(self.socket()).map_err(|error| error.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(|error| error.to_string())?;
        let mut writer = stream.try_clone().map_err(|error| error.to_string())?;
        let request = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        writer
            .write_all(request.as_bytes())
            .map_err(|error| error.to_string())?;
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .map_err(|error| error.to_string())?;
        if !line.starts_with("HTTP/1.1 200") {
            return Err(format!("status {line:?}"));
        }
        let mut length = None;
        loop {
            line.clear();
            reader
                .read_line(&mut line)
                .map_err(|error| error.to_string())?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let length = length.ok_or("no Content-Length")?;
        let mut response = vec![0; length];
        reader
            .read_exact(&mut response)
            .map_err(|error| error.to_string())?;
        String::from_utf8(response).map_err(|error| error.to_string())
    }
}

/// An XML-RPC call of `method` with string parameters, as `xmlrpc.client` writes it.
fn method_call(method: &str, params: &[&str]) -> String {
    let params: String = params
        .iter()
        .map(|param| format!("<param>\n<value><string>{param}</string></value>\n</param>\n"))
        .collect();
    format!(
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>{method}</methodName>\n\
         <params>\n{params}</params>\n</methodCall>\n"
    )
}

fn running_count(response: &str) -> usize {
    response.matches("<string>RUNNING</string>").count()
}

/// Waits until the daemon answers and reports every program RUNNING.
fn wait_all_running(running: &Running, daemon: Daemon) -> Duration {
    let all = method_call("supervisor.getAllProcessInfo", &[]);
    let started = Instant::now();
    let mut last = String::from("no answer yet");
    while started.elapsed() < Duration::from_secs(300) {
        match running.call(&all) {
            Ok(response) if running_count(&response) == PROGRAMS => return started.elapsed(),
            Ok(response) => last = format!("{} RUNNING", running_count(&response)),
            Err(error) => last = error,
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!(
        "{} did not report {PROGRAMS} programs RUNNING ({last})",
        daemon.name()
    );
}

struct Timing {
    median: Duration,
    bytes: usize,
}

/// The median time of `SAMPLES` calls after `WARMUP` ones; `check` validates each response.
fn time_calls(running: &Running, body: &str, check: impl Fn(&str) -> bool) -> Timing {
    let mut samples = Vec::with_capacity(SAMPLES);
    let mut bytes = 0;
    for round in 0..WARMUP + SAMPLES {
        let started = Instant::now();
        let response = running.call(body).expect("the call succeeds");
        let elapsed = started.elapsed();
        assert!(
            check(&response),
            "unexpected response: {}",
            &response[..response.len().min(500)]
        );
        bytes = response.len();
        if round >= WARMUP {
            samples.push(elapsed);
        }
    }
    samples.sort();
    Timing {
        median: samples[samples.len() / 2],
        bytes,
    }
}

struct Measured {
    all: Timing,
    one: Timing,
    state: Timing,
}

fn measure(daemon: Daemon) -> Measured {
    let running = Running::start(daemon, &sections());
    let ready = wait_all_running(&running, daemon);
    eprintln!(
        "{}: {PROGRAMS} programs RUNNING after {:.1} s",
        daemon.name(),
        ready.as_secs_f64()
    );
    let all = time_calls(
        &running,
        &method_call("supervisor.getAllProcessInfo", &[]),
        |response| running_count(response) == PROGRAMS,
    );
    let one = time_calls(
        &running,
        &method_call("supervisor.getProcessInfo", &["p500"]),
        |response| response.contains("<string>p500</string>") && running_count(response) == 1,
    );
    let state = time_calls(
        &running,
        &method_call("supervisor.getState", &[]),
        |response| response.contains("<string>RUNNING</string>"),
    );
    Measured { all, one, state }
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

fn main() {
    let filter = std::env::args().skip(1).find(|arg| !arg.starts_with("--"));
    if filter.is_some_and(|f| !"rpc".contains(f.as_str())) {
        return;
    }
    let daemons = Daemon::selected();
    let measured: Vec<Measured> = daemons
        .iter()
        .map(|&daemon| {
            eprintln!("measuring {} ...", daemon.name());
            measure(daemon)
        })
        .collect();
    let column = |timing: fn(&Measured) -> &Timing| -> Vec<&Timing> {
        measured.iter().map(timing).collect()
    };
    let rows = [
        (
            format!("getAllProcessInfo, {PROGRAMS} processes"),
            column(|m| &m.all),
            "≤ 5 ms",
        ),
        (
            format!("getProcessInfo, one of {PROGRAMS}"),
            column(|m| &m.one),
            "",
        ),
        (
            "getState (round trip)".to_string(),
            column(|m| &m.state),
            "",
        ),
    ];
    let header: Vec<&str> = daemons.iter().map(|d| d.name()).collect();
    println!(
        "| call (median of {SAMPLES}, new connection each) | {} | supervisord ÷ svc | response | target |",
        header.join(" | ")
    );
    println!("|---|{}---|---|---|", "---|".repeat(header.len()));
    for (name, timings, target) in rows {
        let values: Vec<String> = timings.iter().map(|timing| ms(timing.median)).collect();
        let ratio = match timings.as_slice() {
            [svc, other] => format!(
                "{:.1}×",
                other.median.as_secs_f64() / svc.median.as_secs_f64()
            ),
            _ => String::new(),
        };
        println!(
            "| {name} | {} | {ratio} | {:.1} KB | {target} |",
            values.join(" | "),
            timings[0].bytes as f64 / 1000.0
        );
    }
}
