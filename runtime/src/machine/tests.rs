//! Transition-by-transition tests of the state machine, with a synthetic clock.

use std::time::{Duration, Instant};

use svc_schema::{AutoRestart, ShutdownOn};

use super::*;

fn policy() -> Policy {
    Policy {
        startsecs: 1,
        startretries: 3,
        autorestart: AutoRestart::Unexpected,
        exitcodes: vec![0],
        stopsignal: libc::SIGTERM,
        stopwaitsecs: 10,
        stopasgroup: false,
        killasgroup: false,
        shutdown_on: None,
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Drives one machine, answering every `Spawn` with a pid.
struct Harness {
    machine: Machine,
    policy: Policy,
    mood: Mood,
    t0: Instant,
    next_pid: i32,
    log: Vec<(Level, String)>,
    states: Vec<State>,
    /// Every state change as `(to, pid, tries, expected)`, what events are made of.
    changes: Vec<(State, i32, i64, bool)>,
    kills: Vec<(i32, bool)>,
    shutdowns: Vec<String>,
}

impl Harness {
    fn new(policy: Policy) -> Harness {
        Harness {
            machine: Machine::new("web"),
            policy,
            mood: Mood::Running,
            t0: Instant::now(),
            next_pid: 100,
            log: Vec::new(),
            states: Vec::new(),
            changes: Vec::new(),
            kills: Vec::new(),
            shutdowns: Vec::new(),
        }
    }

    /// Feeds `input` at `t0 + at`; spawns succeed unless `fail` is set.
    fn feed(&mut self, input: Input, at: Duration) {
        self.feed_with(input, at, None);
    }

    fn feed_with(&mut self, input: Input, at: Duration, spawn_error: Option<&str>) {
        let now = self.t0 + at;
        let mut queue = vec![input];
        while let Some(input) = queue.pop() {
            for action in self.machine.step(&self.policy, self.mood, input, now) {
                match action {
                    Action::Spawn => match spawn_error {
                        Some(error) => queue.push(Input::SpawnFailed(error.to_string())),
                        None => {
                            self.next_pid += 1;
                            queue.push(Input::Spawned { pid: self.next_pid });
                        }
                    },
                    Action::Kill { signal, group } => self.kills.push((signal, group)),
                    Action::Log(level, line) => self.log.push((level, line)),
                    Action::Changed {
                        to,
                        pid,
                        tries,
                        expected,
                        ..
                    } => {
                        self.states.push(to);
                        self.changes.push((to, pid, tries, expected));
                    }
                    Action::Shutdown(why) => self.shutdowns.push(why),
                }
            }
        }
    }

    fn deadline_offset(&self) -> Option<Duration> {
        self.machine.deadline.map(|d| d - self.t0)
    }
}

#[test]
fn start_then_running_after_startsecs() {
    let mut h = Harness::new(policy());
    h.feed(Input::Start, secs(0));
    assert_eq!(h.machine.state, State::Starting);
    assert_eq!(h.machine.pid, Some(101));
    assert_eq!(h.deadline_offset(), Some(secs(1)));
    // A deadline delivered early changes nothing.
    h.feed(Input::Deadline, Duration::from_millis(500));
    assert_eq!(h.machine.state, State::Starting);
    h.feed(Input::Deadline, secs(1));
    assert_eq!(h.machine.state, State::Running);
    assert_eq!(h.machine.deadline, None);
    assert_eq!(
        h.log,
        vec![
            (Level::Info, "spawned: 'web' with pid 101".to_string()),
            (
                Level::Info,
                "success: web entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)"
                    .to_string()
            ),
        ]
    );
}

#[test]
fn startsecs_zero_is_running_at_once() {
    let mut h = Harness::new(Policy {
        startsecs: 0,
        ..policy()
    });
    h.feed(Input::Start, secs(0));
    assert_eq!(h.states, vec![State::Starting, State::Running]);
}

#[test]
fn quick_exit_backs_off_linearly_then_gives_up() {
    let mut h = Harness::new(policy());
    h.feed(Input::Start, secs(0));
    let mut at = secs(0);
    let mut waits = Vec::new();
    for _ in 0..4 {
        h.feed(Input::Exited(ExitStatus::exited(1)), at);
        if h.machine.state == State::Fatal {
            break;
        }
        assert_eq!(h.machine.state, State::Backoff);
        let wait = h.deadline_offset().unwrap() - at;
        waits.push(wait);
        at += wait;
        h.feed(Input::Deadline, at);
        assert_eq!(h.machine.state, State::Starting);
    }
    assert_eq!(waits, vec![secs(1), secs(2), secs(3)]);
    assert_eq!(h.machine.state, State::Fatal);
    assert_eq!(
        h.machine.spawnerr.as_deref(),
        Some("Exited too quickly (process log may have details)")
    );
    assert_eq!(
        h.log.last().unwrap().1,
        "gave up: web entered FATAL state, too many start retries too quickly"
    );
    assert_eq!(
        h.log
            .iter()
            .filter(|(level, line)| *level == Level::Warn
                && line == "exited: web (exit status 1; not expected)")
            .count(),
        4
    );
}

#[test]
fn quick_exit_backs_off_even_with_an_expected_code_and_autorestart_false() {
    let mut h = Harness::new(Policy {
        autorestart: AutoRestart::False,
        startretries: 0,
        ..policy()
    });
    h.feed(Input::Start, secs(0));
    h.feed(
        Input::Exited(ExitStatus::exited(0)),
        Duration::from_millis(10),
    );
    assert_eq!(
        h.states,
        vec![State::Starting, State::Backoff, State::Fatal]
    );
}

#[test]
fn spawn_errors_count_as_retries() {
    let mut h = Harness::new(Policy {
        startretries: 1,
        ..policy()
    });
    h.feed_with(Input::Start, secs(0), Some("can't find command '/x'"));
    assert_eq!(h.machine.state, State::Backoff);
    assert_eq!(
        h.log[0],
        (Level::Info, "spawnerr: can't find command '/x'".into())
    );
    h.feed_with(Input::Deadline, secs(1), Some("can't find command '/x'"));
    assert_eq!(h.machine.state, State::Fatal);
    assert_eq!(
        h.machine.spawnerr.as_deref(),
        Some("can't find command '/x'")
    );
}

fn running(policy: Policy) -> Harness {
    let mut h = Harness::new(policy);
    h.feed(Input::Start, secs(0));
    h.feed(Input::Deadline, secs(1));
    assert_eq!(h.machine.state, State::Running);
    h.states.clear();
    h.log.clear();
    h
}

#[test]
fn autorestart_unexpected() {
    let mut h = running(policy());
    h.feed(Input::Exited(ExitStatus::exited(0)), secs(5));
    assert_eq!(h.machine.state, State::Exited);
    assert_eq!(
        h.log[0],
        (Level::Info, "exited: web (exit status 0; expected)".into())
    );
    let mut h = running(policy());
    h.feed(Input::Exited(ExitStatus::exited(2)), secs(5));
    assert_eq!(h.states, vec![State::Exited, State::Starting]);
    assert_eq!(h.machine.pid, Some(102));
}

#[test]
fn autorestart_true_and_false() {
    let mut h = running(Policy {
        autorestart: AutoRestart::True,
        ..policy()
    });
    h.feed(Input::Exited(ExitStatus::exited(0)), secs(5));
    assert_eq!(h.states, vec![State::Exited, State::Starting]);
    let mut h = running(Policy {
        autorestart: AutoRestart::False,
        ..policy()
    });
    h.feed(Input::Exited(ExitStatus::exited(3)), secs(5));
    assert_eq!(h.states, vec![State::Exited]);
    assert_eq!(h.machine.spawnerr.as_deref(), Some("Bad exit code 3"));
    assert_eq!(h.machine.exitstatus, Some(3));
}

#[test]
fn exitcodes_decide_expected() {
    let mut h = running(Policy {
        exitcodes: vec![0, 2],
        ..policy()
    });
    h.feed(Input::Exited(ExitStatus::exited(2)), secs(5));
    assert_eq!(h.states, vec![State::Exited]);
    // A death by signal is never expected.
    let mut h = running(policy());
    h.feed(
        Input::Exited(ExitStatus::signaled(libc::SIGHUP, false)),
        secs(5),
    );
    assert_eq!(
        h.log[0],
        (
            Level::Warn,
            "exited: web (terminated by SIGHUP; not expected)".into()
        )
    );
}

#[test]
fn changes_carry_the_pid_and_tries_events_report() {
    // STARTING and BACKOFF carry the backoff counter; BACKOFF's is already incremented.
    let mut h = Harness::new(policy());
    h.feed(Input::Start, secs(0));
    h.feed(Input::Exited(ExitStatus::exited(1)), secs(0));
    assert_eq!(
        h.changes,
        vec![(State::Starting, 0, 0, true), (State::Backoff, 0, 1, true),]
    );
    // RUNNING, EXITED (with `expected`) and STOPPED carry the pid that ran, even the one
    // that just exited.
    let mut h = running(policy());
    h.changes.clear();
    h.feed(Input::Exited(ExitStatus::exited(2)), secs(5));
    assert_eq!(h.changes[0], (State::Exited, 101, 0, false));
    assert_eq!(h.changes[1], (State::Starting, 0, 0, true));
    let mut h = running(policy());
    h.changes.clear();
    h.feed(Input::Stop, secs(5));
    h.feed(
        Input::Exited(ExitStatus::signaled(libc::SIGTERM, false)),
        secs(6),
    );
    assert_eq!(
        h.changes,
        vec![
            (State::Stopping, 101, 0, true),
            (State::Stopped, 101, 0, true)
        ]
    );
    assert_eq!(h.machine.pid, None);
}

#[test]
fn shutdown_on_fatal_fires_when_the_retries_run_out() {
    let mut h = Harness::new(Policy {
        startretries: 1,
        shutdown_on: Some(ShutdownOn::Fatal),
        ..policy()
    });
    h.feed(Input::Start, secs(0));
    h.feed(Input::Exited(ExitStatus::exited(1)), secs(0));
    assert!(h.shutdowns.is_empty(), "a retry is left");
    h.feed(Input::Deadline, secs(1));
    h.feed(Input::Exited(ExitStatus::exited(1)), secs(1));
    assert_eq!(h.machine.state, State::Fatal);
    assert_eq!(h.shutdowns, vec!["entered FATAL state".to_string()]);
    // An unexpected exit from RUNNING is not FATAL: it restarts as usual.
    let mut h = running(Policy {
        shutdown_on: Some(ShutdownOn::Fatal),
        ..policy()
    });
    h.feed(Input::Exited(ExitStatus::exited(2)), secs(5));
    assert!(h.shutdowns.is_empty());
    assert_eq!(h.machine.state, State::Starting);
}

#[test]
fn shutdown_on_unexpected_fires_instead_of_a_restart() {
    let mut h = running(Policy {
        shutdown_on: Some(ShutdownOn::Unexpected),
        autorestart: AutoRestart::True,
        ..policy()
    });
    h.feed(Input::Exited(ExitStatus::exited(2)), secs(5));
    assert_eq!(h.shutdowns, vec!["exited unexpectedly".to_string()]);
    assert_eq!(
        h.states,
        vec![State::Exited],
        "no restart after the trigger"
    );
    // An expected exit restarts and does not fire.
    let mut h = running(Policy {
        shutdown_on: Some(ShutdownOn::Unexpected),
        autorestart: AutoRestart::True,
        ..policy()
    });
    h.feed(Input::Exited(ExitStatus::exited(0)), secs(5));
    assert!(h.shutdowns.is_empty());
    assert_eq!(h.states, vec![State::Exited, State::Starting]);
    // FATAL fires too.
    let mut h = Harness::new(Policy {
        startretries: 0,
        shutdown_on: Some(ShutdownOn::Unexpected),
        ..policy()
    });
    h.feed(Input::Start, secs(0));
    h.feed(Input::Exited(ExitStatus::exited(0)), secs(0));
    assert_eq!(h.shutdowns, vec!["entered FATAL state".to_string()]);
    // Nothing fires while the daemon stops.
    let mut h = running(Policy {
        shutdown_on: Some(ShutdownOn::Unexpected),
        ..policy()
    });
    h.mood = Mood::Stopping;
    h.feed(Input::Exited(ExitStatus::exited(2)), secs(5));
    assert!(h.shutdowns.is_empty());
}

#[test]
fn no_restart_while_the_daemon_stops() {
    let mut h = running(Policy {
        autorestart: AutoRestart::True,
        ..policy()
    });
    h.mood = Mood::Stopping;
    h.feed(Input::Exited(ExitStatus::exited(1)), secs(5));
    assert_eq!(h.states, vec![State::Exited]);
}

#[test]
fn stop_sends_stopsignal_then_sigkill_after_stopwaitsecs() {
    let mut h = running(Policy {
        stopwaitsecs: 2,
        ..policy()
    });
    h.feed(Input::Stop, secs(5));
    assert_eq!(h.machine.state, State::Stopping);
    assert_eq!(h.kills, vec![(libc::SIGTERM, false)]);
    assert_eq!(h.deadline_offset(), Some(secs(7)));
    h.feed(Input::Deadline, secs(7));
    assert_eq!(
        h.kills,
        vec![(libc::SIGTERM, false), (libc::SIGKILL, false)]
    );
    assert_eq!(
        h.log[1],
        (Level::Warn, "killing 'web' (101) with SIGKILL".into())
    );
    // Still alive: SIGKILL again every stopwaitsecs.
    assert_eq!(h.deadline_offset(), Some(secs(9)));
    h.feed(
        Input::Exited(ExitStatus::signaled(libc::SIGKILL, false)),
        secs(8),
    );
    assert_eq!(h.machine.state, State::Stopped);
    assert_eq!(
        h.log.last().unwrap(),
        &(Level::Warn, "stopped: web (terminated by SIGKILL)".into())
    );
}

#[test]
fn stopasgroup_and_killasgroup_choose_the_target() {
    let mut h = running(Policy {
        stopasgroup: true,
        killasgroup: true,
        ..policy()
    });
    h.feed(Input::Stop, secs(5));
    h.feed(Input::Deadline, secs(15));
    assert_eq!(h.kills, vec![(libc::SIGTERM, true), (libc::SIGKILL, true)]);
    assert_eq!(
        h.log[0].1,
        "killing web (pid 101) process group with signal SIGTERM"
    );
}

#[test]
fn stop_with_an_expected_exit_logs_info() {
    let mut h = running(policy());
    h.feed(Input::Stop, secs(5));
    h.feed(Input::Exited(ExitStatus::exited(0)), secs(5));
    assert_eq!(
        h.log.last().unwrap(),
        &(Level::Info, "stopped: web (exit status 0)".into())
    );
}

#[test]
fn stop_during_backoff_is_stopped_without_a_signal() {
    let mut h = Harness::new(policy());
    h.feed(Input::Start, secs(0));
    h.feed(
        Input::Exited(ExitStatus::exited(1)),
        Duration::from_millis(100),
    );
    assert_eq!(h.machine.state, State::Backoff);
    h.feed(Input::Stop, Duration::from_millis(200));
    assert_eq!(h.machine.state, State::Stopped);
    assert!(h.kills.is_empty());
    assert_eq!(h.machine.deadline, None);
    // A stale timer does nothing.
    h.feed(Input::Deadline, secs(2));
    assert_eq!(h.machine.state, State::Stopped);
}

#[test]
fn stop_during_starting() {
    let mut h = Harness::new(policy());
    h.feed(Input::Start, secs(0));
    h.feed(Input::Stop, Duration::from_millis(100));
    assert_eq!(h.machine.state, State::Stopping);
    h.feed(
        Input::Exited(ExitStatus::signaled(libc::SIGTERM, false)),
        Duration::from_millis(150),
    );
    assert_eq!(h.machine.state, State::Stopped);
    assert_eq!(h.machine.exitstatus, Some(-1));
}

#[test]
fn shutdown_gives_up_a_backoff() {
    let mut h = Harness::new(policy());
    h.feed(Input::Start, secs(0));
    h.feed(
        Input::Exited(ExitStatus::exited(1)),
        Duration::from_millis(100),
    );
    h.mood = Mood::Stopping;
    h.feed(Input::GiveUp, Duration::from_millis(200));
    assert_eq!(h.machine.state, State::Fatal);
    // No "gave up" line for a shutdown, as in supervisord.
    assert!(!h.log.iter().any(|(_, line)| line.starts_with("gave up")));
}

#[test]
fn start_from_fatal_and_exited() {
    let mut h = Harness::new(Policy {
        startretries: 0,
        ..policy()
    });
    h.feed(Input::Start, secs(0));
    h.feed(
        Input::Exited(ExitStatus::exited(1)),
        Duration::from_millis(1),
    );
    assert_eq!(h.machine.state, State::Fatal);
    h.feed(Input::Start, secs(3));
    assert_eq!(h.machine.state, State::Starting);
    assert_eq!(h.machine.spawnerr, None);
}

#[test]
fn start_while_running_only_warns() {
    let mut h = running(policy());
    h.feed(Input::Start, secs(3));
    assert!(h.states.is_empty());
    assert_eq!(h.machine.pid, Some(101));
    assert_eq!(
        h.log,
        vec![(Level::Warn, "process 'web' already running".to_string())]
    );
}

#[test]
fn a_signal_failure_is_unknown() {
    let mut h = running(policy());
    h.feed(Input::Stop, secs(3));
    h.feed(Input::SignalFailed("EPERM".into()), secs(3));
    assert_eq!(h.machine.state, State::Unknown);
    assert_eq!(h.machine.deadline, None);
    assert_eq!(h.log.last().unwrap().0, Level::Critical);
}

#[test]
fn exit_after_startsecs_before_the_timer_counts_as_running() {
    let mut h = Harness::new(policy());
    h.feed(Input::Start, secs(0));
    h.feed(Input::Exited(ExitStatus::exited(0)), secs(2));
    assert_eq!(
        h.states,
        vec![State::Starting, State::Running, State::Exited]
    );
}
