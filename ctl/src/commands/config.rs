//! Commands on the configuration: `avail`, `reread`, `update`, `add`, `remove`.
//!
//! `reread` only reports what `reloadConfig` found; `update` acts on it group by group
//! (removed: stop then remove; changed: stop, remove, add; added: add), `add`/`remove`
//! act on named groups. None of them calls `upcheck` first, as in supervisorctl.

use std::collections::BTreeSet;

use super::words;
use crate::api::faults;
use crate::exception::Exception;
use crate::{Controller, Failure, exit, help, output};

/// `avail`: every configured process, in use or not.
pub(crate) fn avail(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    if !argument.is_empty() {
        ctl.output("Error: avail accepts no arguments");
        ctl.exit_status = exit::GENERIC;
        help::show("avail");
        return Ok(());
    }
    let supervisor = ctl.supervisor()?;
    match supervisor.get_all_config_info() {
        Ok(infos) => {
            for info in &infos {
                ctl.output(&output::config_line(info));
            }
        }
        Err(failure) => {
            if let Failure::Raised(Exception::Fault { .. }) = failure {
                ctl.exit_status = exit::GENERIC;
            }
            if failure.fault_code() != Some(faults::SHUTDOWN_STATE) {
                return Err(failure);
            }
            ctl.output("ERROR: supervisor shutting down");
        }
    }
    Ok(())
}

/// `reread`: what changed in the configuration files.
pub(crate) fn reread(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    if !argument.is_empty() {
        ctl.output("Error: reread accepts no arguments");
        ctl.exit_status = exit::GENERIC;
        help::show("reread");
        return Ok(());
    }
    let supervisor = ctl.supervisor()?;
    match supervisor.reload_config() {
        Ok(changes) => {
            for line in output::change_lines(&changes) {
                ctl.output(&line);
            }
        }
        Err(Failure::Raised(Exception::Fault { code, string })) => {
            ctl.exit_status = exit::GENERIC;
            match code {
                faults::SHUTDOWN_STATE => ctl.output("ERROR: supervisor shutting down"),
                faults::CANT_REREAD => ctl.output(&format!("ERROR: {string}")),
                _ => return Err(Failure::Raised(Exception::Fault { code, string })),
            }
        }
        Err(failure) => return Err(failure),
    }
    Ok(())
}

/// `add group...`: activates groups added to the configuration.
pub(crate) fn add(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    let names = words(argument);
    let supervisor = ctl.supervisor()?;
    for name in names {
        match supervisor.add_process_group(name) {
            Ok(_) => ctl.output(&format!("{name}: added process group")),
            Err(failure) => match failure.fault_code() {
                Some(faults::SHUTDOWN_STATE) => {
                    ctl.output("ERROR: shutting down");
                    ctl.exit_status = exit::GENERIC;
                }
                Some(faults::ALREADY_ADDED) => ctl.output("ERROR: process group already active"),
                Some(faults::BAD_NAME) => {
                    ctl.output(&format!("ERROR: no such process/group: {name}"));
                    ctl.exit_status = exit::GENERIC;
                }
                _ => {
                    ctl.exit_status = exit::GENERIC;
                    return Err(failure);
                }
            },
        }
    }
    Ok(())
}

/// `remove group...`: removes stopped groups from the running configuration.
pub(crate) fn remove(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    let names = words(argument);
    let supervisor = ctl.supervisor()?;
    for name in names {
        match supervisor.remove_process_group(name) {
            Ok(_) => ctl.output(&format!("{name}: removed process group")),
            Err(failure) => {
                if let Failure::Raised(Exception::Fault { .. }) = failure {
                    ctl.exit_status = exit::GENERIC;
                }
                match failure.fault_code() {
                    Some(faults::STILL_RUNNING) => {
                        ctl.output(&format!("ERROR: process/group still running: {name}"));
                    }
                    Some(faults::BAD_NAME) => {
                        ctl.output(&format!("ERROR: no such process/group: {name}"));
                    }
                    _ => return Err(failure),
                }
            }
        }
    }
    Ok(())
}

