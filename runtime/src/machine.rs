//! The process state machine of supervisord 4.3.0 (`supervisor/process.py`), as a pure
//! transition function.
//!
//! [`Machine::step`] takes one [`Input`] and the current time and returns the [`Action`]s the
//! driver must perform (spawn, signal, log, report a state change). It never does I/O and never
//! reads a clock: tests feed it inputs one by one.
//!
//! supervisord polls: every loop iteration calls `transition()`, which checks deadlines
//! (`startsecs`, the backoff delay, `stopwaitsecs`). Here each state that waits has one
//! [`Machine::deadline`]; the driver arms a timer for it and sends [`Input::Deadline`] when it
//! expires. Decisions supervisord takes on the next iteration (autorestart after EXITED, give
//! up after the last BACKOFF, RUNNING right after spawn with `startsecs=0`) are taken at once.

use std::time::{Duration, Instant};

use svc_schema::{AutoRestart, ShutdownOn};

use crate::signals::signal_name;

/// supervisord's process states, with their RPC numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Not running, never started or stopped on request.
    Stopped = 0,
    /// Spawned, waiting for `startsecs`.
    Starting = 10,
    /// Up for longer than `startsecs`.
    Running = 20,
    /// A start failed; waiting to retry.
    Backoff = 30,
    /// Signalled to stop; waiting for it to exit.
    Stopping = 40,
    /// Exited on its own from RUNNING.
    Exited = 100,
    /// Gave up after `startretries`.
    Fatal = 200,
    /// Signalling it failed in an unexpected way.
    Unknown = 1000,
}

impl State {
    /// The name supervisord prints (`RUNNING`, ...).
    pub fn name(self) -> &'static str {
        match self {
            State::Stopped => "STOPPED",
            State::Starting => "STARTING",
            State::Running => "RUNNING",
            State::Backoff => "BACKOFF",
            State::Stopping => "STOPPING",
            State::Exited => "EXITED",
            State::Fatal => "FATAL",
            State::Unknown => "UNKNOWN",
        }
    }

    /// supervisord's `STOPPED_STATES`: the process has no pid and nothing is pending.
    pub fn is_stopped(self) -> bool {
        matches!(
            self,
            State::Stopped | State::Exited | State::Fatal | State::Unknown
        )
    }
}

/// The settings of a program that the state machine reads.
#[derive(Debug, Clone)]
pub struct Policy {
    /// `startsecs`.
    pub startsecs: i64,
    /// `startretries`.
    pub startretries: i64,
    /// `autorestart`.
    pub autorestart: AutoRestart,
    /// `exitcodes`.
    pub exitcodes: Vec<u8>,
    /// `stopsignal`.
    pub stopsignal: i32,
    /// `stopwaitsecs`.
    pub stopwaitsecs: i64,
    /// `stopasgroup`.
    pub stopasgroup: bool,
    /// `killasgroup`.
    pub killasgroup: bool,
    /// svc's `shutdown_on`: which failures end the daemon.
    pub shutdown_on: Option<ShutdownOn>,
}

impl Policy {
    fn expected(&self, status: i32) -> bool {
        u8::try_from(status).is_ok_and(|code| self.exitcodes.contains(&code))
    }
}

/// How a child ended, decoded as supervisord's `decode_wait_status` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitStatus {
    /// The exit code, or -1 for a death by signal.
    pub code: i32,
    /// `exit status 3`, `terminated by SIGTERM`, `terminated by SIGSEGV (core dumped)`.
    pub message: String,
}

impl ExitStatus {
    /// A normal exit.
    pub fn exited(code: i32) -> ExitStatus {
        ExitStatus {
            code,
            message: format!("exit status {code}"),
        }
    }

    /// A death by signal.
    pub fn signaled(signal: i32, core_dumped: bool) -> ExitStatus {
        let core = if core_dumped { " (core dumped)" } else { "" };
        ExitStatus {
            code: -1,
            message: format!("terminated by {}{core}", signal_name(signal)),
        }
    }
}

