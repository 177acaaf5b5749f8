//! One program-like section (`[program:x]`, `[fcgi-program:x]`, `[eventlistener:x]`) to its
//! processes: supervisord's `_processes_from_section`.
//!
//! Keys are read in supervisord's order with supervisord's name sets:
//! - "program keys" (`priority`, `autostart`, ..., `umask`) see `here`, `program_name`,
//!   `group_name`, `host_node_name` and `ENV_*`, not `process_num`;
//! - `process_name` and `environment` are read raw and expanded per process;
//! - per-process keys (`command`, `directory`, logs) also see `process_num`, `numprocs` and
//!   the program's own environment as `ENV_*` (which accumulates across the processes of a
//!   program, as supervisord's shared dict does);
//! - `stdout_logfile`/`stderr_logfile` are expanded twice (a 4.3.0 quirk: `%%` fails there).
//!
//! A process's environment in the Graph is `[supervisord] environment=` overlaid with its
//! program's.

use std::sync::Arc;

use indexmap::IndexMap;
use svc_schema::{AutoRestart, LogFile, Process, ShutdownTrigger, Span, Stream};

use crate::codes;
use crate::convert::{
    LogTarget, autorestart, boolean, byte_size, exitcodes, integer, logfile_target, octal,
    process_or_group_name, shutdown_exitcode, shutdown_on, signal_number,
};
use crate::diagnostic::Diagnostic;
use crate::expand::{NameValue, Names};
use crate::ini::{Section, Value};
use crate::lints::LintFacts;
use crate::lower::Lowering;
use crate::lower::supervisord::parse_environment_field;

/// Largest `numprocs` svc accepts (supervisord has no limit and would exhaust memory).
pub(crate) const MAX_NUMPROCS: i64 = 100_000;

/// The name after `:` in a section name, validated as a program or group name.
pub(crate) fn section_item_name(lowering: &mut Lowering<'_>, section: &Section) -> String {
    let raw = section.name.split_once(':').map_or("", |(_, name)| name);
    match process_or_group_name(raw) {
        Ok(name) => name,
        Err(problem) => {
            lowering.diagnostics.push(
                Diagnostic::new(
                    problem.code,
                    format!("[{}]: {}", section.name, problem.message),
                )
                .at(section.header(), "invalid name")
                .help(problem.help),
            );
            raw.to_string()
        }
    }
}

