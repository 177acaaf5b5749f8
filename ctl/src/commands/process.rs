//! Commands on processes: `status`, `start`, `stop`, `restart`, `signal`, `pid`, `clear`.
//!
//! Names are `name`, `group:name`, `group:*` (or `group:`) and `all`. A group goes to the
//! `*ProcessGroup` call and prints one line per result; a single process goes to the
//! `*Process` call, whose fault is turned into the same line. Exit statuses come from
//! `set_exitstatus_from_xmlrpc_fault` with the command's ignored fault (`already started`
//! for start, `not running` for stop).

use super::words;
use crate::api::{
    Outcome, ProcessInfo, STOPPED_STATES, faults, make_namespec, py_int, py_str, split_namespec,
};
use crate::exception::Exception;
use crate::{Controller, Failure, exit, help, output};

/// A fault from a single-process call, or the failure to pass on.
fn fault(failure: Failure) -> Result<(i32, String), Failure> {
    match failure {
        Failure::Raised(Exception::Fault { code, string }) => Ok((code, string)),
        other => Err(other),
    }
}

/// `status [name...]`.
pub(crate) fn status(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    if !ctl.upcheck()? {
        ctl.exit_status = exit::STATUS_UNKNOWN;
        return Ok(());
    }
    let supervisor = ctl.supervisor()?;
    let all = supervisor.get_all_process_info()?;
    let names = words(argument);
    let matching: Vec<ProcessInfo> = if names.is_empty() || names.contains(&"all") {
        all
    } else {
        let mut matching = Vec::new();
        for name in names {
            let (group, process) = split_namespec(name);
            let mut bad_name = true;
            for info in &all {
                let matched = info.group == group && process.is_none_or(|p| info.name == p);
                if matched {
                    bad_name = false;
                    matching.push(info.clone());
                }
            }
            if bad_name {
                match process {
                    None => ctl.output(&format!("{group}: ERROR (no such group)")),
                    Some(_) => ctl.output(&format!("{name}: ERROR (no such process)")),
                }
                ctl.exit_status = exit::STATUS_UNKNOWN;
            }
        }
        matching
    };
    for line in output::status_lines(&matching) {
        ctl.output(&line);
    }
    for info in &matching {
        if py_int(&info.state).is_some_and(|state| STOPPED_STATES.contains(&state)) {
            ctl.exit_status = exit::STATUS_NOT_RUNNING;
        }
    }
    Ok(())
}

/// `start name...|all`.
pub(crate) fn start(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names = words(argument);
    let supervisor = ctl.supervisor()?;
    if names.is_empty() {
        ctl.output("Error: start requires a process name");
        ctl.exit_status = exit::INVALID_ARGS;
        help::show("start");
        return Ok(());
    }
    let ignored = Some(faults::ALREADY_STARTED);
    if names.contains(&"all") {
        for result in supervisor.start_all_processes()? {
            ctl.output(&output::start_result(&result)?);
            ctl.set_exit_status_from_fault(result.status, ignored);
        }
        return Ok(());
    }
    for name in names {
        let (group, process) = split_namespec(name);
        match process {
            None => match supervisor.start_process_group(group) {
                Ok(results) => {
                    for result in results {
                        ctl.output(&output::start_result(&result)?);
                        ctl.set_exit_status_from_fault(result.status, ignored);
                    }
                }
                Err(failure) if failure.fault_code() == Some(faults::BAD_NAME) => {
                    ctl.output(&format!("{group}: ERROR (no such group)"));
                    ctl.exit_status = exit::INVALID_ARGS;
                }
                Err(failure) => {
                    ctl.exit_status = exit::GENERIC;
                    return Err(failure);
                }
            },
            Some(process) => match supervisor.start_process(name) {
                Ok(_) => ctl.output(&format!("{}: started", make_namespec(group, process))),
                Err(failure) => {
                    let (code, string) = fault(failure)?;
                    let outcome = Outcome::from_fault(group, process, code, &string);
                    ctl.output(&output::start_result(&outcome)?);
                    ctl.set_exit_status_from_fault(code, ignored);
                }
            },
        }
    }
    Ok(())
}

/// `stop name...|all`.
pub(crate) fn stop(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names = words(argument);
    let supervisor = ctl.supervisor()?;
    if names.is_empty() {
        ctl.output("Error: stop requires a process name");
        ctl.exit_status = exit::GENERIC;
        help::show("stop");
        return Ok(());
    }
    let ignored = Some(faults::NOT_RUNNING);
    if names.contains(&"all") {
        for result in supervisor.stop_all_processes()? {
            ctl.output(&output::signal_result(&result, "stopped")?);
            ctl.set_exit_status_from_fault(result.status, ignored);
        }
        return Ok(());
    }
    for name in names {
        let (group, process) = split_namespec(name);
        match process {
            None => match supervisor.stop_process_group(group) {
                Ok(results) => {
                    for result in results {
                        ctl.output(&output::signal_result(&result, "stopped")?);
                        ctl.set_exit_status_from_fault(result.status, ignored);
                    }
                }
                Err(failure) => {
                    ctl.exit_status = exit::GENERIC;
                    if failure.fault_code() != Some(faults::BAD_NAME) {
                        return Err(failure);
                    }
                    ctl.output(&format!("{group}: ERROR (no such group)"));
                }
            },
            Some(process) => match supervisor.stop_process(name) {
                Ok(_) => ctl.output(&format!("{}: stopped", make_namespec(group, process))),
                Err(failure) => {
                    let (code, string) = fault(failure)?;
                    let outcome = Outcome::from_fault(group, process, code, &string);
                    ctl.output(&output::signal_result(&outcome, "stopped")?);
                    ctl.set_exit_status_from_fault(code, ignored);
                }
            },
        }
    }
    Ok(())
}

