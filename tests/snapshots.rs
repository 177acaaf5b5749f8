//! Every diagnostic code has a fixture, a snapshot and a docs entry, and this module is what
//! keeps it so (ruff's `for_rule` fixtures and `generate_json_schema` staleness check).
//!
//! - *Fixtures.* `tests/fixtures/<area>/<name>.conf`, one per code of
//!   `svc_compiler::codes::ALL`. Cases are marked by comment blocks: a `; firing:` block
//!   sits right above text where the code must fire, a `; not firing:` block above a near
//!   miss where it must not. [`check_markers`] enforces them: every diagnostic of the code
//!   lies in a case ruled by a `; firing:` block, and every case ruled only by `; firing:`
//!   gets one. Extra files (includes) live in `<name>.d/` next to the fixture.
//! - *Snapshots.* `snapshots/<area>__<name>.snap`: the fixture's diagnostics of that code
//!   only, rendered by the human renderer (plain, width 80) and as JSON. The fixtures are
//!   compiled on [`FixtureHost`], the real machine with a fixed environment, host name and
//!   working directory, the fixtures directory mounted at `/fixtures` so that paths in
//!   messages (and where miette wraps them) do not depend on the checkout location.
//!   Regenerate with `INSTA_UPDATE=always cargo test --test integration snapshots`.
//! - *Docs.* `docs/diagnostics.md` is generated from the registry and the lint modules'
//!   docs; [`diagnostics_docs_are_up_to_date`] fails when it is stale and rewrites it when
//!   `SVC_UPDATE_DOCS=1` is set. The ```` ```ini ```` example of each lint's documentation
//!   must fire that lint.
//!
//! Three codes cannot come from compiling a fixture as it is: `source::not_found` and
//! `source::unreadable` compile a path in the fixture's `.d` directory (missing, and a
//! directory), and `source::no_config_found` runs the `svc` binary without FILE in an empty
//! temporary directory (it is printed by the binary, not produced by the compiler).

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use svc_compiler::codes::{self, Code};
use svc_compiler::diagnostic::Diagnostic;
use svc_compiler::host::{Host, MemoryHost, RealHost};
use svc_compiler::render::{self, HumanStyle};
use svc_compiler::source::Sources;
use svc_compiler::{Compilation, CompileOptions, compile};

use crate::support::{Test, svc_binary};

/// Where [`FixtureHost`] shows `tests/fixtures`.
const MOUNT: &str = "/fixtures";

/// The whole environment the fixtures are compiled in.
const FIXED_ENV: &[(&str, &str)] = &[
    ("PATH", "/usr/bin:/bin"),
    ("HOME", "/root"),
    ("LANG", "C.UTF-8"),
];

/// Codes that are registered but that svc does not emit yet. Their fixture holds the cases
/// where they should fire; the test asserts that nothing fires, so it fails (and asks for
/// the entry to be removed and the snapshot recorded) the day the code is implemented.
const NOT_EMITTED_YET: &[&str] = &[];

/// Codes whose firing case is not the fixture itself: the path to compile instead,
/// relative to the fixtures directory.
const FIRING_PATHS: &[(&str, &str)] = &[
    (
        "svc::source::not_found",
        "source/not_found.d/supervisord.conf",
    ),
    (
        "svc::source::unreadable",
        "source/unreadable.d/supervisord.conf",
    ),
];

/// Printed by the `svc` binary when no FILE is given and the search finds nothing.
const NO_CONFIG_FOUND: &str = "svc::source::no_config_found";