/// Lowers one section into its processes, sorted by `(priority, name)`.
pub(crate) fn processes(
    lowering: &mut Lowering<'_>,
    section: &Section,
    group_name: &str,
    facts: &mut LintFacts,
) -> Vec<Process> {
    let name = section_item_name(lowering, section);
    let sect = section.name.as_str();
    let common = lowering
        .here_names()
        .with_str("program_name", name.clone())
        .with_str("host_node_name", lowering.node_name.clone())
        .with_str("group_name", group_name.to_string());
    let names = Some(&common);

    let priority = lowering.typed_or(section, "priority", names, 999, integer);
    let autostart = lowering.typed_or(section, "autostart", names, true, boolean);
    let autorestart = lowering.typed_or(
        section,
        "autorestart",
        names,
        AutoRestart::Unexpected,
        autorestart,
    );
    let startsecs = lowering.typed_or(section, "startsecs", names, 1, integer);
    let startretries = lowering.typed_or(section, "startretries", names, 3, integer);
    let stopsignal = lowering.typed_or(section, "stopsignal", names, 15, signal_number);
    let stopwaitsecs = lowering.typed_or(section, "stopwaitsecs", names, 10, integer);
    let stopasgroup = lowering.typed(section, "stopasgroup", names, boolean);
    let killasgroup = lowering.typed(section, "killasgroup", names, boolean);
    let exitcodes = lowering.typed_or(section, "exitcodes", names, vec![0], exitcodes);
    let redirect_stderr = lowering.typed_or(section, "redirect_stderr", names, false, boolean);
    let numprocs = lowering.typed(section, "numprocs", names, integer);
    let numprocs_start = lowering.typed_or(section, "numprocs_start", names, 0, integer);
    let environment_raw = lowering
        .entry(section, "environment")
        .map(|entry| entry.value.clone());
    let stdout_capture = lowering.typed_or(section, "stdout_capture_maxbytes", names, 0, byte_size);
    let stdout_events = lowering.typed_or(section, "stdout_events_enabled", names, false, boolean);
    let stderr_capture = lowering.typed_or(section, "stderr_capture_maxbytes", names, 0, byte_size);
    let stderr_events = lowering.typed_or(section, "stderr_events_enabled", names, false, boolean);
    let shutdown = shutdown_trigger(lowering, section, names);
    let serverurl = lowering
        .field(section, "serverurl", names)
        .map(|field| field.text)
        .filter(|url| !url.trim().eq_ignore_ascii_case("auto"));
    let user = lowering.field(section, "user", names).map(|field| {
        lowering.check_user(&field.text, field.span);
        field.text
    });
    let umask = lowering
        .typed(section, "umask", names, octal)
        .map(|(umask, _)| umask);
    let process_name_entry = lowering.entry(section, "process_name");
    let template = match process_name_entry {
        Some(entry) => match process_or_group_name(&entry.value.text) {
            Ok(_) => Some(entry.value.clone()),
            Err(problem) => {
                lowering.diagnostics.push(
                    Diagnostic::new(problem.code, format!("`process_name`: {}", problem.message))
                        .at(entry.value.span(), "invalid name")
                        .help(problem.help),
                );
                None
            }
        },
        None => Some(Value::synthetic(section.header(), "%(program_name)s")),
    };

    let stopasgroup_value = stopasgroup.as_ref().is_some_and(|(value, _)| *value);
    let killasgroup_value = killasgroup
        .as_ref()
        .map_or(stopasgroup_value, |(value, _)| *value);
    if stopasgroup_value
        && !killasgroup_value
        && let (Some((_, stop)), Some((_, kill))) = (&stopasgroup, &killasgroup)
    {
        lowering.diagnostics.push(
            Diagnostic::new(
                &codes::PROGRAM_STOPASGROUP_WITHOUT_KILLASGROUP,
                format!("[{sect}] sets stopasgroup=true but killasgroup=false"),
            )
            .at(*kill, "killasgroup=false")
            .also(*stop, "stopasgroup=true")
            .help("remove killasgroup (it defaults to stopasgroup) or set killasgroup=true"),
        );
    }

    let numprocs_value = numprocs.as_ref().map_or(1, |(value, _)| *value);
    let numprocs_span = numprocs.as_ref().map(|(_, span)| *span);
    if numprocs_value > MAX_NUMPROCS {
        lowering.diagnostics.push(
            Diagnostic::new(
                &codes::NUMPROCS_TOO_LARGE,
                format!(
                    "numprocs={numprocs_value} is more processes than svc supervises per program"
                ),
            )
            .at(
                numprocs_span.unwrap_or(section.header()),
                format!("at most {MAX_NUMPROCS}"),
            )
            .help("split the program, or lower numprocs"),
        );
        return Vec::new();
    }
    if let Some(template) = &template
        && numprocs_value > 1
        && !template.text.contains("%(process_num)")
    {
        let span = process_name_entry.map_or(numprocs_span.unwrap_or(section.header()), |e| {
            e.value.span()
        });
        let mut diagnostic = Diagnostic::new(
            &codes::NUMPROCS_MISSING_PROCESS_NUM,
            format!("[{sect}] runs numprocs={numprocs_value} processes but process_name does not contain %(process_num)"),
        )
        .at(span, "every process would get the same name")
        .help("set process_name=%(program_name)s_%(process_num)02d (or any name containing %(process_num))");
        if let (Some(numprocs_span), true) = (numprocs_span, process_name_entry.is_some()) {
            diagnostic = diagnostic.also(numprocs_span, "numprocs set here");
        }
        lowering.diagnostics.push(diagnostic);
    }
    if numprocs_value <= 0 {
        facts
            .empty_groups
            .push((sect.to_string(), numprocs_span.unwrap_or(section.header())));
    }

    let mut result = Vec::new();
    // The program's environment as `ENV_*` names, accumulated over its processes (one
    // shared map; copied only when a process adds or changes a variable).
    let mut program_env: Arc<IndexMap<String, String>> = Arc::new(IndexMap::new());
    // The last expansion of `environment=` and its variables: the processes of a program
    // usually expand it alike, and then it is parsed once.
    let mut last_environment: Option<(String, IndexMap<String, String>)> = None;
    let mut missing_command_reported = false;
    let origin = section.origin();
    let environment_key = crate::expand::KeyName {
        section: sect,
        key: "environment",
    };
    let process_name_key = crate::expand::KeyName {
        section: sect,
        key: "process_name",
    };
    for process_num in numprocs_start..numprocs_start.saturating_add(numprocs_value.max(0)) {
        let per_process = common
            .clone()
            .with("process_num", NameValue::Int(process_num))
            .with("numprocs", NameValue::Int(numprocs_value));
        // This process's own variables (`None` without `environment=` or when its
        // expansion failed, which is reported).
        let variables = match &environment_raw {
            Some(value) => {
                let names = per_process.clone().with_env(&program_env);
                match lowering.expand_value(value, Some(&names), &environment_key) {
                    Some(text) => {
                        if last_environment
                            .as_ref()
                            .is_none_or(|(last_text, _)| *last_text != text)
                        {
                            let parsed = parse_environment_field(lowering, &text, value);
                            if let Some(&dropped) = parsed.dropped.first() {
                                facts.environment_truncations.push((
                                    value.clone(),
                                    text.clone(),
                                    dropped,
                                ));
                            }
                            last_environment = Some((text, parsed.pairs));
                        }
                        last_environment.as_ref().map(|(_, variables)| variables)
                    }
                    None => None,
                }
            }
            None => None,
        };
        if let Some(variables) = variables
            && variables.iter().any(|(k, v)| program_env.get(k) != Some(v))
        {
            let mut grown = (*program_env).clone();
            grown.extend(variables.iter().map(|(k, v)| (k.clone(), v.clone())));
            program_env = Arc::new(grown);
        }
        let names = per_process.with_env(&program_env);
        let names = Some(&names);

        let directory = lowering
            .field(section, "directory", names)
            .map(|field| field.text);
        let stdout = stream(
            lowering,
            section,
            &STDOUT,
            names,
            stdout_capture,
            stdout_events,
            facts,
        );
        let mut stderr = stream(
            lowering,
            section,
            &STDERR,
            names,
            stderr_capture,
            stderr_events,
            facts,
        );
        if redirect_stderr {
            if let LogFile::File(_) = stderr.logfile {
                facts.supervisord_warnings.push(format!(
                    "For [{sect}], redirect_stderr=true but stderr_logfile has also been set \
                     to a filename, the filename has been ignored"
                ));
            }
            if let LogFile::File(_) = stderr.logfile
                && let Some(entry) = lowering.entry(section, "stderr_logfile")
            {
                facts
                    .redirected_stderr_logfiles
                    .push((sect.to_string(), entry.value.span()));
            }
            stderr.logfile = LogFile::None;
        }
        let command = match lowering.field(section, "command", names) {
            Some(field) => field.text,
            None => {
                if lowering.entry(section, "command").is_none() && !missing_command_reported {
                    missing_command_reported = true;
                    lowering.diagnostics.push(
                        Diagnostic::new(
                            &codes::PROGRAM_MISSING_COMMAND,
                            format!("program section {sect} does not specify a command"),
                        )
                        .at(section.header(), "no command=")
                        .help(
                            "add `command = /path/to/program --flags` (run it in the foreground)",
                        ),
                    );
                }
                String::new()
            }
        };
        let process_name = match &template {
            Some(template) => lowering
                .expand_value(template, names, &process_name_key)
                .unwrap_or_else(|| name.clone()),
            None => name.clone(),
        };
        result.push(Process {
            name: process_name,
            program: name.clone(),
            process_num,
            numprocs: numprocs_value,
            command,
            directory,
            umask,
            priority,
            autostart,
            autorestart,
            startsecs,
            startretries,
            user: user.clone(),
            stopsignal,
            stopwaitsecs,
            stopasgroup: stopasgroup_value,
            killasgroup: killasgroup_value,
            exitcodes: exitcodes.clone(),
            redirect_stderr,
            stdout,
            stderr,
            environment: child_environment(&lowering.supervisord_env, variables),
            serverurl: serverurl.clone(),
            shutdown,
            origin: origin.clone(),
        });
    }
    result.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    result
}

