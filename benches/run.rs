//! `svc run` and supervisord 4.3.0 side by side, on the same machine in the same run.
//!
//! Run it with:
//!
//! ```text
//! cargo bench --bench run
//! ```
//!
//! supervisord is the one next to `python3` (`pip install supervisor==4.3.0`), or the path in
//! `SVC_SUPERVISORD`. Both daemons are observed from outside only — `/proc`, their main log,
//! their log files — never through RPC, so supervisord's idle loop is measured as users meet
//! it. Measurements (targets from DESIGN.md):
//!
//! - respawn: a program with `autorestart=true` is killed with SIGKILL while nobody talks to
//!   the daemon; the clock stops when the replacement has exec'd (`/proc/<pid>/comm`).
//! - start: 1,000 programs with `startsecs=0`, from spawning the daemon to 1,000 `success:`
//!   lines in its log. Their logs are `NONE`: creating 2,000 AUTO log files costs both
//!   daemons about 0.8 ms per file on the development machine's file system, which would
//!   measure the file system rather than the supervisor.
//! - shutdown: SIGTERM to the daemon with those 1,000 running, until it has exited.
//! - memory: VmRSS of the daemon idle with one program, and with the 1,000 children.
//! - respawn under events: the respawn again, while a child writes to stdout as fast as it
//!   can with `stdout_events_enabled` and an event listener (a small Python script that
//!   acknowledges at once) takes its PROCESS_LOG_STDOUT events: the daemon's other work
//!   must keep its latency.
//! - capture: a child writes 1 GiB to stdout into a log rotated at 256 MiB; wall time until
//!   every byte is in the files, and the daemon's CPU time, against `cat` copying the same
//!   pipe into a file (its wall time and its own CPU time, printed above the table).
//!
//! `SVC_BENCH_ONLY=svc` skips supervisord (it takes about a minute); `SVC_BENCH_PART=respawn`
//! (or `fleet`, or `events`) measures only the respawn latency (or the start, memory and
//! shutdown of 1,000 programs, or the respawn under events); `SVC_BENCH_RUNS=N` measures the fleet N times (median, min and max);
//! `SVC_BENCH_SVC=/path/to/svc` runs another build of svc, to compare two versions in the
//! same conditions. The respawn probe polls `/proc` every 50 µs rather than spinning, so
//! that it does not take the CPU the daemon and the new child need. Nothing is asserted
//! about the times (STYLE.md: measure with benchmarks, never assert timings).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RESPAWNS: usize = 10;
const PROGRAMS: usize = 1000;
const CAPTURE_BYTES: u64 = 1 << 30;

mod common;

use common::{Daemon, Running};

impl Running {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The main log from byte `offset` on.
    fn log_from(&self, offset: usize) -> String {
        use std::io::{Read, Seek, SeekFrom};
        let mut text = Vec::new();
        if let Ok(mut file) = std::fs::File::open(self.dir.path().join("main.log"))
            && file.seek(SeekFrom::Start(offset as u64)).is_ok()
        {
            let _ = file.read_to_end(&mut text);
        }
        String::from_utf8_lossy(&text).into_owned()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("main.log")).unwrap_or_default()
    }

    /// Direct children of the daemon whose command is `comm`.
    fn children(&self, comm: &str) -> Vec<u32> {
        let pid = self.pid();
        let list =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        list.split_whitespace()
            .filter_map(|p| p.parse().ok())
            .filter(|child| {
                std::fs::read_to_string(format!("/proc/{child}/comm"))
                    .is_ok_and(|c| c.trim_end() == comm)
            })
            .collect()
    }

    fn rss_kb(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// utime + stime of the daemon.
    fn cpu(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // Fields after the parenthesized comm: state is field 3, utime 14, stime 15.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = [11, 12]
            .iter()
            .filter_map(|&index| fields.get(index)?.parse::<u64>().ok())
            .sum();
        Duration::from_millis(ticks * 10)
    }

    fn stop(mut self) -> Duration {
        let started = Instant::now();
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.pid() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
        started.elapsed()
    }
}

fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// An event listener that acknowledges every event at once.
const LISTENER: &str = "import sys
def out(text):
    sys.stdout.write(text)
    sys.stdout.flush()
out('READY\\n')
while True:
    line = sys.stdin.readline()
    if not line:
        break
    sys.stdin.read(int(line.split('len:')[1]))
    out('RESULT 2\\nOKREADY\\n')
";

