//! `svc ctl`: supervisorctl 4.3.0, talking XML-RPC to `svc run` or to supervisord, printing
//! what supervisorctl prints and exiting with its status.
//!
//! The shape follows supervisorctl's `Controller`: a command line is split into a command
//! and its argument (`cmd.Cmd.parseline`), dispatched to one function per command, and the
//! exceptions a command does not catch are printed by [`Controller::onecmd`] as
//! supervisorctl's `onecmd` prints them (including its 401 retry). Module map:
//!
//! - `options`: the command line and `[supervisorctl]`; `client`: the HTTP transport;
//!   `api`: supervisord's API as supervisorctl reads it; `exception`: the failures that
//!   reach `onecmd`; `output`: the writer and every format; `help`: the help texts;
//!   `shell`: the interactive loop and stdin; `interrupt`: Ctrl-C as an event.
//! - `commands/`: one file per family of commands (processes, logs, configuration,
//!   the daemon itself).
//!
//! **Invariant:** exit statuses are supervisorctl's LSB codes ([`exit`]); a single command
//! exits with the status it leaves, the interactive shell always exits 0.
//! **Invariant:** one thread does the work; every wait races Ctrl-C (`interrupt`).

mod api;
mod client;
mod commands;
mod exception;
mod help;
mod interrupt;
mod options;
mod output;
mod shell;

use std::process::ExitCode;

pub use options::CtlArgs;

use api::{Supervisor, faults};
use exception::{Exception, Site};
use interrupt::{Interrupt, Interrupted};
use options::Options;

/// supervisorctl's exit statuses (`LSBInitExitStatuses`, `LSBStatusExitStatuses`).
mod exit {
    pub(crate) const SUCCESS: u8 = 0;
    pub(crate) const GENERIC: u8 = 1;
    pub(crate) const INVALID_ARGS: u8 = 2;
    pub(crate) const UNIMPLEMENTED_FEATURE: u8 = 3;
    pub(crate) const INSUFFICIENT_PRIVILEGES: u8 = 4;
    pub(crate) const NOT_INSTALLED: u8 = 5;
    pub(crate) const NOT_RUNNING: u8 = 7;
    /// `status`: a listed process is not running.
    pub(crate) const STATUS_NOT_RUNNING: u8 = 3;
    /// `status`: an unknown name, or no server.
    pub(crate) const STATUS_UNKNOWN: u8 = 4;
}

/// Why a command stopped before its end.
#[derive(Debug)]
pub(crate) enum Failure {
    /// An exception supervisorctl does not catch in the command.
    Raised(Exception),
    /// Ctrl-C.
    Interrupted,
}

impl From<Exception> for Failure {
    fn from(exception: Exception) -> Failure {
        Failure::Raised(exception)
    }
}

impl From<Interrupted> for Failure {
    fn from(_: Interrupted) -> Failure {
        Failure::Interrupted
    }
}

impl Failure {
    /// The fault code, when the failure is a fault.
    fn fault_code(&self) -> Option<i32> {
        match self {
            Failure::Raised(exception) => exception.fault_code(),
            Failure::Interrupted => None,
        }
    }
}

/// The state of one `svc ctl` session.
pub(crate) struct Controller {
    options: Options,
    exit_status: u8,
    interrupt: Interrupt,
    input: shell::Input,
}

/// Runs `svc ctl`.
pub fn main(args: CtlArgs) -> ExitCode {
    // First, before any thread exists (see `interrupt`).
    let interrupt = Interrupt::install();
    let options = match options::resolve(args) {
        Ok(options) => options,
        Err(code) => return code,
    };
    let mut controller = Controller {
        options,
        exit_status: exit::SUCCESS,
        interrupt,
        input: shell::Input::new(),
    };
    if !controller.options.action.is_empty() {
        let line = controller.options.action.join(" ");
        if controller.onecmd(&line).is_err() {
            Interrupt::die();
        }
        return ExitCode::from(controller.exit_status);
    }
    shell::cmdloop(&mut controller);
    ExitCode::SUCCESS
}

/// `cmd.Cmd.parseline`: the command (letters, digits and `_` at the start of the stripped
/// line; `?` means `help`) and the stripped rest. `None` for an empty line or a `!` line.
fn parseline(line: &str) -> (Option<String>, String, String) {
    let line = line.trim();
    if line.is_empty() || line.starts_with('!') {
        return (None, String::new(), line.to_string());
    }
    let line = match line.strip_prefix('?') {
        Some(rest) => format!("help {rest}"),
        None => line.to_string(),
    };
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    let command = line[..end].to_string();
    let argument = line[end..].trim().to_string();
    (Some(command), argument, line)
}

