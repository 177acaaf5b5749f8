//! Shared test support: a `Test` builder that writes files into a fresh temporary
//! directory and runs the real `svc` binary there with a clean, fixed environment.

#![allow(dead_code)]

pub mod control;
pub mod daemon;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The environment every test process gets (the same one the corpus oracle used).
pub const CLEAN_ENV: &[(&str, &str)] = &[
    ("PATH", "/usr/local/bin:/usr/bin:/bin"),
    ("HOME", "/root"),
    ("LANG", "C.UTF-8"),
];

/// Path of the built `svc` binary.
pub fn svc_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_svc"))
}

/// A test directory and the files in it.
#[must_use]
pub struct Test {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Test {
    /// A fresh, empty directory.
    pub fn new() -> Test {
        Test {
            dir: tempfile::tempdir().expect("create a temporary directory"),
            env: CLEAN_ENV
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// Writes a file (parents created) relative to the test directory.
    pub fn file(self, name: &str, content: impl AsRef<[u8]>) -> Test {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directories");
        }
        std::fs::write(&path, content).expect("write test file");
        self
    }

    /// Adds an environment variable for the processes this test runs.
    pub fn env(mut self, key: &str, value: &str) -> Test {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// The test directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `svc <args>` in the test directory, with a deadline.
    pub fn svc(&self, args: &[&str]) -> Run {
        let mut command = Command::new(svc_binary());
        command.args(args);
        self.run(command)
    }

    /// Runs any command in the test directory with this test's environment.
    pub fn run(&self, mut command: Command) -> Run {
        self.prepare(&mut command);
        let output = run_with_deadline(command, Duration::from_secs(60));
        Run {
            output,
            dir: self.dir.path().display().to_string(),
        }
    }

    /// Sets up `command` to run in the test directory with this test's environment and a
    /// closed stdin, without starting it.
    pub fn prepare(&self, command: &mut Command) {
        command
            .current_dir(self.dir.path())
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null());
    }
}

/// Runs a command to completion; fails the test (killing the child) past the deadline.
pub fn run_with_deadline(mut command: Command, deadline: Duration) -> Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the command");
    let pid = child.id();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    let started = Instant::now();
    match receiver.recv_timeout(deadline) {
        Ok(output) => output.expect("collect the command's output"),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!(
                "{command:?} did not finish within {:?} (started {:?} ago); killed it",
                deadline,
                started.elapsed()
            );
        }
    }
}

/// The result of one run.
pub struct Run {
    /// What the process did.
    pub output: Output,
    dir: String,
}

impl Run {
    /// Exit code (panics if killed by a signal).
    pub fn code(&self) -> i32 {
        self.output.status.code().expect("exited normally")
    }

    /// stdout as text.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// stderr as text, with the test directory replaced by `[DIR]`.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).replace(&self.dir, "[DIR]")
    }

    /// Asserts the exit code, showing stdout and stderr on failure.
    pub fn expect_code(self, code: i32) -> Run {
        assert_eq!(
            self.output.status.code(),
            Some(code),
            "unexpected exit status\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}