/// One sentence per area, at the top of its section in `docs/diagnostics.md`.
const AREA_INTROS: &[(&str, &str)] = &[
    (
        "source",
        "Reading the configuration file itself, before any INI parsing. A main file that is missing or unreadable, or no file found by the default search, makes `svc check` exit 2 (a usage or I/O problem, not a configuration problem).",
    ),
    (
        "ini",
        "INI syntax, read with the rules of Python's configparser, which supervisord uses.",
    ),
    (
        "include",
        "`[include] files=`: whitespace-separated glob patterns, relative to the file that contains `[include]`, read in sorted order after the main file.",
    ),
    (
        "expand",
        "`%(name)s` expansions: supervisord runs every value through Python's `%` operator with a set of names that depends on the key.",
    ),
    (
        "host",
        "Checks against the machine svc runs on (users, groups, directories, environment variables), which supervisord makes while it reads the file. `--no-host-checks` skips them for a machine that is not the production host; unset environment variables then become warnings.",
    ),
    (
        "value",
        "Typed values, converted as supervisord's `datatypes` module does.",
    ),
    ("supervisord", "The `[supervisord]` section."),
    (
        "program",
        "Program sections: `[program:x]`, and the program keys of `[fcgi-program:x]` and `[eventlistener:x]`.",
    ),
    (
        "numprocs",
        "`numprocs=`: one program section expanded into several processes.",
    ),
    (
        "group",
        "Process groups: `[group:x]` sections, and the group each program section forms on its own.",
    ),
    ("eventlistener", "`[eventlistener:x]` pools."),
    ("fcgi", "`[fcgi-program:x]` sockets."),
    (
        "server",
        "`[unix_http_server]` and `[inet_http_server]`, the XML-RPC servers supervisorctl talks to.",
    ),
    (
        "plugin",
        "`[rpcinterface:x]` and `[ctlplugin:x]`. svc implements supervisor's own interfaces natively and cannot load Python plugins. `[ctlplugin:x]` is read only by supervisorctl, so its problems are warnings.",
    ),
    (
        "supervisorctl",
        "`[supervisorctl]`. supervisord never reads this section, so its problems are warnings.",
    ),
    (
        "toml",
        "svc's TOML format (`.toml` files): stricter than INI. An unknown key is an error with a did-you-mean, every value must have a type its key accepts, a table is defined once across all files, and includes may nest but not loop.",
    ),
    (
        "lint",
        "Warnings about what supervisord accepts silently. Each lint is one module under `compiler/src/lints/`, whose documentation (What / Why / Example / Fix) is reproduced here. `svc check --strict` fails on them.",
    ),
];

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures_dir() -> PathBuf {
    workspace().join("tests").join("fixtures")
}

fn snapshots_dir() -> PathBuf {
    workspace().join("snapshots")
}

fn docs_path() -> PathBuf {
    workspace().join("docs").join("diagnostics.md")
}

/// `tests/fixtures/<area>/<name>.conf` (`.toml` for the TOML format's codes), relative to
/// the fixtures directory.
fn fixture_name(code: &Code) -> String {
    let extension = if code.area() == "toml" {
        "toml"
    } else {
        "conf"
    };
    format!("{}/{}.{extension}", code.area(), code.short_name())
}

/// `<area>__<name>`: the snapshot's name (insta adds `.snap`).
fn snapshot_name(code: &Code) -> String {
    format!("{}__{}", code.area(), code.short_name())
}

/// The real machine with everything that varies between machines and runs pinned: the
/// environment is only PATH, HOME and LANG, the host name is `testhost`, the temporary
/// directory is `/tmp`, the working directory is the fixtures directory, which appears at
/// [`MOUNT`]. Users, groups and the file system are the real ones.
#[derive(Debug)]
struct FixtureHost {
    real: RealHost,
    fixtures: PathBuf,
}

impl FixtureHost {
    fn new() -> FixtureHost {
        FixtureHost {
            real: RealHost,
            fixtures: fixtures_dir(),
        }
    }

    /// The real path behind a path the compiler sees.
    fn real_path(&self, path: &Path) -> PathBuf {
        match path.strip_prefix(MOUNT) {
            Ok(rest) => self.fixtures.join(rest),
            Err(_) => path.to_path_buf(),
        }
    }

    /// The path the compiler sees for a real path.
    fn mounted_path(&self, path: PathBuf) -> PathBuf {
        match path.strip_prefix(&self.fixtures) {
            Ok(rest) => Path::new(MOUNT).join(rest),
            Err(_) => path,
        }
    }
}

/// Escapes glob metacharacters (`[`, `*`, `?`) so a real directory name matches literally.
fn escape_glob(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '[' | '*' | '?' => format!("[{c}]"),
            other => other.to_string(),
        })
        .collect()
}

