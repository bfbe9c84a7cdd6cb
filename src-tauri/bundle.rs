//! The page the app embeds: `ui/` as written, with its ES modules (`ui/js/*.js`) joined
//! into one classic script, `app.js`, so the window fetches one file instead of nine.
//!
//! Each module keeps its own scope (a function whose result is its exports); `import`
//! lines become reads of those results. It understands the subset the page uses: one-line
//! or bracketed `import { a, b as c } from './x.js';` at the start of a line, and `export`
//! in front of `function`, `async function`, `const`, `let` or `class` declarations.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// The `<script>` in `ui/index.html` that loads the modules one by one.
const MODULE_TAG: &str = r#"<script type="module" src="js/main.js"></script>"#;
/// What loads the joined script instead; `defer` runs it after parsing, as a module is.
const BUNDLE_TAG: &str = r#"<script defer src="app.js"></script>"#;
const ENTRY: &str = "main.js";

struct Module {
    /// `const { a, b: c } = modules['x.js'];` for each import.
    imports: Vec<(String, String)>,
    exports: Vec<String>,
    body: String,
}

/// Writes the page into `out`: every file of `ui/` but `js/`, `index.html` loading
/// `app.js`, and `app.js`. A file whose content is unchanged is not written again.
pub fn build(ui: &Path, out: &Path) -> Result<(), String> {
    fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    for entry in fs::read_dir(ui).map_err(|e| format!("{}: {e}", ui.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() || name == "index.html" {
            continue;
        }
        write_if_changed(&out.join(&name), &read(&path)?)?;
    }
    let html = read(&ui.join("index.html"))?;
    if !html.contains(MODULE_TAG) {
        return Err(format!("ui/index.html no longer has {MODULE_TAG}"));
    }
    write_if_changed(
        &out.join("index.html"),
        &html.replace(MODULE_TAG, BUNDLE_TAG),
    )?;
    write_if_changed(&out.join("app.js"), &join(&ui.join("js"))?)
}

/// The modules under `js` as one script, each after the modules it imports.
pub fn join(js: &Path) -> Result<String, String> {
    let mut modules = BTreeMap::new();
    for entry in fs::read_dir(js).map_err(|e| format!("{}: {e}", js.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|x| x == "js") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let module = parse(&read(&path)?).map_err(|e| format!("ui/js/{name}: {e}"))?;
            modules.insert(name, module);
        }
    }
    let mut order = Vec::new();
    visit(ENTRY, &modules, &mut Vec::new(), &mut order)?;
    let mut out = String::from(
        "// Joined by src-tauri/bundle.rs from ui/js/*.js at build time; edit those files.\n\
         (() => {\n'use strict';\nconst modules = {};\n",
    );
    for name in &order {
        let m = &modules[name];
        out.push_str(&format!(
            "\n// ---- {name}\nmodules['{name}'] = (() => {{\n"
        ));
        for (from, names) in &m.imports {
            out.push_str(&format!("const {{ {names} }} = modules['{from}'];\n"));
        }
        out.push_str(&m.body);
        out.push_str(&format!("return {{ {} }};\n}})();\n", m.exports.join(", ")));
    }
    out.push_str("})();\n");
    Ok(out)
}

fn visit(
    name: &str,
    modules: &BTreeMap<String, Module>,
    path: &mut Vec<String>,
    order: &mut Vec<String>,
) -> Result<(), String> {
    if order.iter().any(|n| n == name) {
        return Ok(());
    }
    if path.iter().any(|n| n == name) {
        return Err(format!("ui/js: an import cycle through {name}"));
    }
    let module = modules
        .get(name)
        .ok_or_else(|| format!("ui/js/{name} is imported but missing"))?;
    path.push(name.to_owned());
    for (from, _) in &module.imports {
        visit(from, modules, path, order)?;
    }
    path.pop();
    order.push(name.to_owned());
    Ok(())
}

fn parse(source: &str) -> Result<Module, String> {
    let mut module = Module {
        imports: Vec::new(),
        exports: Vec::new(),
        body: String::new(),
    };
    let mut lines = source.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("import ") {
            let mut statement = line.to_owned();
            while !statement.trim_end().ends_with(';') {
                let next = lines.next().ok_or("an import that never ends")?;
                statement.push(' ');
                statement.push_str(next.trim());
            }
            module.imports.push(import(&statement)?);
            module.body.push('\n'); // keeps line numbers close to the source's
        } else if let Some(rest) = line.strip_prefix("export ") {
            module.exports.push(exported_name(rest)?);
            module.body.push_str(rest);
            module.body.push('\n');
        } else {
            module.body.push_str(line);
            module.body.push('\n');
        }
    }
    Ok(module)
}

/// `import { a, b as c } from './x.js';` → (`x.js`, `a, b: c`).
fn import(statement: &str) -> Result<(String, String), String> {
    let bad = || format!("unsupported import: {statement}");
    let open = statement.find('{').ok_or_else(bad)?;
    let close = statement.find('}').ok_or_else(bad)?;
    let names: Vec<String> = statement[open + 1..close]
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.replace(" as ", ": "))
        .collect();
    let from = statement[close..]
        .split(['\'', '"'])
        .nth(1)
        .and_then(|p| p.strip_prefix("./"))
        .ok_or_else(bad)?;
    Ok((from.to_owned(), names.join(", ")))
}

/// The name an `export` line declares.
fn exported_name(declaration: &str) -> Result<String, String> {
    let rest = declaration.strip_prefix("async ").unwrap_or(declaration);
    let rest = ["function ", "const ", "let ", "class "]
        .iter()
        .find_map(|k| rest.strip_prefix(k))
        .ok_or_else(|| format!("unsupported export: export {declaration}"))?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
        .collect();
    if name.is_empty() {
        return Err(format!("unsupported export: export {declaration}"));
    }
    Ok(name)
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write_if_changed(path: &Path, text: &str) -> Result<(), String> {
    if fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
