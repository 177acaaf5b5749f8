//! Properties of the compiler on any input: it never panics, always returns within a
//! deadline, and every diagnostic points inside the text of a loaded source.
//!
//! Inputs are corpus files mutated byte by byte (invalid UTF-8, NULs, lone CRs, BOMs),
//! INI-ish lines from a small grammar of supervisord's sections, keys and `%(...)s`
//! expansions, `[include]`s whose patterns match other in-memory files (the main file itself
//! and files including each other), one 1 MB line and one config with 10,000 sections. The
//! compiler runs in process on a [`MemoryHost`]: no disk I/O.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::sample::{Index, select};
use svc_compiler::host::MemoryHost;
use svc_compiler::render::{HumanStyle, github, human, json};
use svc_compiler::{Compilation, CompileOptions, compile};

/// Failure bound for one compilation of a random input (debug build).
const DEADLINE: Duration = Duration::from_secs(5);

/// Failure bound for the two large inputs (debug build).
const LARGE_DEADLINE: Duration = Duration::from_secs(20);

/// Cases per property; the whole file stays well under 30 s in a debug build.
const CASES: u32 = 96;

const MAIN: &str = "/etc/supervisor/supervisord.conf";

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        // A failure prints its minimal input; regressions become named tests here.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A machine with the usual directories, a few users and a small environment.
fn host() -> MemoryHost {
    let mut host = MemoryHost::new();
    host.dirs.extend(
        [
            "/etc",
            "/etc/supervisor",
            "/var",
            "/var/log",
            "/var/run",
            "/home",
        ]
        .map(PathBuf::from),
    );
    host.users.push(("www-data".into(), 33));
    host.groups.push(("www-data".into(), 33));
    host.cwd = PathBuf::from("/etc/supervisor");
    for (key, value) in [
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("HOME", "/root"),
        ("LANG", "C.UTF-8"),
        ("PORT", "8080"),
    ] {
        host.env.insert(key.into(), value.into());
    }
    host
}

/// Every way a span can be wrong, as text (empty: all spans are fine).
fn span_problems(compilation: &Compilation) -> Vec<String> {
    let mut problems = Vec::new();
    for diagnostic in &compilation.diagnostics {
        let labels = diagnostic.primary.iter().chain(&diagnostic.secondary);
        for label in labels {
            let span = label.span;
            let what = format!(
                "{} ({:?}) label {:?} at {:?}",
                diagnostic.code.name, diagnostic.message, label.text, span
            );
            let Some(source) = compilation.sources.get(span.source) else {
                problems.push(format!("{what}: no such source"));
                continue;
            };
            let text = &source.text;
            let (start, end) = (span.start as usize, span.end as usize);
            if start > end {
                problems.push(format!("{what}: start after end"));
            } else if end > text.len() {
                problems.push(format!(
                    "{what}: ends past the source ({} bytes)",
                    text.len()
                ));
            } else if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
                problems.push(format!("{what}: not on a char boundary"));
            }
        }
    }
    problems
}

/// Compiles `main` on `host` in a thread (with and without host checks) and renders the
/// diagnostics. Returns the problems found: a panic, a missed deadline, a bad span.
fn problems_with(host: MemoryHost, main: &Path, deadline: Duration, render: bool) -> Vec<String> {
    let main = main.to_path_buf();
    let (sender, receiver) = channel();
    let worker = std::thread::spawn(move || {
        let mut problems = Vec::new();
        for host_checks in [true, false] {
            let compilation = compile(
                &main,
                &host,
                &CompileOptions {
                    host_checks,
                    ..CompileOptions::default()
                },
            );
            problems.extend(
                span_problems(&compilation)
                    .into_iter()
                    .map(|p| format!("host_checks={host_checks}: {p}")),
            );
            let errors = compilation.error_count() > 0;
            if compilation.graph.is_some() == errors {
                problems.push(format!(
                    "host_checks={host_checks}: a Graph must be returned exactly when there is no error"
                ));
            }
            if render && problems.is_empty() {
                let (diagnostics, sources) = (&compilation.diagnostics, &compilation.sources);
                human(diagnostics, sources, HumanStyle::Plain);
                json(diagnostics, sources);
                github(diagnostics, sources);
            }
        }
        let _ = sender.send(problems);
    });
    let started = Instant::now();
    match receiver.recv_timeout(deadline) {
        Ok(problems) => {
            let _ = worker.join();
            problems
        }
        Err(RecvTimeoutError::Disconnected) => {
            let payload = worker.join().err();
            let message = payload
                .as_ref()
                .and_then(|p| {
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                })
                .unwrap_or_else(|| "(no message)".into());
            vec![format!("compile panicked: {message}")]
        }
        // The thread cannot be killed; it is left running and the test fails.
        Err(RecvTimeoutError::Timeout) => vec![format!(
            "compile did not return within {deadline:?} (waited {:?})",
            started.elapsed()
        )],
    }
}

