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
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use smol::{LocalExecutor, Timer};
use svc_schema::{Graph, Group, GroupKind, LogFile, LogLevel, Process, Stream};

use crate::capture::{Capture, Pipe, StdinPipe, Tap, drain_now, pipe, pump};
use crate::events::{Bus, Kind, SharedBus, state_payload};
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
    /// The child's stdin while it runs (shared with the event bus for listeners).
    stdin: Option<Rc<StdinPipe>>,
    /// The child's output pipes while it runs (their pumps hold them too).
    pipes: Vec<(Pipe, Rc<RefCell<Capture>>)>,
    /// The deadline currently in `timers`.
    armed: Option<Instant>,
    /// Wall-clock time of the last start attempt and of the last exit (status, RPC).
    laststart: Option<SystemTime>,
    laststop: Option<SystemTime>,
    /// When `waiting for <name> to stop` was last logged for a control-plane stop.
    laststopreport: Option<Instant>,
}

/// A group of processes (homogeneous, `[group:x]` or a pool).
struct GroupState {
    name: String,
    priority: i64,
    members: Vec<usize>,
    /// The group's settings (its processes' configurations live in `procs`).
    config: Group,
}

/// Work for the supervisor from the control plane: runs on the supervisor task with the
/// whole state; it answers through a channel of its own.
pub(crate) type Control = Box<dyn FnOnce(&mut Supervisor)>;

/// The control plane's way into the supervisor.
#[derive(Clone)]
pub(crate) struct Handle {
    sender: smol::channel::Sender<Control>,
    changed: Rc<event_listener::Event>,
}

impl Handle {
    /// Runs `work` on the supervisor and returns its result (`None` once the supervisor has
    /// stopped).
    pub(crate) async fn with<R: 'static>(
        &self,
        work: impl FnOnce(&mut Supervisor) -> R + 'static,
    ) -> Option<R> {
        let (reply, answer) = smol::channel::bounded(1);
        let control: Control = Box::new(move |supervisor| {
            let _ = reply.try_send(work(supervisor));
        });
        self.sender.send(control).await.ok()?;
        answer.recv().await.ok()
    }

    /// A listener woken at the next state change of any process. Create it before checking
    /// the state, then await it: no change is missed.
    pub(crate) fn listen(&self) -> event_listener::EventListener {
        self.changed.listen()
    }
}

/// What happens when every process has stopped.
enum After {
    /// Exit with this code.
    Exit(i32),
    Reload(Box<Graph>, Vec<(LogLevel, String)>),
}

/// An ordered shutdown in progress.
struct Shutdown {
    /// Groups still to stop, by ascending priority; the last one is stopped next.
    pending: Vec<usize>,
    /// The group being stopped.
    current: Option<usize>,
    /// While `current` is a pool whose listeners still have events to take: when svc stops
    /// waiting for them and stops the pool anyway.
    draining: Option<Instant>,
    after: After,
}

/// What woke the supervisor loop (timers wake it with nothing).
enum Wake {
    Signal(std::io::Result<i32>),
    Control(Control),
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
    /// The pid file this run wrote (removed when the run ends; not one it failed to write,
    /// which may be another instance's).
    pidfile: Option<String>,
    executor: Rc<LocalExecutor<'static>>,
    reload: Reload,
    control: smol::channel::Receiver<Control>,
    handle: Handle,
    /// The groups of the configuration last read by `reloadConfig`, when it differs from
    /// what runs (supervisord's `process_group_configs`).
    configured: Option<Vec<Group>>,
    /// Event pools and listeners.
    bus: SharedBus,
    /// The HTTP servers' accept tasks (rebuilt by a restart) and their requests.
    servers: Vec<smol::Task<()>>,
    in_flight: crate::control::InFlight,
}

