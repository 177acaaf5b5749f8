//! Process groups: supervisord's `process_groups_from_parser`.
//!
//! Order of work, as in supervisord: `[group:x]` sections first (their programs leave the
//! homogeneous pool), then homogeneous `[program:x]` groups, `[eventlistener:x]` pools and
//! `[fcgi-program:x]` groups; finally a stable sort by `(priority, name)`.
//!
//! Beyond supervisord: two groups with one name, or two processes with one name in a
//! group, are errors; supervisord silently keeps only one of them at run time.

use std::sync::atomic::{AtomicUsize, Ordering};

use rustc_hash::{FxHashMap, FxHashSet};

use svc_schema::{FcgiSocket, Group, GroupKind, Pool, Span};

use crate::codes;
use crate::convert::{boolean, integer, octal, owner_spec};
use crate::diagnostic::Diagnostic;
use crate::ini::Section;
use crate::lints::LintFacts;
use crate::lower::plugins::{KNOWN_RESULT_HANDLERS, unresolvable};
use crate::lower::program::{self, section_item_name};
use crate::lower::{Lowering, Part};

/// Every event type name supervisor 4.3.0 defines.
pub(crate) const EVENT_TYPES: &[&str] = &[
    "EVENT",
    "PROCESS_COMMUNICATION",
    "PROCESS_COMMUNICATION_STDERR",
    "PROCESS_COMMUNICATION_STDOUT",
    "PROCESS_GROUP",
    "PROCESS_GROUP_ADDED",
    "PROCESS_GROUP_REMOVED",
    "PROCESS_LOG",
    "PROCESS_LOG_STDERR",
    "PROCESS_LOG_STDOUT",
    "PROCESS_STATE",
    "PROCESS_STATE_BACKOFF",
    "PROCESS_STATE_EXITED",
    "PROCESS_STATE_FATAL",
    "PROCESS_STATE_RUNNING",
    "PROCESS_STATE_STARTING",
    "PROCESS_STATE_STOPPED",
    "PROCESS_STATE_STOPPING",
    "PROCESS_STATE_UNKNOWN",
    "REMOTE_COMMUNICATION",
    "SUPERVISOR_STATE_CHANGE",
    "SUPERVISOR_STATE_CHANGE_RUNNING",
    "SUPERVISOR_STATE_CHANGE_STOPPING",
    "TICK",
    "TICK_3600",
    "TICK_5",
    "TICK_60",
];

/// `list_of_strings`: split on `,`, strip each; empty text is an empty list.
/// A group made from `section`, with the span that names it.
fn group(
    name: String,
    kind: GroupKind,
    priority: i64,
    processes: Vec<svc_schema::Process>,
    section: &Section,
) -> (Group, Span) {
    let group = Group {
        name,
        kind,
        priority,
        processes,
        pool: None,
        fcgi_socket: None,
        origin: section.origin(),
    };
    (group, section.header())
}

fn list_of_strings(text: &str) -> Vec<(usize, &str)> {
    if text.is_empty() {
        return Vec::new();
    }
    let mut offset = 0;
    text.split(',')
        .map(|part| {
            let start = offset;
            offset += part.len() + 1;
            let (lo, hi) = crate::ini::py_strip(part);
            (start + lo, &part[lo..hi])
        })
        .collect()
}