/// `restart name...|all`: `stop`, then `start`, with the same names.
pub(crate) fn restart(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    if words(argument).is_empty() {
        ctl.output("Error: restart requires a process name");
        ctl.exit_status = exit::GENERIC;
        help::show("restart");
        return Ok(());
    }
    stop(ctl, argument)?;
    start(ctl, argument)
}

/// `signal SIG name...|all`.
pub(crate) fn signal(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let args = words(argument);
    let [signal, names @ ..] = args.as_slice() else {
        return signal_usage(ctl);
    };
    if names.is_empty() {
        return signal_usage(ctl);
    }
    let supervisor = ctl.supervisor()?;
    if names.contains(&"all") {
        for result in supervisor.signal_all_processes(signal)? {
            ctl.output(&output::signal_result(&result, "signalled")?);
            ctl.set_exit_status_from_fault(result.status, None);
        }
        return Ok(());
    }
    for name in names {
        let (group, process) = split_namespec(name);
        match process {
            None => match supervisor.signal_process_group(group, signal) {
                Ok(results) => {
                    for result in results {
                        ctl.output(&output::signal_result(&result, "signalled")?);
                        ctl.set_exit_status_from_fault(result.status, None);
                    }
                }
                Err(failure) if failure.fault_code() == Some(faults::BAD_NAME) => {
                    ctl.output(&format!("{group}: ERROR (no such group)"));
                    ctl.exit_status = exit::GENERIC;
                }
                Err(failure) => return Err(failure),
            },
            Some(process) => match supervisor.signal_process(name, signal) {
                Ok(_) => ctl.output(&format!("{}: signalled", make_namespec(group, process))),
                Err(failure) => {
                    let (code, string) = fault(failure)?;
                    let outcome = Outcome::from_fault(group, process, code, &string);
                    ctl.output(&output::signal_result(&outcome, "signalled")?);
                    ctl.set_exit_status_from_fault(code, None);
                }
            },
        }
    }
    Ok(())
}

fn signal_usage(ctl: &mut Controller) -> Result<(), Failure> {
    ctl.output("Error: signal requires a signal name and a process name");
    help::show("signal");
    ctl.exit_status = exit::GENERIC;
    Ok(())
}

/// `pid [name...|all]`: supervisord's pid, or each process's (0 when not running: exit 7).
pub(crate) fn pid(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    let supervisor = ctl.supervisor()?;
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names = words(argument);
    if names.is_empty() {
        let pid = supervisor.get_pid()?;
        ctl.output(&py_str(&pid));
    } else if names.contains(&"all") {
        for info in supervisor.get_all_process_info()? {
            ctl.output(&py_str(&info.pid));
        }
    } else {
        for name in names {
            match supervisor.get_process_info(name) {
                Ok(info) => {
                    ctl.output(&py_str(&info.pid));
                    if py_int(&info.pid) == Some(0) {
                        ctl.exit_status = exit::NOT_RUNNING;
                    }
                }
                Err(failure) => {
                    ctl.exit_status = exit::GENERIC;
                    if failure.fault_code() != Some(faults::BAD_NAME) {
                        return Err(failure);
                    }
                    ctl.output(&format!("No such process {name}"));
                }
            }
        }
    }
    Ok(())
}

/// `clear name...|all`: clears process logs.
pub(crate) fn clear(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names = words(argument);
    if names.is_empty() {
        ctl.output("Error: clear requires a process name");
        ctl.exit_status = exit::GENERIC;
        help::show("clear");
        return Ok(());
    }
    let supervisor = ctl.supervisor()?;
    if names.contains(&"all") {
        for result in supervisor.clear_all_process_logs()? {
            ctl.output(&output::clear_result(&result)?);
            ctl.set_exit_status_from_fault(result.status, None);
        }
        return Ok(());
    }
    for name in names {
        let (group, process) = split_namespec(name);
        // supervisorctl formats a missing process name (`group:*`) as Python's `None`.
        let process = process.unwrap_or("None");
        match supervisor.clear_process_logs(name) {
            Ok(_) => ctl.output(&format!("{}: cleared", make_namespec(group, process))),
            Err(failure) => {
                let (code, string) = fault(failure)?;
                let outcome = Outcome::from_fault(group, process, code, &string);
                ctl.output(&output::clear_result(&outcome)?);
                ctl.set_exit_status_from_fault(code, None);
            }
        }
    }
    Ok(())
}
