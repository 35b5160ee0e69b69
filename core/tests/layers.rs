//! The library's layers, as the code imports them: each top-level module of `core/src` may
//! use (`crate::…`, outside comments and test modules) only modules of its own layer or
//! below, and the modules import one another without a cycle. A module missing from
//! [`LAYERS`] fails too, so a new one is placed on purpose.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// From the bottom up.
const LAYERS: &[(&str, &[&str])] = &[
    ("primitives", &["ids", "clock", "tls"]),
    (
        "domain (vendor-neutral)",
        &["status", "order", "tenant", "work", "delivery_log"],
    ),
    ("ports", &["store", "queue", "secrets"]),
    ("mechanisms", &["telemetry", "xray", "pacing", "retry"]),
    ("adapters", &["lever", "vendors", "callback_auth"]),
    (
        "what the use cases share",
        &["config", "error", "directory", "connect", "setup"],
    ),
    ("use cases", &["flows"]),
    ("entry points", &["app", "console", "http", "lambda"]),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

/// Each top-level module's imports of other top-level modules.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&root).unwrap();
            let top = relative
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned();
            if top == "lib" {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            // Test modules come last in a file, by this crate's convention.
            let code = source.split("#[cfg(test)]").next().unwrap_or_default();
            let used = graph.entry(top.clone()).or_default();
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (at, _) in line.match_indices("crate::") {
                    let name: String = line[at + "crate::".len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    // Lowercase: a module, not a type the crate root re-exports.
                    if name != top && name.starts_with(|c: char| c.is_ascii_lowercase()) {
                        used.insert(name);
                    }
                }
            }
        }
    }
    graph
}

#[test]
fn every_module_imports_only_its_layer_and_those_below() {
    let mut problems = Vec::new();
    for (module, used) in imports() {
        let Some(layer) = layer_of(&module) else {
            problems.push(format!("{module} is in no layer"));
            continue;
        };
        for other in used {
            match layer_of(&other) {
                Some(below) if below <= layer => {}
                Some(above) => problems.push(format!(
                    "{module} ({}) imports {other} ({})",
                    LAYERS[layer].0, LAYERS[above].0
                )),
                None => problems.push(format!("{module} imports {other}, which is in no layer")),
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_modules_import_one_another_without_a_cycle() {
    let graph = imports();
    // Depth-first search; a module met again while still on the path closes a cycle.
    fn visit<'a>(
        module: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| *m == module) {
            let mut cycle: Vec<String> = path[start..].iter().map(|m| m.to_string()).collect();
            cycle.push(module.to_owned());
            return Some(cycle);
        }
        if !done.insert(module) {
            return None;
        }
        path.push(module);
        for next in graph.get(module).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        let cycle = visit(module, &graph, &mut Vec::new(), &mut done);
        assert!(
            cycle.is_none(),
            "an import cycle: {}",
            cycle.unwrap().join(" → ")
        );
    }
}
