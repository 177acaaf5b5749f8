//! Unit tests of the TOML reader on an in-memory host: the same Graph as the INI twin,
//! exact spans, every problem at once, never a panic.

use std::path::Path;

use crate::host::MemoryHost;
use crate::{Compilation, CompileOptions, compile, found};

fn compile_at(host: &MemoryHost, path: &str) -> Compilation {
    compile(Path::new(path), host, &CompileOptions::default())
}

fn toml(text: &str) -> Compilation {
    let host = MemoryHost::new()
        .file("/etc/sv/svc.toml", text)
        .file("/etc/sv/data/.keep", "");
    compile_at(&host, "/etc/sv/svc.toml")
}

fn ini(text: &str) -> Compilation {
    let host = MemoryHost::new()
        .file("/etc/sv/supervisord.conf", text)
        .file("/etc/sv/data/.keep", "");
    compile_at(&host, "/etc/sv/supervisord.conf")
}

fn graph_json(compilation: &Compilation) -> String {
    let codes: Vec<&str> = compilation
        .diagnostics
        .iter()
        .map(|d| d.code.name)
        .collect();
    let graph = compilation
        .graph
        .as_ref()
        .unwrap_or_else(|| panic!("no graph: {codes:?}"));
    serde_json::to_string_pretty(graph).unwrap_or_default()
}

