//! Commands on logs: `tail`, `maintail` (the last bytes through XML-RPC, or `-f`: follow
//! over HTTP) and `fg` (follow a process's output and send it stdin).
//!
//! Following is `GET /logtail/<name>/<channel>` or `/mainlogtail`: the body goes to stdout
//! as it arrives until Ctrl-C (which prints an empty line) or the end of the stream; a
//! status other than 200 is reported on stderr as supervisorctl's `http_client` reports it,
//! `<url> Cannot read, status code 404`, and the command ends normally.

use smol::future::FutureExt as _;

use super::words;
use crate::api::{self, RUNNING, faults, py_int, py_str};
use crate::client::{Client, FollowError};
use crate::exception::{Exception, py_repr};
use crate::{Controller, Failure, exit, help, output};

/// Python's `int(text)` for a byte count; a valid number beyond 128 bits saturates (the
/// call then refuses it as `xmlrpc.client` does).
fn python_int(text: &str) -> Option<i128> {
    if let Some(number) = svc_compiler::convert::python_int(text, 10) {
        return Some(i128::from(number));
    }
    let trimmed = text.trim();
    let digits = trimmed.strip_prefix(['-', '+']).unwrap_or(trimmed);
    let valid = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_');
    valid.then(|| {
        if trimmed.starts_with('-') {
            i128::MIN
        } else {
            i128::MAX
        }
    })
}

/// `tail [-f|-N] name [stdout|stderr]`.
pub(crate) fn tail(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let mut args = words(argument);
    if args.is_empty() {
        ctl.output("Error: too few arguments");
        ctl.exit_status = exit::GENERIC;
        help::show("tail");
        return Ok(());
    }
    if args.len() > 3 {
        ctl.output("Error: too many arguments");
        ctl.exit_status = exit::GENERIC;
        help::show("tail");
        return Ok(());
    }
    let modifier = if args[0].starts_with('-') {
        Some(args.remove(0))
    } else {
        None
    };
    let (name, channel) = match args.as_slice() {
        [name] => (*name, "stdout".to_string()),
        [name, .., last] => {
            let channel = last.to_lowercase();
            if channel != "stderr" && channel != "stdout" {
                ctl.output(&format!("Error: bad channel {}", py_repr(&channel)));
                ctl.exit_status = exit::GENERIC;
                return Ok(());
            }
            (*name, channel)
        }
        [] => {
            ctl.output("Error: tail requires process name");
            ctl.exit_status = exit::GENERIC;
            return Ok(());
        }
    };
    let mut bytes = Some(1600);
    if let Some(modifier) = modifier {
        let what = &modifier[1..];
        if what == "f" {
            bytes = None;
        } else {
            match python_int(what) {
                Some(number) => bytes = Some(number),
                None => {
                    ctl.output(&format!("Error: bad argument {modifier}"));
                    ctl.exit_status = exit::GENERIC;
                    return Ok(());
                }
            }
        }
    }
    let supervisor = ctl.supervisor()?;
    let Some(bytes) = bytes else {
        return follow(ctl, &format!("/logtail/{name}/{channel}"));
    };
    match supervisor.read_process_log(&channel, name, bytes.saturating_neg(), 0) {
        Ok(text) => ctl.output(&py_str(&text)),
        Err(failure) => {
            ctl.exit_status = exit::GENERIC;
            match failure.fault_code() {
                Some(faults::NO_FILE) => ctl.output(&format!("{name}: ERROR (no log file)")),
                Some(faults::FAILED) => {
                    ctl.output(&format!("{name}: ERROR (unknown error reading log)"));
                }
                Some(faults::BAD_NAME) => {
                    ctl.output(&format!("{name}: ERROR (no such process name)"));
                }
                _ => return Err(failure),
            }
        }
    }
    Ok(())
}

/// `maintail [-f|-N]`.
pub(crate) fn maintail(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let args = words(argument);
    let bytes = match args.as_slice() {
        [] => 1600,
        [argument] => {
            let Some(what) = argument.strip_prefix('-') else {
                ctl.output(&format!("Error: bad argument {argument}"));
                ctl.exit_status = exit::GENERIC;
                return Ok(());
            };
            if what == "f" {
                return follow(ctl, "/mainlogtail");
            }
            match python_int(what) {
                Some(number) => number,
                None => {
                    ctl.output(&format!("Error: bad argument {argument}"));
                    ctl.exit_status = exit::GENERIC;
                    return Ok(());
                }
            }
        }
        _ => {
            ctl.output("Error: too many arguments");
            ctl.exit_status = exit::GENERIC;
            help::show("maintail");
            return Ok(());
        }
    };
    let supervisor = ctl.supervisor()?;
    match supervisor.read_log(bytes.saturating_neg(), 0) {
        Ok(text) => ctl.output(&py_str(&text)),
        Err(failure) => {
            ctl.exit_status = exit::GENERIC;
            match failure.fault_code() {
                Some(faults::NO_FILE) => ctl.output("supervisord: ERROR (no log file)"),
                Some(faults::FAILED) => {
                    ctl.output("supervisord: ERROR (unknown error reading log)");
                }
                _ => return Err(failure),
            }
        }
    }
    Ok(())
}