/// All groups, sorted.
pub(crate) fn lower(lowering: &mut Lowering<'_>, facts: &mut LintFacts) -> Vec<Group> {
    let document = lowering.document;
    let mut groups: Vec<(Group, Span)> = Vec::new();
    let mut excluded: FxHashSet<&str> = FxHashSet::default();

    for section in document
        .sections
        .values()
        .filter(|s| s.name.starts_with("group:"))
    {
        let group_name = section_item_name(lowering, section);
        let names = lowering.here_names();
        let programs_field = lowering.field(section, "programs", Some(&names));
        let priority = lowering.typed_or(section, "priority", Some(&names), 999, integer);
        let mut processes = Vec::new();
        if let Some(field) = &programs_field {
            let programs_entry = lowering.entry(section, "programs");
            let precise = programs_entry.is_some_and(|entry| entry.value.text == field.text);
            for (offset, member) in list_of_strings(&field.text) {
                let member_span = match (precise, programs_entry) {
                    (true, Some(entry)) => entry.value.span_of(offset, offset + member.len()),
                    _ => field.span,
                };
                let program_section = format!("program:{member}");
                let fcgi_section = format!("fcgi-program:{member}");
                let as_program = document.section(&program_section);
                let as_fcgi = document.section(&fcgi_section);
                let target = match (as_program, as_fcgi) {
                    (Some(program), Some(fcgi)) => {
                        lowering.diagnostics.push(
                            Diagnostic::new(
                                &codes::GROUP_AMBIGUOUS_PROGRAM,
                                format!("[{}] name {member} is ambiguous (exists as program and fcgi-program)", section.name),
                            )
                            .at(member_span, "ambiguous")
                            .also(program.header(), "a program")
                            .also(fcgi.header(), "an fcgi-program")
                            .help("rename one of the two sections"),
                        );
                        continue;
                    }
                    (Some(program), None) => program,
                    (None, Some(fcgi)) => fcgi,
                    (None, None) => {
                        let known = document.sections.keys().filter_map(|n| {
                            n.strip_prefix("program:")
                                .or_else(|| n.strip_prefix("fcgi-program:"))
                        });
                        let help = match crate::suggest::closest(member, known) {
                            Some(close) if !member.is_empty() => format!("did you mean `{close}`?"),
                            _ if member.is_empty() => {
                                "remove the empty entry (a doubled or trailing comma)".into()
                            }
                            _ => format!("define [program:{member}], or remove it from programs="),
                        };
                        let what = if member.is_empty() {
                            "an empty program name".to_string()
                        } else {
                            format!("unknown program {member}")
                        };
                        lowering.diagnostics.push(
                            Diagnostic::new(
                                &codes::GROUP_UNKNOWN_PROGRAM,
                                format!("[{}] names {what}", section.name),
                            )
                            .at(
                                member_span,
                                "no [program:...] or [fcgi-program:...] with this name",
                            )
                            .help(help),
                        );
                        continue;
                    }
                };
                excluded.insert(&target.name);
                facts.group_memberships.push((
                    target.name.clone(),
                    section.name.clone(),
                    member_span,
                ));
                processes.extend(program::processes(lowering, target, &group_name, facts));
            }
        }
        if processes.is_empty() {
            facts
                .empty_groups
                .push((section.name.clone(), section.header()));
        }
        groups.push(group(
            group_name,
            GroupKind::Group,
            priority,
            processes,
            section,
        ));
    }

    let programs: Vec<&Section> = document
        .sections
        .values()
        .filter(|s| s.name.starts_with("program:") && !excluded.contains(s.name.as_str()))
        .collect();
    groups.extend(program_groups(lowering, &programs, facts));

    for section in document
        .sections
        .values()
        .filter(|s| s.name.starts_with("eventlistener:"))
    {
        groups.push(eventlistener(lowering, section, facts));
    }

    for section in document.sections.values() {
        if !section.name.starts_with("fcgi-program:") || excluded.contains(section.name.as_str()) {
            continue;
        }
        groups.push(fcgi_program(lowering, section, facts));
    }

    check_duplicates(lowering, &groups);
    let mut groups: Vec<Group> = groups.into_iter().map(|(group, _)| group).collect();
    groups.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    groups
}

/// How many `[program:x]` sections a thread lowers at a time.
const PROGRAMS_PER_CHUNK: usize = 64;