/// Main log levels used by the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// CRIT
    Critical,
    /// WARN
    Warn,
    /// INFO
    Info,
    /// DEBG
    Debug,
}

/// What happened to the process, as the driver reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Start it (autostart, or a start request). Valid from STOPPED, EXITED, FATAL, BACKOFF.
    Start,
    /// The driver forked it.
    Spawned {
        /// Its pid.
        pid: i32,
    },
    /// The driver could not spawn it (supervisord's `spawnerr` text).
    SpawnFailed(String),
    /// It was reaped.
    Exited(ExitStatus),
    /// [`Machine::deadline`] passed.
    Deadline,
    /// Stop it on request (`stop`, shutdown).
    Stop,
    /// Shutdown found it in BACKOFF: FATAL without further tries.
    GiveUp,
    /// Sending a signal failed with something other than ESRCH.
    SignalFailed(String),
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Fork and exec the program, then send [`Input::Spawned`] or [`Input::SpawnFailed`].
    Spawn,
    /// Send `signal` to the pid (or to its process group).
    Kill {
        /// The signal number.
        signal: i32,
        /// To the process group (`-pid`).
        group: bool,
    },
    /// Write a main log line.
    Log(Level, String),
    /// The state changed (for events and status).
    Changed {
        /// Before.
        from: State,
        /// After.
        to: State,
        /// For EXITED: whether the exit code was expected.
        expected: bool,
        /// The pid at the change (0 if none): the exiting pid for EXITED and STOPPED.
        pid: i32,
        /// The backoff counter at the change (the `tries` of STARTING and BACKOFF events).
        tries: i64,
    },
    /// svc's `shutdown_on` fired: stop everything in order and exit with the program's
    /// `shutdown_exitcode`. The text says why (`entered FATAL state`).
    Shutdown(String),
}

/// Whether the daemon may start processes (supervisord's mood is RUNNING).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mood {
    /// Normal operation: autostart and autorestart apply.
    Running,
    /// Shutting down or reloading: nothing is started.
    Stopping,
}

/// One process's state and bookkeeping.
#[derive(Debug, Clone)]
pub struct Machine {
    /// The process name, for log lines.
    pub name: String,
    /// Current state.
    pub state: State,
    /// Pid while it runs.
    pub pid: Option<i32>,
    /// The last spawn error or failure description (`Exited too quickly ...`).
    pub spawnerr: Option<String>,
    /// The last exit code (`None` after a too-quick exit, as supervisord keeps it).
    pub exitstatus: Option<i32>,
    /// When the current wait (startsecs, backoff, stopwaitsecs) ends.
    pub deadline: Option<Instant>,
    /// Number of failed starts in a row.
    pub backoff: i64,
    /// When it was last started.
    pub laststart: Option<Instant>,
    /// A stop signal was sent and the exit is the answer to it.
    killing: bool,
}

fn seconds(value: i64) -> Duration {
    Duration::from_secs(u64::try_from(value).unwrap_or(0))
}

impl Machine {
    /// A process that has never run.
    pub fn new(name: impl Into<String>) -> Machine {
        Machine {
            name: name.into(),
            state: State::Stopped,
            pid: None,
            spawnerr: None,
            exitstatus: None,
            deadline: None,
            backoff: 0,
            laststart: None,
            killing: false,
        }
    }