/// One command's function: `Ok(true)` ends the shell.
type Command = fn(&mut Controller, &str) -> Result<bool, Failure>;

/// Wraps a command that never ends the shell.
macro_rules! continuing {
    ($function:path) => {
        |controller: &mut Controller, argument: &str| -> Result<bool, Failure> {
            $function(controller, argument).map(|()| false)
        }
    };
}

/// supervisorctl's `_get_do_func`: the controller's `do_help`/`do_EOF`, then the default
/// plugin's `do_<command>`.
fn lookup(command: &str) -> Option<Command> {
    Some(match command {
        "help" => continuing!(help::command),
        "EOF" | "quit" | "exit" => |_: &mut Controller, _: &str| {
            output::line("");
            Ok(true)
        },
        "status" => continuing!(commands::process::status),
        "start" => continuing!(commands::process::start),
        "stop" => continuing!(commands::process::stop),
        "restart" => continuing!(commands::process::restart),
        "signal" => continuing!(commands::process::signal),
        "pid" => continuing!(commands::process::pid),
        "clear" => continuing!(commands::process::clear),
        "tail" => continuing!(commands::logs::tail),
        "maintail" => continuing!(commands::logs::maintail),
        "fg" => continuing!(commands::logs::fg),
        "avail" => continuing!(commands::config::avail),
        "reread" => continuing!(commands::config::reread),
        "update" => continuing!(commands::config::update),
        "add" => continuing!(commands::config::add),
        "remove" => continuing!(commands::config::remove),
        "reload" => continuing!(commands::daemon::reload),
        "shutdown" => continuing!(commands::daemon::shutdown),
        "version" => continuing!(commands::daemon::version),
        "open" => continuing!(commands::daemon::open),
        _ => return None,
    })
}

impl Controller {
    /// `ctl.output(text)`.
    fn output(&self, text: &str) {
        output::line(text);
    }

    /// `get_supervisor()`: a proxy for the current server URL and credentials; `ValueError`
    /// for a URL supervisorctl cannot use.
    fn supervisor(&self) -> Result<Supervisor, Failure> {
        let client = client::Client::new(
            &self.options.serverurl,
            self.options.username.as_deref(),
            self.options.password.as_deref(),
        )?;
        Ok(Supervisor::new(client, self.interrupt.clone()))
    }

    /// `upcheck()`: `getVersion` answers 3.0. Prints why not (a refused connection, a
    /// missing socket, another API) and returns false; other failures are raised.
    fn upcheck(&mut self) -> Result<bool, Failure> {
        let supervisor = self.supervisor()?;
        match supervisor.get_version() {
            Ok(dxr::Value::String(version)) if version == api::API_VERSION => Ok(true),
            Ok(other) => {
                self.output(&format!(
                    "Sorry, this version of supervisorctl expects to talk to a server with \
                     API version {}, but the remote version is {}.",
                    api::API_VERSION,
                    api::py_str(&other)
                ));
                self.exit_status = exit::NOT_INSTALLED;
                Ok(false)
            }
            Err(Failure::Raised(Exception::Fault {
                code: faults::UNKNOWN_METHOD,
                ..
            })) => {
                self.output(
                    "Sorry, supervisord responded but did not recognize the supervisor \
                     namespace commands that supervisorctl uses to control it.  Please check \
                     that the [rpcinterface:supervisor] section is enabled in the \
                     configuration file (see sample.conf).",
                );
                self.exit_status = exit::UNIMPLEMENTED_FEATURE;
                Ok(false)
            }
            Err(Failure::Raised(exception)) => {
                match exception.errno() {
                    Some(libc::ECONNREFUSED) => {
                        self.output(&format!("{} refused connection", self.options.serverurl));
                        self.exit_status = exit::INSUFFICIENT_PRIVILEGES;
                        return Ok(false);
                    }
                    Some(libc::ENOENT) => {
                        self.output(&format!("{} no such file", self.options.serverurl));
                        self.exit_status = exit::NOT_RUNNING;
                        return Ok(false);
                    }
                    _ => {}
                }
                if matches!(exception, Exception::Fault { .. } | Exception::Os { .. }) {
                    self.exit_status = exit::GENERIC;
                }
                Err(Failure::Raised(exception))
            }
            Err(Failure::Interrupted) => Err(Failure::Interrupted),
        }
    }