fn stream_log(
    stream: &Stream,
    graph: &Graph,
    process: &Process,
    channel: &'static str,
    main_log: &Rc<RefCell<MainLog>>,
    tap: Option<Tap>,
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
    // supervisord opens the files at each spawn (`make_dispatchers`): `Capture::spawning`.
    let file = path
        .map(|path| RotatingFile::deferred(path, stream.logfile_maxbytes, stream.logfile_backups));
    Rc::new(RefCell::new(
        Capture::new(
            process.name.clone(),
            channel,
            file,
            graph.supervisord.strip_ansi,
            stream.syslog,
            Rc::clone(main_log),
        )
        .with_tap(tap),
    ))
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
        let (sender, control) = smol::channel::unbounded();
        let bus = Rc::new(RefCell::new(Bus::new(
            graph.supervisord.identifier.clone(),
            Rc::clone(&main_log),
            Rc::clone(&executor),
        )));
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
            pidfile: None,
            executor,
            reload,
            control,
            handle: Handle {
                sender,
                changed: Rc::new(event_listener::Event::new()),
            },
            configured: None,
            bus,
            servers: Vec::new(),
            in_flight: crate::control::InFlight::default(),
        };
        supervisor.install(graph);
        supervisor
    }

    /// Creates the processes of `graph` (AUTO logs are created here, as supervisord does when
    /// it adds a group).
    fn install(&mut self, mut graph: Graph) {
        self.procs.clear();
        self.groups.clear();
        self.by_pid.clear();
        self.timers.clear();
        self.mood = Mood::Running;
        self.shutdown = None;
        self.last_report = None;
        self.configured = None;
        self.bus.borrow_mut().reset(
            graph.supervisord.identifier.clone(),
            Rc::clone(&self.main_log),
        );
        let groups = std::mem::take(&mut graph.groups);
        self.graph = graph;
        for group in groups {
            self.activate(group);
        }
    }

    /// Creates a group's processes (AUTO logs are created here, as supervisord does when it
    /// adds a group). The group's processes move into `procs`.
    fn activate(&mut self, mut group: Group) {
        let mut members = Vec::new();
        let listener = group.kind == GroupKind::Eventlistener;
        for process in std::mem::take(&mut group.processes) {
            let id = self.procs.len();
            let bus = &self.bus;
            let stdout_tap = if listener {
                Some(Tap::listener(Rc::clone(bus), id, group.name.clone()))
            } else {
                Tap::output(
                    Rc::clone(bus),
                    id,
                    group.name.clone(),
                    process.stdout.events_enabled,
                    process.stdout.capture_maxbytes,
                )
            };
            let stderr_tap = Tap::output(
                Rc::clone(bus),
                id,
                group.name.clone(),
                process.stderr.events_enabled,
                process.stderr.capture_maxbytes,
            );
            let policy = Policy {
                startsecs: process.startsecs,
                startretries: process.startretries,
                autorestart: process.autorestart,
                exitcodes: process.exitcodes.clone(),
                stopsignal: process.stopsignal,
                stopwaitsecs: process.stopwaitsecs,
                stopasgroup: process.stopasgroup,
                killasgroup: process.killasgroup,
                shutdown_on: process.shutdown.map(|trigger| trigger.on),
            };
            let stdout_log = stream_log(
                &process.stdout,
                &self.graph,
                &process,
                "stdout",
                &self.main_log,
                stdout_tap,
            );
            let stderr_log = if process.redirect_stderr {
                Rc::clone(&stdout_log)
            } else {
                stream_log(
                    &process.stderr,
                    &self.graph,
                    &process,
                    "stderr",
                    &self.main_log,
                    stderr_tap,
                )
            };
            members.push(id);
            self.procs.push(Proc {
                machine: Machine::new(process.name.clone()),
                config: process,
                group: group.name.clone(),
                policy,
                stdout_log,
                stderr_log,
                stdin: None,
                pipes: Vec::new(),
                armed: None,
                laststart: None,
                laststop: None,
                laststopreport: None,
            });
        }
        if let Some(pool) = &group.pool {
            let listeners = members
                .iter()
                .map(|&id| (id, self.procs[id].config.name.clone()))
                .collect();
            self.bus.borrow_mut().add_pool(&group.name, pool, listeners);
        }
        let name = group.name.clone();
        self.groups.push(GroupState {
            name: group.name.clone(),
            priority: group.priority,
            members,
            config: group,
        });
        self.bus
            .borrow_mut()
            .publish(Kind::ProcessGroupAdded, || format!("groupname:{name}\n"));
    }

    /// A group as configured now: its settings with its processes' configurations.
    fn group_config(&self, state: &GroupState) -> Group {
        let mut group = state.config.clone();
        group.processes = state
            .members
            .iter()
            .map(|&id| self.procs[id].config.clone())
            .collect();
        group
    }

    /// Serves the bound HTTP servers; returns what tells when their requests are answered.
    pub(crate) fn serve(
        &mut self,
        servers: Vec<crate::control::Server>,
    ) -> crate::control::InFlight {
        self.servers = crate::control::serve(
            servers,
            self.handle.clone(),
            Rc::clone(&self.main_log),
            &self.executor,
            &self.in_flight,
        );
        self.in_flight.clone()
    }

    /// A restart closes the HTTP servers and opens those of the new configuration, as
    /// supervisord does (a changed socket, port or password takes effect). If they cannot
    /// be opened, the previous configuration's servers are opened again.
    async fn reopen_servers(&mut self, graph: &Graph) {
        for task in std::mem::take(&mut self.servers) {
            task.cancel().await;
        }
        let servers = match crate::control::bind(graph, &self.main_log) {
            Ok(servers) => servers,
            Err(error) => {
                self.log(
                    LogLevel::Critical,
                    &format!(
                        "could not open the HTTP servers of the new configuration ({error}); the previous ones are used"
                    ),
                );
                match crate::control::bind(&self.graph, &self.main_log) {
                    Ok(servers) => servers,
                    Err(error) => {
                        self.log(
                            LogLevel::Critical,
                            &format!("could not open the HTTP servers again: {error}"),
                        );
                        return;
                    }
                }
            }
        };
        self.serve(servers);
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
        // The spawns follow one another: none waits for its child to leave the daemon's fd
        // table (see `spawn::Batch`).
        let _batch = spawn::batch();
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
    /// State events are published after the step's other actions, so a listener hears of a
    /// change after the main log line that reports it, as with supervisord.
    fn feed(&mut self, id: usize, input: Input) {
        let mut queue = vec![input];
        while let Some(input) = queue.pop() {
            let now = Instant::now();
            let proc = &mut self.procs[id];
            let actions = proc.machine.step(&proc.policy, self.mood, input, now);
            let mut changes = Vec::new();
            let mut shutdown = None;
            for action in actions {
                match action {
                    Action::Spawn => queue.push(self.spawn(id)),
                    Action::Kill { signal, group } => {
                        if let Some(input) = self.kill(id, signal, group) {
                            queue.push(input);
                        }
                    }
                    Action::Log(lvl, message) => self.log(level(lvl), &message),
                    Action::Changed {
                        from,
                        to,
                        expected,
                        pid,
                        tries,
                    } => {
                        if to == State::Starting {
                            self.procs[id].laststart = Some(SystemTime::now());
                        }
                        let proc = &self.procs[id];
                        let payload = state_payload(
                            &proc.config.name,
                            &proc.group,
                            from,
                            to,
                            expected,
                            pid,
                            tries,
                        );
                        changes.push((to, payload));
                    }
                    Action::Shutdown(why) => shutdown = Some(why),
                }
            }
            if !changes.is_empty() {
                let mut bus = self.bus.borrow_mut();
                for (to, payload) in changes {
                    bus.publish(Kind::of_state(to), || payload);
                    bus.listener_state(id, to);
                }
                drop(bus);
                self.handle.changed.notify(usize::MAX);
            }
            if let Some(why) = shutdown {
                self.shutdown_on(id, &why);
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

    /// What spawning process `id` takes; `serverurl` is the daemon's default URL.
    fn spawn_request<'s>(&'s self, id: usize, serverurl: &'s Option<String>) -> spawn::Request<'s> {
        let proc = &self.procs[id];
        spawn::Request {
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
        }
    }

    fn spawn(&mut self, id: usize) -> Input {
        let serverurl = default_serverurl(&self.graph);
        let proc = &self.procs[id];
        // supervisord's make_dispatchers: the log files are opened again for each child
        // (once with redirect_stderr, where both streams share one capture).
        let mut captures = vec![Rc::clone(&proc.stdout_log)];
        if !Rc::ptr_eq(&proc.stdout_log, &proc.stderr_log) {
            captures.push(Rc::clone(&proc.stderr_log));
        }
        let name = proc.config.name.clone();
        let dispatchers = move || {
            for capture in captures {
                if let Err(error) = capture.borrow_mut().spawning() {
                    let errno = error.raw_os_error().map(nix::errno::Errno::from_raw);
                    return Err(match errno {
                        Some(nix::errno::Errno::EMFILE) => {
                            format!("too many open files to spawn '{name}'")
                        }
                        Some(errno) => {
                            format!("unknown error making dispatchers for '{name}': {errno:?}")
                        }
                        None => format!("unknown error making dispatchers for '{name}': {error}"),
                    });
                }
            }
            Ok(())
        };
        let spawned = spawn::spawn(&self.spawn_request(id, &serverurl), dispatchers);
        let proc = &mut self.procs[id];
        match spawned {
            Ok(child) => {
                self.by_pid.insert(child.pid, id);
                proc.stdin = StdinPipe::new(child.stdin).ok().map(Rc::new);
                proc.stdout_log.borrow_mut().set_pid(child.pid);
                proc.stderr_log.borrow_mut().set_pid(child.pid);
                self.bus
                    .borrow_mut()
                    .listener_spawned(id, proc.stdin.clone());
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
                proc.laststop = Some(SystemTime::now());
                for (pipe, capture) in proc.pipes.drain(..) {
                    drain_now(&pipe, &capture);
                }
                // An event the listener was processing goes back to its pool (before the
                // exit is fed: an autorestart would reset the listener).
                self.bus.borrow_mut().listener_exited(id);
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
                self.begin_shutdown(After::Exit(0));
            }
            libc::SIGHUP => {
                if matches!(
                    self.shutdown,
                    Some(Shutdown {
                        after: After::Exit(_),
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
                self.begin_restart();
            }
            libc::SIGUSR2 => {
                self.log(
                    LogLevel::Info,
                    "received SIGUSR2 indicating log reopen request",
                );
                self.log(LogLevel::Info, "supervisord logreopen");
                self.main_log.borrow_mut().reopen();
                for group in &self.groups {
                    for &id in &group.members {
                        let proc = &self.procs[id];
                        proc.stdout_log.borrow_mut().reopen();
                        if !proc.config.redirect_stderr {
                            proc.stderr_log.borrow_mut().reopen();
                        }
                    }
                }
            }
            // supervisord reaps (and logs the exits) before it handles the signal.
            libc::SIGCHLD => {
                self.reap();
                self.log(LogLevel::Debug, "received SIGCHLD indicating a child quit");
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
            // A later request replaces what happens at the end (TERM during a reload exits),
            // except that an exit keeps its code (a `shutdown_on` failure stays the exit
            // status when a SIGTERM follows).
            Some(shutdown) => {
                if !matches!(shutdown.after, After::Exit(_)) {
                    shutdown.after = after;
                }
            }
            None => {
                self.shutdown = Some(Shutdown {
                    pending: self.groups_by_priority(),
                    current: None,
                    draining: None,
                    after,
                });
                self.bus
                    .borrow_mut()
                    .publish(Kind::SupervisorStateChangeStopping, String::new);
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
    /// A listener pool is stopped once its listeners have taken the events still buffered
    /// for them (the daemon's STOPPING, the other processes' STOPPED), or after its longest
    /// `stopwaitsecs`. Returns true when every process has stopped.
    fn advance_shutdown(&mut self) -> bool {
        loop {
            let Some(shutdown) = &self.shutdown else {
                return false;
            };
            let current = shutdown.current;
            if let (Some(until), Some(group)) = (shutdown.draining, current) {
                let name = &self.groups[group].name;
                if Instant::now() < until && self.bus.borrow().pool_pending(name) {
                    return false;
                }
                if let Some(shutdown) = self.shutdown.as_mut() {
                    shutdown.draining = None;
                }
                self.stop_group(group);
                continue;
            }
            if current.is_none_or(|group| self.group_stopped(group)) {
                let Some(shutdown) = self.shutdown.as_mut() else {
                    return false;
                };
                let Some(next) = shutdown.pending.pop() else {
                    return true;
                };
                shutdown.current = Some(next);
                let group = &self.groups[next];
                if self.bus.borrow().pool_pending(&group.name) {
                    let grace = group
                        .members
                        .iter()
                        .map(|&id| self.procs[id].config.stopwaitsecs)
                        .max()
                        .unwrap_or(0);
                    let grace = Duration::from_secs(u64::try_from(grace).unwrap_or(0));
                    if let Some(shutdown) = self.shutdown.as_mut() {
                        shutdown.draining = Some(Instant::now() + grace);
                    }
                    continue;
                }
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

    /// Logs `waiting for a, b to die` at most every 3 seconds, each process's state after it
    /// (`a state: STOPPING`, at blather, as supervisord does); returns when to report next.
    fn shutdown_report(&mut self) -> Option<Instant> {
        let unstopped: Vec<(&str, State)> = self
            .procs
            .iter()
            .filter(|proc| !proc.machine.state.is_stopped())
            .map(|proc| (proc.config.name.as_str(), proc.machine.state))
            .collect();
        if unstopped.is_empty() {
            return None;
        }
        let now = Instant::now();
        let due = self
            .last_report
            .is_none_or(|last| now >= last + Duration::from_secs(3));
        if due {
            let names: Vec<&str> = unstopped.iter().map(|(name, _)| *name).collect();
            let mut main_log = self.main_log.borrow_mut();
            main_log.log(
                LogLevel::Info,
                &format!("waiting for {} to die", names.join(", ")),
            );
            for (name, state) in &unstopped {
                main_log.log(
                    LogLevel::Blather,
                    &format!("{name} state: {}", state.name()),
                );
            }
            drop(main_log);
            self.last_report = Some(now);
        }
        self.last_report.map(|last| last + Duration::from_secs(3))
    }

    /// The daemon is up: SUPERVISOR_STATE_CHANGE_RUNNING, then the autostart processes.
    fn start(&mut self) {
        let mut bus = self.bus.borrow_mut();
        bus.publish(Kind::SupervisorStateChangeRunning, String::new);
        bus.tick(SystemTime::now());
        drop(bus);
        self.autostart();
    }

    /// `shutdown_on` fired for process `id`: an orderly shutdown, then exit with its
    /// `shutdown_exitcode` (the first trigger wins; nothing fires once stopping).
    fn shutdown_on(&mut self, id: usize, why: &str) {
        if self.shutdown.is_some() {
            return;
        }
        let proc = &self.procs[id];
        let Some(trigger) = proc.config.shutdown else {
            return;
        };
        let on = match trigger.on {
            svc_schema::ShutdownOn::Fatal => "fatal",
            svc_schema::ShutdownOn::Unexpected => "unexpected",
        };
        self.log(
            LogLevel::Critical,
            &format!(
                "{} {why} and has shutdown_on={on}: shutting down, exit status will be {}",
                proc.config.name, trigger.exitcode
            ),
        );
        self.begin_shutdown(After::Exit(i32::from(trigger.exitcode)));
    }

    /// Runs until an orderly exit (`Ok` with the exit code), or until the signalfd fails
    /// (`Err`, logged).
    pub(crate) async fn run(&mut self, signals: &Signals) -> std::io::Result<i32> {
        self.start();
        loop {
            let mut report_at = None;
            if self.shutdown.is_some() {
                if self.advance_shutdown() {
                    let Some(shutdown) = self.shutdown.take() else {
                        continue;
                    };
                    match shutdown.after {
                        After::Exit(code) => return Ok(code),
                        After::Reload(graph, messages) => {
                            if let Some(code) = self.restart(*graph, &messages).await {
                                return Ok(code);
                            }
                            continue;
                        }
                    }
                }
                report_at = self.shutdown_report();
            }
            let next_timer = self.timers.first().map(|&(at, _)| at);
            let now = SystemTime::now();
            let next_tick = self
                .bus
                .borrow()
                .next_tick(now)
                .map(|at| Instant::now() + at.duration_since(now).unwrap_or(Duration::ZERO));
            let draining = self.shutdown.as_ref().and_then(|s| s.draining);
            let wake_at = [next_timer, report_at, next_tick, draining]
                .into_iter()
                .flatten()
                .min();
            // While a pool drains, a listener's answer is worth a look.
            let activity = draining.map(|_| self.bus.borrow().activity());
            let timer = async {
                match wake_at {
                    Some(at) => {
                        Timer::at(at).await;
                    }
                    None => std::future::pending::<()>().await,
                }
                None
            };
            let signal = async { Some(Wake::Signal(signals.next().await)) };
            let control = async { self.control.recv().await.ok().map(Wake::Control) };
            let answered = async {
                match activity {
                    Some(listener) => listener.await,
                    None => std::future::pending::<()>().await,
                }
                None
            };
            let timer = smol::future::or(timer, answered);
            match smol::future::or(signal, smol::future::or(control, timer)).await {
                Some(Wake::Signal(Ok(signal))) => self.handle_signal(signal),
                Some(Wake::Signal(Err(error))) => {
                    self.log(
                        LogLevel::Critical,
                        &format!("reading signals failed: {error}"),
                    );
                    return Err(error);
                }
                Some(Wake::Control(work)) => work(self),
                None => {}
            }
            self.fire_timers();
            self.bus.borrow_mut().tick(SystemTime::now());
        }
    }

    /// A SIGHUP reload after every process stopped: start again from the new Graph, as
    /// supervisord's next pass of its main loop does (`set_uid_or_exit`, then the logger;
    /// the rlimits are only raised at the first start).
    ///
    /// Returns the exit code when the new configuration cannot be run: a user svc cannot
    /// switch to (supervisord exits through `usage` there too).
    async fn restart(&mut self, graph: Graph, messages: &[(LogLevel, String)]) -> Option<i32> {
        // What the previous run's grandchildren still write is not this run's.
        for proc in &self.procs {
            proc.stdout_log.borrow_mut().retire();
            proc.stderr_log.borrow_mut().retire();
        }
        // supervisord's `cleanup` ends each run: the pid file goes (the new run writes its
        // own, wherever the new configuration puts it).
        self.remove_pidfile();
        let mut messages = messages.to_vec();
        if let Err(error) = crate::set_user(&graph, &mut messages) {
            crate::write_messages(&self.main_log, &messages);
            self.log(LogLevel::Critical, &format!("{}; exiting", error.message));
            return Some(i32::from(error.exit_code));
        }
        match crate::open_main_log(&graph) {
            Ok(main_log) => *self.main_log.borrow_mut() = main_log,
            // supervisord dies with a traceback here; svc keeps the log it has and says why.
            Err(message) => self.log(
                LogLevel::Critical,
                &format!("{message}; the log goes on here"),
            ),
        }
        crate::write_messages(&self.main_log, &messages);
        crate::prepare_logs(&graph, &self.main_log);
        self.reopen_servers(&graph).await;
        self.install(graph);
        self.announce();
        self.start();
        None
    }

    /// `write_pidfile`: writes the pid file and logs `supervisord started with pid N`.
    pub(crate) fn announce(&mut self) {
        self.pidfile = crate::announce(&self.graph, &self.main_log);
    }

    /// Removes the pid file this run wrote, if it wrote one.
    pub(crate) fn remove_pidfile(&mut self) {
        if let Some(path) = self.pidfile.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// What the control plane sees of a process (supervisord's `getProcessInfo` fields).
#[derive(Debug, Clone)]
pub(crate) struct ProcessView {
    pub name: String,
    pub group: String,
    pub laststart: Option<SystemTime>,
    pub laststop: Option<SystemTime>,
    pub state: State,
    pub spawnerr: Option<String>,
    pub exitstatus: Option<i32>,
    pub stdout_logfile: Option<std::path::PathBuf>,
    pub stderr_logfile: Option<std::path::PathBuf>,
    pub pid: Option<i32>,
}

/// What `update` would do (see [`Supervisor::update_plan`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct UpdatePlan {
    pub added: Vec<String>,
    /// Each changed group with what changed in it (`priority`, `web: command`, ...).
    pub changed: Vec<(String, Vec<String>)>,
    pub removed: Vec<String>,
}

/// The keys whose values differ between two JSON objects (a Graph item's fields).
fn changed_fields(old: &serde_json::Value, new: &serde_json::Value, skip: &[&str]) -> Vec<String> {
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
        return Vec::new();
    };
    let mut seen = std::collections::BTreeSet::new();
    old.keys()
        .chain(new.keys())
        .filter(|key| !skip.contains(&key.as_str()) && seen.insert(key.as_str()))
        .filter(|key| old.get(key.as_str()) != new.get(key.as_str()))
        .cloned()
        .collect()
}

/// What differs between a running group and its new configuration: the group's own
/// settings by name, processes added or removed, and each process's changed keys as
/// `process: key`.
fn group_changes(old: &Group, new: &Group) -> Vec<String> {
    let mut changes = changed_fields(&as_json(old), &as_json(new), &["processes"]);
    for process in &new.processes {
        match old.processes.iter().find(|p| p.name == process.name) {
            None => changes.push(format!("{}: added", process.name)),
            Some(before) => changes.extend(
                changed_fields(&as_json(before), &as_json(process), &[])
                    .into_iter()
                    .map(|key| format!("{}: {key}", process.name)),
            ),
        }
    }
    for process in &old.processes {
        if !new.processes.iter().any(|p| p.name == process.name) {
            changes.push(format!("{}: removed", process.name));
        }
    }
    // supervisord compares the process lists in order.
    if changes.is_empty()
        && old
            .processes
            .iter()
            .zip(&new.processes)
            .any(|(a, b)| a.name != b.name)
    {
        changes.push("processes: order".to_string());
    }
    changes
}

/// A Graph item as a JSON value, for field-by-field comparison (its serialization cannot
/// fail: Graph items are plain data).
fn as_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// A configured process as `getAllConfigInfo` reports it.
#[derive(Debug, Clone)]
pub(crate) struct ConfigView {
    pub group: String,
    pub group_prio: i64,
    pub inuse: bool,
    pub process: Process,
    /// The files of a running process's AUTO logs.
    pub stdout_logfile: Option<std::path::PathBuf>,
    pub stderr_logfile: Option<std::path::PathBuf>,
}

/// Why a control operation on one process failed (an RPC fault code and its text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub code: i32,
    pub text: Option<String>,
}

impl Refusal {
    pub(crate) fn new(code: i32, text: impl Into<String>) -> Refusal {
        Refusal {
            code,
            text: Some(text.into()),
        }
    }
}

/// Control-plane operations. They run on the supervisor task (through [`Handle::with`]).
impl Supervisor {
    /// True while shutting down or reloading (supervisord's mood below RUNNING).
    pub(crate) fn is_stopping(&self) -> bool {
        self.shutdown.is_some()
    }

    /// Asks for an orderly shutdown (`supervisor.shutdown`).
    pub(crate) fn request_shutdown(&mut self) {
        self.begin_shutdown(After::Exit(0));
    }

    /// Asks for a restart with the configuration compiled again (`supervisor.restart`: no
    /// signal, so no `received SIGHUP` line).
    pub(crate) fn request_restart(&mut self) {
        self.begin_restart();
    }

    /// Compiles the configuration again and, if it compiles, stops everything in order to
    /// start again from it; a configuration with errors is refused and nothing changes.
    fn begin_restart(&mut self) {
        match (self.reload)() {
            Ok((graph, messages)) => self.begin_shutdown(After::Reload(Box::new(graph), messages)),
            Err(diagnostics) => self.log(
                LogLevel::Error,
                &format!(
                    "the configuration has errors, so it was not reloaded; everything keeps running as before\n{}",
                    diagnostics.trim_end()
                ),
            ),
        }
    }

    /// supervisord's `split_namespec` and lookup: `(group, Some(process))`, or
    /// `(group, None)` for `group:*` / `group:`.
    pub(crate) fn lookup(&self, namespec: &str) -> Option<(usize, Option<usize>)> {
        let (group_name, process_name) = match namespec.split_once(':') {
            Some((group, "" | "*")) => (group, None),
            Some((group, process)) => (group, Some(process)),
            None => (namespec, Some(namespec)),
        };
        let group = self.groups.iter().position(|g| g.name == group_name)?;
        let Some(process_name) = process_name else {
            return Some((group, None));
        };
        let process = self.groups[group]
            .members
            .iter()
            .copied()
            .find(|&id| self.procs[id].config.name == process_name)?;
        Some((group, Some(process)))
    }

    /// A group's processes by ascending priority (config order among equals).
    pub(crate) fn members_by_priority(&self, group: usize) -> Vec<usize> {
        let mut members = self.groups[group].members.clone();
        members.sort_by_key(|&id| self.procs[id].config.priority);
        members
    }

    /// Every process: groups by priority, then their processes by priority.
    pub(crate) fn all_by_priority(&self) -> Vec<usize> {
        self.groups_by_priority()
            .into_iter()
            .flat_map(|group| self.members_by_priority(group))
            .collect()
    }

    /// Every process: groups by name, then their processes by name.
    pub(crate) fn all_lexical(&self) -> Vec<usize> {
        let mut groups: Vec<usize> = (0..self.groups.len()).collect();
        groups.sort_by(|&a, &b| self.groups[a].name.cmp(&self.groups[b].name));
        groups
            .into_iter()
            .flat_map(|group| {
                let mut members = self.groups[group].members.clone();
                members.sort_by(|&a, &b| self.procs[a].config.name.cmp(&self.procs[b].config.name));
                members
            })
            .collect()
    }

    /// A process as the control plane reports it.
    pub(crate) fn view(&self, id: usize) -> ProcessView {
        let proc = &self.procs[id];
        ProcessView {
            name: proc.config.name.clone(),
            group: proc.group.clone(),
            laststart: proc.laststart,
            laststop: proc.laststop,
            state: proc.machine.state,
            spawnerr: proc.machine.spawnerr.clone(),
            exitstatus: proc.machine.exitstatus,
            stdout_logfile: proc.stdout_log.borrow().path(),
            stderr_logfile: if proc.config.redirect_stderr {
                None
            } else {
                proc.stderr_log.borrow().path()
            },
            pid: proc.machine.pid,
        }
    }

    /// The namespec of a process: `name`, or `group:name` when they differ.
    pub(crate) fn namespec(&self, id: usize) -> String {
        let proc = &self.procs[id];
        if proc.group == proc.config.name {
            proc.config.name.clone()
        } else {
            format!("{}:{}", proc.group, proc.config.name)
        }
    }

    /// `startProcess` up to the spawn: supervisord's checks in its order, then the start.
    pub(crate) fn start_process(&mut self, id: usize) -> Result<(), Refusal> {
        let serverurl = default_serverurl(&self.graph);
        let proc = &self.procs[id];
        if let Err(error) = spawn::check(&self.spawn_request(id, &serverurl)) {
            let code = match error {
                spawn::CommandError::NotFound(_) => crate::rpc::faults::NO_FILE,
                spawn::CommandError::NotExecutable(_) => crate::rpc::faults::NOT_EXECUTABLE,
            };
            return Err(Refusal::new(code, error.message()));
        }
        match proc.machine.state {
            State::Starting | State::Running | State::Backoff => {
                return Err(Refusal::new(
                    crate::rpc::faults::ALREADY_STARTED,
                    self.namespec(id),
                ));
            }
            State::Unknown => {
                return Err(Refusal::new(
                    crate::rpc::faults::FAILED,
                    format!("{} is in an unknown process state", self.namespec(id)),
                ));
            }
            _ => {}
        }
        self.feed(id, Input::Start);
        if self.procs[id].machine.spawnerr.is_some() {
            return Err(Refusal::new(
                crate::rpc::faults::SPAWN_ERROR,
                self.namespec(id),
            ));
        }
        Ok(())
    }

    /// `stopProcess` up to the signal.
    pub(crate) fn stop_process(&mut self, id: usize) -> Result<(), Refusal> {
        if !matches!(
            self.procs[id].machine.state,
            State::Starting | State::Running | State::Backoff
        ) {
            return Err(Refusal::new(
                crate::rpc::faults::NOT_RUNNING,
                self.namespec(id),
            ));
        }
        self.procs[id].laststopreport = None;
        self.feed(id, Input::Stop);
        if self.procs[id].machine.state == State::Unknown {
            return Err(Refusal::new(
                crate::rpc::faults::FAILED,
                format!("unknown problem killing {}", self.namespec(id)),
            ));
        }
        Ok(())
    }

    /// supervisord's `stop_report`: while a stop requested through the control plane is
    /// pending, `waiting for <name> to stop` at most every 2 seconds. Returns when to report
    /// next (`None` once stopped).
    pub(crate) fn stop_report(&mut self, id: usize) -> Option<Instant> {
        let proc = &mut self.procs[id];
        if proc.machine.state != State::Stopping {
            return None;
        }
        let now = Instant::now();
        let every = Duration::from_secs(2);
        if proc.laststopreport.is_none_or(|last| now > last + every) {
            proc.laststopreport = Some(now);
            let message = format!("waiting for {} to stop", proc.config.name);
            self.log(LogLevel::Info, &message);
        }
        self.procs[id].laststopreport.map(|last| last + every)
    }

    /// `signalProcess`: any signal to the pid, no state change.
    pub(crate) fn signal_process(&mut self, id: usize, signal: i32) -> Result<(), Refusal> {
        let proc = &self.procs[id];
        let pid = match (proc.machine.state, proc.machine.pid) {
            (State::Running | State::Starting | State::Stopping, Some(pid)) => pid,
            _ => {
                return Err(Refusal::new(
                    crate::rpc::faults::NOT_RUNNING,
                    self.namespec(id),
                ));
            }
        };
        self.log(
            LogLevel::Debug,
            &format!(
                "sending {} (pid {pid}) sig {}",
                proc.config.name,
                signal_name(signal)
            ),
        );
        // SAFETY: kill(2) on a child we own.
        if unsafe { libc::kill(pid, signal) } != 0 {
            let errno = nix::errno::Errno::last();
            if errno != nix::errno::Errno::ESRCH {
                return Err(Refusal::new(
                    crate::rpc::faults::FAILED,
                    format!(
                        "unknown problem sending sig {} ({pid}): {errno:?}",
                        proc.config.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `clearProcessLogs`: both logs of a process deleted and started again.
    pub(crate) fn clear_process_logs(&mut self, id: usize) -> Result<(), Refusal> {
        let proc = &self.procs[id];
        let failed = |_| Refusal::new(crate::rpc::faults::FAILED, self.namespec(id));
        proc.stdout_log.borrow_mut().clear().map_err(failed)?;
        if !proc.config.redirect_stderr {
            proc.stderr_log.borrow_mut().clear().map_err(failed)?;
        }
        Ok(())
    }

    /// `clearLog`: the main log deleted and reopened.
    pub(crate) fn clear_main_log(&mut self) -> Result<(), Refusal> {
        let exists = self
            .main_log
            .borrow()
            .path()
            .is_some_and(|path| path.exists());
        if !exists {
            return Err(Refusal {
                code: crate::rpc::faults::NO_FILE,
                text: None,
            });
        }
        self.main_log.borrow_mut().clear().map_err(|_| Refusal {
            code: crate::rpc::faults::FAILED,
            text: None,
        })
    }

    /// `sendProcessStdin`.
    pub(crate) fn send_stdin(&mut self, id: usize, data: &[u8]) -> Result<(), Refusal> {
        let proc = &self.procs[id];
        let stdin = match (&proc.stdin, proc.machine.pid, proc.machine.state) {
            (Some(stdin), Some(_), state) if state != State::Stopping => stdin,
            _ => {
                return Err(Refusal::new(
                    crate::rpc::faults::NOT_RUNNING,
                    self.namespec(id),
                ));
            }
        };
        stdin
            .send(data, &self.executor)
            .map_err(|_| Refusal::new(crate::rpc::faults::NO_FILE, self.namespec(id)))
    }

    /// `getAllConfigInfo`: one struct's fields per configured process, sorted by name.
    pub(crate) fn config_info(&self) -> Vec<ConfigView> {
        let configured: Vec<Group> = match &self.configured {
            Some(groups) => groups.clone(),
            None => self.groups.iter().map(|g| self.group_config(g)).collect(),
        };
        let mut all = Vec::new();
        for group in configured {
            let active = self.groups.iter().find(|g| g.name == group.name);
            for process in group.processes {
                // AUTO logs of a group in use have their file name (supervisord names them
                // when it adds the group).
                let running = active
                    .and_then(|g| {
                        g.members
                            .iter()
                            .copied()
                            .find(|&id| self.procs[id].config.name == process.name)
                    })
                    .map(|id| self.view(id));
                all.push(ConfigView {
                    group: group.name.clone(),
                    group_prio: group.priority,
                    inuse: active.is_some(),
                    process,
                    stdout_logfile: running.as_ref().and_then(|v| v.stdout_logfile.clone()),
                    stderr_logfile: running.and_then(|v| v.stderr_logfile),
                });
            }
        }
        all.sort_by(|a, b| a.process.name.cmp(&b.process.name));
        all
    }

    /// `reloadConfig`: reads the configuration again and compares its groups with the
    /// running ones; nothing is applied. Returns the added, changed and removed group names.
    pub(crate) fn reload_config(&mut self) -> Result<[Vec<String>; 3], Refusal> {
        let plan = self.update_plan()?;
        let changed = plan.changed.into_iter().map(|(group, _)| group).collect();
        Ok([plan.added, changed, plan.removed])
    }

    /// Beyond supervisord (`svc.updatePlan`): what `update` would do with the configuration
    /// read now, and which values changed, without applying anything. The configuration
    /// read becomes the one `addProcessGroup` uses, as with `reloadConfig`.
    pub(crate) fn update_plan(&mut self) -> Result<UpdatePlan, Refusal> {
        let (graph, _) = (self.reload)()
            .map_err(|text| Refusal::new(crate::rpc::faults::CANT_REREAD, text.trim_end()))?;
        let mut plan = UpdatePlan::default();
        for group in &graph.groups {
            match self.groups.iter().find(|g| g.name == group.name) {
                None => plan.added.push(group.name.clone()),
                Some(state) => {
                    let changes = group_changes(&self.group_config(state), group);
                    if !changes.is_empty() {
                        plan.changed.push((group.name.clone(), changes));
                    }
                }
            }
        }
        plan.removed = self
            .groups
            .iter()
            .filter(|g| !graph.groups.iter().any(|new| new.name == g.name))
            .map(|g| g.name.clone())
            .collect();
        self.configured = Some(graph.groups);
        Ok(plan)
    }

    /// `addProcessGroup`: starts a group of the configuration last read.
    pub(crate) fn add_group(&mut self, name: &str) -> Result<(), Refusal> {
        let group = match &self.configured {
            Some(groups) => groups.iter().find(|g| g.name == name).cloned(),
            None => None,
        };
        if self.groups.iter().any(|g| g.name == name) {
            return Err(Refusal::new(crate::rpc::faults::ALREADY_ADDED, name));
        }
        let Some(group) = group else {
            return Err(Refusal::new(crate::rpc::faults::BAD_NAME, name));
        };
        self.activate(group);
        if self.mood == Mood::Running
            && let Some(state) = self.groups.last()
        {
            for id in state.members.clone() {
                if self.procs[id].config.autostart {
                    self.feed(id, Input::Start);
                }
            }
        }
        Ok(())
    }

    /// `removeProcessGroup`: forgets a group whose processes have all stopped.
    pub(crate) fn remove_group(&mut self, name: &str) -> Result<(), Refusal> {
        let Some(index) = self.groups.iter().position(|g| g.name == name) else {
            return Err(Refusal::new(crate::rpc::faults::BAD_NAME, name));
        };
        if !self.group_stopped(index) {
            return Err(Refusal::new(crate::rpc::faults::STILL_RUNNING, name));
        }
        // The configuration keeps the group: `addProcessGroup` can bring it back.
        if self.configured.is_none() {
            self.configured = Some(self.groups.iter().map(|g| self.group_config(g)).collect());
        }
        self.groups.remove(index);
        let mut bus = self.bus.borrow_mut();
        bus.remove_pool(name);
        bus.publish(Kind::ProcessGroupRemoved, || format!("groupname:{name}\n"));
        Ok(())
    }

    /// `sendRemoteCommEvent`: a REMOTE_COMMUNICATION event.
    pub(crate) fn remote_event(&mut self, kind: &str, data: &str) {
        self.bus
            .borrow_mut()
            .publish(Kind::RemoteCommunication, || format!("type:{kind}\n{data}"));
    }

    /// The main log's file, if it is a file.
    pub(crate) fn main_log_path(&self) -> Option<std::path::PathBuf> {
        self.main_log.borrow().path().map(Path::to_path_buf)
    }

    /// The daemon's identifier.
    pub(crate) fn identifier(&self) -> String {
        self.graph.supervisord.identifier.clone()
    }
}