fn respawn(daemon: Daemon) -> Duration {
    respawn_with(daemon, "")
}

/// The respawn latency while a listener takes the PROCESS_LOG events of a chatty child.
fn respawn_under_events(daemon: Daemon) -> Duration {
    let dir = tempfile::tempdir().expect("temporary directory");
    let listener = dir.path().join("listener.py");
    std::fs::write(&listener, LISTENER).expect("write the listener");
    respawn_with(
        daemon,
        &format!(
            "[eventlistener:listener]\ncommand=python3 {}\nevents=PROCESS_LOG_STDOUT\n\
             [program:chatty]\ncommand=/usr/bin/yes 0123456789012345678901234567890123456789\n\
             startsecs=0\nstdout_events_enabled=true\nstdout_logfile=%(here)s/chatty.log\n\
             stdout_logfile_maxbytes=64MB\nstdout_logfile_backups=1\n",
            listener.display()
        ),
    )
}

fn respawn_with(daemon: Daemon, extra: &str) -> Duration {
    let running = Running::start(
        daemon,
        &format!(
            "[program:victim]\ncommand=/bin/sleep 100000\nautorestart=true\nstartsecs=0\n{extra}"
        ),
    );
    let mut samples = Vec::new();
    for _ in 0..RESPAWNS {
        let mut old = Vec::new();
        assert!(
            wait_until(Duration::from_secs(10), || {
                old = running.children("sleep");
                !old.is_empty()
            }),
            "{} never started the program",
            daemon.name()
        );
        // Let the daemon go idle: nobody talks to it.
        std::thread::sleep(Duration::from_millis(1500));
        // SAFETY: kill(2) on a grandchild we observed.
        unsafe { libc::kill(old[0] as i32, libc::SIGKILL) };
        let killed = Instant::now();
        let mut replaced = false;
        while killed.elapsed() < Duration::from_secs(10) {
            if running.children("sleep").iter().any(|pid| *pid != old[0]) {
                replaced = true;
                break;
            }
            // Poll often, but leave the CPU to the daemon and the new child.
            std::thread::sleep(Duration::from_micros(50));
        }
        assert!(replaced, "{} did not respawn", daemon.name());
        samples.push(killed.elapsed());
    }
    median(samples)
}

struct Fleet {
    start: Duration,
    rss_kb: u64,
    shutdown: Duration,
}

fn fleet(daemon: Daemon) -> Fleet {
    let programs: String = (0..PROGRAMS)
        .map(|n| {
            format!(
                "[program:p{n}]\ncommand=/bin/sleep 100000\nstartsecs=0\n\
                 stdout_logfile=NONE\nstderr_logfile=NONE\n"
            )
        })
        .collect();
    let started = Instant::now();
    let running = Running::start(daemon, &programs);
    // Read only what the log gained since the last look: rereading it all every few
    // milliseconds would take the CPU the daemon needs.
    let mut seen = 0;
    let mut read = 0;
    let mut partial = String::new();
    assert!(
        wait_until(Duration::from_secs(120), || {
            let log = running.log_from(read);
            read += log.len();
            partial.push_str(&log);
            let complete = partial.rfind('\n').map_or(0, |end| end + 1);
            seen += partial[..complete].matches("success:").count();
            partial.drain(..complete);
            seen >= PROGRAMS
        }),
        "{} did not start {PROGRAMS} programs",
        daemon.name()
    );
    let start = started.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    let rss_kb = running.rss_kb();
    let shutdown = running.stop();
    Fleet {
        start,
        rss_kb,
        shutdown,
    }
}