/// [`problems_with`] for one main file on the default machine.
fn problems(main: &[u8]) -> Vec<String> {
    problems_with(host().file(MAIN, main), Path::new(MAIN), DEADLINE, true)
}

fn corpus() -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("the corpus must be at {}: {error}", dir.display()))
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "conf"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus files in {}", dir.display());
    files
        .iter()
        .map(|path| std::fs::read(path).expect("read a corpus file"))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Byte-level mutations.

/// Byte strings that stress decoding and line splitting.
const NASTY: &[&[u8]] = &[
    b"\0",
    b"\r",
    b"\n",
    b"\r\n",
    b"\xef\xbb\xbf",
    b"\xff",
    b"\xfe\xff",
    b"\xc3",
    b"\xe2\x82",
    b"\xf0\x9f\x98",
    b"\xc3\xa9",
    b"\xf0\x9f\x98\x80",
    b"\xcc\x81",
    b"\xc2\x85",
    b"\xe2\x80\xa8",
    b"\x0b",
    b"\x0c",
    b"\x1c",
    b"\t",
    b" ",
    b"%",
    b"%(",
    b")s",
    b"%(here)s",
    b"%(process_num)02d",
    b"%%",
    b";",
    b" ;",
    b"#",
    b"[",
    b"]",
    b"=",
    b":",
    b"\n[include]\nfiles=*.conf\n",
    b"\n[program:x]\n",
    b"\n[group:g]\nprograms=x\n",
    b"\n  continued\n",
];