    /// Feeds one input; returns what to do.
    pub fn step(&mut self, policy: &Policy, mood: Mood, input: Input, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        match input {
            Input::Start => {
                // supervisord's `spawn` refuses (with its warning) a process that has a pid.
                if matches!(
                    self.state,
                    State::Stopped | State::Exited | State::Fatal | State::Backoff
                ) || self.pid.is_some()
                {
                    self.spawn(now, &mut actions);
                }
            }
            Input::Spawned { pid } => {
                if self.state == State::Starting {
                    self.pid = Some(pid);
                    self.spawnerr = None;
                    actions.push(Action::Log(
                        Level::Info,
                        format!("spawned: '{}' with pid {pid}", self.name),
                    ));
                    if policy.startsecs <= 0 {
                        self.running(policy, &mut actions);
                    } else {
                        self.deadline = Some(now + seconds(policy.startsecs));
                    }
                }
            }
            Input::SpawnFailed(message) => {
                if self.state == State::Starting {
                    actions.push(Action::Log(Level::Info, format!("spawnerr: {message}")));
                    self.spawnerr = Some(message);
                    self.backoff(policy, mood, now, &mut actions);
                }
            }
            Input::Exited(status) => self.exited(policy, mood, status, now, &mut actions),
            Input::Deadline => self.deadline_passed(policy, mood, now, &mut actions),
            Input::Stop => self.stop(policy, now, &mut actions),
            Input::GiveUp => {
                if self.state == State::Backoff {
                    self.give_up(&mut actions);
                }
            }
            Input::SignalFailed(message) => {
                actions.push(Action::Log(
                    Level::Critical,
                    format!(
                        "unknown problem killing {} ({}):{message}",
                        self.name,
                        self.pid.unwrap_or(0)
                    ),
                ));
                self.killing = false;
                self.deadline = None;
                self.change(State::Unknown, true, &mut actions);
            }
        }
        actions
    }

    fn change(&mut self, to: State, expected: bool, actions: &mut Vec<Action>) {
        let from = self.state;
        if from != to {
            self.state = to;
            actions.push(Action::Changed {
                from,
                to,
                expected,
                pid: self.pid.unwrap_or(0),
                tries: self.backoff,
            });
        }
    }

    fn spawn(&mut self, now: Instant, actions: &mut Vec<Action>) {
        if self.pid.is_some() {
            actions.push(Action::Log(
                Level::Warn,
                format!("process '{}' already running", self.name),
            ));
            return;
        }
        self.killing = false;
        self.spawnerr = None;
        self.exitstatus = None;
        self.laststart = Some(now);
        self.deadline = None;
        self.change(State::Starting, true, actions);
        actions.push(Action::Spawn);
    }

    fn running(&mut self, policy: &Policy, actions: &mut Vec<Action>) {
        self.deadline = None;
        self.backoff = 0;
        self.change(State::Running, true, actions);
        actions.push(Action::Log(
            Level::Info,
            format!(
                "success: {} entered RUNNING state, process has stayed up for > than {} seconds (startsecs)",
                self.name, policy.startsecs
            ),
        ));
    }

    fn backoff(&mut self, policy: &Policy, mood: Mood, now: Instant, actions: &mut Vec<Action>) {
        self.backoff += 1;
        self.change(State::Backoff, true, actions);
        if self.backoff > policy.startretries {
            self.give_up(actions);
            actions.push(Action::Log(
                Level::Info,
                format!(
                    "gave up: {} entered FATAL state, too many start retries too quickly",
                    self.name
                ),
            ));
            if policy.shutdown_on.is_some() && mood == Mood::Running {
                actions.push(Action::Shutdown("entered FATAL state".into()));
            }
        } else if mood == Mood::Running {
            self.deadline = Some(now + seconds(self.backoff));
        } else {
            self.deadline = None;
        }
    }

    fn give_up(&mut self, actions: &mut Vec<Action>) {
        self.deadline = None;
        self.backoff = 0;
        self.change(State::Fatal, true, actions);
    }

    fn deadline_passed(
        &mut self,
        policy: &Policy,
        mood: Mood,
        now: Instant,
        actions: &mut Vec<Action>,
    ) {
        let Some(deadline) = self.deadline else {
            return;
        };
        if now < deadline {
            return;
        }
        self.deadline = None;
        match self.state {
            State::Starting => self.running(policy, actions),
            State::Backoff if mood == Mood::Running => self.spawn(now, actions),
            State::Stopping => {
                actions.push(Action::Log(
                    Level::Warn,
                    format!(
                        "killing '{}' ({}) with SIGKILL",
                        self.name,
                        self.pid.unwrap_or(0)
                    ),
                ));
                self.kill(policy, libc::SIGKILL, now, actions);
            }
            _ => {}
        }
    }

