//! Word-like values: booleans, names, levels, log targets, addresses, owners, URLs.

use super::{Problem, integer};
use crate::codes;
use svc_schema::{AutoRestart, LogLevel, OwnerSpec, ShutdownOn};

const TRUTHY: &[&str] = &["yes", "true", "on", "1"];
const FALSY: &[&str] = &["no", "false", "off", "0"];

/// `boolean`: yes/true/on/1 or no/false/off/0, case-insensitive.
pub fn boolean(text: &str) -> Result<bool, Problem> {
    let lower = text.to_lowercase();
    if TRUTHY.contains(&lower.as_str()) {
        Ok(true)
    } else if FALSY.contains(&lower.as_str()) {
        Ok(false)
    } else {
        Err(Problem::new(
            &codes::VALUE_INVALID_BOOLEAN,
            format!("`{text}` is not a boolean"),
            "write true or false (yes/no, on/off and 1/0 also work)",
        ))
    }
}

/// `auto_restart`: a boolean or `unexpected`.
pub fn autorestart(text: &str) -> Result<AutoRestart, Problem> {
    let lower = text.to_lowercase();
    if TRUTHY.contains(&lower.as_str()) {
        Ok(AutoRestart::True)
    } else if FALSY.contains(&lower.as_str()) {
        Ok(AutoRestart::False)
    } else if lower == "unexpected" {
        Ok(AutoRestart::Unexpected)
    } else {
        Err(Problem::new(
            &codes::VALUE_INVALID_AUTORESTART,
            format!("`{text}` is not a valid autorestart value"),
            "write true, false or unexpected",
        ))
    }
}

/// `shutdown_on` (svc only): `fatal` or `unexpected`, any case.
pub fn shutdown_on(text: &str) -> Result<ShutdownOn, Problem> {
    match text.trim().to_lowercase().as_str() {
        "fatal" => Ok(ShutdownOn::Fatal),
        "unexpected" => Ok(ShutdownOn::Unexpected),
        _ => Err(Problem::new(
            &codes::VALUE_INVALID_SHUTDOWN_ON,
            format!("`{text}` is not a valid shutdown_on value"),
            "write fatal (shut svc down when the program gives up starting) or unexpected (also when it exits with a code not in exitcodes)",
        )),
    }
}

/// `logging_level`.
pub fn loglevel(text: &str) -> Result<LogLevel, Problem> {
    let levels = [
        ("critical", LogLevel::Critical),
        ("error", LogLevel::Error),
        ("warn", LogLevel::Warn),
        ("info", LogLevel::Info),
        ("debug", LogLevel::Debug),
        ("trace", LogLevel::Trace),
        ("blather", LogLevel::Blather),
    ];
    let lower = text.to_lowercase();
    levels
        .iter()
        .find(|(name, _)| *name == lower)
        .map(|(_, level)| *level)
        .ok_or_else(|| {
            let close = levels
                .iter()
                .map(|(name, _)| *name)
                .find(|name| {
                    lower.starts_with(name) || (lower.len() >= 3 && name.starts_with(&lower))
                })
                .or_else(|| crate::suggest::closest(&lower, levels.iter().map(|(n, _)| *n)));
            let help = match close {
                Some(name) => format!("did you mean {name}?"),
                None => "write one of critical, error, warn, info, debug, trace, blather".into(),
            };
            Problem::new(
                &codes::VALUE_INVALID_LOGLEVEL,
                format!("`{text}` is not a log level"),
                help,
            )
        })
}

/// `process_or_group_name`: stripped; no space, `:` or `/`.
pub fn process_or_group_name(text: &str) -> Result<String, Problem> {
    let stripped = text.trim_matches(crate::ini::is_py_space);
    for bad in [' ', ':', '/'] {
        if stripped.contains(bad) {
            return Err(Problem::new(
                &codes::VALUE_INVALID_NAME,
                format!("`{stripped}` is not a valid name: it contains {bad:?}"),
                "names may not contain spaces, ':' or '/'; use - or _ instead",
            ));
        }
    }
    Ok(stripped.to_string())
}

/// A child log target before host checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    /// `AUTO`.
    Auto,
    /// `NONE` / `OFF`.
    None,
    /// `syslog` (deprecated spelling).
    Syslog,
    /// A path (`~` not yet expanded).
    Path(String),
}

/// `logfile_name` without its directory check.
pub fn logfile_target(text: String) -> LogTarget {
    // supervisord compares `text.lower()`. The only non-ASCII character that lower-cases to
    // an ASCII letter is the Kelvin sign (to `k`, in none of these words), so an ASCII
    // case-insensitive comparison is the same test, without lower-casing a copy of a path.
    let is = |word: &str| text.eq_ignore_ascii_case(word);
    if is("none") || is("off") {
        LogTarget::None
    } else if is("auto") {
        LogTarget::Auto
    } else if is("syslog") {
        LogTarget::Syslog
    } else {
        LogTarget::Path(text)
    }
}

/// An `[inet_http_server] port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressSpec {
    /// Lower-cased host; empty for every interface.
    pub host: String,
    /// Port.
    pub port: u16,
}