impl Host for FixtureHost {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.real.read(&self.real_path(path))
    }

    fn glob(&self, pattern: &str) -> Vec<PathBuf> {
        let real_pattern = match pattern.strip_prefix(MOUNT) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                format!("{}{rest}", escape_glob(&self.fixtures.to_string_lossy()))
            }
            _ => pattern.to_string(),
        };
        self.real
            .glob(&real_pattern)
            .into_iter()
            .map(|path| self.mounted_path(path))
            .collect()
    }

    fn exists(&self, path: &Path) -> bool {
        self.real.exists(&self.real_path(path))
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.real.is_dir(&self.real_path(path))
    }

    fn environment(&self) -> IndexMap<String, String> {
        FIXED_ENV
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    fn node_name(&self) -> String {
        "testhost".into()
    }

    fn current_dir(&self) -> PathBuf {
        PathBuf::from(MOUNT)
    }

    fn temp_dir(&self) -> String {
        "/tmp".into()
    }

    fn home_dir(&self, user: Option<&str>) -> Option<String> {
        match user {
            None => self.environment().get("HOME").cloned(),
            Some(_) => self.real.home_dir(user),
        }
    }

    fn user_exists(&self, name: &str) -> bool {
        self.real.user_exists(name)
    }

    fn uid_exists(&self, uid: u32) -> bool {
        self.real.uid_exists(uid)
    }

    fn group_exists(&self, name: &str) -> bool {
        self.real.group_exists(name)
    }

    fn gid_exists(&self, gid: u32) -> bool {
        self.real.gid_exists(gid)
    }
}

/// A run of consecutive comment lines and the case markers it holds.
#[derive(Debug, Clone, Copy, Default)]
struct Markers {
    /// A line starting with `; firing`.
    firing: bool,
    /// A line starting with `; not firing`.
    not_firing: bool,
}

/// A fixture file cut into cases: each run of non-blank, non-comment lines is a case, ruled
/// by the comment block directly above it (a comment block rules its own lines too).
#[derive(Debug)]
struct Cases {
    /// For each 0-based line, the markers of the block that rules it, if any.
    ruled_by: Vec<Option<Markers>>,
    /// `(first line, last line, markers)` of every case with a marker block above it.
    cases: Vec<(usize, usize, Markers)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    Blank,
    Comment,
    Text,
}

fn line_kind(line: &str) -> LineKind {
    let trimmed = line.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        LineKind::Blank
    } else if trimmed.starts_with(';') || trimmed.starts_with('#') {
        LineKind::Comment
    } else {
        LineKind::Text
    }
}

impl Cases {
    fn parse(text: &str) -> Cases {
        let lines: Vec<&str> = text.lines().collect();
        let kinds: Vec<LineKind> = lines.iter().map(|line| line_kind(line)).collect();
        let mut ruled_by = vec![None; lines.len()];
        let mut cases = Vec::new();
        let mut index = 0;
        let mut block: Option<Markers> = None;
        while index < lines.len() {
            let start = index;
            let kind = kinds[index];
            while index < lines.len() && kinds[index] == kind {
                index += 1;
            }
            match kind {
                LineKind::Blank => block = None,
                LineKind::Comment => {
                    let mut markers = Markers::default();
                    for line in &lines[start..index] {
                        let words = line
                            .trim_start_matches('\u{feff}')
                            .trim_start()
                            .trim_start_matches([';', '#'])
                            .trim_start();
                        markers.firing |= words.starts_with("firing");
                        markers.not_firing |= words.starts_with("not firing");
                    }
                    ruled_by[start..index].fill(Some(markers));
                    block = Some(markers);
                }
                LineKind::Text => {
                    ruled_by[start..index].fill(block);
                    if let Some(markers) = block {
                        cases.push((start, index - 1, markers));
                    }
                    block = None;
                }
            }
        }
        Cases { ruled_by, cases }
    }
}

/// A path the fixture host shows, as a path relative to the workspace.
fn shown(path: &Path) -> String {
    match path.strip_prefix(MOUNT) {
        Ok(rest) => format!("tests/fixtures/{}", rest.display()),
        Err(_) => path.display().to_string(),
    }
}

