//! The supervisor task: owns every process, turns signals, child exits and timers into
//! [`Input`]s for the state machines and performs the [`Action`]s they return.
//!
//! Invariants:
//! - Only this task changes process state; it runs on one thread, so nothing is locked.
//! - Child exits are learnt from SIGCHLD (signalfd) followed by `waitpid(-1, WNOHANG)` until
//!   nothing is left: svc is the only reaper of its children, so no exit status is ever
//!   stolen, and orphans reparented to svc (PID 1, `--subreaper`) are reaped here too.
//! - Each waiting state has one deadline in [`Machine::deadline`]; `timers` mirrors them so
//!   the loop sleeps exactly until the earliest one. No polling tick.
//! - Output pumps are separate tasks on the same executor; they only write into their log
//!   sinks and end at EOF. When a child is reaped, what its pipes still hold is drained into
//!   the logs before its exit is handled, as supervisord does.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;
use std::time::{Duration, Instant};

use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use smol::{LocalExecutor, Timer};
use svc_schema::{Graph, LogFile, LogLevel, Process, Stream};

use crate::capture::{Capture, Pipe, drain_now, pipe, pump};
use crate::logs::{MainLog, RotatingFile, auto_log_path};
use crate::machine::{Action, ExitStatus, Input, Level, Machine, Mood, Policy, State};
use crate::signals::{Signals, signal_name};
use crate::spawn;
use crate::{Reload, RunOptions};

/// One supervised process.
struct Proc {
    config: Process,
    group: String,
    policy: Policy,
    machine: Machine,
    stdout_log: Rc<RefCell<Capture>>,
    stderr_log: Rc<RefCell<Capture>>,
    /// Write end of the child's stdin while it runs.
    stdin: Option<std::os::fd::OwnedFd>,
    /// The child's output pipes while it runs (their pumps hold them too).
    pipes: Vec<(Pipe, Rc<RefCell<Capture>>)>,
    /// The deadline currently in `timers`.
    armed: Option<Instant>,
}

/// A group of processes (homogeneous, `[group:x]` or a pool).
struct GroupState {
    priority: i64,
    members: Vec<usize>,
}

/// What happens when every process has stopped.
enum After {
    Exit,
    Reload(Box<Graph>, Vec<(LogLevel, String)>),
}

/// An ordered shutdown in progress.
struct Shutdown {
    /// Groups still to stop, by ascending priority; the last one is stopped next.
    pending: Vec<usize>,
    /// The group being stopped.
    current: Option<usize>,
    after: After,
}

/// How the run ended.
pub(crate) enum Outcome {
    /// Orderly exit.
    Exit,
}

pub(crate) struct Supervisor {
    graph: Graph,
    options: RunOptions,
    procs: Vec<Proc>,
    groups: Vec<GroupState>,
    by_pid: HashMap<i32, usize>,
    timers: BTreeSet<(Instant, usize)>,
    main_log: Rc<RefCell<MainLog>>,
    mood: Mood,
    shutdown: Option<Shutdown>,
    last_report: Option<Instant>,
    executor: Rc<LocalExecutor<'static>>,
    reload: Reload,
}

fn stream_log(
    stream: &Stream,
    graph: &Graph,
    process: &Process,
    channel: &'static str,
    main_log: &Rc<RefCell<MainLog>>,
) -> Rc<RefCell<Capture>> {
    let path = match &stream.logfile {
        LogFile::None => None,
        LogFile::File(path) => Some(std::path::PathBuf::from(path)),
        LogFile::Auto => match auto_log_path(
            &graph.supervisord.childlogdir,
            &process.name,
            channel,
            &graph.supervisord.identifier,
        ) {
            Ok(path) => Some(path),
            Err(error) => {
                main_log.borrow_mut().log(
                    LogLevel::Error,
                    &format!(
                        "could not create the AUTO {channel} log of '{}' in {}: {error}",
                        process.name, graph.supervisord.childlogdir
                    ),
                );
                None
            }
        },
    };
    let file = path.and_then(|path| {
        match RotatingFile::open(&path, stream.logfile_maxbytes, stream.logfile_backups) {
            Ok(file) => Some(file),
            Err(error) => {
                main_log.borrow_mut().log(
                    LogLevel::Error,
                    &format!(
                        "could not open the {channel} log of '{}' at {}: {error}",
                        process.name,
                        path.display()
                    ),
                );
                None
            }
        }
    });
    Rc::new(RefCell::new(Capture::new(
        process.name.clone(),
        channel,
        file,
        graph.supervisord.strip_ansi,
        stream.syslog,
        Rc::clone(main_log),
    )))
}

