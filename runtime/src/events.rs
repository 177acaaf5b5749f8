//! supervisor's event system (reference §8): event types, listener pools with their buffers,
//! and the listener protocol.
//!
//! The [`Bus`] is shared (`Rc<RefCell>`) by the supervisor task, which publishes process,
//! group, daemon and tick events, and the output pumps, which publish log and communication
//! events and feed each listener's stdout to its protocol parser. An event is delivered the
//! moment it is published, or the moment a listener becomes able to take it (it sends
//! `READY`, it reaches RUNNING): there is no dispatch pass per loop iteration.
//!
//! supervisord's rules, kept exactly:
//! - Subscription is by type or by an abstract base (`EVENT`, `PROCESS_STATE`, ...); a pool
//!   whose `events=` matches an event several times (`PROCESS_STATE,PROCESS_STATE_EXITED`)
//!   buffers it that many times, as supervisord's callback list does.
//! - An event gets its global serial from the first pool that accepts it, and one pool
//!   serial per pool; events nobody subscribes to take no serial. The global serial survives
//!   a reload, pool serials start again with their pool.
//! - A pool buffers `buffer_size` events; a new one beyond that discards the oldest (ERRO
//!   `pool x event buffer overflowed, discarding event N`). Events go to the first RUNNING
//!   listener in READY state, oldest first. A rejected event (`RESULT` other than `OK`), or
//!   one in flight when its listener dies or breaks the protocol, is buffered again at the
//!   head, under its old serials.
//! - A listener starts ACKNOWLEDGED at each spawn; `READY\n` makes it READY; an event makes
//!   it BUSY; `RESULT n\n` + n bytes makes it ACKNOWLEDGED. Anything else is a protocol
//!   violation: UNKNOWN, no more events until it is restarted.
//! - `len` in the header counts characters of the payload, as Python's `len(str)` does.
//!
//! Invariant: the bus never calls back into the supervisor or a capture; it writes to
//! listeners' stdin pipes (which never block) and to the main log only.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::time::SystemTime;

use smol::LocalExecutor;
use svc_schema::LogLevel;

use crate::capture::StdinPipe;
use crate::logs::MainLog;
use crate::machine::State;

/// The bus as the supervisor and the pumps share it.
pub(crate) type SharedBus = Rc<RefCell<Bus>>;

/// Every concrete event type (the abstract ones exist only to subscribe to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    ProcessStateStopped,
    ProcessStateExited,
    ProcessStateStarting,
    ProcessStateStopping,
    ProcessStateBackoff,
    ProcessStateFatal,
    ProcessStateRunning,
    ProcessStateUnknown,
    ProcessCommunicationStdout,
    ProcessCommunicationStderr,
    ProcessLogStdout,
    ProcessLogStderr,
    RemoteCommunication,
    SupervisorStateChangeRunning,
    SupervisorStateChangeStopping,
    Tick5,
    Tick60,
    Tick3600,
    ProcessGroupAdded,
    ProcessGroupRemoved,
}