/// The homogeneous groups of these `[program:x]` sections, in order. They are most of a
/// large configuration and independent of each other, so this thread and a scoped worker
/// thread lower them in chunks taken in turn; each chunk's groups, diagnostics and facts
/// are then appended in chunk order, which is the order one pass produces.
fn program_groups(
    lowering: &mut Lowering<'_>,
    programs: &[&Section],
    facts: &mut LintFacts,
) -> Vec<(Group, Span)> {
    let chunks: Vec<&[&Section]> = programs.chunks(PROGRAMS_PER_CHUNK).collect();
    let next = AtomicUsize::new(0);
    let work = |mut lowering: Lowering<'_>| {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(chunk) = chunks.get(index) else {
                break;
            };
            let mut chunk_facts = LintFacts::default();
            let groups: Vec<(Group, Span)> = chunk
                .iter()
                .map(|section| program_group(&mut lowering, section, &mut chunk_facts))
                .collect();
            let diagnostics = std::mem::take(&mut lowering.diagnostics);
            done.push((index, groups, diagnostics, chunk_facts));
        }
        done
    };
    let mut done = if chunks.len() > 1 {
        let worker_lowering = lowering.fork();
        std::thread::scope(|scope| {
            let worker = scope.spawn(|| work(worker_lowering));
            let mut done = work(lowering.fork());
            match worker.join() {
                Ok(more) => done.extend(more),
                Err(panic) => std::panic::resume_unwind(panic),
            }
            done
        })
    } else {
        work(lowering.fork())
    };
    done.sort_by_key(|(index, ..)| *index);
    let mut groups = Vec::with_capacity(programs.len());
    for (_, chunk_groups, diagnostics, chunk_facts) in done {
        groups.extend(chunk_groups);
        lowering.diagnostics.extend(diagnostics);
        facts.extend(chunk_facts);
    }
    groups
}

/// The homogeneous group of one `[program:x]`.
fn program_group(
    lowering: &mut Lowering<'_>,
    section: &Section,
    facts: &mut LintFacts,
) -> (Group, Span) {
    let name = section_item_name(lowering, section);
    let names = lowering.here_names();
    let priority = lowering.typed_or(section, "priority", Some(&names), 999, integer);
    let processes = program::processes(lowering, section, &name, facts);
    group(name, GroupKind::Program, priority, processes, section)
}

fn eventlistener(
    lowering: &mut Lowering<'_>,
    section: &Section,
    facts: &mut LintFacts,
) -> (Group, Span) {
    let sect = section.name.as_str();
    let pool_name = sect.split_once(':').map_or("", |(_, n)| n).to_string();
    let names = lowering.here_names();
    let names = Some(&names);
    let priority = lowering.typed_or(section, "priority", names, -1, integer);
    let buffer_size = match lowering.typed(section, "buffer_size", names, integer) {
        Some((size, span)) if size < 1 => {
            lowering.diagnostics.push(
                Diagnostic::new(
                    &codes::EVENTLISTENER_INVALID_BUFFER_SIZE,
                    format!("[{sect}] section sets invalid buffer_size ({size})"),
                )
                .at(span, "must be 1 or more")
                .help("set buffer_size to the number of events to queue, such as 10"),
            );
            10
        }
        Some((size, _)) => size,
        None => 10,
    };
    let result_handler = match lowering.field(section, "result_handler", names) {
        Some(field) => {
            if !KNOWN_RESULT_HANDLERS.contains(&field.text.as_str()) {
                let diagnostic = unresolvable(
                    &field.text,
                    sect,
                    &field,
                    crate::diagnostic::Severity::Error,
                );
                lowering.diagnostics.push(diagnostic);
            }
            field.text
        }
        None => KNOWN_RESULT_HANDLERS[0].to_string(),
    };
    let mut events: Vec<String> = Vec::new();
    match lowering.field(section, "events", names) {
        Some(field) if !field.text.is_empty() => {
            let events_entry = lowering.entry(section, "events");
            let precise = events_entry.is_some_and(|e| e.value.text == field.text);
            for (offset, event) in list_of_strings(&field.text) {
                let upper = event.to_uppercase();
                if EVENT_TYPES.contains(&upper.as_str()) {
                    if !events.contains(&upper) {
                        events.push(upper);
                    }
                    continue;
                }
                let span = match (precise, events_entry) {
                    (true, Some(entry)) => entry.value.span_of(offset, offset + event.len()),
                    _ => field.span,
                };
                let help = match crate::suggest::closest(&upper, EVENT_TYPES.iter().copied()) {
                    Some(close) => format!("did you mean {close}?"),
                    None => {
                        "use an event type such as PROCESS_STATE, PROCESS_STATE_EXITED or TICK_60"
                            .into()
                    }
                };
                lowering.diagnostics.push(
                    Diagnostic::new(
                        &codes::EVENTLISTENER_UNKNOWN_EVENT_TYPE,
                        format!("Unknown event type {upper} in [{sect}] events"),
                    )
                    .at(span, "unknown event type")
                    .help(help),
                );
            }
        }
        Some(field) => missing_events(lowering, sect, field.span),
        None => {
            if lowering.entry(section, "events").is_none() {
                missing_events(lowering, sect, section.header());
            }
        }
    }
    events.sort();
    if let Some((true, span)) = lowering.typed(section, "redirect_stderr", names, boolean) {
        lowering.diagnostics.push(
            Diagnostic::new(
                &codes::EVENTLISTENER_REDIRECT_STDERR,
                format!("[{sect}] sets redirect_stderr=true, which would interfere with the eventlistener protocol"),
            )
            .at(span, "not allowed for event listeners")
            .help("remove redirect_stderr: a listener's stdout is the protocol channel"),
        );
    }
    let processes = program::processes(lowering, section, &pool_name, facts);
    let (mut pool, span) = group(
        pool_name,
        GroupKind::Eventlistener,
        priority,
        processes,
        section,
    );
    pool.pool = Some(Pool {
        events,
        buffer_size,
        result_handler,
    });
    (pool, span)
}

