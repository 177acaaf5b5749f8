//! Differential tests against the real supervisord 4.3.0 parser.
//!
//! `tests/oracle/supervisor_oracle.py` asks Python Supervisor what it makes of a config
//! (`ServerOptions().realize(['-c', FILE])`, nothing started), exactly as the corpus's
//! `ORACLE.jsonl` was produced. Every corpus file and every fixture is copied alone into an
//! empty directory; the oracle and `svc check --emit graph` run there with the same clean
//! environment, and must agree on the verdict (svc exits 0 ⇔ supervisord accepts) and, when
//! accepted, on the process names in start order, the groups, their types and priorities.
//!
//! Python 3 with `pip install supervisor==4.3.0` is required: a missing oracle is a failure,
//! not a skip. `SVC_ORACLE_PYTHON` picks the interpreter (default: `python3` on `PATH`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::support::{CLEAN_ENV, Run, Test, run_with_deadline};

/// A disagreement kept on purpose.
struct Intentional {
    /// The file, as reports name it (`corpus/047.conf`, `fixtures/<area>/<code>.conf`).
    label: &'static str,
    /// svc's documented exit code on it.
    svc_exit: i32,
    /// Why svc differs, and where that is documented.
    why: &'static str,
}

/// Disagreements kept on purpose. These files are not given to the oracle (supervisord's
/// side is described in `why`; some take it minutes); svc must still exit with `svc_exit`,
/// so an entry fails as soon as svc's behaviour on it changes.
///
/// None on the corpus: svc agrees with supervisord on every real file. The entries are
/// fixtures of errors that svc raises on purpose where supervisord starts anyway; each is
/// documented in docs/diagnostics.md under its code.
const INTENTIONAL_DIFFERENCES: &[Intentional] = &[
    // supervisord expands any numprocs (100,001 ProcessConfigs take it ~7 s, a million
    // over a minute and gigabytes); svc refuses above 100,000.
    Intentional {
        label: "fixtures/numprocs/too_large.conf",
        svc_exit: 1,
        why: "svc::numprocs::too_large: svc refuses numprocs above 100,000; supervisord accepts",
    },
    // [program:web] and [group:web] both make a group `web`; supervisord keeps both configs
    // and then one replaces the other in its group table, silently.
    Intentional {
        label: "fixtures/group/duplicate_name.conf",
        svc_exit: 1,
        why: "svc::group::duplicate_name: supervisord silently drops one of the two groups",
    },
    // Two programs of one [group:x] with the same process_name; supervisord keeps one
    // process of that name, silently.
    Intentional {
        label: "fixtures/group/duplicate_process_name.conf",
        svc_exit: 1,
        why: "svc::group::duplicate_process_name: supervisord silently drops one process",
    },
    // shutdown_on and shutdown_exitcode are svc's own keys; supervisord ignores them (and
    // so their errors).
    Intentional {
        label: "fixtures/value/invalid_shutdown_on.conf",
        svc_exit: 1,
        why: "svc::value::invalid_shutdown_on: an svc-only key that supervisord ignores",
    },
    Intentional {
        label: "fixtures/value/invalid_shutdown_exitcode.conf",
        svc_exit: 1,
        why: "svc::value::invalid_shutdown_exitcode: an svc-only key that supervisord ignores",
    },
    Intentional {
        label: "fixtures/program/shutdown_exitcode_without_shutdown_on.conf",
        svc_exit: 1,
        why: "svc::program::shutdown_exitcode_without_shutdown_on: svc-only keys that supervisord ignores",
    },
];

fn intentional(label: &str) -> Option<&'static Intentional> {
    INTENTIONAL_DIFFERENCES
        .iter()
        .find(|entry| entry.label == label)
}

/// The supervisor version the oracle must be.
const SUPERVISOR_VERSION: &str = "4.3.0";

/// svc processes run at once.
const PARALLEL_RUNS: usize = 4;

/// Failure bound for one process (the oracle handles every file in one process).
const DEADLINE: Duration = Duration::from_secs(120);

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus_dir() -> PathBuf {
    workspace_root().join("../shared/corpus/real")
}

/// One configuration, copied alone into its own empty directory.
struct Case {
    /// Position in its list.
    index: usize,
    /// What reports call it (`corpus/001.conf`).
    label: String,
    /// The file's base name inside `test`.
    name: String,
    test: Test,
}

impl Case {
    fn new(index: usize, label: String, source: &Path) -> Case {
        let name = source
            .file_name()
            .expect("a file name")
            .to_string_lossy()
            .into_owned();
        let content = std::fs::read(source)
            .unwrap_or_else(|error| panic!("read {}: {error}", source.display()));
        Case {
            index,
            label,
            test: Test::new().file(&name, content),
            name,
        }
    }