fn level(level: Level) -> LogLevel {
    match level {
        Level::Critical => LogLevel::Critical,
        Level::Warn => LogLevel::Warn,
        Level::Info => LogLevel::Info,
        Level::Debug => LogLevel::Debug,
    }
}

/// supervisord's fallback `SUPERVISOR_SERVER_URL`: the first unix server, else the first
/// inet server (`localhost` for an empty host).
fn default_serverurl(graph: &Graph) -> Option<String> {
    if let Some(server) = graph.unix_http_servers.first() {
        return Some(format!("unix://{}", server.file));
    }
    graph.inet_http_servers.first().map(|server| {
        let host = if server.host.is_empty() {
            "localhost"
        } else {
            &server.host
        };
        format!("http://{host}:{}", server.port)
    })
}

impl Supervisor {
    pub(crate) fn new(
        graph: Graph,
        options: RunOptions,
        main_log: Rc<RefCell<MainLog>>,
        executor: Rc<LocalExecutor<'static>>,
        reload: Reload,
    ) -> Supervisor {
        let mut supervisor = Supervisor {
            graph: Graph {
                groups: Vec::new(),
                ..graph.clone()
            },
            options,
            procs: Vec::new(),
            groups: Vec::new(),
            by_pid: HashMap::new(),
            timers: BTreeSet::new(),
            main_log,
            mood: Mood::Running,
            shutdown: None,
            last_report: None,
            executor,
            reload,
        };
        supervisor.install(graph);
        supervisor
    }

    /// Creates the processes of `graph` (AUTO logs are created here, as supervisord does when
    /// it adds a group).
    fn install(&mut self, graph: Graph) {
        self.procs.clear();
        self.groups.clear();
        self.by_pid.clear();
        self.timers.clear();
        self.mood = Mood::Running;
        self.shutdown = None;
        self.last_report = None;
        for group in &graph.groups {
            let mut members = Vec::new();
            for process in &group.processes {
                let policy = Policy {
                    startsecs: process.startsecs,
                    startretries: process.startretries,
                    autorestart: process.autorestart,
                    exitcodes: process.exitcodes.clone(),
                    stopsignal: process.stopsignal,
                    stopwaitsecs: process.stopwaitsecs,
                    stopasgroup: process.stopasgroup,
                    killasgroup: process.killasgroup,
                };
                let stdout_log =
                    stream_log(&process.stdout, &graph, process, "stdout", &self.main_log);
                let stderr_log = if process.redirect_stderr {
                    Rc::clone(&stdout_log)
                } else {
                    stream_log(&process.stderr, &graph, process, "stderr", &self.main_log)
                };
                members.push(self.procs.len());
                self.procs.push(Proc {
                    config: process.clone(),
                    group: group.name.clone(),
                    policy,
                    machine: Machine::new(process.name.clone()),
                    stdout_log,
                    stderr_log,
                    stdin: None,
                    pipes: Vec::new(),
                    armed: None,
                });
            }
            self.groups.push(GroupState {
                priority: group.priority,
                members,
            });
        }
        self.graph = graph;
    }

    /// The Graph being run.
    pub(crate) fn graph(&self) -> &Graph {
        &self.graph
    }

    fn log(&self, level: LogLevel, message: &str) {
        self.main_log.borrow_mut().log(level, message);
    }

