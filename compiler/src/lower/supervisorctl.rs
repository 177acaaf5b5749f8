//! `[supervisorctl]`, as supervisorctl's `ClientOptions.read_config` reads it.
//!
//! supervisord never reads this section, so nothing here can make a file invalid for the
//! daemon: problems are warnings (supervisorctl itself would refuse or misbehave).

use svc_schema::Supervisorctl;

use crate::convert::url;
use crate::diagnostic::Severity;
use crate::lower::Lowering;

const SECTION: &str = "supervisorctl";

/// Lowers `[supervisorctl]` if present.
pub(crate) fn lower(lowering: &mut Lowering<'_>) -> Option<Supervisorctl> {
    let section = lowering.document.section(SECTION)?;
    let before = lowering.diagnostics.len();
    // supervisorctl expands with its own environment only (it never reads [supervisord]).
    let here = lowering.here.clone();
    let names = crate::expand::Names::new()
        .with_str("here", here)
        .with_env(&lowering.os_env);
    let env_only = crate::expand::Names::new().with_env(&lowering.os_env);
    let serverurl = match lowering.field(section, "serverurl", Some(&names)) {
        Some(field) => {
            if let Err(problem) = url(&field.text) {
                lowering.report(problem, "serverurl", field.span);
            }
            match field.text.strip_prefix("unix://") {
                Some(path) => format!("unix://{}", lowering.normalize_path(path)),
                None => field.text,
            }
        }
        None => "http://localhost:9001".into(),
    };
    let prompt = lowering
        .field(section, "prompt", Some(&env_only))
        .map_or_else(|| "supervisor".into(), |field| field.text);
    let username = lowering
        .field(section, "username", Some(&env_only))
        .map(|f| f.text);
    let password = lowering
        .field(section, "password", Some(&env_only))
        .map(|f| f.text);
    let history_file = lowering
        .field(section, "history_file", Some(&names))
        .filter(|field| !field.text.is_empty())
        .map(|field| lowering.normalize_path(&field.text));
    for diagnostic in &mut lowering.diagnostics[before..] {
        diagnostic.severity = Severity::Warning;
    }
    Some(Supervisorctl {
        serverurl,
        username,
        password,
        prompt,
        history_file,
    })
}
