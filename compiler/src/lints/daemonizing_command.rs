//! `svc::lint::daemonizing_command`
//!
//! **What**: a command that puts itself in the background: a trailing `&`, `-d` or
//! `--daemon`-style flags, `service x start`, `systemctl start x`, or `daemonize`.
//!
//! **Why**: supervisord supervises the process it started. If that process forks a daemon
//! and exits, supervisord sees an exit, restarts it (or goes FATAL), and the real daemon
//! runs unsupervised.
//!
//! **Example**:
//! ```ini
//! [program:redis]
//! command=redis-server --daemonize yes
//! ```
//!
//! **Fix**: run the program in the foreground (`nginx -g 'daemon off;'`,
//! `redis-server --daemonize no`, `php-fpm -F`, `sshd -D`).

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::LintContext;

/// Why this argv daemonizes, if it does.
pub(crate) fn daemonizes(argv: &[String]) -> Option<String> {
    let program = argv.first().map(|a| a.rsplit('/').next().unwrap_or(a))?;
    if argv
        .last()
        .is_some_and(|a| a == "&" || (a.ends_with('&') && !a.ends_with("&&")))
    {
        return Some("it ends with `&`".into());
    }
    if (program == "service" && argv.get(2).is_some_and(|a| a == "start"))
        || (program == "systemctl" && argv.iter().any(|a| a == "start"))
    {
        return Some(format!(
            "`{}` starts a service outside supervisord",
            argv.join(" ")
        ));
    }
    if program == "daemonize" || program == "start-stop-daemon" {
        return Some(format!("`{program}` detaches the process"));
    }
    // Laravel's `artisan queue:work --daemon` stays in the foreground (the flag only keeps
    // the framework booted between jobs).
    if argv.iter().any(|a| a.ends_with("artisan")) {
        return None;
    }
    for (index, arg) in argv.iter().enumerate().skip(1) {
        if !arg.starts_with('-') {
            continue;
        }
        let next = argv.get(index + 1).map(|s| s.to_lowercase());
        let next_yes = matches!(next.as_deref(), Some("yes" | "true" | "on" | "1"));
        let next_no = matches!(next.as_deref(), Some("no" | "false" | "off" | "0"));
        let lower = arg.to_lowercase();
        let flag = lower.trim_start_matches('-');
        let backgrounding = matches!(
            flag,
            "daemon" | "daemonize" | "daemonise" | "detach" | "background" | "fork"
        );
        if backgrounding && !next_no && (lower.starts_with("--") || next_yes) {
            return Some(format!("`{arg}` makes it run in the background"));
        }
        if flag.starts_with("daemonize=yes")
            || flag.starts_with("daemon=true")
            || flag == "daemonize=true"
        {
            return Some(format!("`{arg}` makes it run in the background"));
        }
        if lower == "-d"
            && matches!(
                program,
                "memcached"
                    | "dockerd"
                    | "mongod"
                    | "redis-server"
                    | "haproxy"
                    | "nginx"
                    | "httpd"
                    | "apache2"
                    | "squid"
                    | "dnsmasq"
            )
        {
            return Some(format!("`-d` makes {program} run in the background"));
        }
        if (lower == "--daemonize" || lower == "--daemon") && next_yes {
            return Some(format!(
                "`{arg} {}` makes it run in the background",
                argv[index + 1]
            ));
        }
    }
    None
}

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = rustc_hash::FxHashSet::default();
    for (process, argv) in context.commands() {
        let Ok(argv) = argv else {
            continue;
        };
        let Some(reason) = daemonizes(argv) else {
            continue;
        };
        let span = process
            .origin
            .keys
            .get("command")
            .copied()
            .or(process.origin.section);
        let Some(span) = span else { continue };
        if !seen.insert(span) {
            continue;
        }
        diagnostics.push(
            Diagnostic::new(
                &codes::LINT_DAEMONIZING_COMMAND,
                format!("program `{}` runs a command that daemonizes itself: {reason}", process.program),
            )
            .at(span, "runs in the background")
            .help("supervisord can only supervise a process that stays in the foreground; use the program's foreground option"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::daemonizes;

    fn argv(command: &str) -> Vec<String> {
        command.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn detects_daemonizing() {
        assert!(daemonizes(&argv("/usr/bin/app &")).is_some());
        assert!(daemonizes(&argv("service nginx start")).is_some());
        assert!(daemonizes(&argv("redis-server --daemonize yes")).is_some());
        assert!(daemonizes(&argv("memcached -d -m 64")).is_some());
        assert!(daemonizes(&argv("gunicorn --daemon app:app")).is_some());
        assert!(daemonizes(&argv("redis-server --daemonize no")).is_none());
        assert!(daemonizes(&argv("sshd -D")).is_none());
        assert!(daemonizes(&argv("php artisan queue:work -d")).is_none());
        assert!(daemonizes(&argv("bash -c a&&b")).is_none());
        assert!(daemonizes(&argv("php /app/artisan queue:work --daemon")).is_none());
    }
}