impl Kind {
    /// The name in `events=` and in the header's `eventname:`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::ProcessStateStopped => "PROCESS_STATE_STOPPED",
            Kind::ProcessStateExited => "PROCESS_STATE_EXITED",
            Kind::ProcessStateStarting => "PROCESS_STATE_STARTING",
            Kind::ProcessStateStopping => "PROCESS_STATE_STOPPING",
            Kind::ProcessStateBackoff => "PROCESS_STATE_BACKOFF",
            Kind::ProcessStateFatal => "PROCESS_STATE_FATAL",
            Kind::ProcessStateRunning => "PROCESS_STATE_RUNNING",
            Kind::ProcessStateUnknown => "PROCESS_STATE_UNKNOWN",
            Kind::ProcessCommunicationStdout => "PROCESS_COMMUNICATION_STDOUT",
            Kind::ProcessCommunicationStderr => "PROCESS_COMMUNICATION_STDERR",
            Kind::ProcessLogStdout => "PROCESS_LOG_STDOUT",
            Kind::ProcessLogStderr => "PROCESS_LOG_STDERR",
            Kind::RemoteCommunication => "REMOTE_COMMUNICATION",
            Kind::SupervisorStateChangeRunning => "SUPERVISOR_STATE_CHANGE_RUNNING",
            Kind::SupervisorStateChangeStopping => "SUPERVISOR_STATE_CHANGE_STOPPING",
            Kind::Tick5 => "TICK_5",
            Kind::Tick60 => "TICK_60",
            Kind::Tick3600 => "TICK_3600",
            Kind::ProcessGroupAdded => "PROCESS_GROUP_ADDED",
            Kind::ProcessGroupRemoved => "PROCESS_GROUP_REMOVED",
        }
    }

    /// The abstract type it derives from, besides `EVENT`.
    fn family(self) -> Option<&'static str> {
        Some(match self {
            Kind::ProcessStateStopped
            | Kind::ProcessStateExited
            | Kind::ProcessStateStarting
            | Kind::ProcessStateStopping
            | Kind::ProcessStateBackoff
            | Kind::ProcessStateFatal
            | Kind::ProcessStateRunning
            | Kind::ProcessStateUnknown => "PROCESS_STATE",
            Kind::ProcessCommunicationStdout | Kind::ProcessCommunicationStderr => {
                "PROCESS_COMMUNICATION"
            }
            Kind::ProcessLogStdout | Kind::ProcessLogStderr => "PROCESS_LOG",
            Kind::SupervisorStateChangeRunning | Kind::SupervisorStateChangeStopping => {
                "SUPERVISOR_STATE_CHANGE"
            }
            Kind::Tick5 | Kind::Tick60 | Kind::Tick3600 => "TICK",
            Kind::ProcessGroupAdded | Kind::ProcessGroupRemoved => "PROCESS_GROUP",
            Kind::RemoteCommunication => return None,
        })
    }

    /// The event a process entering `state` emits.
    pub(crate) fn of_state(state: State) -> Kind {
        match state {
            State::Stopped => Kind::ProcessStateStopped,
            State::Starting => Kind::ProcessStateStarting,
            State::Running => Kind::ProcessStateRunning,
            State::Backoff => Kind::ProcessStateBackoff,
            State::Stopping => Kind::ProcessStateStopping,
            State::Exited => Kind::ProcessStateExited,
            State::Fatal => Kind::ProcessStateFatal,
            State::Unknown => Kind::ProcessStateUnknown,
        }
    }

    /// The communication and log events of an output channel.
    pub(crate) fn of_channel(channel: &str) -> (Kind, Kind) {
        if channel == "stderr" {
            (Kind::ProcessCommunicationStderr, Kind::ProcessLogStderr)
        } else {
            (Kind::ProcessCommunicationStdout, Kind::ProcessLogStdout)
        }
    }
}

/// How many times `events=` (a pool's subscriptions) matches `kind`.
fn matches(subscriptions: &[String], kind: Kind) -> usize {
    subscriptions
        .iter()
        .filter(|name| {
            let name = name.as_str();
            name == "EVENT" || name == kind.name() || Some(name) == kind.family()
        })
        .count()
}

/// The payload of a process state event, with the values of the moment.
pub(crate) fn state_payload(
    name: &str,
    group: &str,
    from: State,
    to: State,
    expected: bool,
    pid: i32,
    tries: i64,
) -> String {
    let head = format!(
        "processname:{name} groupname:{group} from_state:{}",
        from.name()
    );
    match to {
        State::Starting | State::Backoff => format!("{head} tries:{tries}"),
        State::Running | State::Stopping | State::Stopped => format!("{head} pid:{pid}"),
        State::Exited => format!("{head} expected:{} pid:{pid}", u8::from(expected)),
        State::Fatal | State::Unknown => head,
    }
}

/// Output bytes as supervisord puts them in a payload: UTF-8 text, or `Undecodable: b'...'`.
pub(crate) fn output_text(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(text) => text.to_string(),
        Err(_) => format!("Undecodable: {}", svc_schema::python::bytes_repr(data)),
    }
}