/// What `HTTPHandler` writes on stderr when a follow stops early.
fn report_follow_error(url: &str, error: &FollowError) {
    match error {
        FollowError::Status(status) => {
            output::error_line(&format!("{url} Cannot read, status code {status}"));
        }
        FollowError::Connect(exception) => output::error_line(&format!(
            "{url} Cannot connect, error: <class '{}'> ({})",
            exception.class(),
            exception.message()
        )),
    }
}

/// Follows `path` until its end or Ctrl-C (`_tailf`).
fn follow(ctl: &mut Controller, path: &str) -> Result<(), Failure> {
    ctl.output("==> Press Ctrl-C to exit <==");
    let client = ctl.supervisor()?.client().clone();
    let url = format!("{}{path}", client.serverurl());
    match ctl
        .interrupt
        .block_on(client.follow(path, &mut |data| output::raw(data)))
    {
        Err(_) => ctl.output(""),
        Ok(Ok(())) => {}
        Ok(Err(error)) => report_follow_error(&url, &error),
    }
    Ok(())
}

/// How `fg`'s input loop ended.
enum Foreground {
    /// End of input or Ctrl-C.
    Left,
    /// The process is no longer running.
    Killed,
    /// `sendProcessStdin` failed with another fault (its `str()`).
    Fault(String),
    /// An exception supervisorctl does not catch.
    Raised(Exception),
}

/// `fg name`: follows the process's stdout and stderr and sends it each line typed.
pub(crate) fn fg(ctl: &mut Controller, argument: &str) -> Result<(), Failure> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names = words(argument);
    let name = match names.as_slice() {
        [] => {
            ctl.output("ERROR: no process name supplied");
            ctl.exit_status = exit::GENERIC;
            help::show("fg");
            return Ok(());
        }
        [name] => *name,
        _ => {
            ctl.output("ERROR: too many process names supplied");
            ctl.exit_status = exit::GENERIC;
            return Ok(());
        }
    };
    let supervisor = ctl.supervisor()?;
    match supervisor.get_process_info(name) {
        Ok(info) if py_int(&info.state) == Some(RUNNING) => {}
        Ok(_) => {
            ctl.output("ERROR: process not running");
            ctl.exit_status = exit::GENERIC;
            return Ok(());
        }
        Err(failure) => match failure {
            Failure::Raised(Exception::Fault { code, .. }) if code == faults::BAD_NAME => {
                ctl.output("ERROR: bad process name supplied");
                ctl.exit_status = exit::GENERIC;
                return Ok(());
            }
            Failure::Raised(fault @ Exception::Fault { .. }) => {
                ctl.output(&format!("ERROR: {}", fault.message()));
                return Ok(());
            }
            other => return Err(other),
        },
    }
    ctl.output("==> Press Ctrl-C to exit <==");
    let client = supervisor.client().clone();
    let interrupt = ctl.interrupt.clone();
    let input = &mut ctl.input;
    let streams = async {
        let stdout = follow_quietly(&client, format!("/logtail/{name}/stdout"));
        let stderr = follow_quietly(&client, format!("/logtail/{name}/stderr"));
        smol::future::zip(stdout, stderr).await;
        std::future::pending::<Foreground>().await
    };
    let typing = async {
        loop {
            let Some(line) = input.read_line().await else {
                return Foreground::Left;
            };
            match api::send_process_stdin(&client, name, &format!("{line}\n")).await {
                Ok(_) => {}
                Err(Exception::Fault { code, .. }) if code == faults::NOT_RUNNING => {
                    return Foreground::Killed;
                }
                Err(fault @ Exception::Fault { .. }) => {
                    return Foreground::Fault(fault.message());
                }
                Err(other) => return Foreground::Raised(other),
            }
            match api::process_info(&client, name).await {
                Ok(info) if py_int(&info.state) == Some(RUNNING) => {}
                Ok(_) => return Foreground::Killed,
                Err(exception) => return Foreground::Raised(exception),
            }
        }
    };
    let ended = interrupt
        .block_on(typing.or(streams))
        .unwrap_or(Foreground::Left);
    match ended {
        Foreground::Left => {}
        Foreground::Killed => ctl.output("Process got killed"),
        Foreground::Fault(message) => ctl.output(&format!("ERROR: {message}")),
        Foreground::Raised(exception) => return Err(Failure::Raised(exception)),
    }
    ctl.output("Exiting foreground");
    Ok(())
}

/// Follows one of `fg`'s streams; failures go to stderr as `http_client` reports them.
async fn follow_quietly(client: &Client, path: String) {
    let url = format!("{}{path}", client.serverurl());
    if let Err(error) = client.follow(&path, &mut |data| output::raw(data)).await {
        report_follow_error(&url, &error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_parse_as_python_int() {
        assert_eq!(python_int("100"), Some(100));
        assert_eq!(python_int("+1_000"), Some(1000));
        assert_eq!(python_int("-5"), Some(-5));
        assert_eq!(python_int("x"), None);
        assert_eq!(python_int(""), None);
        assert_eq!(python_int("99999999999999999999999"), Some(i128::MAX));
    }
}
