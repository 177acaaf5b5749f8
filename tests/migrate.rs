//! `svc migrate`, the TOML format and its JSON Schema, through the real binary.
//!
//! - *Equivalence* (issue 3): for every fixture and every corpus configuration that
//!   compiles, `svc check --emit graph` prints byte-identical JSON for the INI and for its
//!   migration, written beside it (so `%(here)s` and relative includes mean the same);
//!   migrating the TOML again says it is already TOML and changes nothing; the migrated file
//!   is valid against the committed JSON Schema and deserializes into
//!   `svc_schema::toml::Config`.
//! - *Near misses*: an error fixture without its `; firing:` cases is the set of near misses
//!   around the error; it must compile, and gets the same checks.
//! - *Snapshots*: the migration of every fixture that compiles (and of the near misses of
//!   the others), as users will read it, in `tests/snapshots/migrate/` (regenerate with
//!   `INSTA_UPDATE=always cargo test --test integration migrate`).
//! - *Includes*: folded and `--keep-includes`, across directories, with `%(here)s`.
//! - *Bad TOML*: one precise diagnostic per problem, all of them, exit 1, never a panic.
//! - *Schema*: `schema/svc.schema.json` is what `svc schema` prints (rewrite it with
//!   `SVC_UPDATE_SCHEMA=1 cargo test --test integration migrate`), and it rejects a
//!   misspelled key.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use crate::support::{Run, Test, daemon};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus_dir() -> PathBuf {
    workspace().join("../shared/corpus/real")
}

fn schema_path() -> PathBuf {
    workspace().join("schema/svc.schema.json")
}

/// `svc schema`'s text, generated in process.
fn generated_schema() -> String {
    let schema = svc_schema::toml::json_schema();
    let mut text = serde_json::to_string_pretty(&schema).expect("the schema serializes");
    text.push('\n');
    text
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&generated_schema()).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
}

/// The problems the schema finds in a TOML text (or its TOML error).
fn schema_problems(validator: &jsonschema::Validator, text: &str) -> Vec<String> {
    let value: serde_json::Value = match toml::from_str(text) {
        Ok(value) => value,
        Err(error) => return vec![format!("not TOML: {error}")],
    };
    validator
        .iter_errors(&value)
        .map(|error| format!("{} at {}", error, error.instance_path))
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a directory");
    for entry in std::fs::read_dir(from).expect("read a directory").flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else if path.is_file() {
            // Unreadable files (a fixture's permission case) are left out.
            if let Ok(bytes) = std::fs::read(&path) {
                std::fs::write(&target, bytes).expect("write a file");
            }
        }
    }
}

fn show(run: &Run) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        run.output.status.code(),
        run.stdout(),
        run.stderr()
    )
}

/// The first line where two texts differ, for messages.
fn first_difference(left: &str, right: &str) -> String {
    let line = left
        .lines()
        .zip(right.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| left.lines().count().min(right.lines().count()));
    format!(
        "line {}: INI {:?}, TOML {:?}",
        line + 1,
        left.lines().nth(line),
        right.lines().nth(line)
    )
}

/// What happened to one configuration.
enum Outcome {
    /// The INI has errors: nothing to compare.
    NotCompiling,
    /// Same Graph, fixed point, valid against the schema; the migrated text.
    Equivalent(String),
}