/// An event, with the global serial it got from the first pool that accepted it.
#[derive(Debug)]
struct Event {
    kind: Kind,
    payload: String,
    serial: u64,
}

/// An event in one pool, with that pool's serial.
#[derive(Debug, Clone)]
struct Queued {
    event: Rc<Event>,
    pool_serial: u64,
}

/// supervisord's `new_serial`: from 0, wrapping after `sys.maxsize`.
fn next_serial(serial: &mut Option<u64>) -> u64 {
    let next = match *serial {
        Some(last) if last < i64::MAX as u64 => last + 1,
        _ => 0,
    };
    *serial = Some(next);
    next
}

/// A listener's protocol state (supervisord's `EventListenerStates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListenerState {
    Ready,
    Busy,
    Acknowledged,
    Unknown,
}

impl ListenerState {
    fn name(self) -> &'static str {
        match self {
            ListenerState::Ready => "READY",
            ListenerState::Busy => "BUSY",
            ListenerState::Acknowledged => "ACKNOWLEDGED",
            ListenerState::Unknown => "UNKNOWN",
        }
    }
}

/// One listener process of a pool.
#[derive(Debug)]
struct Listener {
    name: String,
    pool: String,
    state: ListenerState,
    /// The process is RUNNING (only RUNNING listeners get events).
    running: bool,
    stdin: Option<Rc<StdinPipe>>,
    /// The event sent and not yet answered.
    event: Option<Queued>,
    /// Protocol bytes not yet understood.
    input: Vec<u8>,
    /// While BUSY: the announced result length, once the `RESULT n` line is in.
    result_len: Option<usize>,
    result: Vec<u8>,
}

/// One `[eventlistener:x]` pool.
#[derive(Debug)]
struct Pool {
    name: String,
    events: Vec<String>,
    buffer_size: usize,
    buffer: VecDeque<Queued>,
    serial: Option<u64>,
    /// Listener process ids, in the pool's order (events go to the first READY one).
    members: Vec<usize>,
}

/// The tick periods, in supervisord's order.
const TICKS: [(u64, Kind); 3] = [(5, Kind::Tick5), (60, Kind::Tick60), (3600, Kind::Tick3600)];

/// Pools, listeners and serials.
pub(crate) struct Bus {
    serial: Option<u64>,
    pools: Vec<Pool>,
    listeners: HashMap<usize, Listener>,
    identifier: String,
    main_log: Rc<RefCell<MainLog>>,
    executor: Rc<LocalExecutor<'static>>,
    /// The last timeslice of each tick period (`None` until the first look at the clock).
    ticks: [Option<u64>; 3],
    /// Notified when a listener answers or exits (a draining shutdown waits on it).
    activity: Rc<event_listener::Event>,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("serial", &self.serial)
            .field("pools", &self.pools)
            .finish_non_exhaustive()
    }
}

impl Bus {
    /// A bus with no pool.
    pub(crate) fn new(
        identifier: String,
        main_log: Rc<RefCell<MainLog>>,
        executor: Rc<LocalExecutor<'static>>,
    ) -> Bus {
        Bus {
            serial: None,
            pools: Vec::new(),
            listeners: HashMap::new(),
            identifier,
            main_log,
            executor,
            ticks: [None; 3],
            activity: Rc::new(event_listener::Event::new()),
        }
    }

    /// A listener woken the next time a listener answers or exits.
    pub(crate) fn activity(&self) -> event_listener::EventListener {
        self.activity.listen()
    }

    /// True while pool `name` has events to deliver (buffered or in flight) and a listener
    /// that can still take them: stopping it now would lose them.
    pub(crate) fn pool_pending(&self, name: &str) -> bool {
        let Some(pool) = self.pools.iter().find(|pool| pool.name == name) else {
            return false;
        };
        let listeners = || pool.members.iter().filter_map(|id| self.listeners.get(id));
        let busy = listeners().any(|l| l.state == ListenerState::Busy);
        let able = listeners().any(|l| l.running && l.state != ListenerState::Unknown);
        able && (busy || !pool.buffer.is_empty())
    }

