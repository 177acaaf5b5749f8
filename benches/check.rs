//! Wall time of `svc check` as a whole process on a large configuration.
//!
//! Run it with:
//!
//! ```text
//! cargo bench --bench check
//! ```
//!
//! Cargo builds the `svc` binary with the bench profile (release settings) and passes its path
//! in `CARGO_BIN_EXE_svc`. The benchmark writes a configuration of 5,000 programs into a
//! temporary directory: a `supervisord.conf` with `[include] files = conf.d/*.conf` and 50
//! included files of 100 programs each; every tenth program has `numprocs=4` and
//! `process_name=%(program_name)s_%(process_num)d`, so 6,500 processes in all. It then spawns
//! `svc check --no-host-checks supervisord.conf` (after a few warm-up runs) and prints the
//! minimum, median and maximum wall time in milliseconds.
//!
//! `SVC_BENCH_RUNS` sets the number of timed runs (default 30). No assertion is made on the
//! time (STYLE.md: measure with benchmarks, never assert timings); the run fails only if
//! `svc check` does not accept the configuration.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const INCLUDED_FILES: usize = 50;
const PROGRAMS_PER_FILE: usize = 100;
const WARM_UP_RUNS: usize = 3;

/// Writes the configuration into `dir`; returns the number of processes it defines.
fn write_config(dir: &Path) -> usize {
    let main = "\
[unix_http_server]
file=%(here)s/supervisor.sock
chmod=0700

[supervisord]
logfile=%(here)s/logs/supervisord.log
pidfile=%(here)s/supervisord.pid
childlogdir=%(here)s/logs
nodaemon=true
environment=APP_ENV=\"bench\",LANG=\"C.UTF-8\"

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%(here)s/supervisor.sock

[include]
files = conf.d/*.conf
";
    std::fs::write(dir.join("supervisord.conf"), main).expect("write supervisord.conf");
    std::fs::create_dir_all(dir.join("conf.d")).expect("create conf.d");
    let mut processes = 0;
    for file in 0..INCLUDED_FILES {
        let mut text = format!("; generated file {file}\n");
        for index in 0..PROGRAMS_PER_FILE {
            let n = file * PROGRAMS_PER_FILE + index;
            // Every tenth program is a pool of 4 with numbered names and logs.
            let (numprocs, suffix) = if n.is_multiple_of(10) {
                (
                    "numprocs=4\nprocess_name=%(program_name)s_%(process_num)d\n",
                    "_%(process_num)d",
                )
            } else {
                ("", "")
            };
            text.push_str(&format!(
                "\n[program:app{n}]\n\
                 command=/usr/bin/python3 -m http.server {port} ; serves app {n}\n\
                 {numprocs}\
                 directory=/srv/app{n}\n\
                 priority={priority}\n\
                 autostart=true\n\
                 autorestart=unexpected\n\
                 startsecs=1\n\
                 stopsignal=TERM\n\
                 stopwaitsecs=10\n\
                 stdout_logfile=%(here)s/logs/%(program_name)s{suffix}.out.log\n\
                 stdout_logfile_maxbytes=10MB\n\
                 stderr_logfile=%(here)s/logs/%(program_name)s{suffix}.err.log\n\
                 environment=APP_NAME=\"%(program_name)s\",APP_PORT=\"{port}\"\n",
                port = 10_000 + n,
                priority = 100 + n % 900,
            ));
            processes += if numprocs.is_empty() { 1 } else { 4 };
        }
        std::fs::write(dir.join(format!("conf.d/app{file:02}.conf")), text)
            .expect("write an included file");
    }
    processes
}

/// One `svc check` run: wall time, exit status and stderr.
fn run(svc: &Path, dir: &Path) -> (Duration, std::process::Output) {
    let started = Instant::now();
    let output = Command::new(svc)
        .args([
            "check",
            "--no-host-checks",
            "--color",
            "never",
            "supervisord.conf",
        ])
        .current_dir(dir)
        .env_clear()
        .envs([
            ("PATH", "/usr/local/bin:/usr/bin:/bin"),
            ("HOME", "/root"),
            ("LANG", "C.UTF-8"),
        ])
        .stdin(Stdio::null())
        .output()
        .expect("spawn svc");
    (started.elapsed(), output)
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes harness flags such as `--bench`; a name filter that does not
    // match this benchmark skips it.
    let filter = std::env::args().skip(1).find(|arg| !arg.starts_with("--"));
    if filter.is_some_and(|f| !"check".contains(f.as_str())) {
        return;
    }
    let svc = Path::new(env!("CARGO_BIN_EXE_svc"));
    let runs: usize = std::env::var("SVC_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30)
        .max(1);
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let processes = write_config(dir.path());

    let (_, output) = run(svc, dir.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!(
        "ok, {processes} processes in {} groups",
        INCLUDED_FILES * PROGRAMS_PER_FILE
    );
    assert!(
        output.status.success() && stderr.contains(&expected),
        "svc check did not accept the benchmark configuration ({}); expected {expected:?}\n{stderr}",
        output.status
    );
    for _ in 1..WARM_UP_RUNS {
        run(svc, dir.path());
    }
    let mut times: Vec<Duration> = (0..runs).map(|_| run(svc, dir.path()).0).collect();
    times.sort();
    let median = if runs % 2 == 1 {
        times[runs / 2]
    } else {
        (times[runs / 2 - 1] + times[runs / 2]) / 2
    };
    println!(
        "svc check: {} programs in {INCLUDED_FILES} included files, {processes} processes; {} ({runs} runs)",
        INCLUDED_FILES * PROGRAMS_PER_FILE,
        svc.display()
    );
    println!(
        "wall time: min {:.1} ms, median {:.1} ms, max {:.1} ms",
        milliseconds(times[0]),
        milliseconds(median),
        milliseconds(times[runs - 1])
    );
}