/// `update [all|group...]`: applies `reloadConfig`'s changes.
pub(crate) fn update(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    if words(argument).contains(&"--plan") {
        return update_plan(ctl);
    }
    let supervisor = ctl.supervisor()?;
    let changes = match supervisor.reload_config() {
        Ok(changes) => changes,
        Err(failure) => {
            if let Failure::Raised(Exception::Fault { .. }) = failure {
                ctl.exit_status = exit::GENERIC;
            }
            if failure.fault_code() == Some(faults::SHUTDOWN_STATE) {
                ctl.output("ERROR: already shutting down");
                return Ok(());
            }
            return Err(failure);
        }
    };
    // Python keeps the names in a set; its iteration order is a hash order that changes
    // from run to run, so the order of the `no such group` lines is the command line's.
    let mut valid: Vec<&str> = Vec::new();
    for name in words(argument) {
        if !valid.contains(&name) {
            valid.push(name);
        }
    }
    if valid.contains(&"all") {
        valid.clear();
    }
    if !valid.is_empty() {
        let mut groups: BTreeSet<String> = supervisor
            .get_all_process_info()?
            .into_iter()
            .map(|info| info.group)
            .collect();
        groups.extend(changes.added.iter().cloned());
        for name in &valid {
            if !groups.contains(*name) {
                ctl.output(&format!("ERROR: no such group: {name}"));
                ctl.exit_status = exit::GENERIC;
            }
        }
    }
    let wanted = |group: &str| valid.is_empty() || valid.contains(&group);
    for group in changes.removed.iter().filter(|group| wanted(group)) {
        let results = supervisor.stop_process_group(group)?;
        ctl.output(&format!("{group}: stopped"));
        if results.iter().any(|result| result.status == faults::FAILED) {
            ctl.output(&format!("{group}: has problems; not removing"));
            ctl.exit_status = exit::GENERIC;
            continue;
        }
        supervisor.remove_process_group(group)?;
        ctl.output(&format!("{group}: removed process group"));
    }
    for group in changes.changed.iter().filter(|group| wanted(group)) {
        supervisor.stop_process_group(group)?;
        ctl.output(&format!("{group}: stopped"));
        supervisor.remove_process_group(group)?;
        supervisor.add_process_group(group)?;
        ctl.output(&format!("{group}: updated process group"));
    }
    for group in changes.added.iter().filter(|group| wanted(group)) {
        supervisor.add_process_group(group)?;
        ctl.output(&format!("{group}: added process group"));
    }
    Ok(())
}

/// Beyond supervisorctl: `update --plan` prints what `update` would add, remove and restart,
/// and which values changed, without applying anything (`svc.updatePlan`, served by
/// `svc run` only).
fn update_plan(ctl: &mut Controller) -> Result<(), Failure> {
    let supervisor = ctl.supervisor()?;
    let plan = match supervisor.update_plan() {
        Ok(plan) => plan,
        Err(failure) => {
            if failure.fault_code() == Some(faults::UNKNOWN_METHOD) {
                ctl.output("ERROR: this server cannot plan an update (svc.updatePlan is served by svc run only)");
                ctl.exit_status = exit::GENERIC;
                return Ok(());
            }
            return Err(failure);
        }
    };
    if plan.added.is_empty() && plan.changed.is_empty() && plan.removed.is_empty() {
        ctl.output("No config updates to processes");
        return Ok(());
    }
    for group in &plan.removed {
        ctl.output(&format!("{group}: would be stopped and removed"));
    }
    for (group, changes) in &plan.changed {
        ctl.output(&format!(
            "{group}: would be restarted ({})",
            changes.join(", ")
        ));
    }
    for group in &plan.added {
        ctl.output(&format!("{group}: would be added"));
    }
    Ok(())
}