/// `inet_address`: `port`, `host:port`, `*:port` or `:port`.
pub fn inet_address(text: &str) -> Result<AddressSpec, Problem> {
    let bad_port = |port: &str| {
        Problem::new(
            &codes::VALUE_INVALID_PORT,
            format!("`{port}` is not a port number"),
            "write a port 1-65535, as `9001`, `127.0.0.1:9001` or `*:9001`",
        )
    };
    let (host, port_text) = match text.rsplit_once(':') {
        Some((host, port)) => (host.to_lowercase(), port),
        None => (String::new(), text),
    };
    let port = integer(port_text).map_err(|_| bad_port(port_text))?;
    let port = u16::try_from(port)
        .ok()
        .filter(|p| *p >= 1)
        .ok_or_else(|| bad_port(port_text))?;
    let host = if host == "*" { String::new() } else { host };
    Ok(AddressSpec { host, port })
}

/// `user` or `user:group` (syntax only; the host check looks the names up). supervisord
/// splits at the first `:`, so an empty part or a second `:` can never name anything.
pub fn owner_spec(text: &str) -> Result<OwnerSpec, Problem> {
    let (user, group) = match text.split_once(':') {
        Some((user, group)) => (user, Some(group)),
        None => (text, None),
    };
    if user.is_empty() || group.is_some_and(|g| g.is_empty() || g.contains(':')) {
        return Err(Problem::new(
            &codes::VALUE_INVALID_OWNER,
            format!("`{text}` is not `user` or `user:group`"),
            "write a user name or uid, optionally followed by `:` and a group name or gid (e.g. www-data:www-data)",
        ));
    }
    Ok(OwnerSpec {
        user: user.to_string(),
        group: group.map(str::to_string),
    })
}

/// `url`: `urlparse` finds a scheme and a netloc or path.
pub fn url(text: &str) -> Result<String, Problem> {
    let problem = || {
        Problem::new(
            &codes::SUPERVISORCTL_INVALID_SERVERURL,
            format!("`{text}` is not a URL"),
            "write unix:///path/to/supervisor.sock or http://127.0.0.1:9001",
        )
    };
    let (scheme, rest) = text.split_once(':').ok_or_else(problem)?;
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let body = rest.split(['?', '#']).next().unwrap_or("");
    let body = body.strip_prefix("//").unwrap_or(body);
    if scheme_ok && !body.is_empty() {
        Ok(text.to_string())
    } else {
        Err(problem())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logfile_targets_ignore_case() {
        assert_eq!(logfile_target("NONE".into()), LogTarget::None);
        assert_eq!(logfile_target("Off".into()), LogTarget::None);
        assert_eq!(logfile_target("AuTo".into()), LogTarget::Auto);
        assert_eq!(logfile_target("SYSLOG".into()), LogTarget::Syslog);
        assert_eq!(
            logfile_target("\u{ff2e}\u{ff2f}\u{ff2e}\u{ff25}".into()),
            LogTarget::Path("\u{ff2e}\u{ff2f}\u{ff2e}\u{ff25}".into())
        );
        assert_eq!(
            logfile_target("/var/log/none".into()),
            LogTarget::Path("/var/log/none".into())
        );
    }

    #[test]
    fn booleans() {
        assert_eq!(boolean("Yes"), Ok(true));
        assert_eq!(boolean("OFF"), Ok(false));
        assert!(boolean("maybe").is_err());
        assert!(boolean("").is_err());
    }

    #[test]
    fn names() {
        assert_eq!(process_or_group_name(" a[1] ").as_deref(), Ok("a[1]"));
        assert!(process_or_group_name("a b").is_err());
        assert!(process_or_group_name("a:b").is_err());
        assert!(process_or_group_name("a/b").is_err());
    }

    #[test]
    fn addresses() {
        assert_eq!(
            inet_address("9001"),
            Ok(AddressSpec {
                host: "".into(),
                port: 9001
            })
        );
        assert_eq!(
            inet_address("LOCALHOST:9001"),
            Ok(AddressSpec {
                host: "localhost".into(),
                port: 9001
            })
        );
        assert_eq!(
            inet_address("*:9001"),
            Ok(AddressSpec {
                host: "".into(),
                port: 9001
            })
        );
        assert_eq!(
            inet_address(":9001"),
            Ok(AddressSpec {
                host: "".into(),
                port: 9001
            })
        );
        assert!(inet_address("abc").is_err());
        assert!(inet_address("99999").is_err());
        assert!(inet_address("0").is_err());
        assert!(inet_address("host:").is_err());
    }

    #[test]
    fn owners() {
        assert_eq!(
            owner_spec("www:adm").map(|o| o.group),
            Ok(Some("adm".to_string()))
        );
        assert_eq!(owner_spec("0").map(|o| o.user), Ok("0".to_string()));
        assert!(owner_spec(":root").is_err());
        assert!(owner_spec("root:").is_err());
        assert!(owner_spec("root:root:root").is_err());
    }

    #[test]
    fn urls() {
        assert!(url("http://localhost:9001").is_ok());
        assert!(url("unix:///tmp/s.sock").is_ok());
        assert!(url("localhost").is_err());
        assert!(url("http:").is_err());
    }
}
