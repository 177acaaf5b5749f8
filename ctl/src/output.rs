//! What `svc ctl` prints: the writer (stdout, where a closed pipe ends the program with
//! status 0) and supervisorctl's formats and result messages, in one place.
//!
//! - [`status_lines`]: `'%(namespec)-{W}s%(state)-10s%(desc)s'`, W = max(30, longest
//!   namespec) + 3, widths counted in characters as Python's `%-Ns` counts them.
//! - [`start_result`], [`signal_result`], [`clear_result`]: one line per result entry; a
//!   result code supervisorctl does not know is its `ValueError`.
//! - [`config_line`] (`avail`), [`change_lines`] (`reread`).
//!
//! **Invariant:** every line supervisorctl prints with `ctl.output()` goes through [`line`],
//! which adds the one `\n` Python's `output` adds.

use std::io::Write as _;

use super::api::{Changes, ConfigInfo, Outcome, ProcessInfo, faults};
use super::exception::{Exception, Site};

/// Writes `bytes` to stdout and flushes; a closed stdout ends the program (status 0).
pub(crate) fn raw(bytes: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout.write_all(bytes).and_then(|()| stdout.flush())
        && error.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// `ctl.output(text)`: the text and a newline.
pub(crate) fn line(text: &str) {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(b'\n');
    raw(&bytes);
}

/// Text without a newline (a prompt).
pub(crate) fn prompt(text: &str) {
    raw(text.as_bytes());
}

/// A line on stderr (`http_client.Listener.error`).
pub(crate) fn error_line(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
}

/// Python's `'%-Ns' % text`: pads with spaces to `width` characters.
fn pad(text: &str, width: usize) -> String {
    let length = text.chars().count();
    let mut padded = String::with_capacity(text.len() + width.saturating_sub(length));
    padded.push_str(text);
    padded.extend(std::iter::repeat_n(' ', width.saturating_sub(length)));
    padded
}

/// `_show_statuses`: one aligned line per process.
pub(crate) fn status_lines(infos: &[ProcessInfo]) -> Vec<String> {
    let namespecs: Vec<String> = infos.iter().map(ProcessInfo::namespec).collect();
    let longest = namespecs
        .iter()
        .map(|namespec| namespec.chars().count())
        .fold(30, usize::max);
    namespecs
        .iter()
        .zip(infos)
        .map(|(namespec, info)| {
            format!(
                "{}{}{}",
                pad(namespec, longest + 3),
                pad(&info.statename, 10),
                info.description
            )
        })
        .collect()
}

/// `'%s: ERROR (%s)'`.
fn error(namespec: &str, what: &str) -> String {
    format!("{namespec}: ERROR ({what})")
}

/// supervisorctl's assertion on a code it has no message for.
fn unknown_code(outcome: &Outcome, site: Site) -> Exception {
    Exception::Other {
        class: "ValueError",
        message: format!(
            "Unknown result code {} for {}",
            outcome.status,
            outcome.namespec()
        ),
        site,
    }
}

/// `_startresult`.
pub(crate) fn start_result(outcome: &Outcome) -> Result<String, Exception> {
    let name = outcome.namespec();
    Ok(match outcome.status {
        faults::BAD_NAME => error(&name, "no such process"),
        faults::NO_FILE => error(&name, "no such file"),
        faults::NOT_EXECUTABLE => error(&name, "file is not executable"),
        faults::ALREADY_STARTED => error(&name, "already started"),
        faults::SPAWN_ERROR => error(&name, "spawn error"),
        faults::ABNORMAL_TERMINATION => error(&name, "abnormal termination"),
        faults::SUCCESS => format!("{name}: started"),
        _ => return Err(unknown_code(outcome, Site::START_RESULT)),
    })
}

/// `_signalresult` (`success` is `signalled`, or `stopped` for `_stopresult`).
pub(crate) fn signal_result(outcome: &Outcome, success: &str) -> Result<String, Exception> {
    let name = outcome.namespec();
    Ok(match outcome.status {
        faults::BAD_NAME => error(&name, "no such process"),
        faults::BAD_SIGNAL => error(&name, "bad signal name"),
        faults::NOT_RUNNING => error(&name, "not running"),
        faults::SUCCESS => format!("{name}: {success}"),
        faults::FAILED => outcome.description.clone(),
        _ => return Err(unknown_code(outcome, Site::SIGNAL_RESULT)),
    })
}

/// `_clearresult`.
pub(crate) fn clear_result(outcome: &Outcome) -> Result<String, Exception> {
    let name = outcome.namespec();
    Ok(match outcome.status {
        faults::BAD_NAME => error(&name, "no such process"),
        faults::FAILED => error(&name, "failed"),
        faults::SUCCESS => format!("{name}: cleared"),
        _ => return Err(unknown_code(outcome, Site::CLEAR_RESULT)),
    })
}

/// `_formatConfigInfo`: `'%(name)-32s %(inuse)-9s %(autostart)-9s %(priority)s'`.
pub(crate) fn config_line(info: &ConfigInfo) -> String {
    let name = super::api::make_namespec(&info.group, &info.name);
    let inuse = if info.inuse { "in use" } else { "avail" };
    let autostart = if info.autostart { "auto" } else { "manual" };
    format!(
        "{} {} {} {}:{}",
        pad(&name, 32),
        pad(inuse, 9),
        pad(autostart, 9),
        info.group_prio,
        info.process_prio
    )
}

/// `_formatChanges`: `name: available|changed|disappeared`, sorted by name (a name in two
/// lists keeps the last one: added, then changed, then removed).
pub(crate) fn change_lines(changes: &Changes) -> Vec<String> {
    let mut by_name = std::collections::BTreeMap::new();
    for (names, what) in [
        (&changes.added, "available"),
        (&changes.changed, "changed"),
        (&changes.removed, "disappeared"),
    ] {
        for name in names {
            by_name.insert(name.as_str(), what);
        }
    }
    if by_name.is_empty() {
        return vec!["No config updates to processes".into()];
    }
    by_name
        .into_iter()
        .map(|(name, what)| format!("{name}: {what}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dxr::Value;

    fn info(group: &str, name: &str, statename: &str, description: &str) -> ProcessInfo {
        ProcessInfo {
            group: group.into(),
            name: name.into(),
            state: Value::Integer(20),
            statename: statename.into(),
            description: description.into(),
            pid: Value::Integer(1),
        }
    }

    #[test]
    fn status_columns_start_at_33_or_after_the_longest_name() {
        let lines = status_lines(&[info("web", "web", "RUNNING", "pid 1, uptime 0:00:01")]);
        assert_eq!(
            lines,
            vec![format!(
                "{:<33}{:<10}pid 1, uptime 0:00:01",
                "web", "RUNNING"
            )]
        );
        let long = "g".repeat(40);
        let lines = status_lines(&[info(&long, &long, "STOPPED", "Not started")]);
        assert_eq!(lines[0], format!("{long}   STOPPED   Not started"));
    }

    #[test]
    fn results_have_supervisorctl_wording() {
        let outcome = Outcome::from_fault("pool", "pool_0", faults::SPAWN_ERROR, "SPAWN_ERROR");
        assert_eq!(
            start_result(&outcome).as_deref(),
            Ok("pool:pool_0: ERROR (spawn error)")
        );
        let outcome = Outcome::from_fault("web", "web", 1, "UNKNOWN_METHOD");
        assert_eq!(
            start_result(&outcome).unwrap_err().message(),
            "Unknown result code 1 for web"
        );
        let failed = Outcome::from_fault("web", "web", faults::FAILED, "FAILED: kill");
        assert_eq!(
            signal_result(&failed, "stopped").as_deref(),
            Ok("FAILED: kill")
        );
    }

    #[test]
    fn avail_lines_align_like_python() {
        let line = config_line(&ConfigInfo {
            group: "idle".into(),
            name: "idle".into(),
            inuse: true,
            autostart: false,
            group_prio: "999".into(),
            process_prio: "999".into(),
        });
        assert_eq!(
            line,
            "idle                             in use    manual    999:999"
        );
    }

    #[test]
    fn changes_are_sorted_by_name() {
        let changes = Changes {
            added: vec!["b".into()],
            changed: vec!["a".into()],
            removed: vec!["c".into()],
        };
        assert_eq!(
            change_lines(&changes),
            vec!["a: changed", "b: available", "c: disappeared"]
        );
        assert_eq!(
            change_lines(&Changes::default()),
            vec!["No config updates to processes"]
        );
    }
}