#[test]
fn a_toml_file_means_what_its_ini_twin_means() {
    let ini = ini(r#"[supervisord]
logfile=%(here)s/data/main.log
environment=GLOBAL="g"

[program:web]
command=/bin/sleep 10
numprocs=2
process_name=%(program_name)s_%(process_num)02d
environment=A="1",B=x,C='say "hi" now'
exitcodes=0,2
autorestart=unexpected
stopsignal=INT
stdout_logfile_maxbytes=1MB
priority=5

[eventlistener:ev]
command=/bin/cat
events=PROCESS_STATE,TICK_60

[group:g]
programs=web
priority=7

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
"#);
    let toml = toml(
        r#"[supervisord]
logfile = "%(here)s/data/main.log"
environment = { GLOBAL = "g" }

[programs.web]
command = "/bin/sleep 10"
numprocs = 2
process_name = "%(program_name)s_%(process_num)02d"
environment = { A = "1", B = "x", C = 'say "hi" now' }
exitcodes = [0, 2]
autorestart = "unexpected"
stopsignal = "INT"
stdout_logfile_maxbytes = "1MB"
priority = 5

[eventlisteners.ev]
command = "/bin/cat"
events = ["PROCESS_STATE", "TICK_60"]

[groups.g]
programs = ["web"]
priority = 7

[rpcinterfaces.supervisor]
"supervisor.rpcinterface_factory" = "supervisor.rpcinterface:make_main_rpcinterface"
"#,
    );
    assert_eq!(graph_json(&ini), graph_json(&toml));
}

#[test]
fn every_problem_is_reported_at_its_span() {
    let compilation = toml(
        r#"[supervisord]
logfil = "/tmp/x.log"
[programs.web]
command = 5
numprocs = 2.5
environment = { A = "it's \"x\"" }
[program.x]
command = "x"
[programs.y]
command = "/bin/true"
events = ["a,b"]
"#,
    );
    assert_eq!(
        found(&compilation),
        vec![
            ("svc::toml::unknown_key", 2, 1, "logfil".to_string()),
            // `command` could not be read: that is the one problem (no `missing_command`).
            ("svc::toml::wrong_type", 4, 11, "5".to_string()),
            ("svc::toml::wrong_type", 5, 12, "2.5".to_string()),
            (
                "svc::toml::unrepresentable_value",
                6,
                21,
                r#""it's \"x\"""#.to_string()
            ),
            ("svc::toml::unknown_key", 7, 2, "program".to_string()),
            ("svc::toml::unknown_key", 11, 1, "events".to_string()),
        ]
    );
    let help = compilation.diagnostics[0].help.clone().unwrap_or_default();
    assert_eq!(help, "did you mean `logfile`?");
}

#[test]
fn a_missing_required_key_is_still_reported() {
    let compilation = toml("[supervisord]\n[programs.web]\nnumprocs = 1\n");
    assert_eq!(
        found(&compilation),
        vec![("svc::program::missing_command", 2, 11, "web".to_string())]
    );
}

#[test]
fn syntax_errors_are_all_reported() {
    let compilation = toml("[supervisord]\na = = 1\nb = \"unclosed\nc = 1\n");
    let syntax: Vec<_> = found(&compilation)
        .into_iter()
        .filter(|(code, ..)| *code == "svc::toml::syntax")
        .collect();
    assert!(syntax.len() >= 2, "{syntax:?}");
    assert!(compilation.graph.is_none());
}

#[test]
fn expansion_problems_point_inside_the_toml_string() {
    let compilation = toml("[supervisord]\n[programs.web]\ncommand = \"/bin/x %(nope)s\"\n");
    assert_eq!(
        found(&compilation),
        vec![("svc::expand::unknown_name", 3, 19, "%(nope)s".to_string())]
    );
}

#[test]
fn a_string_is_read_as_ini_text() {
    let compilation = toml(
        "[supervisord]\n[programs.web]\ncommand = \"/bin/x\"\nnumprocs = \"3\"\nprocess_name = \"%(program_name)s-%(process_num)d\"\nautostart = \"no\"\n",
    );
    let graph = compilation.graph.as_ref().expect("graph");
    let processes = &graph.groups[0].processes;
    assert_eq!(processes.len(), 3);
    assert!(!processes[0].autostart);
}

#[test]
fn includes_nest_and_cycles_are_reported() {
    let host = MemoryHost::new()
        .file(
            "/etc/sv/svc.toml",
            "[supervisord]\n[include]\nfiles = [\"conf.d/*.toml\"]\n",
        )
        .file(
            "/etc/sv/conf.d/a.toml",
            "[programs.a]\ncommand = \"%(here)s/run\"\n[include]\nfiles = [\"more/*.toml\"]\n",
        )
        .file(
            "/etc/sv/conf.d/more/b.toml",
            "[programs.b]\ncommand = \"/bin/b\"\n[include]\nfiles = [\"/etc/sv/conf.d/a.toml\"]\n",
        );
    let compilation = compile_at(&host, "/etc/sv/svc.toml");
    let codes: Vec<_> = found(&compilation);
    assert_eq!(
        codes,
        vec![(
            "svc::toml::include_cycle",
            4,
            10,
            "\"/etc/sv/conf.d/a.toml\"".to_string()
        )]
    );
    let document = &compilation.document;
    let command = document
        .get("program:a", "command")
        .map(|entry| entry.value.text.clone());
    assert_eq!(command.as_deref(), Some("/etc/sv/conf.d/run"));
    assert!(document.section("program:b").is_some());
}

#[test]
fn a_table_defined_in_two_files_is_an_error() {
    let host = MemoryHost::new()
        .file(
            "/etc/sv/svc.toml",
            "[supervisord]\n[programs.a]\ncommand = \"/bin/a\"\n[include]\nfiles = [\"a.toml\"]\n",
        )
        .file("/etc/sv/a.toml", "[programs.a]\ncommand = \"/bin/b\"\n");
    let compilation = compile_at(&host, "/etc/sv/svc.toml");
    assert_eq!(
        found(&compilation),
        vec![("svc::toml::duplicate_table", 1, 11, "a".to_string())]
    );
}

#[test]
fn sections_keep_the_order_they_are_written_in() {
    let compilation = toml(
        "[supervisord]\n[programs.b]\ncommand = \"/bin/b\"\n[groups.g]\nprograms = [\"a\"]\n[programs.a]\ncommand = \"/bin/a\"\n",
    );
    let names: Vec<&str> = compilation
        .document
        .sections
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, ["supervisord", "program:b", "group:g", "program:a"]);
}

#[test]
fn odd_input_never_panics() {
    for text in [
        "",
        "=",
        "[[programs]]\n",
        "programs = 1\n",
        "[programs]\nweb = 1\n",
        "[defaults]\nnonsense = 1\n",
        "[supervisord]\nenvironment = { \"a b\" = \"x\" }\n",
        "[supervisord]\nenvironment = [1]\n",
        "[include]\nfiles = \"x\"\nother = 1\n",
        "[groups.g]\nprograms = [1, [2], {a = 1}]\n",
        "\u{feff}[supervisord]\n",
        "[supervisord]\nminfds = 0x10\nlogfile_maxbytes = 1_000\n",
    ] {
        let _ = toml(text);
    }
}