/// How many times the fleet is measured (`SVC_BENCH_RUNS`, default 1): the start time
/// varies by ±20% from run to run on a shared machine.
fn fleet_runs() -> usize {
    std::env::var("SVC_BENCH_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .filter(|runs| *runs > 0)
        .unwrap_or(1)
}

fn idle_rss(daemon: Daemon) -> u64 {
    let running = Running::start(daemon, "[program:one]\ncommand=/bin/sleep 100000\n");
    assert!(wait_until(Duration::from_secs(10), || running
        .log()
        .contains("success:")));
    std::thread::sleep(Duration::from_millis(500));
    running.rss_kb()
}

struct CaptureRun {
    wall: Duration,
    cpu: Duration,
}

fn total_size(dir: &Path, prefix: &str) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn capture(daemon: Daemon) -> CaptureRun {
    let programs = format!(
        "[program:chatty]\n\
         command=/usr/bin/head -c {CAPTURE_BYTES} /dev/zero\n\
         startsecs=0\n\
         autorestart=false\n\
         stdout_logfile=%(here)s/chatty.log\n\
         stdout_logfile_maxbytes=256MB\n\
         stdout_logfile_backups=4\n"
    );
    let started = Instant::now();
    let running = Running::start(daemon, &programs);
    let dir = running.dir.path().to_path_buf();
    assert!(
        wait_until(Duration::from_secs(120), || {
            total_size(&dir, "chatty.log") >= CAPTURE_BYTES && running.log().contains("exited:")
        }),
        "{} did not capture every byte",
        daemon.name()
    );
    let wall = started.elapsed();
    let cpu = running.cpu();
    CaptureRun { wall, cpu }
}

/// `cat` copying the pipe of `head` into a file: wall time, and `cat`'s own CPU time.
struct CatRun {
    wall: Duration,
    cpu: Duration,
    user: Duration,
    system: Duration,
}

fn cat_baseline() -> CatRun {
    use std::process::Stdio;
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = std::fs::File::create(dir.path().join("cat.log")).expect("create cat.log");
    let started = Instant::now();
    let mut head = Command::new("/usr/bin/head")
        .args(["-c", &CAPTURE_BYTES.to_string(), "/dev/zero"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("run head");
    let pipe = head.stdout.take().expect("head's stdout");
    let mut cat = Command::new("/bin/cat")
        .stdin(Stdio::from(pipe))
        .stdout(Stdio::from(output))
        .spawn()
        .expect("run cat");
    let children_cpu = || {
        // SAFETY: getrusage fills the struct it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
        let time = |tv: libc::timeval| {
            Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64)
        };
        (time(usage.ru_utime), time(usage.ru_stime))
    };
    // Children waited for so far (the daemons) are in `before`; `cat` is the only one
    // waited for in between.
    let before = children_cpu();
    assert!(cat.wait().expect("wait for cat").success());
    let after = children_cpu();
    let wall = started.elapsed();
    assert!(head.wait().expect("wait for head").success());
    let (user, system) = (after.0 - before.0, after.1 - before.1);
    CatRun {
        wall,
        cpu: user + system,
        user,
        system,
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

fn gib_per_s(duration: Duration) -> f64 {
    CAPTURE_BYTES as f64 / (1u64 << 30) as f64 / duration.as_secs_f64()
}

fn main() {
    let filter = std::env::args().skip(1).find(|arg| !arg.starts_with("--"));
    if filter.is_some_and(|f| !"run".contains(f.as_str())) {
        return;
    }
    let daemons = Daemon::selected();
    let mut rows: Vec<(String, Vec<String>, &str)> = Vec::new();
    let mut respawns = Vec::new();
    let mut loaded_respawns = Vec::new();
    let mut fleets = Vec::new();
    let mut idles = Vec::new();
    let mut captures = Vec::new();
    match std::env::var("SVC_BENCH_PART").as_deref() {
        Ok("respawn") => {
            for &daemon in &daemons {
                println!("{}: respawn median {}", daemon.name(), ms(respawn(daemon)));
            }
            return;
        }
        Ok("events") => {
            for &daemon in &daemons {
                println!(
                    "{}: respawn under events median {}",
                    daemon.name(),
                    ms(respawn_under_events(daemon))
                );
            }
            return;
        }
        Ok("fleet") => {
            for &daemon in &daemons {
                let runs: Vec<Fleet> = (0..fleet_runs()).map(|_| fleet(daemon)).collect();
                for run in &runs {
                    println!(
                        "{}: start {}, shutdown {}, RSS {} kB",
                        daemon.name(),
                        ms(run.start),
                        ms(run.shutdown),
                        run.rss_kb
                    );
                }
                if runs.len() > 1 {
                    let spread = |values: Vec<Duration>| {
                        let (low, high) = (values.iter().min(), values.iter().max());
                        format!(
                            "median {} (min {}, max {})",
                            ms(median(values.clone())),
                            low.map_or(String::new(), |d| ms(*d)),
                            high.map_or(String::new(), |d| ms(*d))
                        )
                    };
                    println!(
                        "{}: over {} runs: start {}; shutdown {}",
                        daemon.name(),
                        runs.len(),
                        spread(runs.iter().map(|run| run.start).collect()),
                        spread(runs.iter().map(|run| run.shutdown).collect())
                    );
                }
            }
            return;
        }
        _ => {}
    }
    for &daemon in &daemons {
        eprintln!("measuring {} ...", daemon.name());
        respawns.push(respawn(daemon));
        loaded_respawns.push(respawn_under_events(daemon));
        let runs: Vec<Fleet> = (0..fleet_runs()).map(|_| fleet(daemon)).collect();
        fleets.push(Fleet {
            start: median(runs.iter().map(|run| run.start).collect()),
            shutdown: median(runs.iter().map(|run| run.shutdown).collect()),
            rss_kb: runs.iter().map(|run| run.rss_kb).max().unwrap_or(0),
        });
        idles.push(idle_rss(daemon));
        captures.push(capture(daemon));
    }
    let cat = cat_baseline();
    let cat_wall = cat.wall;
    let ratio = |values: &[f64]| -> String {
        match values {
            [svc, other] if *svc > 0.0 => format!("{:.1}×", other / svc),
            _ => String::new(),
        }
    };
    let secs = |values: &[Duration]| values.iter().map(|d| d.as_secs_f64()).collect::<Vec<_>>();
    rows.push((
        format!("respawn after SIGKILL (median of {RESPAWNS})"),
        respawns.iter().map(|d| ms(*d)).collect(),
        "≤ 2 ms",
    ));
    rows.push((
        format!("respawn while a listener takes a chatty child's PROCESS_LOG events (median of {RESPAWNS})"),
        loaded_respawns.iter().map(|d| ms(*d)).collect(),
        "≈ idle respawn",
    ));
    let starts: Vec<Duration> = fleets.iter().map(|f| f.start).collect();
    rows.push((
        format!("start {PROGRAMS} programs to RUNNING"),
        starts.iter().map(|d| ms(*d)).collect(),
        "≤ 500 ms",
    ));
    let stops: Vec<Duration> = fleets.iter().map(|f| f.shutdown).collect();
    rows.push((
        format!("SIGTERM shutdown of {PROGRAMS}"),
        stops.iter().map(|d| ms(*d)).collect(),
        "≤ 300 ms",
    ));
    rows.push((
        "daemon RSS, idle (1 program)".into(),
        idles
            .iter()
            .map(|kb| format!("{:.1} MB", *kb as f64 / 1024.0))
            .collect(),
        "≤ 4 MB",
    ));
    rows.push((
        format!("daemon RSS with {PROGRAMS} children"),
        fleets
            .iter()
            .map(|f| format!("{:.1} MB", f.rss_kb as f64 / 1024.0))
            .collect(),
        "≤ 10 MB",
    ));
    rows.push((
        "capture 1 GiB into a rotated log".into(),
        captures
            .iter()
            .map(|c| {
                format!(
                    "{:.2} GiB/s ({:.0}% of cat)",
                    gib_per_s(c.wall),
                    100.0 * cat_wall.as_secs_f64() / c.wall.as_secs_f64()
                )
            })
            .collect(),
        "≥ 80% of cat",
    ));
    rows.push((
        "daemon CPU per GiB captured".into(),
        captures.iter().map(|c| ms(c.cpu)).collect(),
        "≤ ⅓ of supervisord",
    ));

    println!(
        "cat copying the same pipe into a file: {:.2} GiB/s, cat's CPU {} per GiB \
         (user {}, system {})",
        gib_per_s(cat.wall),
        ms(cat.cpu),
        ms(cat.user),
        ms(cat.system)
    );
    let header: Vec<&str> = daemons.iter().map(|d| d.name()).collect();
    println!(
        "| measurement | {} | supervisord ÷ svc | target |",
        header.join(" | ")
    );
    println!("|---|{}---|---|", "---|".repeat(header.len()));
    let numeric = [
        ratio(&secs(&respawns)),
        ratio(&secs(&loaded_respawns)),
        ratio(&secs(&starts)),
        ratio(&secs(&stops)),
        ratio(&idles.iter().map(|&kb| kb as f64).collect::<Vec<_>>()),
        ratio(&fleets.iter().map(|f| f.rss_kb as f64).collect::<Vec<_>>()),
        ratio(&secs(&captures.iter().map(|c| c.wall).collect::<Vec<_>>())),
        ratio(&secs(&captures.iter().map(|c| c.cpu).collect::<Vec<_>>())),
    ];
    for ((name, values, target), ratio) in rows.iter().zip(numeric) {
        println!("| {name} | {} | {ratio} | {target} |", values.join(" | "));
    }
}
