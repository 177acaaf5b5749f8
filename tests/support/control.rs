//! Talking to a running daemon (svc or the reference supervisord) from tests: the sections
//! that give it a unix socket and `supervisorctl` its server URL, the real `supervisorctl`,
//! and Python's `xmlrpc.client` over supervisor's own transport.

use std::path::Path;
use std::process::Command;

use super::daemon::{DEADLINE, Daemon};
use super::{CLEAN_ENV, run_with_deadline};
use crate::oracle::oracle_python;

/// The sections that give a daemon its unix socket (`supervisor.sock` in its directory) and
/// `supervisorctl` its server URL.
pub const UNIX_SERVER: &str = "[unix_http_server]\nfile=%(here)s/supervisor.sock\n\
     [rpcinterface:supervisor]\n\
     supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
     [supervisorctl]\nserverurl=unix://%(here)s/supervisor.sock\n";

/// What a client printed and its exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The exit code (-1 if it was killed by a signal).
    pub code: i32,
    /// Its stdout.
    pub stdout: String,
}

/// Runs the real `supervisorctl -c supervisord.conf ARGS...` in `directory`.
pub fn supervisorctl_in(directory: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(oracle_python());
    command
        .args(["-m", "supervisor.supervisorctl", "-c", "supervisord.conf"])
        .args(args)
        .current_dir(directory)
        .env_clear()
        .envs(CLEAN_ENV.iter().copied());
    let output = run_with_deadline(command, DEADLINE);
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
    }
}

/// Runs the real `supervisorctl` against `daemon`.
pub fn supervisorctl(daemon: &Daemon, args: &[&str]) -> Output {
    supervisorctl_in(daemon.path(), args)
}

/// Runs a Python snippet with `proxy`, an `xmlrpc.client.ServerProxy` on the socket
/// `supervisor.sock` in `directory`, and returns what it prints; fails the test if Python
/// fails.
pub fn xmlrpc_in(directory: &Path, body: &str) -> String {
    let script = format!(
        "import xmlrpc.client, sys\n\
         from supervisor.xmlrpc import SupervisorTransport\n\
         transport = SupervisorTransport(None, None, 'unix://{}/supervisor.sock')\n\
         proxy = xmlrpc.client.ServerProxy('http://127.0.0.1', transport)\n\
         {body}\n",
        directory.display()
    );
    let mut command = Command::new(oracle_python());
    command
        .args(["-c", &script])
        .env_clear()
        .envs(CLEAN_ENV.iter().copied());
    let output = run_with_deadline(command, DEADLINE);
    assert!(
        output.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// [`xmlrpc_in`] the daemon's directory.
pub fn xmlrpc(daemon: &Daemon, body: &str) -> String {
    xmlrpc_in(daemon.path(), body)
}