/// Checks that `diagnostics` (all of one code) fire exactly where the fixture files say:
/// each under a `; firing:` block, and each case under a block with only `; firing:`
/// markers at least once.
fn check_markers(diagnostics: &[Diagnostic], sources: &Sources) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen_paths = BTreeSet::new();
    for source in sources.iter() {
        if !seen_paths.insert(source.path.clone()) {
            continue;
        }
        let cases = Cases::parse(&source.text);
        let fired_lines: BTreeSet<usize> = diagnostics
            .iter()
            .filter_map(|diagnostic| diagnostic.primary.as_ref())
            .filter(|label| {
                sources
                    .get(label.span.source)
                    .is_some_and(|s| s.path == source.path)
            })
            .map(|label| source.line_col(label.span.start as usize).0)
            .collect();
        for &line in &fired_lines {
            let ruled = cases.ruled_by.get(line).copied().flatten();
            if !ruled.is_some_and(|markers| markers.firing) {
                problems.push(format!(
                    "{}:{}: fires on a line that no `; firing:` comment block rules",
                    shown(&source.path),
                    line + 1
                ));
            }
        }
        for &(first, last, markers) in &cases.cases {
            let pure_firing = markers.firing && !markers.not_firing;
            if pure_firing && !fired_lines.iter().any(|line| (first..=last).contains(line)) {
                problems.push(format!(
                    "{}:{}-{}: marked `; firing:` but the code does not fire there",
                    shown(&source.path),
                    first + 1,
                    last + 1
                ));
            }
        }
    }
    problems
}

/// Compiles a path under [`MOUNT`] on the fixture host.
fn compile_fixture(host: &FixtureHost, relative: &str) -> Compilation {
    compile(
        &Path::new(MOUNT).join(relative),
        host,
        &CompileOptions::default(),
    )
}

/// The diagnostics of one code.
fn only(code: &Code, compilation: &Compilation) -> Vec<Diagnostic> {
    compilation
        .diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.code.name == code.name)
        .cloned()
        .collect()
}

/// The human and JSON renderings, with the mount replaced by `[FIXTURES]`.
fn render_both(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    let human = render::human(diagnostics, sources, HumanStyle::Plain);
    let json = render::json(diagnostics, sources);
    format!("----- human -----\n{human}----- json -----\n{json}")
        .replace(&format!("{MOUNT}/"), "[FIXTURES]/")
}

/// The snapshot text of a code compiled from fixtures, and the problems found on the way.
fn compiled_snapshot(code: &Code, host: &FixtureHost) -> (String, Vec<String>) {
    let mut problems = Vec::new();
    let fixture = compile_fixture(host, &fixture_name(code));
    let in_fixture = only(code, &fixture);
    let firing_path = FIRING_PATHS
        .iter()
        .find(|(name, _)| *name == code.name)
        .map(|(_, path)| *path);
    if NOT_EMITTED_YET.contains(&code.name) {
        if !in_fixture.is_empty() {
            problems.push(format!(
                "fires now: remove {} from NOT_EMITTED_YET in tests/snapshots.rs and review its snapshot",
                code.name
            ));
        }
        return (render_both(&in_fixture, &fixture.sources), problems);
    }
    let (firing, compilation) = match firing_path {
        Some(path) => {
            if !in_fixture.is_empty() {
                problems.push(format!(
                    "fires on the fixture itself, which is its not-firing case: {}",
                    in_fixture[0].message
                ));
            }
            let compilation = compile_fixture(host, path);
            (only(code, &compilation), compilation)
        }
        None => {
            problems.extend(check_markers(&in_fixture, &fixture.sources));
            (in_fixture, fixture)
        }
    };
    if firing.is_empty() {
        problems.push("does not fire".into());
    }
    (render_both(&firing, &compilation.sources), problems)
}