#[derive(Debug, Clone)]
enum Mutation {
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    Replace(Index, u8),
    Duplicate(Index, usize),
    Truncate(Index),
    PrefixBom,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let nasty = select(NASTY).prop_map(<[u8]>::to_vec);
    let any_bytes = proptest::collection::vec(any::<u8>(), 1..4);
    prop_oneof![
        4 => (any::<Index>(), nasty).prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        1 => (any::<Index>(), any_bytes).prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        2 => (any::<Index>(), 1usize..64).prop_map(|(at, n)| Mutation::Delete(at, n)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(at, b)| Mutation::Replace(at, b)),
        1 => (any::<Index>(), 1usize..200).prop_map(|(at, n)| Mutation::Duplicate(at, n)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => Just(Mutation::PrefixBom),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        let len = bytes.len();
        let at = |index: &Index| if len == 0 { 0 } else { index.index(len + 1) };
        match mutation {
            Mutation::Insert(index, insert) => {
                let at = at(index);
                bytes.splice(at..at, insert.iter().copied());
            }
            Mutation::Delete(index, n) => {
                let at = at(index);
                bytes.drain(at..(at + n).min(len));
            }
            Mutation::Replace(index, byte) => {
                if len > 0 {
                    bytes[index.index(len)] = *byte;
                }
            }
            Mutation::Duplicate(index, n) => {
                let at = at(index);
                let copy = bytes[at..(at + n).min(len)].to_vec();
                bytes.splice(at..at, copy);
            }
            Mutation::Truncate(index) => bytes.truncate(at(index)),
            Mutation::PrefixBom => {
                bytes.splice(0..0, *b"\xef\xbb\xbf");
            }
        }
    }
    bytes
}

// ---------------------------------------------------------------------------------------
// A grammar of INI-ish lines.

const HEADERS: &[&str] = &[
    "[supervisord]",
    "[program:web]",
    "[program:worker]",
    "[program:%(ENV_HOME)s]",
    "[group:g]",
    "[group:web]",
    "[eventlistener:listener]",
    "[fcgi-program:fcgi]",
    "[unix_http_server]",
    "[inet_http_server]",
    "[inet_http_server:second]",
    "[supervisorctl]",
    "[rpcinterface:supervisor]",
    "[ctlplugin:x]",
    "[include]",
    "[DEFAULT]",
    "[unknown]",
    "[program:]",
    "[program:a:b]",
    "[ program:web ]",
    "[PROGRAM:web]",
    "[]",
    "[program:web",
    "[program:é😀]",
];

const KEYS: &[&str] = &[
    // program, fcgi-program, eventlistener
    "command",
    "process_name",
    "numprocs",
    "numprocs_start",
    "priority",
    "autostart",
    "autorestart",
    "startsecs",
    "startretries",
    "exitcodes",
    "stopsignal",
    "stopwaitsecs",
    "stopasgroup",
    "killasgroup",
    "user",
    "redirect_stderr",
    "stdout_logfile",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_syslog",
    "stderr_logfile",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_syslog",
    "environment",
    "directory",
    "umask",
    "serverurl",
    "socket",
    "socket_backlog",
    "socket_owner",
    "socket_mode",
    "events",
    "buffer_size",
    "result_handler",
    // supervisord
    "logfile",
    "logfile_maxbytes",
    "logfile_backups",
    "loglevel",
    "pidfile",
    "nodaemon",
    "silent",
    "minfds",
    "minprocs",
    "nocleanup",
    "childlogdir",
    "strip_ansi",
    "identifier",
    "profile_options",
    // servers, supervisorctl, groups, include, plugins
    "file",
    "chmod",
    "chown",
    "username",
    "password",
    "port",
    "prompt",
    "history_file",
    "programs",
    "files",
    "supervisor.rpcinterface_factory",
    "supervisor.ctl_factory",
    // not supervisord's
    "Command",
    "autorestrat",
    "-c",
    "a b",
    "é",
];

const WORDS: &[&str] = &[
    "/bin/cat",
    "/usr/bin/python -m http.server",
    "true",
    "false",
    "unexpected",
    "0",
    "1",
    "-1",
    "999",
    "100001",
    "99999999999999999999999",
    "0x10",
    "022",
    "0o22",
    "10MB",
    "1GB",
    "5KB",
    "TERM",
    "SIGKILL",
    "HUP",
    "0,2",
    "syslog",
    "AUTO",
    "NONE",
    "/dev/stdout",
    "/var/log/x.log",
    "/nonexistent/x.log",
    "root",
    "www-data",
    "nobody",
    "1000:1000",
    "unix:///tmp/x.sock",
    "tcp://localhost:9000",
    "127.0.0.1:9001",
    "*:9001",
    ":9001",
    "web,worker",
    "PROCESS_STATE",
    "TICK_60",
    "supervisor.rpcinterface:make_main_rpcinterface",
    "supervisor.dispatchers:default_handler",
    "A=\"1\",B='2'",
    "A=\"unterminated",
    "KEY=value,OTHER=%(ENV_HOME)s",
    "conf.d/*.conf",
    "*.conf",
    "debug",
    "blather",
    "é",
    "😀",
    "\u{85}",
    "\u{2028}",
    "\x0c",
    "\t",
    "\"quoted value\"",
    "'single'",
    "$HOME",
    "${PATH}",
    "&",
    "-d",
];

const EXPANSIONS: &[&str] = &[
    "%(here)s",
    "%(program_name)s",
    "%(process_num)d",
    "%(process_num)02d",
    "%(process_num)-5.3x",
    "%(process_num)r",
    "%(group_name)s",
    "%(host_node_name)s",
    "%(numprocs)d",
    "%(ENV_HOME)s",
    "%(ENV_PORT)d",
    "%(ENV_UNSET)s",
    "%(unknown)s",
    "%(here)",
    "%(",
    "%",
    "%%",
    "%s",
    "%(here)q",
    "%(%(here)s)s",
    "%()s",
    "%(process_num)*d",
];

/// A value: words, expansions and comment starters, joined by spaces or not.
fn value() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        5 => select(WORDS).prop_map(str::to_string),
        3 => select(EXPANSIONS).prop_map(str::to_string),
        1 => select(&[" ; comment", ";no-space", " # hash", "#x", "\\", "=", ":"][..])
            .prop_map(str::to_string),
        1 => "[ -~]{0,12}",
    ];
    proptest::collection::vec((piece, any::<bool>()), 0..5).prop_map(|pieces| {
        pieces
            .into_iter()
            .map(|(piece, space)| if space { format!("{piece} ") } else { piece })
            .collect()
    })
}

