//! House rules that a reviewer would otherwise have to remember: every Rust file opens with
//! a `//!` module doc, and crates depend on each other in one direction only
//! (schema <- compiler <- migrate, ctl <- svc binary; schema depends on no svc crate).

use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let root = workspace_root();
    let mut files = Vec::new();
    for dir in ["src", "schema", "compiler", "migrate", "tests", "benches"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 20, "found only {} files", files.len());
    let missing: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|path| {
            path.strip_prefix(&root)
                .unwrap_or(path)
                .display()
                .to_string()
        })
        .collect();
    assert!(
        missing.is_empty(),
        "files without a //! module doc: {missing:#?}"
    );
}

#[test]
fn crate_dependencies_point_one_way() {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("metadata JSON");
    let internal = |name: &str| name == "svc" || name.starts_with("svc-");
    let allowed: &[(&str, &[&str])] = &[
        ("svc-schema", &[]),
        ("svc-compiler", &["svc-schema"]),
        ("svc-runtime", &["svc-schema"]),
        ("svc-ctl", &["svc-schema", "svc-compiler"]),
        ("svc-migrate", &["svc-schema", "svc-compiler"]),
        (
            "svc",
            &[
                "svc-schema",
                "svc-compiler",
                "svc-runtime",
                "svc-ctl",
                "svc-migrate",
            ],
        ),
    ];
    for package in metadata["packages"].as_array().expect("packages") {
        let name = package["name"].as_str().unwrap_or_default();
        let Some((_, permitted)) = allowed.iter().find(|(n, _)| *n == name) else {
            panic!(
                "crate {name} is not in the layering table of tests/tidy.rs; add it with its allowed dependencies"
            );
        };
        for dependency in package["dependencies"].as_array().expect("dependencies") {
            let target = dependency["name"].as_str().unwrap_or_default();
            if internal(target) {
                assert!(
                    permitted.contains(&target),
                    "{name} must not depend on {target}"
                );
            }
        }
    }
}

#[test]
fn schema_does_no_io() {
    let mut files = Vec::new();
    rust_files(&workspace_root().join("schema/src"), &mut files);
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for forbidden in ["std::fs", "std::io", "std::net", "std::process", "std::env"] {
            assert!(
                !text.contains(forbidden),
                "{} uses {forbidden}; schema is plain data",
                path.display()
            );
        }
    }
}