/// The equivalence invariant for `file` (relative to the test directory).
fn check_equivalence(
    test: &Test,
    file: &str,
    validator: &jsonschema::Validator,
) -> Result<Outcome, String> {
    let ini = test.svc(&["check", file, "--emit", "graph", "--no-host-checks"]);
    if ini.output.status.code() != Some(0) {
        return Ok(Outcome::NotCompiling);
    }
    let output = Path::new(file).with_extension("migrated.toml");
    let output = output.to_string_lossy();
    let migrated = test.svc(&["migrate", file, "-o", &output, "--no-host-checks"]);
    if migrated.output.status.code() != Some(0) {
        return Err(format!("svc migrate failed: {}", show(&migrated)));
    }
    let text = std::fs::read_to_string(test.path().join(&*output))
        .map_err(|error| format!("no migrated file: {error}"))?;
    let toml = test.svc(&["check", &output, "--emit", "graph", "--no-host-checks"]);
    if toml.output.status.code() != Some(0) {
        return Err(format!(
            "the migration does not compile: {}\n--- migration\n{text}",
            show(&toml)
        ));
    }
    if toml.stdout() != ini.stdout() {
        return Err(format!(
            "the Graphs differ ({})\n--- migration\n{text}",
            first_difference(&ini.stdout(), &toml.stdout())
        ));
    }
    let again = test.svc(&["migrate", &output]);
    if again.output.status.code() != Some(0)
        || !again.stderr().contains("already in svc's TOML format")
        || !again.stdout().is_empty()
    {
        return Err(format!(
            "migrating the TOML is not a no-op: {}",
            show(&again)
        ));
    }
    let after = std::fs::read_to_string(test.path().join(&*output)).unwrap_or_default();
    if after != text {
        return Err("migrating the TOML changed it".into());
    }
    if let Err(error) = toml::from_str::<svc_schema::toml::Config>(&text) {
        return Err(format!(
            "the migration does not deserialize into svc_schema::toml::Config: {error}\n--- migration\n{text}"
        ));
    }
    let problems = schema_problems(validator, &text);
    if !problems.is_empty() {
        return Err(format!(
            "the schema rejects the migration: {problems:?}\n--- migration\n{text}"
        ));
    }
    Ok(Outcome::Equivalent(text))
}

/// Asserts the snapshot `tests/snapshots/migrate/<name>.snap` of the migration of `file`;
/// returns the problem if it differs.
fn snapshot(test: &Test, name: &str, file: &str, text: &str) -> Option<String> {
    let directory = test.path().display().to_string();
    let text = text.replace(&directory, "[DIR]");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/migrate");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(format!("svc migrate {file}"));
    let asserted = catch_unwind(AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(name, text));
    }));
    asserted
        .is_err()
        .then(|| format!("{file}: the snapshot {name} differs"))
}

/// Every fixture: `(area, name)` of `tests/fixtures/<area>/<name>.conf`.
fn fixtures() -> Vec<(String, String)> {
    let mut found = Vec::new();
    let root = workspace().join("tests/fixtures");
    let mut areas: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("read tests/fixtures")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    areas.sort();
    for area in areas {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&area)
            .expect("read a fixture area")
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|e| e == "conf"))
            .collect();
        files.sort();
        for file in files {
            let area_name = area.file_name().map(|n| n.to_string_lossy().into_owned());
            let stem = file.file_stem().map(|n| n.to_string_lossy().into_owned());
            if let (Some(area_name), Some(stem)) = (area_name, stem) {
                found.push((area_name, stem));
            }
        }
    }
    found
}

/// A fresh test directory holding a copy of the fixtures of `area` under `area/`.
fn fixture_area(area: &str) -> Test {
    let test = Test::new();
    copy_dir(
        &workspace().join("tests/fixtures").join(area),
        &test.path().join(area),
    );
    test
}