    /// `set_exitstatus_from_xmlrpc_fault`: success and the command's ignored fault leave
    /// the status alone, a dead program is 7, anything else 1.
    fn set_exit_status_from_fault(&mut self, code: i32, ignored: Option<i32>) {
        if code == faults::SUCCESS || Some(code) == ignored {
            return;
        }
        self.exit_status = match code {
            faults::SPAWN_ERROR | faults::ABNORMAL_TERMINATION | faults::NOT_RUNNING => {
                exit::NOT_RUNNING
            }
            _ => exit::GENERIC,
        };
    }

    /// Python's `raw_input(prompt)` on the session's stdin; `EOFError` at `site` at the end
    /// of input.
    fn raw_input(&mut self, prompt: &str, site: Site) -> Result<String, Failure> {
        output::prompt(prompt);
        match self.interrupt.block_on(self.input.read_line())? {
            Some(line) => Ok(line),
            None => Err(Failure::Raised(Exception::Other {
                class: "EOFError",
                message: "EOF when reading a line".into(),
                site,
            })),
        }
    }

    /// supervisorctl's `onecmd`: runs one line; prints what escapes the command. `Ok(true)`
    /// ends the shell.
    fn onecmd(&mut self, line: &str) -> Result<bool, Interrupted> {
        let (command, argument, line) = parseline(line);
        if line.is_empty() {
            return Ok(false);
        }
        let Some(function) = command
            .as_deref()
            .filter(|c| !c.is_empty())
            .and_then(lookup)
        else {
            self.output(&format!("*** Unknown syntax: {line}"));
            self.exit_status = exit::GENERIC;
            return Ok(false);
        };
        let exception = match function(self, &argument) {
            Ok(stop) => return Ok(stop),
            Err(Failure::Interrupted) => return Err(Interrupted),
            Err(Failure::Raised(exception)) => exception,
        };
        let retried = match exception {
            Exception::Protocol { status: 401, .. } if self.options.interactive => {
                self.output("Server requires authentication");
                match self.ask_credentials() {
                    Ok(()) => return self.onecmd(&line),
                    Err(failure) => Err(failure),
                }
            }
            Exception::Protocol { status: 401, .. } => {
                self.output("Server requires authentication");
                self.exit_status = exit::GENERIC;
                // supervisorctl runs the command a second time here (a bug kept for
                // identical output): it fails the same way and its error is printed.
                function(self, &argument).map(|_| ())
            }
            exception => Err(Failure::Raised(exception)),
        };
        match retried {
            Ok(()) => Ok(false),
            Err(Failure::Interrupted) => Err(Interrupted),
            Err(Failure::Raised(exception)) => {
                self.output(&exception.render());
                self.exit_status = exit::GENERIC;
                Ok(false)
            }
        }
    }

    /// The interactive answer to a 401: `Username:`, `Password:` (not echoed on a terminal).
    fn ask_credentials(&mut self) -> Result<(), Failure> {
        let username = self.raw_input("Username:", Site::ASK_USERNAME)?;
        let password = shell::getpass(&self.interrupt, &mut self.input, "Password:")?;
        self.output("");
        self.options.username = Some(username);
        self.options.password = Some(password);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_as_cmd_parseline_splits_them() {
        assert_eq!(
            parseline("  status  web  "),
            (Some("status".into()), "web".into(), "status  web".into())
        );
        assert_eq!(
            parseline("status;x"),
            (Some("status".into()), ";x".into(), "status;x".into())
        );
        assert_eq!(
            parseline("?start"),
            (Some("help".into()), "start".into(), "help start".into())
        );
        assert_eq!(parseline("!ls"), (None, String::new(), "!ls".into()));
        assert_eq!(
            parseline("-x"),
            (Some(String::new()), "-x".into(), "-x".into())
        );
        assert_eq!(parseline("   "), (None, String::new(), String::new()));
    }

    #[test]
    fn every_command_supervisorctl_lists_is_dispatched() {
        for command in help::TOPICS.lines().skip(3).flat_map(str::split_whitespace) {
            assert!(lookup(command).is_some(), "{command}");
        }
        assert!(lookup("EOF").is_some());
        assert!(lookup("Status").is_none());
    }
}