    /// A reload: every pool goes (supervisord starts from new objects), the global serial
    /// goes on.
    pub(crate) fn reset(&mut self, identifier: String, main_log: Rc<RefCell<MainLog>>) {
        self.pools.clear();
        self.listeners.clear();
        self.ticks = [None; 3];
        self.identifier = identifier;
        self.main_log = main_log;
    }

    fn log(&self, level: LogLevel, message: &str) {
        self.main_log.borrow_mut().log(level, message);
    }

    /// Subscribes a pool; `members` are its processes' ids and names, in the pool's order.
    pub(crate) fn add_pool(
        &mut self,
        name: &str,
        pool: &svc_schema::Pool,
        members: Vec<(usize, String)>,
    ) {
        for (id, process) in &members {
            self.listeners.insert(
                *id,
                Listener {
                    name: process.clone(),
                    pool: name.to_string(),
                    state: ListenerState::Acknowledged,
                    running: false,
                    stdin: None,
                    event: None,
                    input: Vec::new(),
                    result_len: None,
                    result: Vec::new(),
                },
            );
        }
        self.pools.push(Pool {
            name: name.to_string(),
            events: pool.events.clone(),
            buffer_size: usize::try_from(pool.buffer_size).unwrap_or(1).max(1),
            buffer: VecDeque::new(),
            serial: None,
            members: members.into_iter().map(|(id, _)| id).collect(),
        });
    }

    /// Unsubscribes a pool (its group is being removed).
    pub(crate) fn remove_pool(&mut self, name: &str) {
        if let Some(index) = self.pools.iter().position(|pool| pool.name == name) {
            let pool = self.pools.remove(index);
            for id in pool.members {
                self.listeners.remove(&id);
            }
        }
    }

    /// True if some pool would take an event of this kind: callers skip building payloads
    /// nobody reads.
    pub(crate) fn wants(&self, kind: Kind) -> bool {
        self.pools
            .iter()
            .any(|pool| matches(&pool.events, kind) > 0)
    }

    /// Publishes an event: every subscribed pool buffers it and delivers what it can.
    pub(crate) fn publish(&mut self, kind: Kind, payload: impl FnOnce() -> String) {
        let counts: Vec<usize> = self
            .pools
            .iter()
            .map(|pool| matches(&pool.events, kind))
            .collect();
        if counts.iter().all(|&count| count == 0) {
            return;
        }
        let event = Rc::new(Event {
            kind,
            payload: payload(),
            serial: next_serial(&mut self.serial),
        });
        for (index, count) in counts.into_iter().enumerate() {
            if count == 0 {
                continue;
            }
            let pool_serial = next_serial(&mut self.pools[index].serial);
            let queued = Queued {
                event: Rc::clone(&event),
                pool_serial,
            };
            self.accept(index, queued.clone(), false, false);
            // Matched again through another subscription: supervisord's callback runs once
            // per match and buffers the same event again.
            for _ in 1..count {
                self.accept(index, queued.clone(), false, true);
            }
        }
        for index in 0..self.pools.len() {
            self.dispatch(index);
        }
    }

    /// supervisord's `_acceptEvent`.
    fn accept(&mut self, pool: usize, queued: Queued, head: bool, again: bool) {
        let pool = &mut self.pools[pool];
        let mut lines = Vec::new();
        if again {
            lines.push((
                LogLevel::Debug,
                format!(
                    "rebuffering event {} for pool {} (buf size={}, max={})",
                    queued.event.serial,
                    pool.name,
                    pool.buffer.len(),
                    pool.buffer_size
                ),
            ));
        }
        if pool.buffer.len() >= pool.buffer_size
            && let Some(discarded) = pool.buffer.pop_front()
        {
            lines.push((
                LogLevel::Error,
                format!(
                    "pool {} event buffer overflowed, discarding event {}",
                    pool.name, discarded.event.serial
                ),
            ));
        }
        if head {
            pool.buffer.push_front(queued);
        } else {
            pool.buffer.push_back(queued);
        }
        for (level, line) in lines {
            self.log(level, &line);
        }
    }