    /// Group indexes sorted by priority (stable: config order among equals).
    fn groups_by_priority(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.groups.len()).collect();
        order.sort_by_key(|&index| self.groups[index].priority);
        order
    }

    /// Starts every autostart process, groups in ascending priority.
    fn autostart(&mut self) {
        for group in self.groups_by_priority() {
            for member in self.groups[group].members.clone() {
                if self.procs[member].config.autostart
                    && self.procs[member].machine.laststart.is_none()
                {
                    self.feed(member, Input::Start);
                }
            }
        }
    }

    /// Feeds one input to a process and performs the resulting actions (which may feed more).
    fn feed(&mut self, id: usize, input: Input) {
        let mut queue = vec![input];
        while let Some(input) = queue.pop() {
            let now = Instant::now();
            let proc = &mut self.procs[id];
            let actions = proc.machine.step(&proc.policy, self.mood, input, now);
            for action in actions {
                match action {
                    Action::Spawn => queue.push(self.spawn(id)),
                    Action::Kill { signal, group } => {
                        if let Some(input) = self.kill(id, signal, group) {
                            queue.push(input);
                        }
                    }
                    Action::Log(lvl, message) => self.log(level(lvl), &message),
                    // Nothing listens to state changes yet (they become events).
                    Action::Changed { .. } => {}
                }
            }
        }
        self.rearm(id);
    }

    /// Keeps `timers` in step with the process's deadline.
    fn rearm(&mut self, id: usize) {
        let proc = &mut self.procs[id];
        if proc.armed == proc.machine.deadline {
            return;
        }
        if let Some(old) = proc.armed.take() {
            self.timers.remove(&(old, id));
        }
        if let Some(new) = proc.machine.deadline {
            self.timers.insert((new, id));
            proc.armed = Some(new);
        }
    }

    fn spawn(&mut self, id: usize) -> Input {
        let serverurl = default_serverurl(&self.graph);
        let proc = &mut self.procs[id];
        let request = spawn::Request {
            name: &proc.config.name,
            group: &proc.group,
            command: &proc.config.command,
            directory: proc.config.directory.as_deref(),
            umask: proc.config.umask,
            user: proc.config.user.as_deref(),
            environment: &proc.config.environment,
            serverurl: proc.config.serverurl.as_deref().or(serverurl.as_deref()),
            redirect_stderr: proc.config.redirect_stderr,
            die_with_parent: self.options.die_with_parent,
        };
        match spawn::spawn(&request) {
            Ok(child) => {
                self.by_pid.insert(child.pid, id);
                proc.stdin = Some(child.stdin);
                let outputs = [
                    Some((child.stdout, &proc.stdout_log)),
                    child.stderr.map(|fd| (fd, &proc.stderr_log)),
                ];
                for (fd, capture) in outputs.into_iter().flatten() {
                    match pipe(fd) {
                        Ok(pipe) => {
                            self.executor
                                .spawn(pump(Rc::clone(&pipe), Rc::clone(capture)))
                                .detach();
                            proc.pipes.push((pipe, Rc::clone(capture)));
                        }
                        Err(error) => self.main_log.borrow_mut().log(
                            LogLevel::Error,
                            &format!(
                                "could not watch the output of '{}': {error}",
                                proc.config.name
                            ),
                        ),
                    }
                }
                Input::Spawned { pid: child.pid }
            }
            Err(message) => Input::SpawnFailed(message),
        }
    }

    fn kill(&mut self, id: usize, signal: i32, group: bool) -> Option<Input> {
        let proc = &self.procs[id];
        let pid = proc.machine.pid?;
        let target = if group { -pid } else { pid };
        // SAFETY: kill(2) with a pid we own (or its process group).
        let result = unsafe { libc::kill(target, signal) };
        if result == 0 {
            return None;
        }
        let errno = nix::errno::Errno::last();
        if errno == nix::errno::Errno::ESRCH {
            self.log(
                LogLevel::Debug,
                &format!(
                    "unable to signal {} (pid {pid}), it probably just exited on its own: {}",
                    proc.config.name,
                    errno.desc()
                ),
            );
            return None;
        }
        Some(Input::SignalFailed(format!(" {errno:?}: {}", errno.desc())))
    }

    /// Reaps every child that has exited.
    fn reap(&mut self) {
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => {
                    self.reaped(pid.as_raw(), ExitStatus::exited(code))
                }
                Ok(WaitStatus::Signaled(pid, signal, core)) => {
                    self.reaped(pid.as_raw(), ExitStatus::signaled(signal as i32, core))
                }
                Ok(WaitStatus::StillAlive) | Err(nix::errno::Errno::ECHILD) => break,
                Ok(_) => continue,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(errno) => {
                    self.log(
                        LogLevel::Critical,
                        &format!(
                            "waitpid error {errno:?}; a process may not be cleaned up properly"
                        ),
                    );
                    break;
                }
            }
        }
    }

    fn reaped(&mut self, pid: i32, status: ExitStatus) {
        match self.by_pid.remove(&pid) {
            Some(id) => {
                let proc = &mut self.procs[id];
                proc.stdin = None;
                for (pipe, capture) in proc.pipes.drain(..) {
                    drain_now(&pipe, &capture);
                }
                self.feed(id, Input::Exited(status));
            }
            None => self.log(
                LogLevel::Info,
                &format!("reaped unknown pid {pid} ({})", status.message),
            ),
        }
    }

    /// Fires every deadline that has passed.
    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(&(at, id)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.remove(&(at, id));
            self.procs[id].armed = None;
            self.feed(id, Input::Deadline);
        }
    }

    fn handle_signal(&mut self, signal: i32) {
        match signal {
            libc::SIGTERM | libc::SIGINT | libc::SIGQUIT => {
                self.log(
                    LogLevel::Warn,
                    &format!("received {} indicating exit request", signal_name(signal)),
                );
                self.begin_shutdown(After::Exit);
            }
            libc::SIGHUP => {
                if matches!(
                    self.shutdown,
                    Some(Shutdown {
                        after: After::Exit,
                        ..
                    })
                ) {
                    self.log(
                        LogLevel::Warn,
                        "ignored SIGHUP indicating restart request (shutdown in progress)",
                    );
                    return;
                }
                self.log(LogLevel::Warn, "received SIGHUP indicating restart request");
                match (self.reload)() {
                    Ok((graph, messages)) => {
                        self.begin_shutdown(After::Reload(Box::new(graph), messages))
                    }
                    Err(diagnostics) => self.log(
                        LogLevel::Error,
                        &format!(
                            "the configuration has errors, so it was not reloaded; everything keeps running as before\n{}",
                            diagnostics.trim_end()
                        ),
                    ),
                }
            }
            libc::SIGUSR2 => {
                self.log(
                    LogLevel::Info,
                    "received SIGUSR2 indicating log reopen request",
                );
                self.log(LogLevel::Info, "supervisord logreopen");
                self.main_log.borrow_mut().reopen();
                for proc in &self.procs {
                    proc.stdout_log.borrow_mut().reopen();
                    if !proc.config.redirect_stderr {
                        proc.stderr_log.borrow_mut().reopen();
                    }
                }
            }
            libc::SIGCHLD => {
                self.log(LogLevel::Debug, "received SIGCHLD indicating a child quit");
                self.reap();
            }
            _ => self.log(
                LogLevel::Blather,
                &format!("received {} indicating nothing", signal_name(signal)),
            ),
        }
    }

    fn begin_shutdown(&mut self, after: After) {
        self.mood = Mood::Stopping;
        match &mut self.shutdown {
            // A later request replaces what happens at the end (TERM during a reload exits).
            Some(shutdown) => shutdown.after = after,
            None => {
                self.shutdown = Some(Shutdown {
                    pending: self.groups_by_priority(),
                    current: None,
                    after,
                });
            }
        }
        // Pending backoff retries will not happen any more.
        for id in 0..self.procs.len() {
            if self.procs[id].machine.state == State::Backoff {
                self.procs[id].machine.deadline = None;
                self.rearm(id);
            }
        }
    }

    fn group_stopped(&self, group: usize) -> bool {
        self.groups[group]
            .members
            .iter()
            .all(|&id| self.procs[id].machine.state.is_stopped())
    }

    /// supervisord's `stop_all`: descending process priority; BACKOFF gives up.
    fn stop_group(&mut self, group: usize) {
        let mut members = self.groups[group].members.clone();
        members.sort_by_key(|&id| self.procs[id].config.priority);
        members.reverse();
        for id in members {
            match self.procs[id].machine.state {
                State::Running | State::Starting => self.feed(id, Input::Stop),
                State::Backoff => self.feed(id, Input::GiveUp),
                _ => {}
            }
        }
    }

    /// Moves an ordered shutdown forward: supervisord's phases 1 and 2, one group at a time
    /// (highest priority value first), the next one as soon as the previous one has stopped.
    /// Returns true when every process has stopped.
    fn advance_shutdown(&mut self) -> bool {
        loop {
            let Some(shutdown) = &self.shutdown else {
                return false;
            };
            let current = shutdown.current;
            if current.is_none_or(|group| self.group_stopped(group)) {
                let Some(shutdown) = self.shutdown.as_mut() else {
                    return false;
                };
                let Some(next) = shutdown.pending.pop() else {
                    return true;
                };
                shutdown.current = Some(next);
                self.stop_group(next);
                continue;
            }
            // Re-apply stop_all, as supervisord's phase 1 does every iteration: a process
            // that was STARTING when the group began stopping is stopped too.
            if let Some(group) = current {
                self.stop_group(group);
            }
            return false;
        }
    }

    /// Logs `waiting for a, b to die` at most every 3 seconds; returns when to report next.
    fn shutdown_report(&mut self) -> Option<Instant> {
        let unstopped: Vec<&str> = self
            .procs
            .iter()
            .filter(|proc| !proc.machine.state.is_stopped())
            .map(|proc| proc.config.name.as_str())
            .collect();
        if unstopped.is_empty() {
            return None;
        }
        let now = Instant::now();
        let due = self
            .last_report
            .is_none_or(|last| now >= last + Duration::from_secs(3));
        if due {
            let names = unstopped.join(", ");
            self.log(LogLevel::Info, &format!("waiting for {names} to die"));
            self.last_report = Some(now);
        }
        self.last_report.map(|last| last + Duration::from_secs(3))
    }

    /// Runs until an orderly exit.
    pub(crate) async fn run(&mut self, signals: &Signals) -> Outcome {
        self.autostart();
        loop {
            let mut report_at = None;
            if self.shutdown.is_some() {
                if self.advance_shutdown() {
                    let Some(shutdown) = self.shutdown.take() else {
                        continue;
                    };
                    match shutdown.after {
                        After::Exit => return Outcome::Exit,
                        After::Reload(graph, messages) => {
                            self.restart(*graph, &messages);
                            continue;
                        }
                    }
                }
                report_at = self.shutdown_report();
            }
            let next_timer = self.timers.first().map(|&(at, _)| at);
            let wake_at = match (next_timer, report_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let timer = async {
                match wake_at {
                    Some(at) => {
                        Timer::at(at).await;
                    }
                    None => std::future::pending::<()>().await,
                }
                None
            };
            let signal = async { Some(signals.next().await) };
            match smol::future::or(signal, timer).await {
                Some(Ok(signal)) => self.handle_signal(signal),
                Some(Err(error)) => {
                    self.log(
                        LogLevel::Critical,
                        &format!("reading signals failed: {error}"),
                    );
                    return Outcome::Exit;
                }
                None => {}
            }
            self.fire_timers();
        }
    }

    /// A SIGHUP reload after every process stopped: start again from the new Graph.
    fn restart(&mut self, graph: Graph, messages: &[(LogLevel, String)]) {
        *self.main_log.borrow_mut() = crate::open_main_log(&graph);
        let mut messages = messages.to_vec();
        messages.extend(crate::root_warning(&graph));
        crate::write_messages(&self.main_log, &messages);
        crate::prepare_logs(&graph, &self.main_log);
        self.install(graph);
        crate::announce(&self.graph, &self.main_log);
        self.autostart();
    }
}