/// The snapshot text of `svc::source::no_config_found`, which only the binary prints.
fn no_config_found_snapshot(code: &Code) -> (String, Vec<String>) {
    let mut problems = Vec::new();
    let fixture = std::fs::read(fixtures_dir().join(fixture_name(code))).unwrap_or_default();
    let test = Test::new();
    let human = test.svc(&["check"]);
    let json = test.svc(&["check", "--format", "json"]);
    let prefix = svc_binary()
        .parent()
        .and_then(Path::parent)
        .map(|path| path.display().to_string())
        .unwrap_or_default();
    let directory = test.path().display().to_string();
    let filter = |text: String| {
        let text = if prefix.is_empty() {
            text
        } else {
            text.replace(&prefix, "[PREFIX]")
        };
        text.replace(&directory, "[TMP]")
    };
    let show = |run: &crate::support::Run| {
        format!(
            "exit code: {:?}\nstdout:\n{}stderr:\n{}",
            run.output.status.code(),
            filter(String::from_utf8_lossy(&run.output.stdout).into_owned()),
            filter(String::from_utf8_lossy(&run.output.stderr).into_owned()),
        )
    };
    let marker = code.name;
    for run in [&human, &json] {
        let printed = format!("{}{}", run.stdout(), run.stderr());
        if run.output.status.code() != Some(2) || !printed.contains(marker) {
            problems.push(format!(
                "`svc check` without FILE in an empty directory did not report {} (is there an /etc/supervisord.conf or /etc/supervisor/supervisord.conf on this machine? this test needs a machine without them):\n{}",
                code.name,
                show(run)
            ));
        }
    }
    let test = test.file("supervisord.conf", fixture);
    let found = test.svc(&["check"]);
    if found.output.status.code() != Some(0) || found.stderr().contains(marker) {
        problems.push(format!(
            "with the fixture as ./supervisord.conf, `svc check` should find it and pass:\n{}",
            show(&found)
        ));
    }
    let text = format!(
        "----- svc check (no FILE, empty working directory) -----\n{}----- svc check --format json (no FILE, empty working directory) -----\n{}",
        show(&human),
        show(&json)
    );
    (text, problems)
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else {
        "panicked".into()
    }
}

/// Asserts one code's snapshot; returns every problem found, each naming the code.
fn check_code(code: &'static Code, host: &FixtureHost) -> Vec<String> {
    let (text, mut problems) = if code.name == NO_CONFIG_FOUND {
        no_config_found_snapshot(code)
    } else {
        compiled_snapshot(code, host)
    };
    let fixture = fixtures_dir().join(fixture_name(code));
    let fixture_text =
        String::from_utf8_lossy(&std::fs::read(&fixture).unwrap_or_default()).into_owned();
    if !fixture_text.contains("; not firing") && !fixture_text.contains("# not firing") {
        problems.push(format!("{} has no `; not firing:` case", fixture.display()));
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(format!("{}: {}", code.name, code.summary));
    settings.set_input_file(&fixture);
    let name = snapshot_name(code);
    let asserted = catch_unwind(AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(name, text));
    }));
    if let Err(payload) = asserted {
        problems.push(panic_message(payload));
    }
    problems
        .into_iter()
        .map(|problem| format!("{}: {problem}", code.name))
        .collect()
}

