//! `[rpcinterface:x]` and `[ctlplugin:x]`: Python `module:callable` factories.
//!
//! svc implements supervisor's own interfaces natively and cannot import Python code, so a
//! factory is accepted only if it is one supervisor 4.3.0 itself provides (the ones a
//! supervisord without extra packages can import). `[ctlplugin:x]` is read only by
//! supervisorctl, so its problems are warnings.

use indexmap::IndexMap;
use svc_schema::Plugin;

use crate::codes;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lower::Lowering;

/// Factories of supervisor 4.3.0 svc provides natively.
pub(crate) const KNOWN_RPC_FACTORIES: &[&str] = &["supervisor.rpcinterface:make_main_rpcinterface"];
/// supervisorctl plugin factories svc provides natively (none besides the default one,
/// which needs no section).
const KNOWN_CTL_FACTORIES: &[&str] = &[];
/// Event listener result handlers.
pub(crate) const KNOWN_RESULT_HANDLERS: &[&str] = &["supervisor.dispatchers:default_handler"];

/// Reports a `module:callable` svc cannot resolve.
pub(crate) fn unresolvable(
    spec: &str,
    section: &str,
    field: &super::Field,
    severity: Severity,
) -> Diagnostic {
    Diagnostic::new(
        &codes::PLUGIN_UNRESOLVABLE,
        format!("`{spec}` cannot be resolved within [{section}]"),
    )
    .at(field.span, "not provided by supervisor 4.3.0")
    .help(if section.starts_with("eventlistener:") {
        "svc cannot load Python plugins; remove result_handler to use supervisor's default handler"
    } else {
        "svc provides supervisor's own interfaces natively and cannot load Python plugins; remove the section or use one of supervisor's own factories"
    })
    .severity(severity)
}

/// `get_plugins`: every section starting with `prefix`.
pub(crate) fn lower(lowering: &mut Lowering<'_>, prefix: &str, factory_key: &str) -> Vec<Plugin> {
    let (known, severity) = if prefix == "ctlplugin:" {
        (KNOWN_CTL_FACTORIES, Severity::Warning)
    } else {
        (KNOWN_RPC_FACTORIES, Severity::Error)
    };
    let document = lowering.document;
    let mut plugins = Vec::new();
    for section in document
        .sections
        .values()
        .filter(|s| s.name.starts_with(prefix))
    {
        let name = section
            .name
            .split_once(':')
            .map_or("", |(_, n)| n)
            .to_string();
        let names = lowering.env_names();
        let factory = match lowering.field(section, factory_key, Some(&names)) {
            Some(field) => {
                if !known.contains(&field.text.as_str()) {
                    lowering.diagnostics.push(unresolvable(
                        &field.text,
                        &section.name,
                        &field,
                        severity,
                    ));
                }
                field.text
            }
            None => {
                lowering.diagnostics.push(
                    Diagnostic::new(
                        &codes::PLUGIN_MISSING_FACTORY,
                        format!(
                            "section [{}] does not specify a {factory_key}",
                            section.name
                        ),
                    )
                    .at(section.header(), "no factory")
                    .help(if prefix == "ctlplugin:" {
                        format!("add `{factory_key} = module:callable` naming the plugin's factory, or remove the section")
                    } else {
                        format!("add `{factory_key} = supervisor.rpcinterface:make_main_rpcinterface`")
                    })
                    .severity(severity),
                );
                String::new()
            }
        };
        let mut extras = IndexMap::new();
        for entry in document.keys(&section.name) {
            if &*entry.key == factory_key {
                continue;
            }
            if let Some(field) = lowering.field(section, &entry.key, Some(&names)) {
                extras.insert(entry.key.to_string(), field.text);
            }
        }
        plugins.push(Plugin {
            name,
            factory,
            extras,
        });
    }
    plugins
}
