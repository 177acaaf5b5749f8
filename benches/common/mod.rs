//! What the daemon benchmarks share: the two daemons under test, and one of them running a
//! configuration in a temporary directory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The daemon under test.
#[derive(Clone, Copy, PartialEq)]
pub enum Daemon {
    Svc,
    Supervisord,
}

impl Daemon {
    pub fn name(self) -> &'static str {
        match self {
            Daemon::Svc => "svc",
            Daemon::Supervisord => "supervisord",
        }
    }

    /// Both daemons, or svc alone with `SVC_BENCH_ONLY=svc`.
    pub fn selected() -> Vec<Daemon> {
        match std::env::var("SVC_BENCH_ONLY").as_deref() {
            Ok("svc") => vec![Daemon::Svc],
            _ => vec![Daemon::Svc, Daemon::Supervisord],
        }
    }
}

/// svc: `SVC_BENCH_SVC` (another build, to compare two versions in the same conditions), or
/// the one this benchmark was built with.
fn svc_path() -> PathBuf {
    std::env::var_os("SVC_BENCH_SVC")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_svc")))
}

/// supervisord: `SVC_SUPERVISORD`, or the one next to `python3`.
fn supervisord_path() -> PathBuf {
    if let Some(path) = std::env::var_os("SVC_SUPERVISORD") {
        return PathBuf::from(path);
    }
    let output = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 runs");
    let python = String::from_utf8_lossy(&output.stdout).trim().to_string();
    Path::new(&python)
        .parent()
        .expect("python3 has a directory")
        .join("supervisord")
}

/// A daemon running `[supervisord]` (main log, pid file and child logs in a temporary
/// directory, in the foreground, `minfds=8192`) plus the given sections.
pub struct Running {
    pub child: Child,
    pub dir: tempfile::TempDir,
}

impl Running {
    pub fn start(daemon: Daemon, sections: &str) -> Running {
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = format!(
            "[supervisord]\n\
             logfile=%(here)s/main.log\n\
             pidfile=%(here)s/daemon.pid\n\
             childlogdir=%(here)s\n\
             nodaemon=true\n\
             silent=true\n\
             minfds=8192\n\
             {sections}"
        );
        let path = dir.path().join("supervisord.conf");
        std::fs::write(&path, config).expect("write the configuration");
        let mut command = match daemon {
            Daemon::Svc => {
                let mut command = Command::new(svc_path());
                command.arg("run");
                command
            }
            Daemon::Supervisord => Command::new(supervisord_path()),
        };
        let child = command
            .arg("-c")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the daemon");
        Running { child, dir }
    }
}

impl Drop for Running {
    /// SIGTERM (its children stop with it), SIGKILL if it has not exited within 30 s.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        // SAFETY: kill(2) on our own child, not yet reaped.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // SAFETY: as above.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}
