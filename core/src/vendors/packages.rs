//! Packages named by tags, as Justifacts' Lever integration does:
//! `"JUSTIFACTS BGC PKG: EmpCod[ID : 13558]"` on a posting flows to its opportunities and
//! names package `EmpCod`, id `13558`. Recruiters type these tags by hand, so spacing and
//! case vary; two different packages are ambiguous and never guessed between.

use crate::tenant::Package;

/// More than one different package was found (their display forms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ambiguous(pub Vec<String>);

/// The catalog's package that `wanted` names, by id, else by name (case-insensitive).
/// Without a catalog, a package is usable as named if it has an id.
pub fn resolve(wanted: Package, catalog: &[Package]) -> Result<Package, String> {
    if catalog.is_empty() {
        return if wanted.id.is_empty() {
            Err(format!("the package tag {} names no ID", display(&wanted)))
        } else {
            Ok(wanted)
        };
    }
    let named = |p: &&Package| match (&p.name, &wanted.name) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    };
    catalog
        .iter()
        .find(|p| !wanted.id.is_empty() && p.id == wanted.id)
        .or_else(|| catalog.iter().find(named))
        .cloned()
        .ok_or_else(|| format!("{} is not one of this tenant's packages", display(&wanted)))
}

/// The one package the tags name under `prefix`, `None` if none does.
pub fn from_tags<'a>(
    prefix: &str,
    tags: impl IntoIterator<Item = &'a String>,
) -> Result<Option<Package>, Ambiguous> {
    let mut found: Vec<Package> = Vec::new();
    for package in tags.into_iter().filter_map(|tag| parse(prefix, tag)) {
        // The same package: the same id, or (tags naming no id) the same name.
        let same = |p: &Package| {
            if p.id.is_empty() && package.id.is_empty() {
                p.name.as_deref().map(str::to_lowercase)
                    == package.name.as_deref().map(str::to_lowercase)
            } else {
                p.id == package.id
            }
        };
        if !found.iter().any(same) {
            found.push(package);
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(Ambiguous(found.iter().map(display).collect())),
    }
}

fn display(package: &Package) -> String {
    format!(
        "{}[ID : {}]",
        package.name.as_deref().unwrap_or(""),
        package.id
    )
}

/// `"{prefix} Name[ID : 123]"`, with any spacing and case in the prefix and around the
/// brackets and colon; or `"{prefix} Name"` (no id: the tenant's catalog resolves it).
pub fn parse(prefix: &str, tag: &str) -> Option<Package> {
    let rest = strip_prefix_loosely(tag.trim(), prefix)?;
    let Some(open) = rest.find('[') else {
        let name = rest.trim();
        return (!name.is_empty() && !name.contains(']')).then(|| Package {
            name: Some(name.to_owned()),
            id: String::new(),
        });
    };
    let close = rest[open..].find(']')? + open;
    let name = rest[..open].trim();
    let inside = rest[open + 1..close].trim();
    let (label, id) = inside.split_once(':')?;
    let id = id.trim();
    let valid_id = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !label.trim().eq_ignore_ascii_case("id") || !valid_id || !rest[close + 1..].trim().is_empty()
    {
        return None;
    }
    Some(Package {
        name: (!name.is_empty()).then(|| name.to_owned()),
        id: id.to_owned(),
    })
}

/// `text` without `prefix`, comparing case-insensitively and ignoring whitespace.
fn strip_prefix_loosely<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let mut wanted = prefix.chars().filter(|c| !c.is_whitespace()).peekable();
    for (at, c) in text.char_indices() {
        if wanted.peek().is_none() {
            return Some(&text[at..]);
        }
        if c.is_whitespace() {
            continue;
        }
        if !wanted.next()?.eq_ignore_ascii_case(&c) {
            return None;
        }
    }
    wanted.peek().is_none().then_some("")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "JUSTIFACTS BGC PKG:";

    fn package(name: &str, id: &str) -> Option<Package> {
        Some(Package {
            name: Some(name.into()),
            id: id.into(),
        })
    }

    #[test]
    fn the_seed_example_parses() {
        assert_eq!(
            parse(PREFIX, "JUSTIFACTS BGC PKG: EmpCod[ID : 13558]"),
            package("EmpCod", "13558")
        );
    }

    #[test]
    fn spacing_and_case_variants_parse() {
        for tag in [
            "JUSTIFACTS BGC PKG:EmpCod[ID:13558]",
            "  justifacts bgc pkg :  EmpCod [ ID : 13558 ] ",
            "JUSTIFACTS  BGC  PKG: EmpCod[id : 13558]",
        ] {
            assert_eq!(parse(PREFIX, tag), package("EmpCod", "13558"), "{tag}");
        }
    }

    #[test]
    fn other_tags_do_not_parse() {
        for tag in [
            "Priority",
            "JUSTIFACTS BGC PKG: EmpCod[13558]",
            "JUSTIFACTS BGC PKG: EmpCod[ID : ]",
            "JUSTIFACTS BGC PKG: EmpCod[ID : 1 3]",
            "STERLING PKG: EmpCod[ID : 13558]",
            "JUSTIFACTS BGC PKG: EmpCod[ID : 13558] extra",
        ] {
            assert_eq!(parse(PREFIX, tag), None, "{tag}");
        }
    }

    #[test]
    fn a_name_without_id_parses_and_the_catalog_resolves_it() {
        let catalog = vec![
            Package {
                name: Some("Standard".into()),
                id: "101".into(),
            },
            Package {
                name: Some("Executive".into()),
                id: "102".into(),
            },
        ];
        let by_name = parse("ESR PKG:", "ESR PKG: executive").unwrap();
        assert_eq!(resolve(by_name, &catalog).unwrap().id, "102");
        let by_id = parse("ESR PKG:", "ESR PKG: Anything[ID : 101]").unwrap();
        assert_eq!(
            resolve(by_id, &catalog).unwrap().name.as_deref(),
            Some("Standard")
        );
        let unknown = parse("ESR PKG:", "ESR PKG: Gold").unwrap();
        assert!(resolve(unknown, &catalog).is_err());
        let no_id = parse(PREFIX, "JUSTIFACTS BGC PKG: EmpCod").unwrap();
        assert!(resolve(no_id, &[]).unwrap_err().contains("names no ID"));
    }

    #[test]
    fn one_package_none_or_two_among_the_tags() {
        let tags = |list: &[&str]| list.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        let one = tags(&["Priority", "JUSTIFACTS BGC PKG: EmpCod[ID : 13558]"]);
        assert_eq!(from_tags(PREFIX, &one), Ok(package("EmpCod", "13558")));
        // The posting's tag also flows to the opportunity: the same package twice is one.
        let same = tags(&[
            "JUSTIFACTS BGC PKG: EmpCod[ID : 13558]",
            "JUSTIFACTS BGC PKG:EmpCod[ID:13558]",
        ]);
        assert_eq!(from_tags(PREFIX, &same), Ok(package("EmpCod", "13558")));
        assert_eq!(from_tags(PREFIX, &tags(&["Priority"])), Ok(None));
        let two = tags(&[
            "JUSTIFACTS BGC PKG: EmpCod[ID : 13558]",
            "JUSTIFACTS BGC PKG: Exec[ID : 2]",
        ]);
        assert!(from_tags(PREFIX, &two).is_err());
        // Tags that name packages by name alone are ambiguous too, unless the names agree.
        let named = tags(&[
            "JUSTIFACTS BGC PKG: Standard",
            "JUSTIFACTS BGC PKG: Executive",
        ]);
        assert!(from_tags(PREFIX, &named).is_err());
        let same_name = tags(&[
            "JUSTIFACTS BGC PKG: Standard",
            "justifacts bgc pkg: standard",
        ]);
        assert!(from_tags(PREFIX, &same_name).is_ok_and(|p| p.is_some()));
    }
}