fn missing_events(lowering: &mut Lowering<'_>, section: &str, span: Span) {
    lowering.diagnostics.push(
        Diagnostic::new(
            &codes::EVENTLISTENER_MISSING_EVENTS,
            format!("[{section}] section requires an \"events\" line"),
        )
        .at(span, "no events")
        .help("add `events = PROCESS_STATE` (or the event types the listener handles)"),
    );
}

fn fcgi_program(
    lowering: &mut Lowering<'_>,
    section: &Section,
    facts: &mut LintFacts,
) -> (Group, Span) {
    let sect = section.name.as_str();
    let name = section_item_name(lowering, section);
    let names = lowering.here_names();
    let priority = lowering.typed_or(section, "priority", Some(&names), 999, integer);
    if let Some(field) = lowering.field(section, "user", Some(&names)) {
        lowering.check_user(&field.text, field.span);
    }
    let backlog = match lowering.typed(section, "socket_backlog", Some(&names), integer) {
        Some((backlog, span)) if !(1..=65535).contains(&backlog) => {
            lowering.diagnostics.push(
                Diagnostic::new(
                    &codes::FCGI_INVALID_SOCKET_BACKLOG,
                    format!("Invalid socket_backlog value {backlog}"),
                )
                .at(span, "must be 1-65535")
                .help("remove socket_backlog to use the system default, or set 1-65535"),
            );
            None
        }
        Some((backlog, _)) => Some(backlog),
        None => None,
    };
    let owner = lowering
        .typed(section, "socket_owner", Some(&names), owner_spec)
        .map(|(spec, span)| {
            let user_span = lowering
                .part_span(section, "socket_owner", Part::User)
                .unwrap_or(span);
            lowering.check_user(&spec.user, user_span);
            if let Some(group) = &spec.group {
                let group_span = lowering
                    .part_span(section, "socket_owner", Part::Group)
                    .unwrap_or(span);
                lowering.check_group(group, group_span);
            }
            (spec, span)
        });
    let mode = lowering.typed(section, "socket_mode", Some(&names), octal);
    let socket_names = names.clone().with_str("program_name", name.clone());
    let socket = match lowering.field(section, "socket", Some(&socket_names)) {
        Some(field) if !field.text.is_empty() => {
            parse_socket(lowering, sect, &field, owner, mode, backlog)
        }
        other => {
            if other.is_some() || lowering.entry(section, "socket").is_none() {
                lowering.diagnostics.push(
                    Diagnostic::new(
                        &codes::FCGI_MISSING_SOCKET,
                        format!("[{sect}] section requires a \"socket\" line"),
                    )
                    .at(other.map_or(section.header(), |f| f.span), "no socket")
                    .help("add `socket = unix:///run/app.sock` or `socket = tcp://127.0.0.1:9000`"),
                );
            }
            None
        }
    };
    let processes = program::processes(lowering, section, &name, facts);
    let (mut fcgi, span) = group(name, GroupKind::FcgiProgram, priority, processes, section);
    fcgi.fcgi_socket = socket;
    (fcgi, span)
}

type OwnerField = (svc_schema::OwnerSpec, Span);