    /// Sends buffered events, oldest first, to the pool's RUNNING and READY listeners.
    fn dispatch(&mut self, pool: usize) {
        loop {
            let Some(queued) = self.pools[pool].buffer.front().cloned() else {
                return;
            };
            let pool_name = self.pools[pool].name.clone();
            let mut sent = false;
            for id in self.pools[pool].members.clone() {
                let Some(listener) = self.listeners.get(&id) else {
                    continue;
                };
                if !listener.running || listener.state != ListenerState::Ready {
                    continue;
                }
                let event = &queued.event;
                let envelope = format!(
                    "ver:3.0 server:{} serial:{} pool:{} poolserial:{} eventname:{} len:{}\n{}",
                    self.identifier,
                    event.serial,
                    pool_name,
                    queued.pool_serial,
                    event.kind.name(),
                    event.payload.chars().count(),
                    event.payload
                );
                let written = match &listener.stdin {
                    Some(stdin) => stdin.send(envelope.as_bytes(), &self.executor).is_ok(),
                    None => false,
                };
                let name = listener.name.clone();
                if !written {
                    self.log(
                        LogLevel::Debug,
                        &format!(
                            "epipe occurred while sending event {} to listener {name}, listener state unchanged",
                            event.serial
                        ),
                    );
                    continue;
                }
                if let Some(listener) = self.listeners.get_mut(&id) {
                    listener.state = ListenerState::Busy;
                    listener.event = Some(queued.clone());
                }
                self.log(
                    LogLevel::Debug,
                    &format!("event {} sent to listener {name}", event.serial),
                );
                sent = true;
                break;
            }
            if !sent {
                return;
            }
            self.pools[pool].buffer.pop_front();
        }
    }

    fn pool_of(&self, id: usize) -> Option<usize> {
        let listener = self.listeners.get(&id)?;
        self.pools
            .iter()
            .position(|pool| pool.name == listener.pool)
    }

    /// A listener process was spawned: it starts ACKNOWLEDGED, with `stdin` to write to.
    pub(crate) fn listener_spawned(&mut self, id: usize, stdin: Option<Rc<StdinPipe>>) {
        if let Some(listener) = self.listeners.get_mut(&id) {
            listener.state = ListenerState::Acknowledged;
            listener.running = false;
            listener.stdin = stdin;
            listener.event = None;
            listener.input.clear();
            listener.result_len = None;
            listener.result.clear();
        }
    }

    /// A listener process changed state: only RUNNING listeners get events.
    pub(crate) fn listener_state(&mut self, id: usize, state: State) {
        let Some(listener) = self.listeners.get_mut(&id) else {
            return;
        };
        listener.running = state == State::Running;
        if listener.running
            && let Some(pool) = self.pool_of(id)
        {
            self.dispatch(pool);
        }
    }

    /// A listener process was reaped: an event it was processing is buffered again.
    pub(crate) fn listener_exited(&mut self, id: usize) {
        let Some(listener) = self.listeners.get_mut(&id) else {
            return;
        };
        listener.running = false;
        listener.stdin = None;
        listener.input.clear();
        listener.result_len = None;
        listener.result.clear();
        if let Some(event) = listener.event.take() {
            self.rejected(id, event);
        }
        self.activity.notify(usize::MAX);
    }

    /// supervisord's `handle_rejected`: the event goes back to the head of the pool.
    fn rejected(&mut self, id: usize, event: Queued) {
        if let Some(pool) = self.pool_of(id) {
            self.accept(pool, event, true, true);
            self.dispatch(pool);
        }
    }