#[test]
fn every_code_fires_in_its_fixture_as_its_snapshot_shows() {
    let host = FixtureHost::new();
    let mut problems = Vec::new();
    for code in codes::ALL.iter().copied() {
        if code.removed_since.is_some() {
            continue;
        }
        problems.extend(check_code(code, &host));
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_code_has_a_fixture_a_snapshot_and_a_docs_entry() {
    let docs = std::fs::read_to_string(docs_path()).unwrap_or_default();
    let mut missing = Vec::new();
    for code in codes::ALL.iter().copied() {
        if !docs.contains(&docs_heading(code)) {
            missing.push(format!("{}: no entry in docs/diagnostics.md", code.name));
        }
        if code.removed_since.is_some() {
            continue;
        }
        let fixture = fixtures_dir().join(fixture_name(code));
        if !fixture.is_file() {
            missing.push(format!("{}: no fixture {}", code.name, fixture.display()));
        }
        let snapshot = snapshots_dir().join(format!("{}.snap", snapshot_name(code)));
        if !snapshot.is_file() {
            missing.push(format!("{}: no snapshot {}", code.name, snapshot.display()));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

fn entries(directory: &Path) -> Vec<(String, bool)> {
    let mut found: Vec<(String, bool)> = std::fs::read_dir(directory)
        .map(|read| {
            read.flatten()
                .map(|entry| {
                    (
                        entry.file_name().to_string_lossy().into_owned(),
                        entry.path().is_dir(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

#[test]
fn no_fixture_or_snapshot_exists_for_an_unknown_code() {
    let areas: BTreeSet<&str> = codes::ALL.iter().map(|code| code.area()).collect();
    let mut unknown = Vec::new();
    for (area, is_dir) in entries(&fixtures_dir()) {
        if !is_dir || !areas.contains(area.as_str()) {
            unknown.push(format!("tests/fixtures/{area}: not an area of any code"));
            continue;
        }
        for (name, is_dir) in entries(&fixtures_dir().join(&area)) {
            let fixture_stem = name
                .strip_suffix(".conf")
                .or_else(|| name.strip_suffix(".toml").filter(|_| area == "toml"));
            let (stem, wanted_dir) = match (fixture_stem, name.strip_suffix(".d")) {
                (Some(stem), _) => (stem, false),
                (_, Some(stem)) => (stem, true),
                _ => (name.as_str(), !is_dir),
            };
            let known = codes::by_name(&format!("svc::{area}::{stem}")).is_some();
            if !known || is_dir != wanted_dir {
                unknown.push(format!(
                    "tests/fixtures/{area}/{name}: not the fixture (`<name>.conf`) or the extra files (`<name>.d/`) of a code"
                ));
            }
        }
    }
    for (name, _) in entries(&snapshots_dir()) {
        // insta's pending files for a known code are not strays (they appear while a
        // snapshot fails).
        let stem = name
            .strip_suffix(".snap")
            .or_else(|| name.strip_suffix(".snap.new"));
        let known = stem
            .and_then(|stem| stem.split_once("__"))
            .is_some_and(|(area, short)| {
                codes::by_name(&format!("svc::{area}::{short}")).is_some()
            });
        if !known {
            unknown.push(format!("snapshots/{name}: not the snapshot of a code"));
        }
    }
    assert!(unknown.is_empty(), "{}", unknown.join("\n"));
}

fn docs_heading(code: &Code) -> String {
    format!("### `{}`", code.name)
}

/// The `//!` documentation of a lint's module, without its first line (the code's name,
/// which must be the lint's code).
fn lint_doc(code: &Code) -> Result<String, String> {
    let path = workspace()
        .join("compiler/src/lints")
        .join(format!("{}.rs", code.short_name()));
    let text = std::fs::read_to_string(&path)
        .map_err(|error| format!("{}: cannot read {}: {error}", code.name, path.display()))?;
    let lines: Vec<&str> = text
        .lines()
        .take_while(|line| line.starts_with("//!"))
        .map(|line| {
            let doc = line.trim_start_matches("//!");
            doc.strip_prefix(' ').unwrap_or(doc)
        })
        .collect();
    let title = format!("`{}`", code.name);
    match lines.split_first() {
        Some((first, rest)) if *first == title => Ok(rest.join("\n").trim().to_string()),
        _ => Err(format!(
            "{}: the module doc of {} must start with `//! {title}`",
            code.name,
            path.display()
        )),
    }
}

/// `docs/diagnostics.md` as the registry says it should be.
fn generate_docs() -> Result<String, Vec<String>> {
    let mut problems = Vec::new();
    let mut by_area: BTreeMap<usize, (&str, Vec<&Code>)> = BTreeMap::new();
    let mut area_order: Vec<&str> = Vec::new();
    for code in codes::ALL.iter().copied() {
        let area = code.area();
        let position = match area_order.iter().position(|known| *known == area) {
            Some(position) => position,
            None => {
                area_order.push(area);
                area_order.len() - 1
            }
        };
        by_area
            .entry(position)
            .or_insert_with(|| (area, Vec::new()))
            .1
            .push(code);
    }
    let mut text = String::new();
    text.push_str("# Diagnostics\n\n");
    text.push_str("<!-- Generated from compiler/src/codes.rs and the lint modules by tests/snapshots.rs: do not edit.\n     Regenerate with `SVC_UPDATE_DOCS=1 cargo test --test integration snapshots`. -->\n\n");
    text.push_str("Every diagnostic `svc check` can report, grouped by area. Codes look like `svc::<area>::<name>` and name the problem; a code is never reused or renamed, and a retired code stays listed with the version that removed it.\n\n");
    text.push_str("- **error**: supervisord would refuse the file (or svc refuses it); `svc check` exits 1.\n");
    text.push_str("- **warning**: supervisord accepts the file, but it probably does not do what was meant; `svc check` exits 0 unless `--strict` is given.\n\n");
    text.push_str("The severity shown is the default one: with `--no-host-checks` an unset environment variable is a warning, and problems in sections only supervisorctl reads are warnings.\n\n");
    text.push_str("Each code links to its fixture, a configuration where it fires next to near misses where it does not, and to its snapshot: exactly what `svc check` prints for that fixture, as text and as JSON.\n\n");
    text.push_str("| Area | Codes |\n| --- | --- |\n");
    for (area, codes) in by_area.values() {
        text.push_str(&format!("| [{area}](#{area}) | {} |\n", codes.len()));
    }
    for (area, codes) in by_area.values() {
        let intro = AREA_INTROS
            .iter()
            .find(|(known, _)| known == area)
            .map(|(_, intro)| *intro);
        let Some(intro) = intro else {
            problems.push(format!(
                "area `{area}` has no intro in AREA_INTROS (tests/snapshots.rs)"
            ));
            continue;
        };
        text.push_str(&format!("\n## {area}\n\n{intro}\n"));
        for code in codes {
            text.push_str(&format!("\n{}\n\n", docs_heading(code)));
            let severity = code.severity.as_str();
            match code.removed_since {
                Some(version) => {
                    text.push_str(&format!("Severity: **{severity}** · removed in {version}\n"))
                }
                None => text.push_str(&format!(
                    "Severity: **{severity}** · [fixture](../tests/fixtures/{}) · [snapshot](../snapshots/{}.snap)\n",
                    fixture_name(code),
                    snapshot_name(code)
                )),
            }
            text.push_str(&format!("\n{}\n", code.summary));
            if NOT_EMITTED_YET.contains(&code.name) {
                text.push_str(
                    "\n> svc does not emit this code yet: its fixture shows where it will fire.\n",
                );
            }
            if code.area() == "lint" {
                match lint_doc(code) {
                    Ok(doc) => text.push_str(&format!("\n{doc}\n")),
                    Err(problem) => problems.push(problem),
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(text)
    } else {
        Err(problems)
    }
}

#[test]
fn diagnostics_docs_are_up_to_date() {
    let generated = match generate_docs() {
        Ok(text) => text,
        Err(problems) => panic!("{}", problems.join("\n")),
    };
    let path = docs_path();
    if std::env::var_os("SVC_UPDATE_DOCS").is_some_and(|value| value == "1") {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create docs/");
        }
        std::fs::write(&path, &generated).expect("write docs/diagnostics.md");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first_difference = committed
            .lines()
            .zip(generated.lines())
            .position(|(old, new)| old != new)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        panic!(
            "docs/diagnostics.md is stale (first difference at line {}: committed {:?}, generated {:?}); run `SVC_UPDATE_DOCS=1 cargo test --test integration snapshots`",
            first_difference + 1,
            committed.lines().nth(first_difference),
            generated.lines().nth(first_difference),
        );
    }
}

/// The ` ```ini ` example of a lint's documentation.
fn doc_example(doc: &str) -> Option<String> {
    let start = doc.find("```ini\n")? + "```ini\n".len();
    let length = doc[start..].find("```")?;
    Some(doc[start..start + length].to_string())
}

#[test]
fn every_lint_doc_example_fires_its_lint() {
    let mut problems = Vec::new();
    for code in codes::ALL.iter().copied() {
        if code.area() != "lint" || code.removed_since.is_some() {
            continue;
        }
        let example = match lint_doc(code) {
            Ok(doc) => doc_example(&doc),
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let Some(example) = example else {
            problems.push(format!(
                "{}: the lint's doc has no ```ini example",
                code.name
            ));
            continue;
        };
        // An example may leave out [supervisord], which every configuration needs.
        let text = if example.contains("[supervisord]") {
            example
        } else {
            format!("[supervisord]\n{example}")
        };
        let host = MemoryHost::new().file("/etc/supervisord.conf", text);
        let compilation = compile(
            Path::new("/etc/supervisord.conf"),
            &host,
            &CompileOptions::default(),
        );
        if only(code, &compilation).is_empty() {
            let found: Vec<&str> = compilation
                .diagnostics
                .iter()
                .map(|diagnostic| diagnostic.code.name)
                .collect();
            problems.push(format!(
                "{}: the example of its doc does not fire it (found: {found:?})",
                code.name
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
