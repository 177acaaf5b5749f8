//! Whole compilations on an in-memory host: supervisord's semantics end to end, with the
//! exact span (line, column, width) of each diagnostic pinned.

use std::path::Path;

use crate::host::MemoryHost;
use crate::{Compilation, CompileOptions, compile, found};

fn run(host: MemoryHost) -> Compilation {
    compile(
        Path::new("/etc/sv/supervisord.conf"),
        &host,
        &CompileOptions::default(),
    )
}

fn one(text: &str) -> Compilation {
    run(MemoryHost::new().file("/etc/sv/supervisord.conf", text))
}

fn names(compilation: &Compilation) -> Vec<(String, Vec<String>)> {
    let graph = compilation.graph.as_ref().expect("compiles");
    graph
        .groups
        .iter()
        .map(|g| {
            (
                g.name.clone(),
                g.processes.iter().map(|p| p.name.clone()).collect(),
            )
        })
        .collect()
}

#[test]
fn unknown_name_in_a_continuation_line_points_at_it() {
    let compilation = one("[supervisord]\n[program:a]\ncommand=/bin/echo\n  --x %(nope)s\n");
    assert_eq!(
        found(&compilation),
        [("svc::expand::unknown_name", 4, 7, "%(nope)s".to_string())]
    );
}

#[test]
fn process_num_is_not_available_in_priority() {
    let compilation = one("[supervisord]\n[program:a]\ncommand=/bin/a\npriority=%(process_num)d\n");
    assert_eq!(
        found(&compilation),
        [(
            "svc::expand::name_not_available",
            4,
            10,
            "%(process_num)d".to_string()
        )]
    );
}

#[test]
fn lone_percent_is_a_bad_format() {
    let compilation = one("[supervisord]\n[program:a]\ncommand=/bin/echo 100%\n");
    assert_eq!(
        found(&compilation),
        [("svc::expand::bad_format", 3, 22, "%".to_string())]
    );
}

#[test]
fn numprocs_expands_names_and_sorts_like_python() {
    let compilation = one(
        "[supervisord]\n[program:w]\ncommand=/bin/w %(process_num)d\nnumprocs=11\nprocess_name=w_%(process_num)d\n",
    );
    let groups = names(&compilation);
    // Python sorts process names as strings: w_10 comes before w_2.
    assert_eq!(groups[0].1[..4], ["w_0", "w_1", "w_10", "w_2"]);
}

#[test]
fn group_members_leave_their_homogeneous_group_and_groups_sort_by_priority() {
    let compilation = one(
        "[supervisord]\n[program:a]\ncommand=/bin/a\npriority=1\n[program:b]\ncommand=/bin/b\n\
         [group:g]\nprograms=b\npriority=0\n[eventlistener:l]\ncommand=/bin/l\nevents=TICK_5\n",
    );
    assert_eq!(
        names(&compilation),
        [
            ("l".to_string(), vec!["l".to_string()]),
            ("g".to_string(), vec!["b".to_string()]),
            ("a".to_string(), vec!["a".to_string()]),
        ]
    );
}

#[test]
fn here_is_the_including_files_directory_with_include() {
    let host = MemoryHost::new()
        .file(
            "/etc/sv/supervisord.conf",
            "[supervisord]\n[include]\nfiles=conf.d/*.conf\n[program:main]\ncommand=/bin/x %(here)s\n",
        )
        .file("/etc/sv/conf.d/a.conf", "[program:inc]\ncommand=/bin/x %(here)s\n");
    let compilation = run(host);
    let graph = compilation.graph.expect("compiles");
    let commands: Vec<&str> = graph
        .groups
        .iter()
        .map(|g| g.processes[0].command.as_str())
        .collect();
    assert_eq!(commands, ["/bin/x /etc/sv/conf.d", "/bin/x /etc/sv"]);
}

#[test]
fn program_environment_accumulates_across_processes_like_supervisord() {
    // supervisord's expansion dict is shared between the processes of a program, so the
    // second process sees the first one's ENV_X.
    let compilation = one(
        "[supervisord]\nenvironment=G=1\n[program:a]\ncommand=/bin/a %(ENV_X)s %(ENV_G)s\nnumprocs=2\n\
         process_name=a%(process_num)d\nenvironment=X=\"x%(process_num)d\"\n",
    );
    let graph = compilation.graph.expect("compiles");
    let commands: Vec<&str> = graph.groups[0]
        .processes
        .iter()
        .map(|p| p.command.as_str())
        .collect();
    assert_eq!(commands, ["/bin/a x0 1", "/bin/a x1 1"]);
    let environment = &graph.groups[0].processes[1].environment;
    assert_eq!(environment.get("G").map(String::as_str), Some("1"));
    assert_eq!(environment.get("X").map(String::as_str), Some("x1"));
}