fn line() -> impl Strategy<Value = String> {
    let delimiter = select(&["=", " = ", ":", " : ", "= ", "=="][..]);
    let indent = select(&["", "", "", " ", "\t", "    "][..]);
    prop_oneof![
        2 => select(HEADERS).prop_map(str::to_string),
        8 => (indent, select(KEYS), delimiter, value())
            .prop_map(|(indent, key, delimiter, value)| format!("{indent}{key}{delimiter}{value}")),
        2 => (select(&["  ", "\t", " "][..]), value())
            .prop_map(|(indent, value)| format!("{indent}{value}")),
        1 => select(&[";", "#", "  ;", "rem", "REM"][..])
            .prop_flat_map(|start| value().prop_map(move |v| format!("{start} {v}"))),
        1 => Just(String::new()),
        1 => select(&["   ", "no delimiter here", "=value without key", "[section] trailing"][..])
            .prop_map(str::to_string),
    ]
}

/// A config: lines joined by one kind of line ending, usually starting with [supervisord].
fn ini() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        proptest::collection::vec(line(), 0..40),
        select(&["\n", "\r\n", "\r"][..]),
        any::<bool>(),
    )
        .prop_map(|(supervisord, lines, ending, final_ending)| {
            let mut text = String::new();
            if supervisord {
                text.push_str("[supervisord]");
                text.push_str(ending);
            }
            text.push_str(&lines.join(ending));
            if final_ending {
                text.push_str(ending);
            }
            text
        })
}

// ---------------------------------------------------------------------------------------
// Include graphs.

const INCLUDE_PATTERNS: &[&str] = &[
    "conf.d/*.conf",
    "conf.d/a.conf",
    "conf.d/[ab].conf",
    "conf.d/[!a]*.conf",
    "conf.d/[",
    "conf.d",
    "conf.d/missing*.conf",
    "*.conf",
    "supervisord.conf",
    "./supervisord.conf",
    "../supervisor/*.conf",
    "/etc/supervisor/conf.d/*",
    "%(here)s/conf.d/*.conf",
    "%(ENV_HOME)s/*.conf",
    "%(ENV_UNSET)s/*.conf",
    "conf.d/.hidden.conf",
    "conf.d/*/*.conf",
];

/// Included files, relative to the main file's directory.
const INCLUDED_FILES: &[&str] = &[
    "conf.d/a.conf",
    "conf.d/b.conf",
    "conf.d/.hidden.conf",
    "conf.d/sub/c.conf",
    "other.conf",
];

/// Directories for the main file: `%(here)s` becomes one of these, multi-byte characters,
/// spaces, a `%` and a `%(here)s` of its own included.
const MAIN_DIRS: &[&str] = &[
    "/etc/supervisor",
    "/srv/é 😀",
    "/srv/50% off",
    "/srv/%(here)s",
    "/",
];

fn include_section() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(select(INCLUDE_PATTERNS), 0..4),
        select(&[" ", "\n  ", "\t"][..]),
    )
        .prop_map(|(patterns, separator)| {
            format!("\n[include]\nfiles = {}\n", patterns.join(separator))
        })
}

/// Grammar text plus (maybe) an `[include]`, before or after it.
fn config_file() -> impl Strategy<Value = String> {
    (
        ini(),
        proptest::option::of(include_section()),
        any::<bool>(),
    )
        .prop_map(|(text, include, include_first)| match include {
            Some(include) if include_first => format!("{include}{text}"),
            Some(include) => format!("{text}{include}"),
            None => text,
        })
}