fn parse_socket(
    lowering: &mut Lowering<'_>,
    section: &str,
    field: &crate::lower::Field,
    owner: Option<OwnerField>,
    mode: Option<(u32, Span)>,
    backlog: Option<i64>,
) -> Option<FcgiSocket> {
    let invalid = |lowering: &mut Lowering<'_>, message: String| {
        lowering.diagnostics.push(
            Diagnostic::new(
                &codes::FCGI_INVALID_SOCKET,
                format!("{message} in [{section}] socket"),
            )
            .at(field.span, "invalid socket")
            .help("write unix:///absolute/path.sock or tcp://host:port"),
        );
        None
    };
    if let Some(path) = field.text.strip_prefix("unix://") {
        if !path.starts_with('/') {
            return invalid(
                lowering,
                format!("Unix socket path {path} is not an absolute path"),
            );
        }
        return Some(FcgiSocket::Unix {
            path: crate::paths::normpath(&lowering.normalize_path(path)),
            owner: owner.map(|(spec, _)| spec),
            mode: mode.map_or(0o700, |(mode, _)| mode),
            backlog,
        });
    }
    if owner.is_some() || mode.is_some() {
        let span = owner
            .as_ref()
            .map(|(_, span)| *span)
            .or(mode.as_ref().map(|(_, span)| *span))
            .unwrap_or(field.span);
        lowering.diagnostics.push(
            Diagnostic::new(
                &codes::FCGI_UNIX_OPTION_ON_TCP,
                format!("socket_owner and socket_mode params should only be used with a Unix domain socket in [{section}] socket"),
            )
            .at(span, "only for unix:// sockets")
            .also(field.span, "this is a TCP socket")
            .help("remove socket_owner/socket_mode, or use a unix:// socket"),
        );
        return None;
    }
    let tcp = field.text.strip_prefix("tcp://").and_then(|rest| {
        let (host, port) = rest.rsplit_once(':')?;
        let host_ok =
            !host.is_empty() && !host.contains(':') && !host.chars().any(crate::ini::is_py_space);
        let port_ok = !port.is_empty() && port.chars().all(|c| c.is_ascii_digit());
        (host_ok && port_ok).then(|| (host.to_lowercase(), port.parse::<u32>().ok()))
    });
    match tcp {
        Some((host, Some(port))) if (1..=65535).contains(&port) => Some(FcgiSocket::Tcp {
            host,
            port: port as u16,
            backlog,
        }),
        Some(_) => invalid(
            lowering,
            format!("port of {} is out of range 1-65535", field.text),
        ),
        None => invalid(lowering, format!("Bad socket format {}", field.text)),
    }
}

fn check_duplicates(lowering: &mut Lowering<'_>, groups: &[(Group, Span)]) {
    let mut first: FxHashMap<&str, Span> =
        FxHashMap::with_capacity_and_hasher(groups.len(), Default::default());
    for (group, span) in groups {
        if let Some(previous) = first.get(group.name.as_str()) {
            let position = |span: &Span| (span.source, span.start);
            let (earlier, later) = if position(previous) <= position(span) {
                (*previous, *span)
            } else {
                (*span, *previous)
            };
            lowering.diagnostics.push(
                Diagnostic::new(
                    &codes::GROUP_DUPLICATE_NAME,
                    format!("two sections define a group named `{}`", group.name),
                )
                .at(later, "second definition")
                .also(earlier, "first definition")
                .help("rename one of them; supervisord would silently run only one"),
            );
        } else {
            first.insert(&group.name, *span);
        }
        if group.processes.len() < 2 {
            continue;
        }
        let mut seen: FxHashMap<&str, Span> = FxHashMap::default();
        for process in &group.processes {
            let span = process.origin.section.unwrap_or(*span);
            if let Some(previous) = seen.get(process.name.as_str()) {
                lowering.diagnostics.push(
                    Diagnostic::new(
                        &codes::GROUP_DUPLICATE_PROCESS_NAME,
                        format!(
                            "group `{}` has two processes named `{}`",
                            group.name, process.name
                        ),
                    )
                    .at(span, "second process")
                    .also(*previous, "first process")
                    .help("give the programs different process_name values"),
                );
            } else {
                seen.insert(&process.name, span);
            }
        }
    }
}