/// svc's own `shutdown_on` / `shutdown_exitcode` (supervisord ignores both keys).
fn shutdown_trigger(
    lowering: &mut Lowering<'_>,
    section: &Section,
    names: Option<&Names>,
) -> Option<ShutdownTrigger> {
    let on = lowering.typed(section, "shutdown_on", names, shutdown_on);
    let exitcode = lowering.typed(section, "shutdown_exitcode", names, shutdown_exitcode);
    if on.is_none()
        && lowering.entry(section, "shutdown_on").is_none()
        && let Some((_, span)) = exitcode
    {
        lowering.diagnostics.push(
            Diagnostic::new(
                &codes::PROGRAM_SHUTDOWN_EXITCODE_WITHOUT_SHUTDOWN_ON,
                format!(
                    "[{}] sets shutdown_exitcode but not shutdown_on, so it would never be used",
                    section.name
                ),
            )
            .at(span, "used only with shutdown_on")
            .help("add shutdown_on=fatal (or unexpected), or remove shutdown_exitcode"),
        );
    }
    on.map(|(on, _)| ShutdownTrigger {
        on,
        exitcode: exitcode.map_or(1, |(code, _)| code),
    })
}

/// A child's environment: `[supervisord] environment=` overlaid with its program's.
fn child_environment(
    supervisord: &IndexMap<String, String>,
    program: Option<&IndexMap<String, String>>,
) -> IndexMap<String, String> {
    let program = program.into_iter().flatten();
    let mut environment = IndexMap::with_capacity(supervisord.len() + program.clone().count());
    environment.extend(
        supervisord
            .iter()
            .chain(program)
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    environment
}

/// The key names of one output stream.
struct StreamKeys {
    logfile: &'static str,
    backups: &'static str,
    maxbytes: &'static str,
    syslog: &'static str,
}

const STDOUT: StreamKeys = StreamKeys {
    logfile: "stdout_logfile",
    backups: "stdout_logfile_backups",
    maxbytes: "stdout_logfile_maxbytes",
    syslog: "stdout_syslog",
};

const STDERR: StreamKeys = StreamKeys {
    logfile: "stderr_logfile",
    backups: "stderr_logfile_backups",
    maxbytes: "stderr_logfile_maxbytes",
    syslog: "stderr_syslog",
};

/// The log settings of one stream (`stdout` or `stderr`) of one process.
fn stream(
    lowering: &mut Lowering<'_>,
    section: &Section,
    keys: &StreamKeys,
    names: Option<&Names>,
    capture_maxbytes: i64,
    events_enabled: bool,
    facts: &mut LintFacts,
) -> Stream {
    let logfile_key = keys.logfile;
    let mut logfile_span: Option<Span> = None;
    let target = match lowering.field(section, logfile_key, names) {
        Some(field) => {
            logfile_span = Some(field.span);
            // supervisord 4.3.0 expands log paths a second time (which changes nothing when
            // no `%` is left).
            let policy = lowering.env_policy();
            let key = crate::expand::KeyName {
                section: &section.name,
                key: logfile_key,
            };
            let (text, second_pass) = match names {
                Some(names) if field.text.contains('%') => {
                    let again = Value::synthetic(field.span, &field.text);
                    crate::expand::expand(&again, names, &key, policy)
                }
                _ => (Some(field.text.clone()), Vec::new()),
            };
            if text.is_none() {
                lowering.diagnostics.push(
                    Diagnostic::new(
                        &codes::EXPAND_BAD_FORMAT,
                        format!("`{key}` is expanded twice by supervisord 4.3.0, and after the first expansion it reads `{}`, which is not a valid format", field.text),
                    )
                    .at(field.span, "a `%` survives the first expansion")
                    .help("in stdout_logfile and stderr_logfile a literal `%` must be written `%%%%`"),
                );
            } else {
                lowering.diagnostics.extend(second_pass);
            }
            text.map(|text| (logfile_target(text), field.span))
        }
        None => None,
    };
    let logfile_backups = lowering.typed_or(section, keys.backups, names, 10, integer);
    let logfile_maxbytes =
        lowering.typed_or(section, keys.maxbytes, names, 50 * 1024 * 1024, byte_size);
    let mut syslog = lowering.typed_or(section, keys.syslog, names, false, boolean);
    let logfile = match target {
        None => LogFile::Auto,
        Some((LogTarget::Auto, _)) => LogFile::Auto,
        Some((LogTarget::None, _)) => LogFile::None,
        Some((LogTarget::Syslog, span)) => {
            facts
                .deprecated_syslog
                .push((section.name.clone(), logfile_key.to_string(), span));
            facts.supervisord_warnings.push(format!(
                "For [{}], {logfile_key}=syslog but this is deprecated and will be removed.  \
                 Use {}=true to enable syslog instead.",
                section.name, keys.syslog
            ));
            syslog = true;
            LogFile::None
        }
        Some((LogTarget::Path(path), span)) => {
            LogFile::File(lowering.check_parent_directory(logfile_key, &path, span))
        }
    };
    if logfile == LogFile::Auto && logfile_maxbytes == 0 {
        facts.supervisord_warnings.push(format!(
            "For [{}], AUTO logging used for {logfile_key} without rollover, set maxbytes > 0 \
             to avoid filling up filesystem unintentionally",
            section.name
        ));
        let span = lowering
            .entry(section, keys.maxbytes)
            .map(|e| e.value.span())
            .or(logfile_span);
        if let Some(span) = span {
            facts.auto_logs_without_rotation.push((
                section.name.clone(),
                logfile_key.to_string(),
                span,
            ));
        }
    }
    Stream {
        logfile,
        logfile_maxbytes,
        logfile_backups,
        capture_maxbytes,
        events_enabled,
        syslog,
    }
}