    fn path(&self) -> PathBuf {
        self.test.path().join(&self.name)
    }
}

/// Every `*.conf` of the corpus, sorted. The corpus is mandatory.
fn corpus_cases() -> Vec<Case> {
    let dir = corpus_dir();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("the corpus must be at {}: {error}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "conf"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 100,
        "expected the 180 corpus files in {}, found {}",
        dir.display(),
        files.len()
    );
    files
        .iter()
        .enumerate()
        .map(|(index, path)| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            Case::new(index, format!("corpus/{name}"), path)
        })
        .collect()
}

fn conf_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            conf_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "conf") {
            found.push(path);
        }
    }
}

/// Every `tests/fixtures/**/*.conf`, sorted (none if the directory does not exist).
fn fixture_cases() -> Vec<Case> {
    let root = workspace_root().join("tests/fixtures");
    let mut files = Vec::new();
    conf_files(&root, &mut files);
    files.sort();
    files
        .iter()
        .enumerate()
        .map(|(index, path)| {
            let relative = path.strip_prefix(&root).unwrap_or(path);
            Case::new(index, format!("fixtures/{}", relative.display()), path)
        })
        .collect()
}

/// `name` looked up on the test's own `PATH`, as a shell would.
fn which(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return Some(PathBuf::from(name));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The Python interpreter that has supervisor 4.3.0, as an absolute path that works in the
/// clean environment (a pyenv shim does not: it is resolved to the real interpreter).
pub(crate) fn oracle_python() -> PathBuf {
    const HOW: &str = "the supervisord oracle needs Python 3 with `pip install supervisor==4.3.0` \
                       (SVC_ORACLE_PYTHON may name the interpreter)";
    let requested = std::env::var("SVC_ORACLE_PYTHON").unwrap_or_else(|_| "python3".into());
    let Some(found) = which(&requested) else {
        panic!("`{requested}` is not on PATH: {HOW}");
    };
    let mut command = Command::new(&found);
    command.args(["-c", "import sys; print(sys.executable)"]);
    let output = run_with_deadline(command, DEADLINE);
    assert!(
        output.status.success(),
        "`{} -c 'import sys'` failed: {HOW}\n{}",
        found.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let executable = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    let mut command = Command::new(&executable);
    command
        .args(["-c", "import supervisor.options as o; print(o.VERSION)"])
        .env_clear()
        .envs(CLEAN_ENV.iter().copied());
    let output = run_with_deadline(command, DEADLINE);
    assert!(
        output.status.success(),
        "{} cannot import supervisor in the clean test environment: {HOW}\n{}",
        executable.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    assert_eq!(
        version,
        SUPERVISOR_VERSION,
        "{} has supervisor {version}: {HOW}",
        executable.display()
    );
    executable
}

/// The oracle's verdict on every case, in order (one Python process for all of them).
fn run_oracle(cases: &[&Case]) -> Vec<Value> {
    if cases.is_empty() {
        return Vec::new();
    }
    let python = oracle_python();
    let mut command = Command::new(python);
    command
        .arg(workspace_root().join("tests/oracle/supervisor_oracle.py"))
        .args(cases.iter().map(|case| case.path()))
        .current_dir(cases[0].test.path())
        .env_clear()
        .envs(CLEAN_ENV.iter().copied());
    let output = run_with_deadline(command, DEADLINE);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "supervisor_oracle.py failed ({})\n--- stderr\n{stderr}",
        output.status
    );
    let verdicts: Vec<Value> = stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("oracle printed {line:?}: {error}"))
        })
        .collect();
    assert_eq!(
        verdicts.len(),
        cases.len(),
        "one oracle line per file expected\n--- stderr\n{stderr}"
    );
    for (case, verdict) in cases.iter().zip(&verdicts) {
        assert_eq!(
            verdict["file"].as_str(),
            Some(case.name.as_str()),
            "oracle lines out of order"
        );
    }
    verdicts
}