#[test]
fn every_fixture_migrates_to_the_same_graph_as_its_snapshot_shows() {
    let validator = validator();
    let mut problems = Vec::new();
    let mut equivalent = 0;
    let all = fixtures();
    for (area, name) in &all {
        let test = fixture_area(area);
        let file = format!("{area}/{name}.conf");
        match check_equivalence(&test, &file, &validator) {
            Ok(Outcome::NotCompiling) => {}
            Ok(Outcome::Equivalent(text)) => {
                equivalent += 1;
                problems.extend(snapshot(&test, &format!("{area}__{name}"), &file, &text));
            }
            Err(problem) => problems.push(format!("{file}: {problem}")),
        }
    }
    eprintln!(
        "migrate: {equivalent} of {} fixtures compile and migrate to the same Graph",
        all.len()
    );
    assert!(equivalent >= 25, "only {equivalent} fixtures compiled");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// A fixture without its `; firing:` cases: the near misses around an error, which must
/// compile (they are where the code does not fire) and keep their meaning.
fn without_firing_cases(text: &str) -> String {
    let mut kept = Vec::new();
    let mut firing = false;
    let mut in_text = false;
    for line in text.lines() {
        let trimmed = line.trim_start_matches('\u{feff}').trim();
        if trimmed.is_empty() {
            firing = false;
            in_text = false;
            kept.push(line);
        } else if trimmed.starts_with(';') || trimmed.starts_with('#') {
            if in_text {
                firing = false;
                in_text = false;
            }
            let words = trimmed.trim_start_matches([';', '#']).trim_start();
            firing |= words.starts_with("firing");
            kept.push(line);
        } else {
            in_text = true;
            if !firing {
                kept.push(line);
            }
        }
    }
    let mut text = kept.join("\n");
    text.push('\n');
    text
}

#[test]
fn the_near_misses_of_every_error_fixture_migrate_to_the_same_graph() {
    let validator = validator();
    let mut problems = Vec::new();
    let mut equivalent = 0;
    let all = fixtures();
    for (area, name) in &all {
        let test = fixture_area(area);
        let original = format!("{area}/{name}.conf");
        if test
            .svc(&["check", &original, "--no-host-checks"])
            .output
            .status
            .code()
            == Some(0)
        {
            // Compiles as it is: covered by the fixture test.
            continue;
        }
        let Ok(text) = std::fs::read_to_string(test.path().join(&original)) else {
            continue;
        };
        let file = format!("{area}/{name}.near_misses.conf");
        std::fs::write(test.path().join(&file), without_firing_cases(&text))
            .expect("write the near misses");
        match check_equivalence(&test, &file, &validator) {
            Ok(Outcome::NotCompiling) => {}
            Ok(Outcome::Equivalent(text)) => {
                equivalent += 1;
                problems.extend(snapshot(
                    &test,
                    &format!("{area}__{name}.near_misses"),
                    &file,
                    &text,
                ));
            }
            Err(problem) => problems.push(format!("{file}: {problem}")),
        }
    }
    eprintln!(
        "migrate: the near misses of {equivalent} error fixtures compile and migrate to the same Graph"
    );
    assert!(
        equivalent >= 25,
        "only {equivalent} near-miss files compiled"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn every_corpus_configuration_migrates_to_the_same_graph() {
    let validator = validator();
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("read the corpus (../shared/corpus/real)")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "conf"))
        .collect();
    files.sort();
    let mut problems = Vec::new();
    let mut equivalent = 0;
    for path in &files {
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let bytes = std::fs::read(path).expect("read a corpus file");
        let test = Test::new().file(&name, bytes);
        match check_equivalence(&test, &name, &validator) {
            Ok(Outcome::NotCompiling) => {}
            Ok(Outcome::Equivalent(_)) => equivalent += 1,
            Err(problem) => problems.push(format!("corpus {name}: {problem}")),
        }
    }
    eprintln!(
        "migrate: {equivalent} of {} corpus files compile and migrate to the same Graph",
        files.len()
    );
    assert!(equivalent >= 100, "only {equivalent} corpus files compiled");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// A main file and included files in two directories, with `%(here)s` in each.
fn include_tree() -> Test {
    Test::new()
        .file(
            "etc/supervisord.conf",
            "; the main file\n[supervisord]\nlogfile=%(here)s/main.log\n\n[include]\n; programs live in conf.d\nfiles = conf.d/*.conf %(here)s/../opt/*.ini\n",
        )
        .file(
            "etc/conf.d/web.conf",
            "[program:web]\n; the site\ncommand=/bin/sleep %(process_num)d ; seconds\nnumprocs=2\nprocess_name=%(program_name)s-%(process_num)d\ndirectory=%(here)s\n",
        )
        .file(
            "opt/worker.ini",
            "[program:worker]\ncommand=/bin/cat %(here)s/input\n[group:all]\nprograms=web,worker\n",
        )
}

/// `svc check FILE --emit graph --no-host-checks`, which must succeed: the Graph as JSON.
fn emit_graph(test: &Test, file: &str) -> String {
    test.svc(&["check", file, "--emit", "graph", "--no-host-checks"])
        .expect_code(0)
        .stdout()
}

#[test]
fn includes_fold_into_one_file_with_here_rewritten() {
    let test = include_tree();
    let ini = emit_graph(&test, "etc/supervisord.conf");
    test.svc(&[
        "migrate",
        "etc/supervisord.conf",
        "-o",
        "etc/svc.toml",
        "--no-host-checks",
    ])
    .expect_code(0);
    let text = std::fs::read_to_string(test.path().join("etc/svc.toml")).expect("migrated");
    assert!(text.contains("directory = \"%(here)s/conf.d\""), "{text}");
    assert!(text.contains("# the site"), "{text}");
    assert!(text.contains("# seconds"), "{text}");
    assert!(text.contains("# from conf.d/web.conf"), "{text}");
    let toml = emit_graph(&test, "etc/svc.toml");
    assert_eq!(ini, toml);
    // Written elsewhere, the file spells out the directories `%(here)s` stood for.
    let test = test.file("out/.keep", "");
    test.svc(&[
        "migrate",
        "etc/supervisord.conf",
        "-o",
        "out/svc.toml",
        "--no-host-checks",
    ])
    .expect_code(0);
    let text = std::fs::read_to_string(test.path().join("out/svc.toml")).unwrap_or_default();
    assert!(
        text.contains("written out, since this file is elsewhere"),
        "{text}"
    );
    let elsewhere = emit_graph(&test, "out/svc.toml");
    assert_eq!(ini, elsewhere);
}

#[test]
fn keep_includes_writes_one_toml_file_per_ini_file() {
    let test = include_tree();
    let ini = emit_graph(&test, "etc/supervisord.conf");
    test.svc(&[
        "migrate",
        "etc/supervisord.conf",
        "--keep-includes",
        "--no-host-checks",
    ])
    .expect_code(0);
    for written in [
        "etc/supervisord.toml",
        "etc/conf.d/web.toml",
        "opt/worker.toml",
    ] {
        assert!(test.path().join(written).is_file(), "{written} not written");
    }
    let main =
        std::fs::read_to_string(test.path().join("etc/supervisord.toml")).unwrap_or_default();
    assert!(
        main.contains("files = [\"conf.d/*.toml\", \"%(here)s/../opt/*.toml\"]"),
        "{main}"
    );
    let worker = std::fs::read_to_string(test.path().join("opt/worker.toml")).unwrap_or_default();
    assert!(
        worker.contains("command = \"/bin/cat %(here)s/input\""),
        "{worker}"
    );
    let toml = emit_graph(&test, "etc/supervisord.toml");
    assert_eq!(ini, toml);
    // A second run refuses to overwrite what the first wrote.
    let again = test.svc(&[
        "migrate",
        "etc/supervisord.conf",
        "--keep-includes",
        "--no-host-checks",
    ]);
    assert_eq!(again.code(), 2, "{}", show(&again));
    assert!(again.stderr().contains("--force"), "{}", again.stderr());
}

#[test]
fn a_questioned_value_keeps_supervisords_meaning_with_a_note() {
    let test = Test::new().file(
        "supervisord.conf",
        "[supervisord]\n[program:a]\ncommand=bash -c 'sleep 1 ; echo done'\nenvironment=A=x y\n",
    );
    let run = test
        .svc(&["migrate", "supervisord.conf", "--no-host-checks"])
        .expect_code(0);
    let text = run.stdout();
    assert!(
        text.contains("command = \"bash -c 'sleep 1\"  # echo done'"),
        "{text}"
    );
    assert!(
        text.contains("svc::lint::inline_comment_truncation"),
        "{text}"
    );
    assert!(text.contains("environment = { A = \"x\" }"), "{text}");
    assert!(text.contains("silently drops `y`"), "{text}");
}

#[test]
fn migrate_exit_codes() {
    let test = Test::new()
        .file("bad.conf", "[supervisord]\n[program:x]\nnumprocs=two\n")
        .file(
            "good.conf",
            "[supervisord]\n[program:x]\ncommand=/bin/true\n",
        )
        .file("svc.toml", "[supervisord]\n");
    let bad = test.svc(&["migrate", "bad.conf"]);
    assert_eq!(bad.code(), 1, "{}", show(&bad));
    assert!(
        bad.stderr().contains("svc::value::invalid_integer"),
        "{}",
        bad.stderr()
    );
    assert!(bad.stdout().is_empty());
    let missing = test.svc(&["migrate", "missing.conf"]);
    assert_eq!(missing.code(), 2, "{}", show(&missing));
    let toml = test.svc(&["migrate", "svc.toml"]);
    assert_eq!(toml.code(), 0, "{}", show(&toml));
    assert!(toml.stderr().contains("already in svc's TOML format"));
    let good = test
        .svc(&["migrate", "good.conf", "-o", "good.toml"])
        .expect_code(0);
    assert!(good.stdout().is_empty());
    let exists = test.svc(&["migrate", "good.conf", "-o", "good.toml"]);
    assert_eq!(exists.code(), 2, "{}", show(&exists));
    test.svc(&["migrate", "good.conf", "-o", "good.toml", "--force"])
        .expect_code(0);
    let usage = test.svc(&["migrate"]);
    assert_eq!(usage.code(), 2, "{}", show(&usage));
}

/// `(code, line)` of every diagnostic `svc check --format json` reports.
fn reported(run: &Run) -> Vec<(String, u64)> {
    let json: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap_or_default();
    json["diagnostics"]
        .as_array()
        .map(|diagnostics| {
            diagnostics
                .iter()
                .map(|d| {
                    (
                        d["code"].as_str().unwrap_or_default().to_string(),
                        d["line"]
                            .as_u64()
                            .or_else(|| d["primary"]["line"].as_u64())
                            .unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn bad_toml_gets_one_precise_diagnostic_per_problem() {
    let test = Test::new()
        .file(
            "svc.toml",
            r#"[supervisord]
logfil = "/tmp/x.log"

[programs.web]
command = "/bin/web"
startsecs = 1.5
autostart = "maybe"
environment = ["A=1"]

[programs.worker]
comand = "/bin/worker"

[program.typo]
command = "/bin/x"

[include]
files = ["conf.d/a.toml"]
"#,
        )
        .file(
            "conf.d/a.toml",
            "[programs.web]\ncommand = \"/bin/other\"\n[include]\nfiles = [\"../conf.d/b.toml\"]\n",
        )
        .file("conf.d/b.toml", "[include]\nfiles = [\"a.toml\"]\n")
        .file("syntax.toml", "[supervisord]\nlogfile = \"unclosed\nminfds = = 3\n[programs.x]\ncommand = \"/bin/x\"\n");
    let run = test.svc(&["check", "svc.toml", "--format", "json", "--no-host-checks"]);
    assert_eq!(run.code(), 1, "{}", show(&run));
    let mut codes: Vec<String> = reported(&run).into_iter().map(|(code, _)| code).collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            "svc::program::missing_command",
            "svc::toml::duplicate_table",
            "svc::toml::include_cycle",
            "svc::toml::unknown_key",
            "svc::toml::unknown_key",
            "svc::toml::unknown_key",
            "svc::toml::wrong_type",
            "svc::toml::wrong_type",
            "svc::value::invalid_boolean",
        ],
        "{}",
        show(&run)
    );
    let human = test.svc(&["check", "svc.toml", "--no-host-checks", "--color", "never"]);
    let stderr = human.stderr();
    assert!(stderr.contains("did you mean `logfile`?"), "{stderr}");
    assert!(stderr.contains("did you mean `command`?"), "{stderr}");
    assert!(stderr.contains("did you mean `programs`?"), "{stderr}");
    assert!(stderr.contains("svc.toml:6:13"), "{stderr}");
    let syntax = test.svc(&["check", "syntax.toml", "--format", "json"]);
    assert_eq!(syntax.code(), 1, "{}", show(&syntax));
    let codes: Vec<String> = reported(&syntax)
        .into_iter()
        .map(|(code, _)| code)
        .collect();
    assert!(
        codes
            .iter()
            .filter(|code| *code == "svc::toml::syntax")
            .count()
            >= 2,
        "{codes:?}"
    );
}

/// Kills the `svc run` a test started, even when the test fails.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.0.id()) {
            daemon::send_signal(pid, daemon::SIGKILL);
        }
        let _ = self.0.wait();
    }
}

#[test]
fn run_and_ctl_work_from_a_toml_file() {
    let test = Test::new();
    let socket = test.path().join("svc.sock");
    let test = test.file(
        "svc.toml",
        format!(
            r#"[supervisord]
logfile = "%(here)s/main.log"
pidfile = "%(here)s/svc.pid"
childlogdir = "%(here)s"

[unix_http_server]
file = "{socket}"

[rpcinterfaces.supervisor]
"supervisor.rpcinterface_factory" = "supervisor.rpcinterface:make_main_rpcinterface"

[supervisorctl]
serverurl = "unix://{socket}"

[programs.sleeper]
command = "/bin/sleep 60"
startsecs = 0
"#,
            socket = socket.display()
        ),
    );
    let check = test.svc(&["check", "svc.toml"]).expect_code(0);
    assert!(
        check.stderr().contains("ok, 1 process in 1 group"),
        "{}",
        check.stderr()
    );
    let mut command = std::process::Command::new(crate::support::svc_binary());
    command.args(["run", "-n", "-c", "svc.toml"]);
    test.prepare(&mut command);
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut running = Running(command.spawn().expect("spawn svc run"));
    let deadline = std::time::Instant::now() + daemon::DEADLINE;
    let last = loop {
        let status = test.svc(&["ctl", "-c", "svc.toml", "status"]);
        let last = format!("{}{}", status.stdout(), status.stderr());
        if last.contains("sleeper") && last.contains("RUNNING") {
            break last;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "`svc ctl -c svc.toml status` never showed sleeper RUNNING; last: {last}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let pid = i32::try_from(running.0.id()).expect("a pid fits in i32");
    daemon::send_signal(pid, daemon::SIGTERM);
    let status = running.0.wait().expect("wait for svc run");
    assert!(
        status.success(),
        "svc run exited with {status:?}; last status: {last}"
    );
    // A TOML file with an error is refused by `svc run` before anything starts.
    let test = test.file("broken.toml", "[supervisord]\nnodaemon = \"perhaps\"\n");
    let run = test.svc(&["run", "-c", "broken.toml"]);
    assert_eq!(run.code(), 2, "{}", show(&run));
    assert!(
        run.stderr().contains("svc::value::invalid_boolean"),
        "{}",
        run.stderr()
    );
}

#[test]
fn the_committed_schema_is_what_svc_schema_prints() {
    let generated = generated_schema();
    if std::env::var_os("SVC_UPDATE_SCHEMA").is_some_and(|value| value == "1") {
        std::fs::write(schema_path(), &generated).expect("write schema/svc.schema.json");
        return;
    }
    let committed = std::fs::read_to_string(schema_path()).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/svc.schema.json is stale ({}); run `SVC_UPDATE_SCHEMA=1 cargo test --test integration migrate`",
        first_difference(&committed, &generated)
    );
    let printed = Test::new().svc(&["schema"]).expect_code(0);
    assert_eq!(printed.stdout(), generated);
}

#[test]
fn the_schema_rejects_a_misspelled_key_and_documents_every_key() {
    let validator = validator();
    assert!(
        schema_problems(
            &validator,
            "[supervisord]\n[programs.web]\ncommand = \"x\"\n"
        )
        .is_empty()
    );
    let problems = schema_problems(
        &validator,
        "[supervisord]\n[programs.web]\ncomand = \"x\"\n",
    );
    assert!(
        problems.iter().any(|problem| problem.contains("comand")),
        "{problems:?}"
    );
    assert!(!schema_problems(&validator, "[supervisord]\nminfds = 1.5\n").is_empty());
    // Every property has a description (what supervisord does with it).
    let schema: serde_json::Value = serde_json::from_str(&generated_schema()).unwrap_or_default();
    let mut undocumented = Vec::new();
    for (name, definition) in schema["$defs"].as_object().into_iter().flatten() {
        for (key, property) in definition["properties"].as_object().into_iter().flatten() {
            if property["description"].as_str().is_none_or(str::is_empty) {
                undocumented.push(format!("{name}.{key}"));
            }
            if key != "command"
                && !matches!(
                    key.as_str(),
                    "file"
                        | "port"
                        | "programs"
                        | "events"
                        | "socket"
                        | "files"
                        | "supervisor.rpcinterface_factory"
                        | "supervisor.ctl_factory"
                )
                && property.get("default").is_none()
            {
                undocumented.push(format!("{name}.{key} (no default)"));
            }
            if property.get("examples").is_none() {
                undocumented.push(format!("{name}.{key} (no example)"));
            }
        }
    }
    assert!(undocumented.is_empty(), "{undocumented:#?}");
}

/// Migrations of the corpus, made in process (no disk I/O): the TOML texts the property
/// below mutates.
fn migrated_corpus() -> Vec<String> {
    let mut texts = Vec::new();
    let Ok(entries) = std::fs::read_dir(corpus_dir()) else {
        return texts;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
    paths.sort();
    for path in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
    {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let host = svc_compiler::host::MemoryHost::new().file("/etc/sv/supervisord.conf", bytes);
        let compilation = svc_compiler::compile(
            Path::new("/etc/sv/supervisord.conf"),
            &host,
            &svc_compiler::CompileOptions {
                host_checks: false,
                ..svc_compiler::CompileOptions::default()
            },
        );
        if let Ok(files) = svc_migrate::migrate(&compilation, &svc_migrate::Options::default()) {
            texts.extend(files.into_iter().map(|file| file.text));
        }
    }
    texts
}

/// Spans of `compilation`'s diagnostics that do not lie inside their source's text.
fn spans_outside_their_source(compilation: &svc_compiler::Compilation) -> Vec<String> {
    let mut problems = Vec::new();
    for diagnostic in &compilation.diagnostics {
        let labels = diagnostic.primary.iter().chain(&diagnostic.secondary);
        for label in labels {
            let Some(source) = compilation.sources.get(label.span.source) else {
                problems.push(format!("{}: unknown source", diagnostic.code.name));
                continue;
            };
            let (start, end) = (label.span.start as usize, label.span.end as usize);
            if start > end
                || end > source.text.len()
                || !source.text.is_char_boundary(start)
                || !source.text.is_char_boundary(end)
            {
                problems.push(format!(
                    "{}: span {start}..{end} outside {} bytes",
                    diagnostic.code.name,
                    source.text.len()
                ));
            }
        }
    }
    problems
}

mod toml_properties {
    //! Mutated TOML never panics the compiler, and every diagnostic points inside its file.

    use std::path::Path;
    use std::sync::OnceLock;

    use proptest::prelude::*;
    use proptest::sample::Index;

    fn corpus() -> &'static [String] {
        static CORPUS: OnceLock<Vec<String>> = OnceLock::new();
        CORPUS.get_or_init(super::migrated_corpus)
    }

    /// Replaces, inserts or deletes bytes: TOML punctuation, quotes, newlines, invalid UTF-8.
    fn mutate(text: &str, edits: &[(Index, u8, u8)]) -> Vec<u8> {
        const BYTES: &[u8] = b"=[]{}\"'#\n,.%()x1 \\\xff";
        let mut bytes = text.as_bytes().to_vec();
        for (at, kind, byte) in edits {
            let byte = BYTES[*byte as usize % BYTES.len()];
            let index = if bytes.is_empty() {
                0
            } else {
                at.index(bytes.len())
            };
            match kind % 3 {
                0 if !bytes.is_empty() => bytes[index] = byte,
                1 => bytes.insert(index, byte),
                _ if !bytes.is_empty() => {
                    bytes.remove(index);
                }
                _ => bytes.push(byte),
            }
        }
        bytes
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn mutated_toml_compiles_cleanly(
            pick in any::<Index>(),
            edits in proptest::collection::vec((any::<Index>(), any::<u8>(), any::<u8>()), 1..8),
        ) {
            let corpus = corpus();
            prop_assume!(!corpus.is_empty());
            let text = &corpus[pick.index(corpus.len())];
            let bytes = mutate(text, &edits);
            let host = svc_compiler::host::MemoryHost::new()
                .file("/etc/sv/svc.toml", bytes)
                .file("/etc/sv/conf.d/a.toml", "[include]\nfiles = [\"../svc.toml\"]\n");
            let compilation = svc_compiler::compile(
                Path::new("/etc/sv/svc.toml"),
                &host,
                &svc_compiler::CompileOptions::default(),
            );
            let problems = super::spans_outside_their_source(&compilation);
            prop_assert!(problems.is_empty(), "{problems:?}");
            let rendered = svc_compiler::render::human(
                &compilation.diagnostics,
                &compilation.sources,
                svc_compiler::render::HumanStyle::Plain,
            );
            prop_assert!(compilation.diagnostics.is_empty() || !rendered.is_empty());
        }
    }
}

#[test]
fn a_default_with_here_keeps_each_sections_directory_when_folded() {
    let test = Test::new()
        .file(
            "etc/supervisord.conf",
            "[DEFAULT]\n; every section runs in its own file's directory\ndirectory=%(here)s\n\n[supervisord]\n\n[program:main]\ncommand=/bin/cat\n\n[include]\nfiles=conf.d/*.conf ../opt/*.conf\n",
        )
        .file("etc/conf.d/a.conf", "[program:a]\ncommand=/bin/cat\n")
        .file("opt/b.conf", "[program:b]\ncommand=/bin/cat\n");
    let ini = emit_graph(&test, "etc/supervisord.conf");
    assert!(ini.contains("/etc/conf.d\""), "{}", ini);
    test.svc(&[
        "migrate",
        "etc/supervisord.conf",
        "-o",
        "etc/svc.toml",
        "--no-host-checks",
    ])
    .expect_code(0);
    let text = std::fs::read_to_string(test.path().join("etc/svc.toml")).unwrap_or_default();
    assert!(
        text.contains("# every section runs in its own file's directory"),
        "{text}"
    );
    let toml = emit_graph(&test, "etc/svc.toml");
    assert_eq!(ini, toml, "{text}");
    // Kept per file, the copies could not be written: refused, not approximated.
    let kept = test.svc(&[
        "migrate",
        "etc/supervisord.conf",
        "--keep-includes",
        "--no-host-checks",
    ]);
    assert_eq!(kept.code(), 1, "{}", show(&kept));
    assert!(
        kept.stderr().contains("[DEFAULT] directory holds %(here)s"),
        "{}",
        kept.stderr()
    );
}