    fn change_state(&mut self, id: usize, to: ListenerState) {
        let Some(listener) = self.listeners.get_mut(&id) else {
            return;
        };
        let from = listener.state;
        listener.state = to;
        let name = listener.name.clone();
        self.log(
            LogLevel::Debug,
            &format!("{name}: {} -> {}", from.name(), to.name()),
        );
        if to == ListenerState::Unknown {
            self.log(
                LogLevel::Warn,
                &format!(
                    "{name}: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol"
                ),
            );
        }
    }

    /// What a listener wrote on stdout: supervisord's `handle_listener_state_change`.
    pub(crate) fn listener_output(&mut self, id: usize, data: &[u8]) {
        match self.listeners.get_mut(&id) {
            Some(listener) => listener.input.extend_from_slice(data),
            None => return,
        }
        let mut ready = false;
        while let Some(listener) = self.listeners.get_mut(&id) {
            if listener.input.is_empty() {
                break;
            }
            match listener.state {
                ListenerState::Unknown => {
                    listener.input.clear();
                    break;
                }
                ListenerState::Acknowledged => {
                    const TOKEN: &[u8] = b"READY\n";
                    if listener.input.len() < TOKEN.len() {
                        break;
                    }
                    if listener.input.starts_with(TOKEN) {
                        listener.input.drain(..TOKEN.len());
                        listener.event = None;
                        self.change_state(id, ListenerState::Ready);
                        ready = true;
                    } else {
                        listener.input.clear();
                        listener.event = None;
                        self.change_state(id, ListenerState::Unknown);
                        break;
                    }
                }
                ListenerState::Ready => {
                    // Spurious data: supervisord is strict about it.
                    listener.input.clear();
                    listener.event = None;
                    self.change_state(id, ListenerState::Unknown);
                    break;
                }
                ListenerState::Busy => {
                    if !self.read_result(id) {
                        break;
                    }
                }
            }
        }
        if ready && let Some(pool) = self.pool_of(id) {
            self.dispatch(pool);
        }
        self.activity.notify(usize::MAX);
    }

    /// Reads as much of a BUSY listener's answer as has arrived; false when it needs more.
    fn read_result(&mut self, id: usize) -> bool {
        let Some(listener) = self.listeners.get_mut(&id) else {
            return false;
        };
        let Some(needed) = listener.result_len else {
            let Some(end) = listener.input.iter().position(|&b| b == b'\n') else {
                return false;
            };
            let line: Vec<u8> = listener.input.drain(..=end).collect();
            let line = &line[..line.len() - 1];
            // supervisord skips the first 7 bytes (`RESULT `) unchecked and reads the rest
            // with Python's int().
            let length = line
                .get(7..)
                .and_then(|text| std::str::from_utf8(text).ok())
                .and_then(python_length);
            match length {
                Some(length) => {
                    listener.result_len = Some(length);
                    listener.result.clear();
                    return true;
                }
                None => {
                    let name = listener.name.clone();
                    let shown = output_text(line);
                    listener.input.clear();
                    let event = listener.event.take();
                    self.log(
                        LogLevel::Warn,
                        &format!("{name}: bad result line: '{shown}'"),
                    );
                    self.change_state(id, ListenerState::Unknown);
                    if let Some(event) = event {
                        self.rejected(id, event);
                    }
                    return false;
                }
            }
        };
        let missing = needed - listener.result.len();
        let take = missing.min(listener.input.len());
        listener.result.extend(listener.input.drain(..take));
        if listener.result.len() < needed {
            return false;
        }
        let result = std::mem::take(&mut listener.result);
        listener.result_len = None;
        let event = listener.event.take();
        let name = listener.name.clone();
        // The default result handler: exactly `OK` accepts, anything else rejects.
        if result == b"OK" {
            self.log(LogLevel::Debug, &format!("{name}: event was processed"));
            self.change_state(id, ListenerState::Acknowledged);
        } else {
            self.log(LogLevel::Warn, &format!("{name}: event was rejected"));
            self.change_state(id, ListenerState::Acknowledged);
            if let Some(event) = event {
                self.rejected(id, event);
            }
        }
        true
    }

