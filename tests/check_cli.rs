//! `svc check` as a command: exit codes, output formats, the default search order,
//! `--emit graph`, `--strict`, `--no-host-checks`.

use crate::support::Test;

const MINIMAL: &str = "[supervisord]\n[program:web]\ncommand=/bin/cat\n";

#[test]
fn clean_config_exits_0() {
    let run = Test::new()
        .file("supervisord.conf", MINIMAL)
        .svc(&["check", "supervisord.conf"])
        .expect_code(0);
    assert!(
        run.stderr()
            .contains("supervisord.conf: ok, 1 process in 1 group"),
        "{}",
        run.stderr()
    );
}

#[test]
fn errors_exit_1_and_point_at_the_line() {
    let run = Test::new()
        .file(
            "supervisord.conf",
            "[supervisord]\n[program:web]\nautostart=maybe\n",
        )
        .svc(&["check", "supervisord.conf"])
        .expect_code(1);
    let stderr = run.stderr();
    assert!(stderr.contains("svc::value::invalid_boolean"), "{stderr}");
    assert!(stderr.contains("svc::program::missing_command"), "{stderr}");
    assert!(stderr.contains("[supervisord.conf:3:11]"), "{stderr}");
}

#[test]
fn missing_file_exits_2() {
    let run = Test::new().svc(&["check", "nope.conf"]).expect_code(2);
    assert!(
        run.stderr()
            .contains("could not find config file nope.conf"),
        "{}",
        run.stderr()
    );
}

#[test]
fn usage_error_exits_2() {
    Test::new()
        .svc(&["check", "--format", "xml", "x.conf"])
        .expect_code(2);
}

#[test]
fn warnings_pass_unless_strict() {
    let test = Test::new().file(
        "supervisord.conf",
        "[supervisord]\n[program:web]\ncommand=/bin/cat\nautorestrat=true\n",
    );
    let run = test.svc(&["check", "supervisord.conf"]).expect_code(0);
    assert!(
        run.stderr().contains("did you mean `autorestart`?"),
        "{}",
        run.stderr()
    );
    test.svc(&["check", "--strict", "supervisord.conf"])
        .expect_code(1);
}

#[test]
fn json_format_is_one_document() {
    let run = Test::new()
        .file(
            "supervisord.conf",
            "[supervisord]\n[program:web]\ncommand=/bin/cat\nstartsecs=abc\n",
        )
        .svc(&["check", "--format", "json", "supervisord.conf"])
        .expect_code(1);
    let document: serde_json::Value = serde_json::from_str(&run.stdout()).expect("valid JSON");
    assert_eq!(document["errors"], 1);
    let first = &document["diagnostics"][0];
    assert_eq!(first["code"], "svc::value::invalid_integer");
    assert_eq!(first["line"], 4);
    assert_eq!(first["column"], 11);
    assert_eq!(first["end_column"], 14);
}

#[test]
fn github_format_emits_workflow_commands() {
    let run = Test::new()
        .file(
            "supervisord.conf",
            "[supervisord]\n[program:web]\ncommand=/bin/cat\nstopsignal=TREM\n",
        )
        .svc(&["check", "--format", "github", "supervisord.conf"])
        .expect_code(1);
    let stdout = run.stdout();
    assert!(
        stdout.starts_with("::error file=supervisord.conf,line=4,col=12,endLine=4,endColumn=16,title=svc%3A%3Avalue%3A%3Ainvalid_signal::"),
        "{stdout}"
    );
    assert!(stdout.contains("did you mean TERM?"), "{stdout}");
}

#[test]
fn emit_graph_prints_the_compiled_graph() {
    let run = Test::new()
        .file(
            "supervisord.conf",
            "[supervisord]\n[program:w]\ncommand=/bin/cat %(process_num)02d\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)d\npriority=5\n",
        )
        .svc(&["check", "--emit", "graph", "supervisord.conf"])
        .expect_code(0);
    let graph: serde_json::Value = serde_json::from_str(&run.stdout()).expect("valid JSON");
    let processes = &graph["groups"][0]["processes"];
    assert_eq!(processes[0]["name"], "w_0");
    assert_eq!(processes[1]["command"], "/bin/cat 01");
    assert_eq!(graph["groups"][0]["priority"], 5);
}

#[test]
fn host_checks_can_be_skipped() {
    let conf = "[supervisord]\nlogfile=/nonexistent-svc-dir/s.log\n[program:web]\ncommand=/bin/cat %(ENV_SVC_TEST_UNSET)s\nuser=svc-no-such-user\n";
    let test = Test::new().file("supervisord.conf", conf);
    let run = test.svc(&["check", "supervisord.conf"]).expect_code(1);
    let stderr = run.stderr();
    for code in [
        "svc::host::missing_parent_directory",
        "svc::host::unset_env_var",
        "svc::host::unknown_user",
    ] {
        assert!(stderr.contains(code), "{code} missing from:\n{stderr}");
    }
    let run = test
        .svc(&["check", "--no-host-checks", "supervisord.conf"])
        .expect_code(0);
    assert!(
        run.stderr().contains("svc::host::unset_env_var"),
        "still a warning: {}",
        run.stderr()
    );
}

#[test]
fn default_search_order_finds_supervisord_conf_in_the_working_directory() {
    let run = Test::new()
        .file("supervisord.conf", MINIMAL)
        .svc(&["check"])
        .expect_code(0);
    assert!(
        run.stderr().contains("supervisord.conf: ok"),
        "{}",
        run.stderr()
    );
}

#[test]
fn includes_are_resolved_relative_to_the_main_file() {
    let run = Test::new()
        .file(
            "etc/supervisord.conf",
            "[supervisord]\n[include]\nfiles=conf.d/*.conf missing/*.ini\n",
        )
        .file(
            "etc/conf.d/b.conf",
            "[program:b]\ncommand=/bin/cat %(here)s\n",
        )
        .file("etc/conf.d/a.conf", "[program:a]\ncommand=/bin/cat\n")
        .file(
            "etc/conf.d/.hidden.conf",
            "[program:hidden]\ncommand=/bin/cat\n",
        )
        .svc(&["check", "--emit", "graph", "etc/supervisord.conf"])
        .expect_code(0);
    let graph: serde_json::Value = serde_json::from_str(&run.stdout()).expect("valid JSON");
    let names: Vec<&str> = graph["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| g["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert!(
        graph["groups"][1]["processes"][0]["command"]
            .as_str()
            .unwrap_or("")
            .ends_with("/etc/conf.d")
    );
    assert!(
        run.stderr().contains("svc::include::no_match"),
        "{}",
        run.stderr()
    );
}
