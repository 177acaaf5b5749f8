//! Commands on the daemon itself: `reload`, `shutdown`, `version`, `open`.
//!
//! In the interactive shell (or with `-i`), `reload` and `shutdown` ask for confirmation
//! first, as supervisorctl does; anything but an answer starting with `y` does nothing.

use crate::api::{faults, py_str};
use crate::exception::{Exception, Site};
use crate::{Controller, Failure, exit, help};

/// The confirmation of `reload`/`shutdown`: true without a shell.
fn confirmed(ctl: &mut Controller, question: &str, site: Site) -> Result<bool, Failure> {
    if !ctl.options.interactive {
        return Ok(true);
    }
    let answer = ctl.raw_input(question, site)?;
    Ok(answer.to_lowercase().starts_with('y'))
}

/// `shutdown`.
pub(crate) fn shutdown(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    if !argument.is_empty() {
        ctl.output("Error: shutdown accepts no arguments");
        ctl.exit_status = exit::GENERIC;
        help::show("shutdown");
        return Ok(());
    }
    let question = "Really shut the remote supervisord process down y/N? ";
    if !confirmed(ctl, question, Site::CONFIRM_SHUTDOWN)? {
        return Ok(());
    }
    let supervisor = ctl.supervisor()?;
    match supervisor.shutdown() {
        Ok(_) => ctl.output("Shut down"),
        Err(Failure::Raised(Exception::Fault { code, string })) => {
            if code != faults::SHUTDOWN_STATE {
                ctl.exit_status = exit::GENERIC;
                return Err(Failure::Raised(Exception::Fault { code, string }));
            }
            ctl.output("ERROR: already shutting down");
        }
        Err(Failure::Raised(exception @ Exception::Os { .. })) => {
            ctl.exit_status = exit::GENERIC;
            let serverurl = &ctl.options.serverurl;
            match exception.errno() {
                Some(libc::ECONNREFUSED) => ctl.output(&format!(
                    "ERROR: {serverurl} refused connection (already shut down?)"
                )),
                Some(libc::ENOENT) => ctl.output(&format!(
                    "ERROR: {serverurl} no such file (already shut down?)"
                )),
                _ => return Err(Failure::Raised(exception)),
            }
        }
        Err(failure) => return Err(failure),
    }
    Ok(())
}

/// `reload`: supervisord restarts (`restart()`).
pub(crate) fn reload(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    if !argument.is_empty() {
        ctl.output("Error: reload accepts no arguments");
        ctl.exit_status = exit::GENERIC;
        help::show("reload");
        return Ok(());
    }
    let question = "Really restart the remote supervisord process y/N? ";
    if !confirmed(ctl, question, Site::CONFIRM_RELOAD)? {
        return Ok(());
    }
    let supervisor = ctl.supervisor()?;
    match supervisor.restart() {
        Ok(_) => ctl.output("Restarted supervisord"),
        Err(failure) => {
            if let Failure::Raised(Exception::Fault { .. }) = failure {
                ctl.exit_status = exit::GENERIC;
            }
            if failure.fault_code() != Some(faults::SHUTDOWN_STATE) {
                return Err(failure);
            }
            ctl.output("ERROR: already shutting down");
        }
    }
    Ok(())
}

/// `version`: supervisord's version.
pub(crate) fn version(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    if !argument.is_empty() {
        ctl.output("Error: version accepts no arguments");
        ctl.exit_status = exit::GENERIC;
        help::show("version");
        return Ok(());
    }
    if !ctl.upcheck()? {
        return Ok(());
    }
    let supervisor = ctl.supervisor()?;
    let version = supervisor.get_supervisor_version()?;
    ctl.output(&py_str(&version));
    Ok(())
}

/// `urlparse(url).scheme`: the part before the first `:` when it is a scheme (a letter,
/// then letters, digits, `+`, `-`, `.`), lower-cased; empty otherwise.
fn url_scheme(url: &str) -> String {
    match url.split_once(':') {
        Some((scheme, _))
            if scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            scheme.to_ascii_lowercase()
        }
        _ => String::new(),
    }
}

/// `open url`: switches to another server and shows its status (the exit status stays).
pub(crate) fn open(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    let url = argument.trim();
    if !matches!(url_scheme(url).as_str(), "unix" | "http") {
        ctl.output("ERROR: url must be http:// or unix://");
        ctl.exit_status = exit::GENERIC;
        return Ok(());
    }
    ctl.options.serverurl = url.to_string();
    let before = ctl.exit_status;
    super::process::status(ctl, "")?;
    ctl.exit_status = before;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_as_urlparse_finds_them() {
        assert_eq!(url_scheme("unix:///tmp/s"), "unix");
        assert_eq!(url_scheme("HTTP://x"), "http");
        assert_eq!(url_scheme("foo"), "");
        assert_eq!(url_scheme("1x:y"), "");
    }
}
