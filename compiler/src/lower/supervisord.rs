//! `[supervisord]`: the daemon's settings, read in supervisord's order (`read_config`).
//!
//! Every key sees `%(here)s` and the daemon's `ENV_*`; the `environment=` key is expanded
//! twice, as 4.3.0 does (so `%%` cannot be used in it), and its variables become `ENV_*`
//! names for every section lowered after it.

use svc_schema::{MainLog, Supervisord};

use crate::convert::{
    EnvironmentParse, boolean, byte_size, integer, loglevel, octal, parse_environment,
};
use crate::diagnostic::Diagnostic;
use crate::expand::Names;
use crate::ini::{Section, Value};
use crate::lower::Lowering;

const SECTION: &str = "supervisord";

/// Lowers `[supervisord]` (defaults when the section is missing; that error is reported by
/// the caller).
pub(crate) fn lower(lowering: &mut Lowering<'_>) -> Supervisord {
    let section = lowering.document.section(SECTION);
    let names = lowering.early_names();
    let names = Some(&names);
    let minfds = lowering.typed_or(section, "minfds", names, 1024, integer);
    let minprocs = lowering.typed_or(section, "minprocs", names, 200, integer);
    let directory = lowering
        .field(section, "directory", names)
        .map(|field| lowering.check_directory("directory", &field.text, field.span));
    let user = lowering.field(section, "user", names).map(|field| {
        if !lowering.options.user_overridden {
            lowering.check_user(&field.text, field.span);
        }
        field.text
    });
    let umask = lowering.typed_or(section, "umask", names, 0o22, octal);
    let logfile = match lowering.field(section, "logfile", names) {
        Some(field) if field.text == "syslog" => MainLog::Syslog,
        Some(field) => {
            let path = lowering.check_parent_directory("logfile", &field.text, field.span);
            MainLog::File(lowering.normalize_path(&path))
        }
        None => MainLog::File(lowering.normalize_path("supervisord.log")),
    };
    let logfile_maxbytes = lowering.typed_or(
        section,
        "logfile_maxbytes",
        names,
        50 * 1024 * 1024,
        byte_size,
    );
    let logfile_backups = lowering.typed_or(section, "logfile_backups", names, 10, integer);
    let loglevel = lowering.typed_or(
        section,
        "loglevel",
        names,
        svc_schema::LogLevel::Info,
        loglevel,
    );
    let pidfile = match lowering.field(section, "pidfile", names) {
        Some(field) => {
            let path = lowering.check_parent_directory("pidfile", &field.text, field.span);
            lowering.normalize_path(&path)
        }
        None => lowering.normalize_path("supervisord.pid"),
    };
    let identifier = lowering
        .field(section, "identifier", names)
        .map_or_else(|| "supervisor".to_string(), |field| field.text);
    let nodaemon = lowering.typed_or(section, "nodaemon", names, false, boolean);
    let silent = lowering.typed_or(section, "silent", names, false, boolean);
    let childlogdir = match lowering.field(section, "childlogdir", names) {
        Some(field) => lowering.check_directory("childlogdir", &field.text, field.span),
        None => lowering.host.temp_dir(),
    };
    let nocleanup = lowering.typed_or(section, "nocleanup", names, false, boolean);
    let strip_ansi = lowering.typed_or(section, "strip_ansi", names, false, boolean);

    let environment = environment(lowering, section, names);
    lowering.supervisord_env = std::sync::Arc::new(environment.clone());

    Supervisord {
        logfile,
        logfile_maxbytes,
        logfile_backups,
        loglevel,
        pidfile,
        umask,
        nodaemon,
        silent,
        minfds,
        minprocs,
        nocleanup,
        childlogdir,
        user,
        directory,
        strip_ansi,
        environment,
        identifier,
    }
}

/// `environment=`: expanded by `get()` and again by `expand()`, then parsed.
fn environment(
    lowering: &mut Lowering<'_>,
    section: Option<&Section>,
    names: Option<&Names>,
) -> indexmap::IndexMap<String, String> {
    let Some(field) = lowering.field(section, "environment", names) else {
        return Default::default();
    };
    let second = lowering
        .early_names()
        .with_str("host_node_name", lowering.node_name.clone());
    let again = Value::synthetic(field.span, &field.text);
    let Some(text) = lowering.expand_value(&again, Some(&second), &"supervisord.environment")
    else {
        return Default::default();
    };
    let raw = lowering
        .entry(section, "environment")
        .map(|entry| entry.value.clone())
        .unwrap_or(again);
    parse_environment_field(lowering, &text, &raw).pairs
}

/// Parses an `environment=` value, reporting syntax errors on its span.
/// `raw` is the value as written; when `text` (its expansion) is identical, positions in
/// `text` map to exact spans.
pub(crate) fn parse_environment_field(
    lowering: &mut Lowering<'_>,
    text: &str,
    raw: &Value,
) -> EnvironmentParse {
    match parse_environment(text) {
        Ok(parsed) => parsed,
        Err((at, problem)) => {
            let span = if raw.text == text {
                let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                raw.span_of(at, end)
            } else {
                raw.span()
            };
            lowering.diagnostics.push(
                Diagnostic::new(problem.code, problem.message)
                    .at(span, "here")
                    .help(problem.help),
            );
            Default::default()
        }
    }
}