#[test]
fn unknown_group_member_points_at_the_member() {
    let compilation =
        one("[supervisord]\n[program:web]\ncommand=/bin/w\n[group:g]\nprograms=web, wbe\n");
    assert_eq!(
        found(&compilation),
        [("svc::group::unknown_program", 5, 15, "wbe".to_string())]
    );
    assert_eq!(
        compilation.diagnostics[0].help.as_deref(),
        Some("did you mean `web`?")
    );
}

#[test]
fn unknown_event_type_points_at_the_event() {
    let compilation =
        one("[supervisord]\n[eventlistener:l]\ncommand=/bin/l\nevents=PROCESS_STATE, TICK_6\n");
    assert_eq!(
        found(&compilation),
        [(
            "svc::eventlistener::unknown_event_type",
            4,
            23,
            "TICK_6".to_string()
        )]
    );
}

#[test]
fn no_match_include_points_at_the_pattern() {
    let compilation = one("[supervisord]\n[include]\nfiles = a/*.conf b/*.conf\n");
    let codes = found(&compilation);
    assert_eq!(
        codes[0],
        ("svc::include::no_match", 3, 9, "a/*.conf".to_string())
    );
    assert_eq!(
        codes[1],
        ("svc::include::no_match", 3, 18, "b/*.conf".to_string())
    );
    assert!(compilation.graph.is_some(), "no match is only a warning");
}

#[test]
fn nested_include_is_ignored_with_a_warning() {
    let host = MemoryHost::new()
        .file(
            "/etc/sv/supervisord.conf",
            "[supervisord]\n[include]\nfiles=a.conf\n",
        )
        .file(
            "/etc/sv/a.conf",
            "[include]\nfiles=b.conf\n[program:a]\ncommand=/bin/a\n",
        )
        .file("/etc/sv/b.conf", "[program:b]\ncommand=/bin/b\n");
    let compilation = run(host);
    assert_eq!(
        names(&compilation),
        [("a".to_string(), vec!["a".to_string()])]
    );
    assert!(
        found(&compilation)
            .iter()
            .any(|(code, ..)| *code == "svc::include::nested_ignored")
    );
}

#[test]
fn including_the_main_file_again_reads_it_twice_without_duplicate_warnings() {
    let compilation = one("[supervisord]\n[include]\nfiles=*.conf\n[program:a]\ncommand=/bin/a\n");
    assert_eq!(
        names(&compilation),
        [("a".to_string(), vec!["a".to_string()])]
    );
    assert_eq!(
        found(&compilation),
        [("svc::include::includes_itself", 3, 7, "*.conf".to_string())]
    );
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let compilation = one(
        "[supervisord]\nloglevel=loud\n[program:a]\nautostart=maybe\n[program:b]\ncommand=/bin/b\nexitcodes=0,256\n",
    );
    let codes: Vec<&str> = found(&compilation).iter().map(|(code, ..)| *code).collect();
    assert_eq!(
        codes,
        [
            "svc::value::invalid_loglevel",
            "svc::program::missing_command",
            "svc::value::invalid_boolean",
            "svc::value::invalid_exitcodes"
        ]
    );
    assert!(compilation.graph.is_none());
}

#[test]
fn host_checks_use_the_host() {
    let mut host = MemoryHost::new().file(
        "/etc/sv/supervisord.conf",
        "[supervisord]\nchildlogdir=/var/log/sv\n[program:a]\ncommand=/bin/a\nuser=www\n",
    );
    let compilation = run(host.clone());
    let codes: Vec<&str> = found(&compilation).iter().map(|(code, ..)| *code).collect();
    assert_eq!(
        codes,
        ["svc::host::missing_directory", "svc::host::unknown_user"]
    );
    host.dirs.push("/var/log/sv".into());
    host.users.push(("www".into(), 33));
    assert!(run(host).graph.is_some());
}

#[test]
fn a_credential_that_fails_to_expand_is_not_also_reported_as_missing() {
    let compilation = one(
        "[supervisord]\n[inet_http_server]\nport=127.0.0.1:9001\nusername=%(nope)s\npassword=secret\n",
    );
    let errors: Vec<&str> = compilation
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code.name)
        .collect();
    assert_eq!(errors, ["svc::expand::unknown_name"]);
}
