//! The names of what a projector process may host (`xinfang projector cases,stats,audit,feed`).

/// The sinks a projector process may host: the read models, the feed and the notices.
pub fn sinks() -> Vec<&'static str> {
    let mut names = crate::NAMES.to_vec();
    names.extend(["feed", "notify"]);
    names
}

/// Parse `cases,stats,audit` (any of [`sinks`] or an alias of earlier versions such as
/// `queues`, each once).
pub fn parse(list: &str) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = Vec::new();
    for given in list.split(',').map(str::trim) {
        let name = crate::canonical(given).unwrap_or(given);
        if name != given {
            tracing::info!("projector {given:?} is served by {name:?} since issue 13");
        }
        if !sinks().contains(&name) {
            return Err(format!(
                "unknown projector {name:?}; one or more of {}, separated by commas",
                sinks().join(", ")
            ));
        }
        if names.iter().any(|n| n == name) {
            return Err(format!("projector {name:?} is named twice"));
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_known_and_each_once() {
        assert_eq!(
            parse("cases,stats,audit").expect("three"),
            ["cases", "stats", "audit"]
        );
        assert_eq!(parse("feed").expect("the feed"), ["feed"]);
        assert_eq!(parse("feed,notify").expect("both"), ["feed", "notify"]);
        // `queues` of earlier versions is the cases model now, once.
        assert_eq!(parse("queues,stats").expect("alias"), ["cases", "stats"]);
        assert!(parse("queues,cases").is_err());
        assert!(parse("cases,nope").is_err());
        assert!(parse("").is_err());
    }
}