/// `svc check --emit graph` on every case, `PARALLEL_RUNS` at a time, in case order.
fn run_svc(cases: &[Case]) -> Vec<Run> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Run>>> = Mutex::new((0..cases.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL_RUNS {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(index) else { break };
                    let run = case
                        .test
                        .svc(&["check", "--emit", "graph", "--color", "never", &case.name]);
                    results.lock().expect("results lock")[index] = Some(run);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("results lock")
        .into_iter()
        .map(|run| run.expect("every case ran"))
        .collect()
}

/// What both sides are compared on, for an accepted configuration.
#[derive(Debug, PartialEq)]
struct Accepted {
    /// Process names in start order.
    programs: Vec<String>,
    /// `(group, [process names])`, in start order.
    groups: Vec<(String, Vec<String>)>,
    /// `(group, program | fcgi-program | eventlistener)`.
    group_types: Vec<(String, String)>,
    /// `(group, priority)` and `("group:process", priority)`.
    priorities: Vec<(String, i64)>,
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| item.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn entries(value: &Value) -> impl Iterator<Item = (&String, &Value)> {
    value.as_object().into_iter().flatten()
}

impl Accepted {
    fn from_oracle(verdict: &Value) -> Accepted {
        Accepted {
            programs: strings(&verdict["programs"]),
            groups: entries(&verdict["groups"])
                .map(|(name, processes)| (name.clone(), strings(processes)))
                .collect(),
            group_types: entries(&verdict["group_types"])
                .map(|(name, kind)| (name.clone(), kind.as_str().unwrap_or_default().into()))
                .collect(),
            priorities: entries(&verdict["priorities"])
                .map(|(key, priority)| (key.clone(), priority.as_i64().unwrap_or(i64::MIN)))
                .collect(),
        }
    }

    fn from_graph(graph: &Value) -> Accepted {
        let mut accepted = Accepted {
            programs: Vec::new(),
            groups: Vec::new(),
            group_types: Vec::new(),
            priorities: Vec::new(),
        };
        for group in graph["groups"].as_array().into_iter().flatten() {
            let name = group["name"].as_str().unwrap_or_default().to_string();
            let processes: Vec<&Value> = group["processes"]
                .as_array()
                .into_iter()
                .flatten()
                .collect();
            let names: Vec<String> = processes
                .iter()
                .map(|p| p["name"].as_str().unwrap_or_default().to_string())
                .collect();
            // supervisord makes a `[group:x]` a plain ProcessGroupConfig: type `program`.
            let kind = match group["kind"].as_str().unwrap_or_default() {
                "group" => "program",
                other => other,
            };
            accepted.programs.extend(names.iter().cloned());
            accepted.groups.push((name.clone(), names.clone()));
            accepted.group_types.push((name.clone(), kind.to_string()));
            accepted
                .priorities
                .push((name.clone(), group["priority"].as_i64().unwrap_or(i64::MIN)));
            for (process, process_name) in processes.iter().zip(&names) {
                accepted.priorities.push((
                    format!("{name}:{process_name}"),
                    process["priority"].as_i64().unwrap_or(i64::MIN),
                ));
            }
        }
        accepted
    }

    /// One line per differing field, empty when equal.
    fn differences(&self, oracle: &Accepted) -> Vec<String> {
        let mut found = Vec::new();
        let mut field = |what: &str, svc: String, supervisord: String| {
            if svc != supervisord {
                found.push(format!("{what}: svc {svc}, supervisord {supervisord}"));
            }
        };
        field(
            "programs",
            format!("{:?}", self.programs),
            format!("{:?}", oracle.programs),
        );
        field(
            "groups",
            format!("{:?}", self.groups),
            format!("{:?}", oracle.groups),
        );
        field(
            "group types",
            format!("{:?}", self.group_types),
            format!("{:?}", oracle.group_types),
        );
        field(
            "priorities",
            format!("{:?}", self.priorities),
            format!("{:?}", oracle.priorities),
        );
        found
    }
}

/// The diagnostics of svc's human output (`code: message` lines), for a report.
fn svc_errors(run: &Run) -> String {
    let stderr = run.stderr();
    let mut code = "";
    let mut found = Vec::new();
    for line in stderr.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("svc::") {
            code = trimmed;
        } else if let Some(message) = trimmed.strip_prefix('×') {
            found.push(format!("      {code}:{message}"));
        }
    }
    if found.is_empty() {
        format!("      (stderr: {})", stderr.trim())
    } else {
        found.join("\n")
    }
}

/// What differs between svc's and supervisord's reading of one case (empty: they agree).
fn disagreement(run: &Run, verdict: &Value) -> Vec<String> {
    let oracle_ok = verdict["ok"].as_bool().unwrap_or(false);
    let oracle_error = verdict["error"].as_str().unwrap_or_default();
    let Some(code) = run.output.status.code() else {
        return vec![format!("svc was killed ({})", run.output.status)];
    };
    match (code == 0, oracle_ok) {
        (true, false) => vec![format!(
            "verdict: svc accepts (exit 0), supervisord rejects: {oracle_error}"
        )],
        (false, true) => vec![format!(
            "verdict: svc rejects (exit {code}), supervisord accepts\n{}",
            svc_errors(run)
        )],
        (false, false) => Vec::new(),
        (true, true) => match serde_json::from_slice::<Value>(&run.output.stdout) {
            Ok(graph) => Accepted::from_graph(&graph).differences(&Accepted::from_oracle(verdict)),
            Err(error) => vec![format!("svc exited 0 but printed no Graph JSON: {error}")],
        },
    }
}

/// Compares svc with the oracle on every case; fails once with every disagreement.
fn assert_svc_agrees(cases: &[Case]) {
    let (allowed, compared): (Vec<&Case>, Vec<&Case>) = cases
        .iter()
        .partition(|case| intentional(&case.label).is_some());
    let verdicts = run_oracle(&compared);
    let runs = run_svc(cases);
    let mut report = Vec::new();
    for (case, verdict) in compared.iter().zip(&verdicts) {
        let run = &runs[case.index];
        let differences = disagreement(run, verdict);
        if !differences.is_empty() {
            report.push(format!(
                "{}:\n    {}",
                case.label,
                differences.join("\n    ")
            ));
        }
    }
    for case in allowed {
        let entry = intentional(&case.label).expect("partitioned above");
        let run = &runs[case.index];
        if run.output.status.code() != Some(entry.svc_exit) {
            report.push(format!(
                "{}: allow-listed in INTENTIONAL_DIFFERENCES with svc exit {}, but svc exited {} \
                 (update or remove the entry)\n{}",
                case.label,
                entry.svc_exit,
                run.output.status,
                svc_errors(run)
            ));
        }
    }
    assert!(
        report.is_empty(),
        "svc and supervisord {SUPERVISOR_VERSION} disagree on {} of {} files:\n{}",
        report.len(),
        cases.len(),
        report.join("\n")
    );
}

#[test]
fn svc_agrees_with_supervisord_on_the_corpus() {
    assert_svc_agrees(&corpus_cases());
}

#[test]
fn svc_agrees_with_supervisord_on_the_fixtures() {
    // The fixtures may not exist yet; no file is no disagreement.
    assert_svc_agrees(&fixture_cases());
}

#[test]
fn allow_list_names_known_files() {
    let known: BTreeSet<String> = corpus_cases()
        .into_iter()
        .chain(fixture_cases())
        .map(|case| case.label)
        .collect();
    for entry in INTENTIONAL_DIFFERENCES {
        let label = entry.label;
        assert!(
            known.contains(label),
            "INTENTIONAL_DIFFERENCES names unknown file {label}"
        );
        assert!(
            !entry.why.trim().is_empty(),
            "INTENTIONAL_DIFFERENCES entry {label} says no why"
        );
    }
}

/// The harness itself: the oracle, run the way this file runs it, reproduces the stored
/// `ORACLE.jsonl` for every corpus file.
#[test]
fn oracle_reproduces_the_stored_corpus_results() {
    let stored_text = std::fs::read_to_string(corpus_dir().join("ORACLE.jsonl"))
        .expect("the corpus has ORACLE.jsonl");
    let stored: Vec<Value> = stored_text
        .lines()
        .map(|line| serde_json::from_str(line).expect("ORACLE.jsonl is JSON lines"))
        .collect();
    let cases = corpus_cases();
    let stored_files: BTreeSet<&str> = stored.iter().filter_map(|v| v["file"].as_str()).collect();
    let corpus_files: BTreeSet<&str> = cases.iter().map(|case| case.name.as_str()).collect();
    assert_eq!(
        stored_files, corpus_files,
        "ORACLE.jsonl and the corpus list different files"
    );

    let verdicts = run_oracle(&cases.iter().collect::<Vec<_>>());
    let mut report = Vec::new();
    for (case, fresh) in cases.iter().zip(&verdicts) {
        let old = stored
            .iter()
            .find(|v| v["file"].as_str() == Some(case.name.as_str()))
            .expect("listed above");
        // The temporary directory is `<dir>` on both sides; tolerate a stray real path too.
        let dir = case.test.path().display().to_string();
        let error = |v: &Value| v["error"].as_str().map(|e| e.replace(&dir, "<dir>"));
        if error(old) != error(fresh) {
            report.push(format!(
                "{}: error {:?} vs stored {:?}",
                case.name,
                error(fresh),
                error(old)
            ));
        }
        for field in [
            "ok",
            "error_kind",
            "programs",
            "groups",
            "group_types",
            "priorities",
            "warnings",
            "included",
            "supervisor_version",
        ] {
            if old[field] != fresh[field] {
                report.push(format!(
                    "{}: {field} {} vs stored {}",
                    case.name, fresh[field], old[field]
                ));
            }
        }
    }
    assert!(
        report.is_empty(),
        "the oracle does not reproduce ORACLE.jsonl:\n{}",
        report.join("\n")
    );
}