    /// Publishes the TICK events whose timeslice changed since the last look (supervisord's
    /// `tick`); the first look only records the timeslices.
    pub(crate) fn tick(&mut self, now: SystemTime) {
        let seconds = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        for (index, (period, kind)) in TICKS.into_iter().enumerate() {
            let slice = seconds - seconds % period;
            match self.ticks[index] {
                None => self.ticks[index] = Some(slice),
                Some(last) if last != slice => {
                    self.ticks[index] = Some(slice);
                    self.publish(kind, || format!("when:{slice}"));
                }
                Some(_) => {}
            }
        }
    }

    /// When the next tick event is due, if some pool subscribes to one.
    pub(crate) fn next_tick(&self, now: SystemTime) -> Option<SystemTime> {
        if !TICKS.iter().any(|&(_, kind)| self.wants(kind)) {
            return None;
        }
        let since = now.duration_since(SystemTime::UNIX_EPOCH).ok()?;
        let next = (since.as_secs() / 5 + 1) * 5;
        Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(next))
    }
}

/// Python's `int()` of a result length: optional whitespace and `+`, digits with single
/// underscores between them. Negative lengths are refused (supervisord's arithmetic on them
/// is meaningless).
fn python_length(text: &str) -> Option<usize> {
    let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
    let text = text.strip_prefix('+').unwrap_or(text);
    if text.is_empty() || text.starts_with('_') || text.ends_with('_') || text.contains("__") {
        return None;
    }
    let digits: String = text.chars().filter(|&c| c != '_').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_match_by_type_and_base() {
        let subs = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(matches(&subs(&["EVENT"]), Kind::Tick5), 1);
        assert_eq!(matches(&subs(&["TICK"]), Kind::Tick60), 1);
        assert_eq!(matches(&subs(&["TICK_5"]), Kind::Tick60), 0);
        assert_eq!(
            matches(
                &subs(&["PROCESS_STATE", "PROCESS_STATE_EXITED"]),
                Kind::ProcessStateExited
            ),
            2
        );
        assert_eq!(
            matches(&subs(&["PROCESS_STATE"]), Kind::ProcessLogStdout),
            0
        );
        assert_eq!(matches(&subs(&["EVENT"]), Kind::RemoteCommunication), 1);
    }

    #[test]
    fn state_payloads_are_supervisords() {
        assert_eq!(
            state_payload("cat", "cat", State::Stopped, State::Starting, true, 0, 0),
            "processname:cat groupname:cat from_state:STOPPED tries:0"
        );
        assert_eq!(
            state_payload("cat", "g", State::Running, State::Exited, false, 42, 0),
            "processname:cat groupname:g from_state:RUNNING expected:0 pid:42"
        );
        assert_eq!(
            state_payload("cat", "cat", State::Backoff, State::Fatal, true, 0, 0),
            "processname:cat groupname:cat from_state:BACKOFF"
        );
        assert_eq!(
            state_payload("cat", "cat", State::Starting, State::Running, true, 7, 0),
            "processname:cat groupname:cat from_state:STARTING pid:7"
        );
    }

    #[test]
    fn result_lengths_read_like_python_int() {
        assert_eq!(python_length("2"), Some(2));
        assert_eq!(python_length(" 1_0 "), Some(10));
        assert_eq!(python_length("+4"), Some(4));
        assert_eq!(python_length("x"), None);
        assert_eq!(python_length("-1"), None);
        assert_eq!(python_length(""), None);
        assert_eq!(python_length("1__0"), None);
    }

    #[test]
    fn serials_wrap_after_maxsize() {
        let mut serial = None;
        assert_eq!(next_serial(&mut serial), 0);
        assert_eq!(next_serial(&mut serial), 1);
        let mut serial = Some(i64::MAX as u64);
        assert_eq!(next_serial(&mut serial), 0);
    }

    #[test]
    fn undecodable_output_is_shown_as_python_bytes() {
        assert_eq!(output_text("é".as_bytes()), "é");
        assert_eq!(output_text(b"\xff'"), "Undecodable: b\"\\xff'\"");
    }
}