/// A main file's directory, and the main file (first) and included files by absolute path.
fn include_graph() -> impl Strategy<Value = (PathBuf, Vec<(PathBuf, Vec<u8>)>)> {
    (
        select(MAIN_DIRS),
        config_file(),
        proptest::collection::vec(proptest::option::of(config_file()), INCLUDED_FILES.len()),
    )
        .prop_map(|(dir, main, included)| {
            let dir = PathBuf::from(dir);
            let mut files = vec![(dir.join("supervisord.conf"), main.into_bytes())];
            for (path, text) in INCLUDED_FILES.iter().zip(included) {
                if let Some(text) = text {
                    files.push((dir.join(path), text.into_bytes()));
                }
            }
            (dir, files)
        })
}

// ---------------------------------------------------------------------------------------
// The properties.

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_corpus_files_compile_cleanly(
        file in select(corpus()),
        mutations in proptest::collection::vec(mutation(), 1..8),
    ) {
        let input = apply(file, &mutations);
        let found = problems(&input);
        prop_assert!(found.is_empty(), "{}\ninput: {:?}", found.join("\n"), String::from_utf8_lossy(&input));
    }

    #[test]
    fn grammar_configs_compile_cleanly(text in ini()) {
        let found = problems(text.as_bytes());
        prop_assert!(found.is_empty(), "{}\ninput: {text:?}", found.join("\n"));
    }

    #[test]
    fn mutated_grammar_configs_compile_cleanly(
        text in ini(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let input = apply(text.into_bytes(), &mutations);
        let found = problems(&input);
        prop_assert!(found.is_empty(), "{}\ninput: {:?}", found.join("\n"), String::from_utf8_lossy(&input));
    }

    #[test]
    fn include_graphs_compile_cleanly((dir, files) in include_graph(), relative in any::<bool>()) {
        let mut machine = host();
        machine.dirs.push(dir.clone());
        machine.cwd = dir;
        for (path, content) in &files {
            machine.files.insert(path.clone(), content.clone());
        }
        // The main file given relative to the working directory, or absolute.
        let main = if relative { PathBuf::from("supervisord.conf") } else { files[0].0.clone() };
        let found = problems_with(machine, &main, DEADLINE, true);
        prop_assert!(found.is_empty(), "{}\nfiles: {files:#?}", found.join("\n"));
    }
}

// ---------------------------------------------------------------------------------------
// Large inputs.

fn assert_no_problems(what: &str, text: &str) {
    let found = problems_with(
        host().file(MAIN, text.as_bytes()),
        Path::new(MAIN),
        LARGE_DEADLINE,
        false,
    );
    assert!(found.is_empty(), "{what}:\n{}", found.join("\n"));
}

#[test]
fn a_one_megabyte_line_compiles() {
    const MB: usize = 1 << 20;
    let long_value = "a".repeat(MB);
    assert_no_problems(
        "a 1 MB command",
        &format!("[supervisord]\n[program:web]\ncommand=/bin/echo {long_value}\n"),
    );
    assert_no_problems(
        "a 1 MB line of expansions",
        &format!(
            "[supervisord]\n[program:web]\ncommand=/bin/echo {}\n",
            "%(program_name)s ".repeat(MB / 17)
        ),
    );
    assert_no_problems(
        "a 1 MB line of broken expansions and comment starters",
        &format!(
            "[supervisord]\n[program:web]\ncommand=/bin/echo {}\n",
            "%( ;#é".repeat(MB / 7)
        ),
    );
    assert_no_problems(
        "a 1 MB section name without a newline",
        &format!("[supervisord]\n[program:{long_value}]"),
    );
    assert_no_problems("1 MB of one key without a value", &long_value);
}

#[test]
fn ten_thousand_sections_compile() {
    let mut text = String::from("[supervisord]\nlogfile=/var/log/supervisord.log\n");
    for n in 0..10_000 {
        text.push_str(&format!(
            "\n[program:p{n}]\ncommand=/bin/cat %(program_name)s\npriority={}\nstdout_logfile=/var/log/p{n}.log\n",
            n % 7
        ));
    }
    assert_no_problems("10,000 program sections", &text);
}