    fn stop(&mut self, policy: &Policy, now: Instant, actions: &mut Vec<Action>) {
        match self.state {
            State::Backoff => {
                actions.push(Action::Log(
                    Level::Debug,
                    format!(
                        "Attempted to kill {}, which is in BACKOFF state.",
                        self.name
                    ),
                ));
                self.deadline = None;
                self.change(State::Stopped, true, actions);
            }
            State::Running | State::Starting | State::Stopping if self.pid.is_some() => {
                self.kill(policy, policy.stopsignal, now, actions);
            }
            _ => {}
        }
    }

    fn kill(&mut self, policy: &Policy, signal: i32, now: Instant, actions: &mut Vec<Action>) {
        let Some(pid) = self.pid else {
            return;
        };
        let group = if self.state == State::Stopping {
            policy.killasgroup
        } else {
            policy.stopasgroup
        };
        actions.push(Action::Log(
            Level::Debug,
            format!(
                "killing {} (pid {pid}) {}with signal {}",
                self.name,
                if group { "process group " } else { "" },
                signal_name(signal)
            ),
        ));
        self.killing = true;
        self.deadline = Some(now + seconds(policy.stopwaitsecs));
        self.change(State::Stopping, true, actions);
        actions.push(Action::Kill { signal, group });
    }

    fn exited(
        &mut self,
        policy: &Policy,
        mood: Mood,
        status: ExitStatus,
        now: Instant,
        actions: &mut Vec<Action>,
    ) {
        // The pid stays set while the exit's state changes are reported (their events carry
        // it, as supervisord's do) and is cleared before anything else happens.
        if self.pid.is_none() {
            return;
        }
        let expected = policy.expected(status.code);
        let too_quickly = self
            .laststart
            .is_some_and(|start| now.duration_since(start) < seconds(policy.startsecs));
        if self.killing {
            self.killing = false;
            self.deadline = None;
            self.exitstatus = Some(status.code);
            self.change(State::Stopped, true, actions);
            self.pid = None;
            let level = if expected { Level::Info } else { Level::Warn };
            actions.push(Action::Log(
                level,
                format!("stopped: {} ({})", self.name, status.message),
            ));
        } else if too_quickly && self.state == State::Starting {
            self.pid = None;
            self.exitstatus = None;
            self.spawnerr = Some("Exited too quickly (process log may have details)".into());
            actions.push(Action::Log(
                Level::Warn,
                format!("exited: {} ({}; not expected)", self.name, status.message),
            ));
            self.backoff(policy, mood, now, actions);
        } else {
            self.deadline = None;
            self.backoff = 0;
            self.exitstatus = Some(status.code);
            if self.state == State::Starting {
                self.change(State::Running, true, actions);
            }
            if expected {
                self.change(State::Exited, true, actions);
                actions.push(Action::Log(
                    Level::Info,
                    format!("exited: {} ({}; expected)", self.name, status.message),
                ));
            } else {
                self.spawnerr = Some(format!("Bad exit code {}", status.code));
                self.change(State::Exited, false, actions);
                actions.push(Action::Log(
                    Level::Warn,
                    format!("exited: {} ({}; not expected)", self.name, status.message),
                ));
            }
            self.pid = None;
            let shutdown = !expected
                && policy.shutdown_on == Some(ShutdownOn::Unexpected)
                && mood == Mood::Running;
            if shutdown {
                actions.push(Action::Shutdown("exited unexpectedly".into()));
                return;
            }
            let restart = match policy.autorestart {
                AutoRestart::True => true,
                AutoRestart::Unexpected => !expected,
                AutoRestart::False => false,
            };
            if restart && mood == Mood::Running {
                self.spawn(now, actions);
            }
        }
    }
}

#[cfg(test)]
mod tests;
